"""Artifacts other tools made: shapes that are valid R4 must not be reported, and the true
finding next to each must still fire. Every artifact here is written for the test (minimal)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.diagnostics import Diagnostic, Severity
from generator.validate import ValidationOptions, validate
from tests.validate.conftest import BASE, Env, find

AD = "ActivityDefinition/order-hba1c-test"
PD_REC = "PlanDefinition/order-hba1c"
LIB = "Library/DiabetesLogic"
OTHER = "http://other.example.org/fhir"


def _codes(diags: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diags if d.code == code]


def _plan(**extra: Any) -> dict[str, Any]:
    """A bare PlanDefinition under the test's canonical base."""
    return {"resourceType": "PlanDefinition", "id": "p", "url": f"{BASE}/PlanDefinition/p", "name": "P", "version": "1.0.0",
            "status": "active", **extra}


def _run(resources: list[dict[str, Any]], layers: tuple[str, ...], **options: Any) -> list[Diagnostic]:
    return validate(resources, ValidationOptions(cql=False, layers=frozenset(layers), **options))


# -- contained resources --------------------------------------------------------------------------

def _with_contained(ref: str) -> dict[str, Any]:
    return _plan(contained=[{"resourceType": "ActivityDefinition", "id": "act", "status": "active"}],
                 action=[{"title": "Do it", "definitionCanonical": ref}])


def test_canonical_to_a_contained_resource_resolves() -> None:
    diags = _run([_with_contained("#act")], ("reference", "base"))
    assert not _codes(diags, "reference.unresolved") and not _codes(diags, "reference.outside-set"), diags


def test_canonical_to_a_missing_contained_resource_is_unresolved() -> None:
    diags = _run([_with_contained("#nope")], ("reference",))
    assert [d.path for d in _codes(diags, "reference.unresolved")] == ["PlanDefinition.action[0].definitionCanonical"]


def test_contained_resources_need_no_narrative_but_the_container_does() -> None:
    diags = _run([_with_contained("#act")], ("base",))
    dom6 = [d for d in diags if d.message.startswith("dom-6")]
    assert [d.path for d in dom6] == ["PlanDefinition"], dom6  # the container only, not contained[0]


# -- profile.target: conformance, not the claim ----------------------------------------------------

def test_target_that_conforms_without_claiming_is_accepted(env: Env) -> None:
    res = env.resources()
    find(res, AD)["meta"]["profile"] = []
    assert not _codes(env.run(res), "profile.target")


def test_target_that_neither_claims_nor_conforms_is_reported(env: Env) -> None:
    res = env.resources()
    strategy = find(res, "PlanDefinition/diabetes-monitoring")
    strategy["meta"]["profile"] = []
    find(res, PD_REC)["action"][0]["definitionCanonical"] = f"{BASE}/PlanDefinition/diabetes-monitoring|1.0.0"
    hits = _codes(env.run(res), "profile.target")
    # a strategy is neither an activity nor an order set (whose type pattern is order-set)
    assert hits and "does not conform" in hits[0].message and "cpg-ordersetdefinition" in hits[0].message, hits


# -- names, code systems ---------------------------------------------------------------------------

def test_underscores_in_names_follow_r4(env: Env) -> None:
    res = env.resources()
    find(res, AD)["name"] = "Order_HbA1c_Test"
    assert not _codes(env.run(res), "meta.name-format")
    find(res, AD)["name"] = "order_hba1c"
    assert _codes(env.run(res), "meta.name-format")


def test_code_systems_r4_lists_are_known(env: Env) -> None:
    res = env.resources()
    ad = find(res, AD)
    ad["jurisdiction"] = [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "US", "display": "United States"}]}]
    ad["topic"] = [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X", "display": "Family Medicine"}]}]
    assert not _codes(env.run(res), "term.unknown-system")
    ad["topic"][0]["coding"][0]["system"] = "http://nucc.org/provider-taxonomie"  # a typo is still caught
    assert [d.path for d in _codes(env.run(res), "term.unknown-system")] == ["ActivityDefinition.topic[0].coding[0].system"]


def test_code_system_uri_in_related_artifact_is_not_a_reference(env: Env) -> None:
    res = env.resources()
    lib = find(res, LIB)
    lib["relatedArtifact"].append({"type": "depends-on", "resource": "http://nucc.org/provider-taxonomy"})
    lib["relatedArtifact"].append({"type": "depends-on", "resource": "http://www.ama-assn.org/go/cpt"})
    diags = env.run(res)
    assert not _codes(diags, "reference.unresolved") and not _codes(diags, "reference.outside-set"), diags
    lib["relatedArtifact"].append({"type": "depends-on", "resource": f"{BASE}/Library/Gone|1.0.0"})
    assert len(_codes(env.run(res), "reference.unresolved")) == 1


# -- references outside the set --------------------------------------------------------------------

def _vsac_condition(env: Env) -> list[dict[str, Any]]:
    res = env.resources()
    find(res, PD_REC)["action"][0]["input"] = [
        {"type": "Condition", "codeFilter": [{"path": "code", "valueSet": f"{OTHER}/ValueSet/x"}]}]
    return res


def test_reference_to_another_publisher_is_outside_the_set_not_broken(env: Env) -> None:
    diags = env.run(_vsac_condition(env))
    assert not _codes(diags, "reference.unresolved")
    (hit,) = _codes(diags, "reference.outside-set")
    assert hit.severity is Severity.WARNING and hit.path.endswith("codeFilter[0].valueSet")


def test_closed_makes_outside_references_errors(env: Env) -> None:
    diags = validate(_vsac_condition(env), ValidationOptions(cql=False, closed=True))
    assert [d.severity for d in _codes(diags, "reference.outside-set")] == [Severity.ERROR]


def _cached_dependency(root: Path, urls: list[str]) -> Path:
    package = root / "other.ig#1.0.0" / "package"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "other.ig", "version": "1.0.0", "canonical": OTHER}))
    (package / ".index.json").write_text(json.dumps({"index-version": 1, "files": [
        {"filename": f"r{i}.json", "resourceType": "ValueSet", "url": u} for i, u in enumerate(urls)]}))
    return root


