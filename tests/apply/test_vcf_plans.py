"""The VCF pathway as `$apply` proposes it to every scenario patient (issue 13, phase 2).

Scenarios only say which recommendations apply; these tests read the requests themselves, on the real
engine: no plan proposes and forbids the same drug or service (risedronate with creatinine clearance
below 30 mL/min), "no recommendation" items reach the clinician as a message and never as an order,
the sources' urgency and timing arrive on the requests, and the osteoporosis agents are one choice
with one request per drug.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator.apply import Applier, Artifacts, Engine
from generator.compile import compile_definitions
from generator.cql.translator import Translator

ROOT = Path(__file__).resolve().parents[2]
VCF = ROOT / "definitions" / "vertebral_compression_fracture"
GUIDELINE = "vertebral-compression-fracture"
DATE = "2026-11-21"
VALUESET_REFERENCE = "http://hl7.org/fhir/StructureDefinition/valueset-reference"
NO_RECOMMENDATION = ("analgesics-no-recommendation", "bracing-physician-discretion",
                     "exercise-programmes-inconclusive", "electrical-stimulation-inconclusive")
RISEDRONATE = ("http://www.nlm.nih.gov/research/umls/rxnorm", "73056")
ACTIVITY_TYPE = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type-cs"  # the kind of request, not its subject

pytestmark = pytest.mark.skipif(not (VCF / "__init__.py").is_file(), reason="the VCF guideline is absent")


@pytest.fixture(scope="module")
def resources(session_translator: Translator) -> list[dict[str, Any]]:
    result = compile_definitions(ROOT / "definitions", translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    return next(g for g in result.guidelines if g.id == GUIDELINE).resources


@pytest.fixture(scope="module")
def plans(resources: list[dict[str, Any]], engine: Engine) -> dict[str, dict[str, Any]]:
    """Scenario bundle name -> the `$apply` result Bundle."""
    files = sorted((VCF / "scenarios").glob("*.json"))
    bundles = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    results = Applier(Artifacts.from_resources(resources), engine).apply_many(bundles, DATE)
    return {f.stem: r.bundle for f, r in zip(files, results, strict=True)}


@pytest.fixture(scope="module")
def members(resources: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
    """Value set url -> its listed codes (the drug and service classes an activity may name)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for vs in (r for r in resources if r["resourceType"] == "ValueSet"):
        out[vs["url"]] = {(inc["system"], c["code"]) for inc in vs.get("compose", {}).get("include", [])
                          for c in inc.get("concept", [])}
    return out


def _concept(request: Mapping[str, Any]) -> Mapping[str, Any]:
    return request.get("medicationCodeableConcept") or request.get("code") or {}


def _codes(request: Mapping[str, Any], members: Mapping[str, set[tuple[str, str]]]) -> set[tuple[str, str]]:
    """What a request is about: its codings, or every member of the class (value set) it names."""
    concept = _concept(request)
    codes = {(c["system"], c["code"]) for c in concept.get("coding", []) if c["system"] != ACTIVITY_TYPE}
    for ext in concept.get("extension", []):
        if ext["url"] == VALUESET_REFERENCE:
            codes |= members[ext["valueUri"].split("|")[0]]
    return codes


def conflicts(requests: Iterable[Mapping[str, Any]],
              members: Mapping[str, set[tuple[str, str]]]) -> set[tuple[str, str]]:
    """Codes one plan both proposes and forbids (doNotPerform)."""
    proposed: set[tuple[str, str]] = set()
    forbidden: set[tuple[str, str]] = set()
    for r in requests:
        if r["resourceType"] in ("MedicationRequest", "ServiceRequest"):
            (forbidden if r.get("doNotPerform") else proposed).update(_codes(r, members))
    return proposed & forbidden


def _resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"]]


def by_recommendation(bundle: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Recommendation id -> the requests its RequestGroup proposes (nested groups followed)."""
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    by_ref = {**by_url, **{f"{r['resourceType']}/{r['id']}": r for r in by_url.values()}}
    out: dict[str, list[dict[str, Any]]] = {}

    def walk(actions: list[dict[str, Any]], into: list[dict[str, Any]]) -> None:
        for action in actions:
            target = by_ref.get(action.get("resource", {}).get("reference", ""))
            if target is not None and target["resourceType"] != "RequestGroup":
                into.append(target)
            walk(action.get("action", []), into)

    for rg in (r for r in by_url.values() if r["resourceType"] == "RequestGroup"):
        for canonical in rg.get("instantiatesCanonical", []):
            rec_id = canonical.split("|")[0].rsplit("/", 1)[-1]
            walk(rg.get("action", []), out.setdefault(rec_id, []))
    return out


def _group(bundle: Mapping[str, Any], rec_id: str) -> dict[str, Any]:
    """The choice group inside a recommendation's RequestGroup."""
    rg = next(r for r in _resources(bundle) if r["resourceType"] == "RequestGroup"
              and any(c.split("|")[0].endswith("/" + rec_id) for c in r.get("instantiatesCanonical", [])))
    stack = list(rg["action"])
    while stack:
        action = stack.pop()
        if "selectionBehavior" in action and action.get("action"):
            return action
        stack.extend(action.get("action", []))
    raise AssertionError(f"{rec_id}: no choice group")


def test_conflict_check_can_fail(members: dict[str, set[tuple[str, str]]]) -> None:
    bisphosphonates = next(url for url, codes in members.items() if RISEDRONATE in codes)
    proposal = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"coding": [
        {"system": RISEDRONATE[0], "code": RISEDRONATE[1]}]}}
    ban = {"resourceType": "MedicationRequest", "doNotPerform": True,
           "medicationCodeableConcept": {"extension": [{"url": VALUESET_REFERENCE, "valueUri": bisphosphonates}]}}
    assert conflicts([proposal, ban], members) == {RISEDRONATE}
    assert conflicts([proposal], members) == set()


