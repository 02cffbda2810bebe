"""Reachability in small dependency graphs: one walk for every "X and all it depends on" question.

CQL libraries and their includes, defines and the defines they use, profiles and the profiles
they derive from: each is the same transitive closure over a different edge function.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def reachable(start: Node, neighbours: Callable[[Node], Iterable[Node]]) -> set[Node]:
    """`start` and every node reachable from it through `neighbours` (cycles are fine)."""
    seen: set[Node] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(neighbours(current))
    return seen
