"""What the reviewer's page says, piece by piece: logic in words, proposals, value sets, patients."""

from __future__ import annotations

from dataclasses import dataclass

from generator import SNOMED, LOINC, Feature, Quantity, ValueSet, age_in_years, conditions, observations, weeks
from generator.model import logic as L
from generator.publish._actions import action_views, timing_text
from generator.publish._describe import clause_texts, describe
from generator.publish._patients import age_at, patient_summary
from generator.publish.site import value_set_view

FRACTURE = ValueSet("fracture", title="Vertebral fracture", codes=[SNOMED("42942008", "Compression fracture of vertebral column")])
CRCL = LOINC("2164-2", "Creatinine renal clearance")


def test_thresholds_windows_and_data_are_spelled_out() -> None:
    acute = Feature("Acute Fracture", conditions(FRACTURE).onset_within(weeks(4)), description="Fracture in the last 4 weeks")
    low = Feature("Low Clearance", observations(CRCL).latest_value() < Quantity(30, "mL/min"))
    old = Feature("Old", age_in_years() >= 65)
    words = clause_texts(describe(acute & ~low | old, {f.name: f for f in (acute, low, old)}))
    text = " | ".join(words)
    assert words[0] == "any of:"
    assert "“Acute Fracture” (Fracture in the last 4 weeks): a Condition" in text
    assert "value set “Vertebral fracture” (1 code)" in text
    assert "within the last 4 weeks" in text
    assert "not known to be the case:" in text
    assert "LOINC 2164-2 “Creatinine renal clearance” is below 30 mL/min" in text
    assert "age is at least 65 years" in text


def test_features_named_by_string_are_expanded_and_cycles_stop() -> None:
    loop = Feature("Loop", "Loop")
    text = clause_texts(describe(L.FeatureName("Loop"), {"Loop": loop}))
    assert text == ["“Loop”: “Loop” (refers back to itself)"]
    assert clause_texts(describe(L.FeatureName("Missing"), {})) == ["“Missing” (unknown feature)"]


def test_raw_cql_is_shown_verbatim_and_unknown_kinds_say_so() -> None:
    raw = describe(Feature("Raw", cql='exists [Condition]'), {})
    assert raw.code == "exists [Condition]" and raw.text.startswith("“Raw”: author-written CQL")

    @dataclass(frozen=True, eq=False)
    class Future(L.BooleanLogic):
        pass

    assert "logic of kind Future (not described in words; see the CQL)" in describe(Future(), {}).text


def test_choice_groups_priority_and_timing_from_the_published_actions() -> None:
    ad = {"resourceType": "ActivityDefinition", "id": "alendronate", "url": "http://x/AD/alendronate",
          "title": "Alendronate", "kind": "MedicationRequest", "priority": "routine",
          "productCodeableConcept": {"coding": [{"system": "rxnorm", "code": "46041", "display": "alendronate"}]},
          "timingTiming": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}}
    actions = [
        {"id": "refer", "title": "Urgent referral", "priority": "urgent",
         "timingRange": {"low": {"value": 4, "code": "wk"}, "high": {"value": 6, "code": "wk"}}},
        {"id": "agents", "title": "Osteoporosis agent", "selectionBehavior": "exactly-one", "action": [
            {"id": "a1", "definitionCanonical": "http://x/AD/alendronate|1.0.0",
             "relatedAction": [{"actionId": "refer", "relationship": "after-start",
                                "offsetRange": {"low": {"value": 0, "code": "d"}, "high": {"value": 5, "code": "d"}}}]},
            {"id": "a2", "title": "Denosumab", "definitionCanonical": "http://x/AD/missing"},
        ]},
    ]
    views = action_views(actions, {"http://x/AD/alendronate": ad})
    assert views[0]["priority"] == "urgent" and views[0]["timing"] == "at 4–6 weeks"
    group = views[1]
    assert group["choice"] == "choose exactly one of"
    first, second = group["children"]
    assert first["title"] == "Alendronate" and first["priority"] == "routine"
    assert first["timing"] == "1 time(s) every 1 week"
    assert first["related"] == ["0–5 days after the start of “Urgent referral”"]
    assert first["activity"]["product"] == "alendronate (46041)"
    assert second["activity"]["file"] is None  # an unresolvable definition is still listed, by its title
    assert timing_text({"timingDuration": {"value": 4, "code": "wk"}}) == "for 4 weeks"
    marked = action_views(actions[1]["action"][:1], {"http://x/AD/alendronate": ad},
                          notes={("rxnorm", "46041"): "UNCONFIRMED: not found in any public value set"})
    assert marked[0]["activity"]["product"] == "alendronate (46041) [code meaning UNCONFIRMED]"
    assert timing_text({}) is None