def test_declared_dependency_in_the_package_cache_resolves(env: Env) -> None:
    cache = _cached_dependency(env.tmp_path / "cache", [f"{OTHER}/ValueSet/x"])
    opts = ValidationOptions(cql=False, closed=True, dependencies={"other.ig": "1.0.0"}, package_cache=cache)
    diags = validate(_vsac_condition(env), opts)
    assert not _codes(diags, "reference.outside-set") and not _codes(diags, "reference.unresolved"), diags


def test_canonical_missing_from_a_cached_dependency_is_broken(env: Env) -> None:
    cache = _cached_dependency(env.tmp_path / "cache", [f"{OTHER}/ValueSet/y"])
    opts = ValidationOptions(cql=False, dependencies={"other.ig": "1.0.0"}, package_cache=cache)
    (hit,) = _codes(validate(_vsac_condition(env), opts), "reference.unresolved")
    assert "other.ig#1.0.0" in hit.message


def test_dependency_absent_from_the_cache_is_named(env: Env) -> None:
    opts = ValidationOptions(cql=False, dependencies={"other.ig": "1.0.0"}, package_cache=env.tmp_path / "empty")
    (hit,) = _codes(validate(_vsac_condition(env), opts), "reference.outside-set")
    assert "other.ig#1.0.0" in hit.message


# -- primitive extension objects -------------------------------------------------------------------

def test_unknown_names_inside_primitive_extensions_are_reported(env: Env) -> None:
    res = env.resources()
    find(res, AD)["_url"] = {"fhir_comments": ["left over from DSTU2"]}
    hits = _codes(env.run(res), "base.element-unknown")
    assert [h.path for h in hits] == ["ActivityDefinition.url.fhir_comments"], hits
    find(res, AD)["_url"] = {"extension": [{"url": "http://example.org/x", "valueString": "fine"}]}
    assert not _codes(env.run(res), "base.element-unknown")


def test_findings_stream_layer_by_layer(env: Env) -> None:
    res = env.resources()
    find(res, AD)["status"] = "bogus"
    find(res, AD)["name"] = "lower"
    batches: list[list[Diagnostic]] = []
    diags = validate(res, ValidationOptions(cql=False, on_findings=batches.append))
    assert len(batches) >= 2 and [d for b in batches for d in b] == diags


def test_implementation_guide_depends_on_declares_dependencies(env: Env) -> None:
    cache = _cached_dependency(env.tmp_path / "cache", [f"{OTHER}/ValueSet/x"])
    guide = {"resourceType": "ImplementationGuide", "id": "ig", "url": f"{BASE}/ImplementationGuide/ig", "name": "Ig",
             "status": "active", "packageId": "example.cpg", "fhirVersion": ["4.0.1"],
             "dependsOn": [{"uri": f"{OTHER}/ImplementationGuide/other", "packageId": "other.ig", "version": "1.0.0"}]}
    diags = validate(_vsac_condition(env) + [guide], ValidationOptions(cql=False, closed=True, package_cache=cache))
    assert not _codes(diags, "reference.outside-set"), diags


def test_cli_closed_turns_outside_references_into_errors(env: Env) -> None:
    from click.testing import CliRunner

    from generator.cli import main

    for res in _vsac_condition(env):
        env.write(f"set/{res['resourceType']}-{res['id']}.json", json.dumps(res))
    folder = str(env.tmp_path / "set")
    open_run = CliRunner().invoke(main, ["validate", folder, "--no-cql"])
    closed_run = CliRunner().invoke(main, ["validate", folder, "--no-cql", "--closed"])
    assert open_run.exit_code == 0 and "reference.outside-set" in open_run.output, open_run.output
    assert closed_run.exit_code == 1 and "reference.outside-set" in closed_run.output
