"""Scenarios as CRMI-style test-case Libraries, so other engines can run our expectations.

Why: `cpg test` checks the scenarios with our engine; publishing them as FHIR resources lets a
server running CPG `$apply` (clinical-reasoning, cqf-ruler, ...) check the same expectations.
Per the CRMI testing page a test case is a Library carrying
  * `cqf-testArtifact` twice: the artifact under test (the pathway) and the operation under test
    (CPG `$apply`),
  * `cqf-inputParameters` → contained Parameters (subject, useServerData=false, and the evaluation
    date-time the expectations assume; that one is not an `$apply` parameter: set it as the
    engine's "now"),
  * `cqf-inputData` → contained Bundle (the patient's data),
  * `cqf-outputParameters` → contained Parameters: one `recommendation` per recommendation the
    scenario names, with its id, canonical and whether it must be applicable.
Library.type is THO library-type `asset-collection` (the CRMI page's "test-case" is not a code
of that system) with the text "test-case".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from generator.apply._artifacts import ApplyError, Artifacts
from generator.apply._patient import execution_datetime, patient_of, read_scenario_bundle
from generator.apply._plan import compile_plan
from generator.canonicals import FHIR_STRUCTURE_DEFINITION as EXT
from generator.canonicals import LIBRARY_TYPE
from generator.jsonfmt import dump_json

if TYPE_CHECKING:
    from generator.compile import BuiltGuideline

__all__ = ["test_case_files", "test_case_library", "APPLY_OPERATION"]

APPLY_OPERATION = "http://hl7.org/fhir/uv/cpg/OperationDefinition/cpg-plandefinition-apply"


def _test_id(scenario_id: str) -> str:
    """`test-<scenario>`, shortened with a hash when it would pass FHIR's 64-character id limit."""
    ident = f"test-{scenario_id}"
    if len(ident) <= 64:
        return ident
    digest = hashlib.sha256(scenario_id.encode()).hexdigest()[:8]
    return f"{ident[:55]}-{digest}"


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace("_", "-").split("-") if part)


def test_case_library(*, guideline: Any, scenario: Any, bundle: Mapping[str, Any],
                      recommendations: Mapping[str, str]) -> dict[str, Any]:
    """One scenario as a test-case Library. `recommendations` maps recommendation id → canonical."""
    pathway = f"{guideline.canonical.rstrip('/')}/PlanDefinition/{guideline.id}|{guideline.version}"
    ident = _test_id(scenario.id)
    patient = patient_of(bundle)
    expected = [(rec, True) for rec in scenario.present] + [(rec, False) for rec in scenario.absent]
    unknown = [rec for rec, _ in expected if rec not in recommendations]
    if unknown:
        raise ApplyError("TEST010", f"scenario '{scenario.id}' names unknown recommendation(s): {', '.join(unknown)}")
    library: dict[str, Any] = {
        "resourceType": "Library",
        "id": ident,
        "contained": [
            {"resourceType": "Parameters", "id": "input-parameters", "parameter": [
                {"name": "subject", "valueString": f"Patient/{patient['id']}"},
                {"name": "useServerData", "valueBoolean": False},
                {"name": "executionDateTime", "valueDateTime": execution_datetime(scenario.date)},
            ]},
            {**dict(bundle), "id": "input-data"},
            {"resourceType": "Parameters", "id": "expected-output", "parameter": [
                {"name": "recommendation", "part": [
                    {"name": "id", "valueId": rec},
                    {"name": "canonical", "valueCanonical": recommendations[rec]},
                    {"name": "applicable", "valueBoolean": applicable},
                ]} for rec, applicable in expected
            ]},
        ],
        "extension": [
            {"url": EXT + "cqf-testArtifact", "valueCanonical": pathway},
            {"url": EXT + "cqf-testArtifact", "valueCanonical": APPLY_OPERATION},
            {"url": EXT + "cqf-inputParameters", "valueReference": {"reference": "#input-parameters"}},
            {"url": EXT + "cqf-inputData", "valueReference": {"reference": "#input-data"}},
            {"url": EXT + "cqf-outputParameters", "valueReference": {"reference": "#expected-output"}},
        ],
        "url": f"{guideline.canonical.rstrip('/')}/Library/{ident}",
        "version": guideline.version,
        "name": "Test" + _pascal(scenario.id),
        "title": scenario.title or f"Test case {scenario.id}",
        "status": guideline.status,
        "experimental": True,
        "type": {"coding": [{"system": LIBRARY_TYPE, "code": "asset-collection", "display": "Asset Collection"}],
                 "text": "test-case"},
        "date": guideline.date,
        "publisher": guideline.publisher,
        "description": f"Test case for {guideline.title}: applying the pathway to this patient on {scenario.date} "
                       "must make the recommendations listed in the expected output applicable or not.",
        "relatedArtifact": [{"type": "depends-on", "display": "Pathway under test", "resource": pathway}],
    }
    return library


def test_case_files(built: "BuiltGuideline") -> dict[str, bytes]:
    """`Library-test-<scenario>.json` → bytes for every scenario of a built guideline (deterministic)."""
    return {f"Library-{library['id']}.json": dump_json(library) for library in test_case_libraries(built)}


def built_artifacts(built: "BuiltGuideline") -> Artifacts:
    """A build's resources as `Artifacts`, with the ELM already in memory (no base64 decode)."""
    translations = built.logic.translations  # SYNTH names each logic Library after its CQL library
    known_elm = {r["url"]: translations[r["name"]].elm for r in built.resources
                 if r["resourceType"] == "Library" and r.get("name") in translations
                 and translations[r["name"]].elm is not None}
    return Artifacts.from_resources(built.resources, source=f"<build of {built.resolved.guideline.id}>",
                                    known_elm=known_elm)


def test_case_libraries(built: "BuiltGuideline") -> list[dict[str, Any]]:
    """One test-case Library per scenario of a built guideline, in scenario order."""
    guideline = built.resolved.guideline
    package_dir = built.resolved.package_dir
    plan = compile_plan(built_artifacts(built))
    recommendations = {node.id: node.canonical for node in plan.recommendations()}
    libraries: list[dict[str, Any]] = []
    for scenario in built.resolved.scenarios:
        bundle = read_scenario_bundle(package_dir / scenario.bundle)
        library = test_case_library(guideline=guideline, scenario=scenario, bundle=bundle,
                                    recommendations=recommendations)
        libraries.append(library)
    return libraries


# Named after what they make, not pytest tests: keep pytest from collecting them when imported.
test_case_files.__test__ = False  # type: ignore[attr-defined]
test_case_library.__test__ = False  # type: ignore[attr-defined]
test_case_libraries.__test__ = False  # type: ignore[attr-defined]
