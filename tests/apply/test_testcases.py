"""CRMI-style test-case Libraries made from scenarios: shape, and runnable by an $apply engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.library import Library

from generator.apply import Applier, Artifacts, Engine
from generator.apply import testcases
from generator.compile import BuiltGuideline, compile_definitions
from generator.cql.translator import Translator

from .conftest import DEFINITIONS

EXT = "http://hl7.org/fhir/StructureDefinition/"


@pytest.fixture(scope="module")
def built(session_translator: Translator) -> BuiltGuideline:
    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=False)
    assert result.ok
    return result.guidelines[0]


@pytest.fixture(scope="module")
def files(built: BuiltGuideline) -> dict[str, bytes]:
    return testcases.test_case_files(built)


def _contained(library: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(r for r in library["contained"] if f"#{r['id']}" == ref)


def _ext(library: dict[str, Any], name: str) -> list[Any]:
    return [e.get("valueCanonical") or e.get("valueReference", {}).get("reference")
            for e in library["extension"] if e["url"] == EXT + name]


def test_one_library_per_scenario(files: dict[str, bytes]) -> None:
    assert sorted(files) == sorted(f"Library-test-{s}.json" for s in
                                   ["acute-adult", "acute-adult-low-crcl", "acute-adult-no-crcl", "old-fracture", "acute-child"])


def test_library_shape(files: dict[str, bytes]) -> None:
    library = json.loads(files["Library-test-acute-adult-low-crcl.json"])
    Library.model_validate(library)
    assert library["type"]["text"] == "test-case"
    assert _ext(library, "cqf-testArtifact") == [
        "http://example.org/fhir/applydemo/PlanDefinition/applydemo|1.0.0", testcases.APPLY_OPERATION]
    data = _contained(library, _ext(library, "cqf-inputData")[0])
    assert data["resourceType"] == "Bundle" and data["entry"][0]["resource"]["id"] == "acute-adult-low-crcl"
    params = _contained(library, _ext(library, "cqf-inputParameters")[0])
    assert {p["name"] for p in params["parameter"]} == {"subject", "useServerData", "executionDateTime"}
    expected = _contained(library, _ext(library, "cqf-outputParameters")[0])
    rows = [{part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in p["part"]}
            for p in expected["parameter"]]
    assert rows == [
        {"id": "no-vertebroplasty", "canonical": "http://example.org/fhir/applydemo/PlanDefinition/no-vertebroplasty|1.0.0",
         "applicable": True},
        {"id": "adult-education", "canonical": "http://example.org/fhir/applydemo/PlanDefinition/adult-education|1.0.0",
         "applicable": True},
        {"id": "calcitonin", "canonical": "http://example.org/fhir/applydemo/PlanDefinition/calcitonin|1.0.0",
         "applicable": False},
    ]


def test_deterministic(built: BuiltGuideline, files: dict[str, bytes]) -> None:
    assert testcases.test_case_files(built) == files


def test_test_cases_run_on_an_apply_engine(built: BuiltGuideline, files: dict[str, bytes], engine: Engine) -> None:
    """Only the Library itself is used: input data, date and expectations all come from it."""
    applier = Applier(Artifacts.from_resources(built.resources), engine)
    for text in files.values():
        library = json.loads(text)
        bundle = _contained(library, _ext(library, "cqf-inputData")[0])
        params = _contained(library, _ext(library, "cqf-inputParameters")[0])
        when = next(p["valueDateTime"] for p in params["parameter"] if p["name"] == "executionDateTime")
        result = applier.apply(bundle, when)
        expected = _contained(library, _ext(library, "cqf-outputParameters")[0])
        for row in expected["parameter"]:
            parts = {part["name"]: part for part in row["part"]}
            assert (parts["id"]["valueId"] in result.applicable) is parts["applicable"]["valueBoolean"], library["id"]