def test_no_plan_proposes_and_forbids_the_same_thing(plans: dict[str, dict[str, Any]],
                                                     members: dict[str, set[tuple[str, str]]]) -> None:
    assert len(plans) >= 40
    found = {name: conflicts(_resources(bundle), members) for name, bundle in plans.items()}
    assert not {name: c for name, c in found.items() if c}
    # the renal case that once did: risedronate is forbidden and not among the proposed agents
    renal = by_recommendation(plans["crcl-25"])
    assert any(r.get("doNotPerform") for r in renal["risedronate-not-in-severe-renal-impairment"])
    agents = renal["osteoporosis-pharmacotherapy-bisphosphonate-renal"]
    assert RISEDRONATE not in set().union(*(_codes(r, members) for r in agents))


def test_no_recommendation_items_are_messages_not_orders(plans: dict[str, dict[str, Any]]) -> None:
    seen = 0
    for bundle in plans.values():
        for rec_id, requests in by_recommendation(bundle).items():
            if rec_id in NO_RECOMMENDATION:
                seen += 1
                assert [r["resourceType"] for r in requests] == ["CommunicationRequest"], rec_id
                assert requests[0]["payload"][0]["contentString"].startswith("No recommendation for or against")
    assert seen >= 4 * 10  # the conservative-care patients


def test_urgency_and_timing_reach_the_requests(plans: dict[str, dict[str, Any]]) -> None:
    neuro = by_recommendation(plans["neurological-deficit"])["neurological-deficit-immediate-referral"]
    assert [(r["resourceType"], r.get("priority")) for r in neuro] == [("ServiceRequest", "urgent")]
    assert neuro[0]["occurrenceTiming"]["code"]["text"] == "immediately"
    malignancy = by_recommendation(plans["malignancy-history"])["pathologic-fracture-multidisciplinary-management"]
    assert [r.get("priority") for r in malignancy] == ["urgent"] * 3
    acute = by_recommendation(plans["acute-l1-intact"])
    reassess = acute["reassess-at-4-to-6-weeks"][0]
    assert "4-6 weeks after fracture identification" in reassess["occurrenceTiming"]["code"]["text"]
    calcitonin = acute["calcitonin-acute-pain"][0]
    for dosage in calcitonin["dosageInstruction"]:
        assert dosage["timing"]["repeat"]["boundsDuration"]["value"] == 4
        assert "0-5 days after onset" in dosage["timing"]["code"]["text"]
    # a recommendation whose sources state no urgency gets none
    deformity = by_recommendation(plans["deformity-kyphosis"])["deformity-surgical-referral"]
    assert [r.get("priority") for r in deformity] == [None]


@pytest.mark.parametrize("scenario, rec_id, drugs", [
    ("acute-l1-intact", "osteoporosis-pharmacotherapy-bisphosphonate",
     ["Alendronate", "Risedronate", "Ibandronate", "Denosumab", "Strontium ranelate"]),
    ("crcl-25", "osteoporosis-pharmacotherapy-bisphosphonate-renal",
     ["Alendronate", "Ibandronate", "Denosumab", "Strontium ranelate"]),
    ("cannot-remain-upright", "osteoporosis-pharmacotherapy-no-bisphosphonate", ["Denosumab", "Strontium ranelate"]),
])
def test_osteoporosis_agents_are_one_choice(plans: dict[str, dict[str, Any]], scenario: str, rec_id: str,
                                            drugs: list[str]) -> None:
    assert _group(plans[scenario], rec_id)["selectionBehavior"] == "exactly-one"
    requests = by_recommendation(plans[scenario])[rec_id]
    assert [r["medicationCodeableConcept"]["text"] for r in requests] == drugs
    assert all(len(r["medicationCodeableConcept"].get("coding", [])) == 1 for r in requests)  # one drug each
    assert {r.get("priority") for r in requests} == {"urgent"}
