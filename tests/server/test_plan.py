"""Request planning of `cpg load`: dependency order and requests within the limits (no server)."""

from __future__ import annotations

import pytest

from generator.jsonfmt import dump_compact
from generator.server._plan import TooLarge, dependency_order, plan_requests

BASE = "http://example.org/fhir/x/"


def _pd(rid: str, *targets: str) -> dict:
    return {"resourceType": "PlanDefinition", "id": rid, "url": BASE + "PlanDefinition/" + rid,
            "action": [{"definitionCanonical": BASE + t + "|1.0.0"} for t in targets],
            "extension": [{"url": "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-partOf",
                           "valueCanonical": BASE + "PlanDefinition/pathway"}]}


def test_dependencies_come_first_and_back_links_are_not_followed() -> None:
    resources = [
        _pd("pathway", "PlanDefinition/strategy"),
        _pd("strategy", "PlanDefinition/rec"),
        _pd("rec", "ActivityDefinition/act"),
        {"resourceType": "ActivityDefinition", "id": "act", "url": BASE + "ActivityDefinition/act"},
        {"resourceType": "Library", "id": "Logic", "url": BASE + "Library/Logic",
         "relatedArtifact": [{"type": "depends-on", "resource": BASE + "Library/Helpers|1"},
                             {"type": "depends-on", "resource": BASE + "ValueSet/vs"}]},
        {"resourceType": "Library", "id": "Helpers", "url": BASE + "Library/Helpers"},
        {"resourceType": "ValueSet", "id": "vs", "url": BASE + "ValueSet/vs"},
    ]
    order = [r["id"] for r in dependency_order(resources)]
    assert order == ["vs", "Helpers", "Logic", "act", "rec", "strategy", "pathway"]


def test_a_cycle_is_broken_by_type_rank_without_losing_anything() -> None:
    a = {"resourceType": "Library", "id": "A", "url": BASE + "Library/A",
         "relatedArtifact": [{"type": "depends-on", "resource": BASE + "Library/B"}]}
    b = {"resourceType": "Library", "id": "B", "url": BASE + "Library/B",
         "relatedArtifact": [{"type": "depends-on", "resource": BASE + "Library/A"}]}
    vs = {"resourceType": "ValueSet", "id": "vs", "url": BASE + "ValueSet/vs"}
    assert [r["id"] for r in dependency_order([a, b, vs])] == ["vs", "A", "B"]


@pytest.mark.parametrize("max_entries,max_bytes", [(1, 10_000), (3, 10_000), (8, 2_500), (100, 1_200)])
def test_requests_fit_both_limits(max_entries: int, max_bytes: int) -> None:
    entries = [{"resource": {"resourceType": "Basic", "id": f"b{i}", "text": "x" * (i * 37 % 300)},
                "request": {"method": "PUT", "url": f"Basic/b{i}"}} for i in range(40)]
    plan = plan_requests(entries, max_entries, max_bytes)
    assert [i for request in plan.requests for i in request] == list(range(40))  # all, in order
    for request, size in zip(plan.requests, plan.sizes):
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entries[i] for i in request]}
        assert len(request) <= max_entries
        assert len(dump_compact(bundle)) == size <= max_bytes


def test_an_entry_larger_than_the_limit_is_reported() -> None:
    entries = [{"resource": {"resourceType": "Basic", "id": "big", "text": "x" * 5000}}]
    with pytest.raises(TooLarge) as caught:
        plan_requests(entries, 8, 2000)
    assert caught.value.index == 0 and caught.value.size > 2000