def test_value_set_view_lists_every_code_rule_and_expansion() -> None:
    resource = {
        "resourceType": "ValueSet", "id": "big", "url": "http://x/ValueSet/big", "title": "Big",
        "compose": {"include": [
            {"system": "http://snomed.info/sct", "concept": [{"code": str(n), "display": f"c{n}"} for n in range(30)]},
            {"system": "http://snomed.info/sct", "filter": [{"property": "concept", "op": "is-a", "value": "42942008"}]},
            {"system": "http://hl7.org/fhir/sid/icd-10-cm", "filter": [{"property": "code", "op": "regex", "value": "M80.*"}]},
        ]},
        "expansion": {"identifier": "urn:uuid:1", "total": 3, "contains": [
            {"system": "s", "code": "a"}, {"system": "s", "code": "b", "contains": [{"system": "s", "code": "c"}]}]},
    }
    view = value_set_view(resource, {("http://snomed.info/sct", "7"): "confirmed in SNOMED CT browser"})
    assert [c[1] for c in view["codes"]] == [str(n) for n in range(30)]
    assert view["codes"][7][3] == "confirmed in SNOMED CT browser"
    assert view["rules"] == ["http://snomed.info/sct codes where concept is-a 42942008",
                             "http://hl7.org/fhir/sid/icd-10-cm codes where code regex M80.*"]
    assert [c[1] for c in view["expansion"]] == ["a", "b", "c"] and view["expansion_total"] == 3


def test_patient_summary_reads_like_a_clinician_would_say_it() -> None:
    bundle = {"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1950-06-15"}},
        {"resource": {"resourceType": "Condition", "code": {"coding": [{"display": "Compression fracture"}]},
                      "onsetDateTime": "2026-03-01T10:00:00Z", "bodySite": [{"coding": [{"display": "L1 vertebra"}]}]}},
        {"resource": {"resourceType": "Observation", "code": {"coding": [{"display": "Pain score"}]},
                      "valueInteger": 7, "effectiveDateTime": "2026-03-02"}},
        {"resource": {"resourceType": "MedicationStatement", "status": "active",
                      "medicationCodeableConcept": {"text": "alendronate"}}},
        {"resource": {"resourceType": "AllergyIntolerance"}},
    ]}
    summary = patient_summary(bundle, "2026-06-14")
    assert summary["headline"] == "75-year-old female"
    facts = dict(summary["facts"])
    assert facts["Conditions"] == ["Compression fracture (onset 2026-03-01; site L1 vertebra; clinical status not recorded)"]
    assert facts["Observations"] == ["Pain score: 7 (2026-03-02)"]
    assert facts["Medications"] == ["alendronate (MedicationStatement, active)"]
    assert facts["Other records"] == ["AllergyIntolerance"]
    assert age_at("1950-06-15", "2026-06-15") == 76 and age_at(None, "2026-01-01") is None
    assert patient_summary({"entry": [{"resource": {"resourceType": "Patient"}}]}, "2026-01-01")["headline"] == \
        "age unknown, sex not recorded"


def test_an_offset_and_the_sources_wording_are_both_shown() -> None:
    ad = {"resourceType": "ActivityDefinition", "id": "c", "url": "http://x/AD/c", "title": "Calcitonin",
          "timingTiming": {"code": {"text": "for 4 weeks from fracture identification"}}}
    action = {"definitionCanonical": "http://x/AD/c",
              "timingRange": {"low": {"value": 0, "code": "d"}, "high": {"value": 5, "code": "d"}}}
    (view,) = action_views([action], {"http://x/AD/c": ad})
    assert view["timing"] == "at 0–5 days — for 4 weeks from fracture identification"
