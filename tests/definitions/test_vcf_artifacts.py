"""The built VCF artifacts (committed output/) carry every checklist item, graded and cited,
and the compiled ELM has a Boolean define for every recommendation's applicability."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cql.elm import condition_check, summarize
from tests.definitions.test_vcf_content import CHECKLIST, RECS

OUT = Path(__file__).resolve().parents[2] / "output" / "vertebral-compression-fracture"
SEED_FILES = {"000", "001", "002", "003", "004"}


def _resource(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((OUT / "resources" / name).read_text())


def _canonicals(actions: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """The activities' canonicals in order, choice groups (nested actions) included."""
    out: list[str] = []
    for a in actions:
        out += [a["definitionCanonical"]] if "definitionCanonical" in a else _canonicals(a.get("action", []))
    return out


@pytest.mark.parametrize("item, rec_id, seeds", CHECKLIST, ids=[c[1] for c in CHECKLIST])
def test_checklist_item_has_a_cited_recommendation_artifact(item: str, rec_id: str, seeds: set[str]) -> None:
    plan = _resource(f"PlanDefinition-{rec_id}.json")
    assert "cpg-recommendationdefinition" in plan["meta"]["profile"][0]
    action = plan["action"][0]
    labels = {doc["label"] for doc in action["documentation"]}
    assert seeds <= labels <= SEED_FILES, (item, labels)
    assert all(doc["citation"] for doc in action["documentation"])
    assert action["condition"][0]["expression"]["language"] == "text/cql-identifier"
    targets = [action.get("definitionCanonical")] + _canonicals(action.get("action", []))
    flags = [_resource(f"ActivityDefinition-{c.split('|')[0].rsplit('/', 1)[-1]}.json")["doNotPerform"]
             for c in targets if c]
    assert flags == [a.do_not_perform for a in RECS[rec_id].activities]


def test_grading_extensions_match_the_definitions() -> None:
    for rec_id, rec in RECS.items():
        extensions = {e["url"].rsplit("/", 1)[-1]: e for e in _resource(f"PlanDefinition-{rec_id}.json")["action"][0].get("extension", [])}
        if rec.strength is not None:
            assert extensions["cqf-strengthOfRecommendation"]["valueCodeableConcept"]["coding"][0]["code"] == rec.strength.value[0]
        if rec.direction is not None:
            assert extensions["cpg-directionOfRecommendation"]["valueCodeableConcept"]["coding"][0]["code"] == rec.direction.value[0]
        if rec.certainty is not None:
            assert extensions["cqf-qualityOfEvidence"]["valueCodeableConcept"]["coding"][0]["code"] == rec.certainty.value[0]


def test_vertebroplasty_is_a_strong_do_not_perform() -> None:
    plan = _resource("PlanDefinition-vertebroplasty-not-recommended.json")
    codes = {e["url"].rsplit("/", 1)[-1]: e["valueCodeableConcept"]["coding"][0]["code"]
             for e in plan["action"][0]["extension"] if "valueCodeableConcept" in e}
    assert codes["cqf-strengthOfRecommendation"] == "strong"
    assert codes["cpg-directionOfRecommendation"] == "against"
    assert _resource("ActivityDefinition-vertebroplasty-not-recommended.json")["doNotPerform"] is True


def test_elm_has_a_boolean_applicability_define_per_recommendation() -> None:
    summary = summarize(json.loads((OUT / "elm" / "VertebralCompressionFracture.json").read_text()))
    for rec_id in RECS:
        define = _resource(f"PlanDefinition-{rec_id}.json")["action"][0]["condition"][0]["expression"]["expression"]
        assert condition_check(summary, define) is None, (rec_id, define)
        assert summary.defines[define] == "System.Boolean"
