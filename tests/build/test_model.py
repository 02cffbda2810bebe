"""Authoring-model behaviour that is not a diagnostic."""

from __future__ import annotations

from generator import (ALL_OTHERS, SNOMED, Feature, Guideline, Recommendation, Scenario, Service, Strategy,
                       conditions)


def _rec(rid: str) -> Recommendation:
    fracture = Feature("Fracture", conditions(SNOMED("207957008", "Fracture of vertebral column")).exists())
    return Recommendation(rid, title=rid, when=fracture, then=Service(code=SNOMED("113091000", "Magnetic resonance imaging")))


def test_all_others_expands_to_every_recommendation_not_present() -> None:
    scenario = Scenario("x", bundle="x.json", date="2026-01-01", present=["b"], absent=ALL_OTHERS)
    explicit = Scenario("y", bundle="y.json", date="2026-01-01", present=["a"], absent=["c"])
    Guideline(id="g", name="G", title="G", canonical="http://example.org/g", version="1.0.0", date="2026-01-01",
              description="d", publisher="p", strategies=[Strategy("s", recommendations=[_rec("a"), _rec("b"), _rec("c")])],
              scenarios=[scenario, explicit])
    assert scenario.absent == ["a", "c"]
    assert explicit.absent == ["c"]


def test_and_or_flatten_into_one_group() -> None:
    a, b, c = (Feature(n, cql="true") for n in "ABC")
    assert len((a & b & c).parts) == 3
    assert len((a | b | c).parts) == 3
