"""Order resources so dependencies come first, and cut them into requests a server accepts.

Order: a topological sort over canonical references (Library depends-on / composed-of, PlanDefinition
library and action definitionCanonical, ActivityDefinition library, ValueSet compose.include.valueSet),
ties broken by type (CodeSystem, ValueSet, Library, ActivityDefinition, PlanDefinition, the rest) and
then by input order. Back-links such as cpg-partOf are extensions and are not followed, so the
pathway -> strategy -> recommendation chain has no cycle; any cycle left is broken by type rank.

Requests: consecutive runs of that order, each with at most `max_entries` entries and at most
`max_bytes` bytes of compact JSON, so a server's transaction and body limits are met.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.jsonfmt import dump_compact

TYPE_RANK = {"CodeSystem": 0, "ValueSet": 1, "Library": 2, "ActivityDefinition": 3, "PlanDefinition": 4}
BUNDLE_OVERHEAD = len(dump_compact({"resourceType": "Bundle", "type": "transaction", "entry": []}))


def _bare(canonical: str) -> str:
    return canonical.split("|", 1)[0]


def _actions(actions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for action in actions:
        yield action
        yield from _actions(action.get("action", []))


def references(resource: dict[str, Any]) -> set[str]:
    """The canonicals (without version) this resource needs to exist before it."""
    found: set[str] = set()
    for artifact in resource.get("relatedArtifact", []):
        if artifact.get("type") in ("depends-on", "composed-of") and isinstance(artifact.get("resource"), str):
            found.add(_bare(artifact["resource"]))
    for library in resource.get("library", []):
        if isinstance(library, str):
            found.add(_bare(library))
    for action in _actions(resource.get("action", [])):
        if isinstance(action.get("definitionCanonical"), str):
            found.add(_bare(action["definitionCanonical"]))
    for include in resource.get("compose", {}).get("include", []):
        found.update(_bare(v) for v in include.get("valueSet", []) if isinstance(v, str))
    return found


def dependency_order(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`resources` with every in-set dependency before its dependants (stable otherwise)."""
    index_of_url = {r["url"]: i for i, r in enumerate(resources) if isinstance(r.get("url"), str)}
    needs: list[set[int]] = []
    for i, r in enumerate(resources):
        needs.append({index_of_url[u] for u in references(r) if u in index_of_url and index_of_url[u] != i})
    dependants: list[list[int]] = [[] for _ in resources]
    for i, deps in enumerate(needs):
        for d in deps:
            dependants[d].append(i)

    def key(i: int) -> tuple[int, int]:
        return TYPE_RANK.get(resources[i]["resourceType"], len(TYPE_RANK)), i

    waiting = [len(deps) for deps in needs]
    ready = [key(i) for i in range(len(resources)) if waiting[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    placed = [False] * len(resources)
    while len(order) < len(resources):
        if not ready:  # a cycle: release the lowest-ranked resource still waiting
            heapq.heappush(ready, min(key(i) for i in range(len(resources)) if not placed[i]))
        _, i = heapq.heappop(ready)
        if placed[i]:
            continue
        placed[i] = True
        order.append(i)
        for j in dependants[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not placed[j]:
                heapq.heappush(ready, key(j))
    return [resources[i] for i in order]


@dataclass(frozen=True)
class Plan:
    """The requests of a load: each a list of indexes into the ordered entries, with its size."""

    requests: list[list[int]]
    sizes: list[int]


class TooLarge(Exception):
    def __init__(self, index: int, size: int):
        super().__init__(index, size)
        self.index, self.size = index, size


def plan_requests(entries: list[dict[str, Any]], max_entries: int, max_bytes: int,
                  size_of: Callable[[dict[str, Any]], int] = lambda e: len(dump_compact(e))) -> Plan:
    """Cut ordered Bundle entries into consecutive requests within both limits (TooLarge when one
    entry alone exceeds `max_bytes`)."""
    requests: list[list[int]] = []
    sizes: list[int] = []
    current: list[int] = []
    current_size = BUNDLE_OVERHEAD
    for i, entry in enumerate(entries):
        size = size_of(entry)
        if BUNDLE_OVERHEAD + size > max_bytes:
            raise TooLarge(i, BUNDLE_OVERHEAD + size)
        added = size + (1 if current else 0)  # the comma between entries
        if current and (len(current) >= max_entries or current_size + added > max_bytes):
            requests.append(current)
            sizes.append(current_size)
            current, current_size, added = [], BUNDLE_OVERHEAD, size
        current.append(i)
        current_size += added
    if current:
        requests.append(current)
        sizes.append(current_size)
    return Plan(requests, sizes)
