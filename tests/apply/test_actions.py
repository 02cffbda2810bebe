"""Activity vocabulary end to end: priority, timing, choice groups and "no recommendation".

Definitions -> synthesized PlanDefinition/ActivityDefinition -> `$apply` on the real engine ->
requests, checked for shape (R4B models) and content; plus the explanation of each outcome.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from generator.apply import Applier, Artifacts, Engine
from generator.apply._scenarios import run_scenarios
from generator.apply.explain import format_explanation
from generator.compile import compile_definitions
from generator.cql.translator import Translator
from generator.diagnostics import DiagnosticBag
from generator.load import load_definitions

HERE = Path(__file__).resolve().parent
DEFINITIONS = HERE / "actions_definitions"
PACKAGE = DEFINITIONS / "actionsdemo"
DATE = "2026-03-01"
RATIONALE = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale"
DIRECTION = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-directionOfRecommendation"


@pytest.fixture(scope="module")
def built(session_translator: Translator) -> Any:
    result = compile_definitions(DEFINITIONS, translator=session_translator)  # validated as a build is
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.guidelines[0]


@pytest.fixture(scope="module")
def by_id(built: Any) -> dict[str, dict[str, Any]]:
    return {f"{r['resourceType']}/{r['id']}": r for r in built.resources}


@pytest.fixture(scope="module")
def applier(built: Any, engine: Engine) -> Applier:
    return Applier(Artifacts.from_resources(built.resources), engine)


def patient(name: str) -> dict[str, Any]:
    return json.loads((PACKAGE / "patients" / f"{name}.json").read_text(encoding="utf-8"))


def applied(applier: Applier, name: str) -> tuple[list[dict[str, Any]], Any]:
    result = applier.apply(patient(name), DATE)
    out = [e["resource"] for e in result.bundle["entry"]]
    for resource in out:  # every resource $apply emits is structurally valid (R4B models)
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return out, result


def of_rec(resources: list[dict[str, Any]], rec: str) -> dict[str, Any]:
    return next(r for r in resources if r["resourceType"] == "RequestGroup"
                and r["instantiatesCanonical"][0].split("|")[0].endswith(f"/PlanDefinition/{rec}"))


def requests(resources: list[dict[str, Any]], group: dict[str, Any]) -> list[dict[str, Any]]:
    urls = {f"urn:uuid:{r['id']}": r for r in resources}

    def walk(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found = []
        for action in actions:
            if "resource" in action:
                found.append(urls[action["resource"]["reference"]])
            found += walk(action.get("action", []))
        return found
    return walk(group.get("action", []))


# -- synthesized definitions -------------------------------------------------------------------

def test_priority_and_timing_on_activity_definitions(by_id: dict[str, dict[str, Any]]) -> None:
    referral = by_id["ActivityDefinition/urgent-referral"]
    assert referral["priority"] == "urgent"
    assert referral["timingTiming"] == {"repeat": {"count": 1}, "code": {"text": "immediately"}}
    calcitonin = by_id["ActivityDefinition/calcitonin-course"]
    assert calcitonin["priority"] == "routine"
    assert calcitonin["timingTiming"]["repeat"]["boundsDuration"] == {
        "value": 4, "unit": "weeks", "system": "http://unitsofmeasure.org", "code": "wk"}
    assert calcitonin["timingTiming"]["code"]["text"] == "for 4 weeks from fracture identification"
    # No stated priority, no invented one.
    assert "priority" not in by_id["ActivityDefinition/follow-up-1"]


def test_action_timing_window_and_relative_action(by_id: dict[str, dict[str, Any]]) -> None:
    action = by_id["PlanDefinition/follow-up"]["action"][0]
    visit, reminder = action["action"]
    assert visit["timingRange"]["low"]["value"] == 4 and visit["timingRange"]["high"]["value"] == 6
    assert visit["timingRange"]["high"]["code"] == "wk"
    assert reminder["relatedAction"] == [{"actionId": "follow-up-1", "relationship": "after-start",
                                          "offsetDuration": {"value": 2, "unit": "days",
                                                             "system": "http://unitsofmeasure.org", "code": "d"}}]
    assert by_id["PlanDefinition/urgent-referral"]["action"][0]["priority"] == "urgent"


def test_choice_is_an_action_group_with_one_definition_per_drug(by_id: dict[str, dict[str, Any]]) -> None:
    action = by_id["PlanDefinition/analgesic-choice"]["action"][0]
    assert (action["groupingBehavior"], action["selectionBehavior"]) == ("logical-group", "exactly-one")
    targets = [a["definitionCanonical"].split("|")[0].rsplit("/", 1)[1] for a in action["action"]]
    assert targets == ["analgesic-choice-1", "analgesic-choice-2"]
    for ad_id in targets:
        product = by_id[f"ActivityDefinition/{ad_id}"]["productCodeableConcept"]
        assert len(product["coding"]) == 1  # one drug per request, never drugs as codings of one concept


def test_a_drug_class_is_named_by_its_value_set_never_as_several_codings(by_id: dict[str, dict[str, Any]]) -> None:
    product = by_id["ActivityDefinition/nsaid-class"]["productCodeableConcept"]
    assert product == {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-reference",
                                      "valueUri": "http://example.org/fhir/actionsdemo/ValueSet/nsaids"}],
                       "text": "NSAID"}


def test_no_recommendation_is_guidance_not_an_order(by_id: dict[str, dict[str, Any]]) -> None:
    ad = by_id["ActivityDefinition/bracing-no-recommendation"]
    assert ad["kind"] == "CommunicationRequest" and ad["doNotPerform"] is False
    assert {c["code"] for c in ad["code"]["coding"]} == {"send-message", "notification"}
    action = by_id["PlanDefinition/bracing-no-recommendation"]["action"][0]
    assert action["textEquivalent"] == "No recommendation for or against spinal bracing. The evidence is inconclusive."
    assert not any(e["url"] == DIRECTION for e in action.get("extension", []))  # neither for nor against


# -- $apply on the real engine -----------------------------------------------------------------

def test_priority_and_timing_survive_into_requests(applier: Applier) -> None:
    out, _ = applied(applier, "acute-adult")
    referral_group = of_rec(out, "urgent-referral")
    assert referral_group["action"][0]["priority"] == "urgent"
    assert referral_group["action"][0]["timingTiming"]["code"]["text"] == "immediately"
    (referral,) = requests(out, referral_group)
    assert referral["resourceType"] == "ServiceRequest" and referral["priority"] == "urgent"
    assert referral["occurrenceTiming"]["code"]["text"] == "immediately"
    (calcitonin,) = requests(out, of_rec(out, "calcitonin-course"))
    assert calcitonin["priority"] == "routine"
    timing = calcitonin["dosageInstruction"][0]["timing"]
    assert timing["repeat"]["boundsDuration"]["value"] == 4 and timing["repeat"]["frequency"] == 1
    assert timing["code"]["text"] == "for 4 weeks from fracture identification"
    group = of_rec(out, "follow-up")
    visit_action, reminder_action = group["action"][0]["action"]
    assert visit_action["timingRange"]["low"]["value"] == 4
    assert reminder_action["relatedAction"][0]["actionId"] == "follow-up-1"
    visit, reminder = requests(out, group)
    assert visit["occurrenceTiming"]["code"]["text"] == "at 4-6 weeks after fracture identification"
    assert "occurrenceTiming" not in reminder  # R4 CommunicationRequest has no Timing; the action carries it


def test_choice_gives_a_request_group_with_one_request_per_drug(applier: Applier) -> None:
    out, _ = applied(applier, "acute-adult")
    group = of_rec(out, "analgesic-choice")
    assert group["action"][0]["selectionBehavior"] == "exactly-one"
    drugs = requests(out, group)
    assert [d["resourceType"] for d in drugs] == ["MedicationRequest", "MedicationRequest"]
    assert [[c["code"] for c in d["medicationCodeableConcept"]["coding"]] for d in drugs] == [["161"], ["5640"]]


def test_no_recommendation_yields_only_a_message_to_the_clinician(applier: Applier) -> None:
    out, _ = applied(applier, "acute-adult")
    (message,) = requests(out, of_rec(out, "bracing-no-recommendation"))
    assert message["resourceType"] == "CommunicationRequest" and message["doNotPerform"] is False
    assert message["payload"] == [{"contentString": "No recommendation for or against spinal bracing. "
                                                    "The evidence is inconclusive."}]


def test_every_proposal_records_why_it_was_proposed(applier: Applier) -> None:
    out, _ = applied(applier, "acute-adult")
    proposals = [r for r in out if r["resourceType"] in ("ServiceRequest", "MedicationRequest", "CommunicationRequest")]
    assert len(proposals) == 8
    for request in proposals:
        reasons = [e["valueMarkdown"] for e in request.get("extension", []) if e["url"] == RATIONALE]
        assert len(reasons) == 1 and reasons[0].startswith("Proposed because '")
    (referral,) = requests(out, of_rec(out, "urgent-referral"))
    assert [e["valueMarkdown"] for e in referral["extension"] if e["url"] == RATIONALE] == [
        "Proposed because 'Urgent surgical referral' applies: Acute Fracture = true, "
        "Low Creatinine Clearance = false."]


def test_explanation_names_the_deciding_features(applier: Applier) -> None:
    _, result = applied(applier, "acute-adult-low-crcl")
    explanation = result.explanation
    assert dict(explanation.features) == {"Acute Fracture": True, "Low Creatinine Clearance": True}
    referral = explanation.of("urgent-referral")
    assert not referral.applies and referral.deciding == [("Low Creatinine Clearance", True)]
    assert explanation.of("follow-up").applies and explanation.of("follow-up").deciding == [("Acute Fracture", True)]
    _, old = applied(applier, "old-fracture")
    assert old.explanation.of("urgent-referral").deciding == [("Acute Fracture", False)]
    text = format_explanation(explanation)
    assert "no       urgent-referral: Low Creatinine Clearance = true" in text
    assert "APPLIES  follow-up: Acute Fracture = true" in text


def test_scenarios_pass(built: Any, applier: Applier) -> None:
    bag = DiagnosticBag()
    (loaded,) = load_definitions(DEFINITIONS, bag)
    outcomes = run_scenarios("actionsdemo", loaded.guideline.scenarios, loaded.package_dir, applier)
    assert [o.passed for o in outcomes] == [True, True, True], [o.detail for o in outcomes]


# -- the CLI: --explain and failing scenarios --------------------------------------------------

def cli(*args: str) -> Any:
    from click.testing import CliRunner

    from generator.cli import main
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cpg_apply_explain(built: Any, tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in built.resources]}
    artifacts = tmp_path / "artifacts.json"
    artifacts.write_text(json.dumps(bundle))
    result = cli("apply", str(artifacts), "--patient", str(PACKAGE / "patients" / "acute-adult-low-crcl.json"),
                 "--date", DATE, "--explain")
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)  # stdout stays the Bundle alone
    assert "    Low Creatinine Clearance  true" in result.stderr
    assert "no       urgent-referral: Low Creatinine Clearance = true" in result.stderr


def test_failing_scenario_shows_expected_actual_and_deciding_features(tmp_path: Path) -> None:
    import shutil
    copy = tmp_path / "defs"
    shutil.copytree(DEFINITIONS, copy)
    init = copy / "actionsdemo" / "__init__.py"
    # Wrongly expect the referral for the patient with low creatinine clearance.
    # (and no longer expect it absent: one id both present and absent is RULE018 before anything runs).
    init.write_text(init.read_text().replace('present=["follow-up", "analgesic-choice"',
                                             'present=["urgent-referral", "follow-up", "analgesic-choice"')
                    .replace('absent=["urgent-referral", "calcitonin-course"', 'absent=["calcitonin-course"'))
    result = cli("test", "actionsdemo", "--definitions", str(copy), "--fresh", "--explain")
    assert result.exit_code == 1
    assert "actionsdemo/acute-adult-low-crcl failed:" in result.stdout
    assert "  actually applicable: follow-up, analgesic-choice, bracing-no-recommendation" in result.stdout
    assert ("  expected but not applicable: urgent-referral (decided by Low Creatinine Clearance = true)"
            in result.stdout)
    assert result.stdout.count("  features:") == 3  # --explain: every scenario's features and verdicts
    assert "scenario actionsdemo/old-fracture (2026-03-01):" in result.stdout


def test_narrative_shows_priority_timing_and_selection(by_id: dict[str, dict[str, Any]]) -> None:
    assert "<b>Priority</b>: urgent · <b>When</b>: immediately" in by_id["PlanDefinition/urgent-referral"]["text"]["div"]
    follow_up = by_id["PlanDefinition/follow-up"]["text"]["div"]
    assert "<b>When</b>: 4 weeks to 6 weeks after it applies" in follow_up
    assert "<b>When</b>: 2 days after-start action follow-up-1" in follow_up
    assert "<b>Select</b>: exactly-one" in by_id["PlanDefinition/analgesic-choice"]["text"]["div"]
    assert "<tr><th>Timing</th><td>for 4 weeks from fracture identification</td></tr>" in \
        by_id["ActivityDefinition/calcitonin-course"]["text"]["div"]


def test_one_offset_is_a_range_not_a_duration() -> None:
    """A bare Duration reads as how long the action lasts; the offset is when it starts."""
    from generator import at, weeks
    from generator.synth.plandefinition import _action_timing

    six = {"value": 6, "unit": "weeks", "system": "http://unitsofmeasure.org", "code": "wk"}
    assert _action_timing(at(weeks(6), after="fracture identification"), {}) == {"timingRange": {"low": six, "high": six}}


def test_a_medication_started_immediately_is_not_a_single_dose() -> None:
    """"Start immediately" is when to start a daily medication, not `count` 1 (one dose) in its dosage."""
    from generator.apply._plan import _kind_fields
    from generator.model.activities import immediately
    from generator.synth.activitydefinition import timing_json

    start = immediately()
    assert timing_json(start)["repeat"] == {"count": 1}  # a one-off service: once
    medication = timing_json(start, medication=True)
    assert "repeat" not in medication and medication["code"]["text"] == start.text
    ad = {"productCodeableConcept": {"text": "alendronate"}, "timingTiming": medication,
          "dosage": [{"text": "70 mg weekly", "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}}]}
    request: dict = {}
    _kind_fields("MedicationRequest", ad, request)
    assert request["dosageInstruction"][0]["timing"]["repeat"] == {"frequency": 1, "period": 1, "periodUnit": "wk"}
