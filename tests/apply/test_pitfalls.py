"""The known `$apply` pitfalls (cpg-facts §6.3 items 12-14), each pinned by its own test."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from generator.apply import Applier, ApplyError, Artifacts, Engine
from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.translator import Translator

from .conftest import DATE, demo_patient

PD = "http://example.org/fhir/applydemo/PlanDefinition/"
AD = "http://example.org/fhir/applydemo/ActivityDefinition/"


def find(resources: list[dict[str, Any]], resource_type: str, ident: str) -> dict[str, Any]:
    return next(r for r in resources if r["resourceType"] == resource_type and r["id"] == ident)


def instantiated(request: dict[str, Any]) -> str:
    if request["resourceType"] == "CommunicationRequest":
        return request["extension"][0]["valueCanonical"]
    return request["instantiatesCanonical"][0]


def test_conditions_are_not_ignored(demo_applier: Applier) -> None:
    """clinical-reasoning#271: a recommendation whose condition is false yields no request at all."""
    bundle = demo_applier.apply(demo_patient("old-fracture"), DATE).bundle
    made = [e["resource"] for e in bundle["entry"]]
    assert not [r for r in made if r["resourceType"] not in ("RequestGroup", "CarePlan")
                and not instantiated(r).startswith(AD + "adult-education")]
    assert not [g for g in made if g["resourceType"] == "RequestGroup"
                and g["instantiatesCanonical"][0].startswith((PD + "calcitonin", PD + "no-vertebroplasty", PD + "acute|"))]


def test_actions_sharing_one_activity_definition_make_distinct_requests(
        demo_resources: list[dict[str, Any]], engine: Engine) -> None:
    """clinical-reasoning#779: two actions on one ActivityDefinition must not collapse into one request."""
    resources = copy.deepcopy(demo_resources)
    pd = find(resources, "PlanDefinition", "no-vertebroplasty")
    children = pd["action"][0]["action"]
    children[1]["definitionCanonical"] = children[0]["definitionCanonical"]
    bundle = Applier(Artifacts.from_resources(resources), engine).apply(demo_patient("acute-child"), DATE).bundle
    services = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    assert len(services) == 2
    assert services[0]["resource"]["id"] != services[1]["resource"]["id"]
    assert {instantiated(s["resource"]) for s in services} == {AD + "no-vertebroplasty-1|1.0.0"}
    group = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "RequestGroup"
                 and e["resource"]["instantiatesCanonical"][0] == PD + "no-vertebroplasty|1.0.0")
    assert [a["resource"]["reference"] for a in group["action"][0]["action"]] == [s["fullUrl"] for s in services]


EXTRA_CQL = """library Extra version '1.0.0'

using FHIR version '4.0.1'

include FHIRHelpers version '4.0.1' called FHIRHelpers

context Patient

define "Is Female":
  Patient.gender = 'female'
"""


def _extra_library(translator: Translator) -> dict[str, Any]:
    translation = translator.translate({"Extra": EXTRA_CQL, "FHIRHelpers": fhirhelpers_cql()}, targets=["Extra"])["Extra"]
    assert translation.ok, translation.errors
    return {
        "resourceType": "Library", "id": "Extra", "url": "http://example.org/fhir/applydemo/Library/Extra",
        "version": "1.0.0", "name": "Extra", "status": "draft",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
        "content": [{"contentType": "application/elm+json",
                     "data": base64.b64encode(json.dumps(translation.elm).encode()).decode()}],
    }


def test_condition_logic_in_the_referenced_library_is_resolved(
        demo_resources: list[dict[str, Any]], engine: Engine, session_translator: Translator) -> None:
    """android-fhir#1981: the condition names a define that exists only in the PlanDefinition's own library."""
    resources = copy.deepcopy(demo_resources) + [_extra_library(session_translator)]
    pd = find(resources, "PlanDefinition", "adult-education")
    pd["library"] = ["http://example.org/fhir/applydemo/Library/Extra|1.0.0"]
    pd["action"][0]["condition"][0]["expression"]["expression"] = "Is Female"
    applier = Applier(Artifacts.from_resources(resources), engine)
    assert applier.plan.expressions["Extra"] == ("Is Female",)
    female = demo_patient("acute-child")  # a girl: not an adult, but the condition is now "Is Female"
    male = demo_patient("acute-child")
    male["entry"][0]["resource"]["gender"] = "male"
    assert "adult-education" in applier.apply(female, DATE).applicable
    assert "adult-education" not in applier.apply(male, DATE).applicable


def test_condition_naming_a_missing_define_is_an_error_not_a_skip(
        demo_resources: list[dict[str, Any]], engine: Engine) -> None:
    resources = copy.deepcopy(demo_resources)
    pd = find(resources, "PlanDefinition", "calcitonin")
    pd["action"][0]["condition"][0]["expression"]["expression"] = "Is Nowhere"
    with pytest.raises(ApplyError) as caught:
        Applier(Artifacts.from_resources(resources), engine)
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.code, diagnostic.resource, diagnostic.path) == (
        "APPLY033", "PlanDefinition/calcitonin", "action[0].condition[0]")


def test_condition_in_an_unsupported_language_is_an_error(
        demo_resources: list[dict[str, Any]], engine: Engine) -> None:
    resources = copy.deepcopy(demo_resources)
    pd = find(resources, "PlanDefinition", "calcitonin")
    pd["action"][0]["condition"][0]["expression"]["language"] = "text/fhirpath"
    with pytest.raises(ApplyError) as caught:
        Applier(Artifacts.from_resources(resources), engine)
    assert caught.value.diagnostics[0].code == "APPLY030"


def test_all_or_none_group_drops_when_a_member_does_not_apply(
        demo_resources: list[dict[str, Any]], engine: Engine) -> None:
    resources = copy.deepcopy(demo_resources)
    group = find(resources, "PlanDefinition", "no-vertebroplasty")["action"][0]
    group["selectionBehavior"] = "all-or-none"
    group["action"][1]["condition"] = [{"kind": "applicability", "expression": {
        "language": "text/cql-identifier", "expression": "Adult"}}]
    applier = Applier(Artifacts.from_resources(resources), engine)
    assert "no-vertebroplasty" not in applier.apply(demo_patient("acute-child"), DATE).applicable
    assert "no-vertebroplasty" in applier.apply(demo_patient("acute-adult"), DATE).applicable
