"""`$apply` on the demo guideline: exact results per patient and the shape of the result Bundle."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from generator.apply import Applier, ApplyError, apply

from .conftest import DATE, demo_patient

CPG = "http://hl7.org/fhir/uv/cpg/StructureDefinition/"
PD = "http://example.org/fhir/applydemo/PlanDefinition/"
AD = "http://example.org/fhir/applydemo/ActivityDefinition/"


def resources(bundle: dict[str, Any], resource_type: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if resource_type in (None, e["resource"]["resourceType"])]


def by_url(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fullUrl"]: e["resource"] for e in bundle["entry"]}


def instantiated(request: dict[str, Any]) -> str:
    if request["resourceType"] == "CommunicationRequest":
        return request["extension"][0]["valueCanonical"]
    return request["instantiatesCanonical"][0]


@pytest.mark.parametrize(("patient", "applicable", "requests"), [
    ("acute-adult", ["calcitonin", "no-vertebroplasty", "adult-education"],
     [("MedicationRequest", "calcitonin"), ("ServiceRequest", "no-vertebroplasty-1"),
      ("CommunicationRequest", "no-vertebroplasty-2"), ("CommunicationRequest", "adult-education")]),
    ("acute-adult-low-crcl", ["no-vertebroplasty", "adult-education"],
     [("ServiceRequest", "no-vertebroplasty-1"), ("CommunicationRequest", "no-vertebroplasty-2"),
      ("CommunicationRequest", "adult-education")]),
    # No creatinine clearance on record: "not low CrCl" holds (builder comparisons are false, not null,
    # without data), so calcitonin applies as for an adult with a normal result.
    ("acute-adult-no-crcl", ["calcitonin", "no-vertebroplasty", "adult-education"],
     [("MedicationRequest", "calcitonin"), ("ServiceRequest", "no-vertebroplasty-1"),
      ("CommunicationRequest", "no-vertebroplasty-2"), ("CommunicationRequest", "adult-education")]),
    ("old-fracture", ["adult-education"], [("CommunicationRequest", "adult-education")]),
    ("acute-child", ["no-vertebroplasty"],
     [("ServiceRequest", "no-vertebroplasty-1"), ("CommunicationRequest", "no-vertebroplasty-2")]),
])
def test_exact_results_per_patient(demo_applier: Applier, patient: str, applicable: list[str],
                                   requests: list[tuple[str, str]]) -> None:
    result = demo_applier.apply(demo_patient(patient), DATE)
    assert result.applicable == applicable
    made = [(r["resourceType"], instantiated(r).split("/")[-1].split("|")[0])
            for r in resources(result.bundle) if r["resourceType"] not in ("RequestGroup", "CarePlan")]
    assert made == requests
    groups = [g["instantiatesCanonical"][0] for g in resources(result.bundle, "RequestGroup")]
    assert groups[0] == PD + "applydemo|1.0.0"
    assert {g.split("/")[-1].split("|")[0] for g in groups[1:]} >= set(applicable)


def test_bundle_shape(demo_applier: Applier) -> None:
    bundle = demo_applier.apply(demo_patient("acute-adult"), DATE).bundle
    Bundle.model_validate(bundle)  # parses as FHIR R4B (same shapes as R4 for these types)
    assert bundle["type"] == "collection"
    first, care_plan = bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]
    assert first["resourceType"] == "RequestGroup"
    assert (first["status"], first["intent"], first["subject"]) == ("draft", "proposal", {"reference": "Patient/acute-adult"})
    assert first["instantiatesCanonical"] == [PD + "applydemo|1.0.0"]
    assert care_plan["resourceType"] == "CarePlan"
    assert care_plan["activity"][0]["reference"]["reference"] == bundle["entry"][0]["fullUrl"]
    assert care_plan["instantiatesCanonical"] == first["instantiatesCanonical"]
    # pathway → two strategies → recommendations
    strategies = [a["title"] for a in first["action"]]
    assert strategies == ["Acute", "Prevention"]


def test_every_reference_resolves_and_ids_are_unique(demo_applier: Applier) -> None:
    bundle = demo_applier.apply(demo_patient("acute-adult"), DATE).bundle
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])
    urls = by_url(bundle)

    def refs(actions: list[dict[str, Any]]) -> list[str]:
        found = []
        for action in actions:
            if "resource" in action:
                found.append(action["resource"]["reference"])
            found += refs(action.get("action", []))
        return found

    referenced = [r for g in resources(bundle, "RequestGroup") for r in refs(g.get("action", []))]
    assert referenced and all(r in urls for r in referenced)
    # every generated resource except the root group and the care plan is referenced exactly once
    assert sorted(referenced) == sorted(e["fullUrl"] for e in bundle["entry"][2:])


def test_recommendation_action_carries_evidence_and_citations(demo_applier: Applier) -> None:
    bundle = demo_applier.apply(demo_patient("acute-adult"), DATE).bundle
    group = next(g for g in resources(bundle, "RequestGroup") if g["instantiatesCanonical"][0] == PD + "calcitonin|1.0.0")
    action = group["action"][0]
    assert action["title"] == "Calcitonin for acute fracture pain"
    urls = [e["url"] for e in action["extension"]]
    assert urls == ["http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation",
                    "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence",
                    CPG + "cpg-directionOfRecommendation"]
    assert action["documentation"][0]["type"] == "citation"
    assert "condition" not in action  # applicability was evaluated, not passed on
    request = by_url(bundle)[action["resource"]["reference"]]
    assert request["resourceType"] == "MedicationRequest"
    assert (request["status"], request["intent"], request["doNotPerform"]) == ("draft", "proposal", False)
    assert request["medicationCodeableConcept"]["coding"][0]["code"] == "1000"
    assert request["dosageInstruction"][0]["text"] == "200 IU nasal daily"
    assert request["instantiatesCanonical"] == [AD + "calcitonin|1.0.0"]
    assert request["meta"]["profile"] == [CPG + "cpg-medicationrequest"]


def test_grouping_do_not_perform_and_dynamic_values(demo_applier: Applier) -> None:
    bundle = demo_applier.apply(demo_patient("acute-child"), DATE).bundle
    group = next(g for g in resources(bundle, "RequestGroup")
                 if g["instantiatesCanonical"][0] == PD + "no-vertebroplasty|1.0.0")
    action = group["action"][0]
    assert (action["groupingBehavior"], action["selectionBehavior"]) == ("logical-group", "all")
    assert [a["id"] for a in action["action"]] == ["no-vertebroplasty-1", "no-vertebroplasty-2"]
    service, communication = (by_url(bundle)[a["resource"]["reference"]] for a in action["action"])
    assert service["resourceType"] == "ServiceRequest" and service["doNotPerform"] is True
    assert service["code"]["coding"][1]["code"] == "392010000"
    assert communication["resourceType"] == "CommunicationRequest"
    assert "intent" not in communication and "instantiatesCanonical" not in communication  # not in R4
    assert communication["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/workflow-instantiatesCanonical",
         "valueCanonical": AD + "no-vertebroplasty-2|1.0.0"},
        {"url": "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale",
         "valueMarkdown": "Proposed because 'No vertebroplasty' applies: Acute Fracture = true."}]
    assert communication["payload"] == [{"contentString": "Vertebroplasty is not recommended."}]


def test_output_is_deterministic(demo_applier: Applier) -> None:
    one = demo_applier.apply(demo_patient("acute-adult"), DATE).bundle
    two = demo_applier.apply(demo_patient("acute-adult"), DATE).bundle
    assert one == two
    other_day = demo_applier.apply(demo_patient("acute-adult"), "2026-03-02").bundle
    assert {e["resource"]["id"] for e in one["entry"]}.isdisjoint(e["resource"]["id"] for e in other_day["entry"])


def test_many_patients_match_one_at_a_time(demo_applier: Applier) -> None:
    names = ["acute-adult", "old-fracture", "acute-child", "acute-adult-low-crcl"] * 40  # > one batch
    many = demo_applier.apply_many([demo_patient(n) for n in names], DATE)
    assert [r.applicable for r in many] == [demo_applier.apply(demo_patient(n), DATE).applicable for n in names]


def test_library_call_starts_its_own_engine(demo_resources: list[dict[str, Any]]) -> None:
    bundle = apply(demo_resources, demo_patient("old-fracture"), DATE)
    assert bundle["entry"][0]["resource"]["resourceType"] == "RequestGroup"


@pytest.mark.parametrize(("document", "code"), [
    ({"resourceType": "Patient", "id": "x"}, "APPLY022"),
    ({"resourceType": "Bundle", "type": "collection", "entry": []}, "APPLY023"),
    ({"resourceType": "Bundle", "type": "collection",
      "entry": [{"resource": {"resourceType": "Patient", "id": "a"}}, {"resource": {"resourceType": "Patient", "id": "b"}}]},
     "APPLY024"),
    ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]}, "APPLY025"),
])
def test_unusable_patient_input_is_refused(demo_applier: Applier, document: dict[str, Any], code: str) -> None:
    with pytest.raises(ApplyError) as caught:
        demo_applier.apply(document, DATE)
    assert caught.value.diagnostics[0].code == code
    assert caught.value.exit_code == 2


def test_bad_date_is_refused(demo_applier: Applier) -> None:
    with pytest.raises(ApplyError) as caught:
        demo_applier.apply(demo_patient("acute-adult"), "March 1st")
    assert caught.value.diagnostics[0].code == "APPLY026"
