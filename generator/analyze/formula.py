"""Applicability as propositional formulas over data-shape leaves, and a search for patients.

Why our own small search and not a SAT solver dependency: the formulas are a few dozen leaves,
each subject has a handful of realisable choices (see `shapes`), and three-valued evaluation
(true / false / not yet known) prunes the search after a few assignments. The search yields
assignments in a fixed order (no data before data), so results are deterministic. It has a step
budget; running out means "not analysable", never a claim.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

from generator.analyze.shapes import Choice, Leaf, Opaque, Subject, leaf_for
from generator.model import logic as L

__all__ = ["And", "Or", "Not", "Const", "Formula", "FormulaBuilder", "Search", "leaves_of", "opaque_of", "conjuncts"]


@dataclass(frozen=True, eq=False)
class And:
    parts: tuple["Formula", ...]
    label: str | None = None  # the feature this came from, if any


@dataclass(frozen=True, eq=False)
class Or:
    parts: tuple["Formula", ...]
    label: str | None = None


@dataclass(frozen=True, eq=False)
class Not:
    part: "Formula"
    label: str | None = None


@dataclass(frozen=True)
class Const:
    value: bool


Formula = Union[And, Or, Not, Const, Leaf, Opaque]


class FormulaBuilder:
    """Turns author logic (features, names, builder nodes) into formulas; one per guideline.

    Features are expanded where used (the same Feature object yields the same formula object,
    so its leaves are shared); the leaves collected here define the guideline's subjects.
    """

    def __init__(self, features: list[L.Feature]) -> None:
        self._by_name = {feature.name: feature for feature in features}
        self._cache: dict[int, Formula] = {}
        self._leaves: dict[int, Leaf | Opaque] = {}
        self._active: set[int] = set()

    @property
    def leaves(self) -> list[Leaf]:
        return [leaf for leaf in self._leaves.values() if isinstance(leaf, Leaf)]

    def feature(self, feature: L.Feature) -> Formula:
        key = id(feature)
        if key in self._cache:
            return self._cache[key]
        if key in self._active:  # a cycle is reported by the rules; here it is just not analysable
            return Opaque("Feature", f"feature '{feature.name}' refers to itself")
        self._active.add(key)
        try:
            if feature.cql is not None:
                formula: Formula = Opaque("RawCql", f"feature '{feature.name}' is raw CQL")
            elif feature.logic is None:
                formula = Opaque("Feature", f"feature '{feature.name}' has no logic")
            else:
                formula = _labelled(self.build(feature.logic), feature.name)  # type: ignore[arg-type]
        finally:
            self._active.discard(key)
        self._cache[key] = formula
        return formula

    def build(self, node: Any) -> Formula:
        if node is None:
            return Const(True)  # a recommendation without `when` applies to everyone
        if type(node) is L.Feature:
            return self.feature(node)
        if type(node) is L.FeatureName:
            feature = self._by_name.get(node.name)
            return self.feature(feature) if feature is not None else Opaque("FeatureName", f"unknown feature '{node.name}'")
        if type(node) is L.AllOf:
            return And(tuple(self.build(p) for p in node.parts))
        if type(node) is L.AnyOf:
            return Or(tuple(self.build(p) for p in node.parts))
        if type(node) is L.Not:
            return Not(self.build(node.part))
        if type(node) is L.RawCql:
            return Opaque("RawCql", "raw CQL")
        key = id(node)
        if key not in self._leaves:
            self._leaves[key] = leaf_for(node)
        return self._leaves[key]


def _labelled(formula: Formula, name: str) -> Formula:
    if isinstance(formula, And):
        return And(formula.parts, name)
    if isinstance(formula, Or):
        return Or(formula.parts, name)
    if isinstance(formula, Not):
        return Not(formula.part, name)
    return And((formula,), name)


def leaves_of(formula: Formula) -> list[Leaf]:
    found: dict[int, Leaf] = {}
    _walk(formula, lambda f: found.setdefault(id(f), f) if isinstance(f, Leaf) else None)
    return list(found.values())


def opaque_of(formula: Formula) -> list[Opaque]:
    found: dict[int, Opaque] = {}
    _walk(formula, lambda f: found.setdefault(id(f), f) if isinstance(f, Opaque) else None)
    return list(found.values())


def _walk(formula: Formula, visit: Any) -> None:
    visit(formula)
    if isinstance(formula, (And, Or)):
        for part in formula.parts:
            _walk(part, visit)
    elif isinstance(formula, Not):
        _walk(formula.part, visit)


def conjuncts(formula: Formula) -> list[Formula]:
    """Top-level parts of an AND (features kept whole): the units a cause is reported in."""
    if isinstance(formula, And) and formula.label is None:
        return [c for part in formula.parts for c in conjuncts(part)]
    return [formula]


def describe(formula: Formula) -> str:
    """A short human name: the feature name, the leaf's label, or the shape of the expression."""
    if isinstance(formula, (And, Or, Not)) and formula.label:
        return formula.label
    if isinstance(formula, Leaf):
        return formula.label
    if isinstance(formula, Opaque):
        return f"{formula.kind} (not analysable)"
    if isinstance(formula, Not):
        return "not " + describe(formula.part)
    if isinstance(formula, Const):
        return "true" if formula.value else "false"
    joiner = " and " if isinstance(formula, And) else " or "
    return "(" + joiner.join(describe(p) for p in formula.parts) + ")"


class BudgetExceeded(Exception):
    """The search took more steps than allowed; the question stays open."""


class Search:
    """Finds subject assignments (one `Choice` per subject) that make a formula true."""

    def __init__(self, subjects: Mapping[tuple[Any, ...], Subject], budget: int = 200_000) -> None:
        self.subjects = subjects
        self.budget = budget
        self.steps = 0
        self._position = {leaf_id: (key, index) for key, subject in subjects.items()
                          for index, leaf_id in enumerate(id(leaf) for leaf in subject.leaves)}

    def value(self, formula: Formula, assignment: Mapping[tuple[Any, ...], Choice]) -> bool | None:
        """Kleene three-valued evaluation: None while it depends on unassigned or opaque leaves."""
        if isinstance(formula, Const):
            return formula.value
        if isinstance(formula, Opaque):
            return None
        if isinstance(formula, Leaf):
            key, index = self._position[id(formula)]
            choice = assignment.get(key)
            return None if choice is None else choice.values[index]  # subjects without choices stay None
        if isinstance(formula, Not):
            inner = self.value(formula.part, assignment)
            return None if inner is None else not inner
        unknown = False
        want = isinstance(formula, Or)  # the value that decides: any true for OR, any false for AND
        for part in formula.parts:
            result = self.value(part, assignment)
            if result is None:
                unknown = True
            elif result is want:
                return want
        return None if unknown else not want

    def solutions(self, formula: Formula) -> Iterator[dict[tuple[Any, ...], Choice]]:
        """Assignments making `formula` true, no-data choices first. Raises BudgetExceeded."""
        order = []
        for leaf in leaves_of(formula):
            key = self._position[id(leaf)][0]
            if key not in order and self.subjects[key].choices:
                order.append(key)
        yield from self._extend(formula, order, {})

    def _extend(self, formula: Formula, order: list[tuple[Any, ...]],
                assignment: dict[tuple[Any, ...], Choice]) -> Iterator[dict[tuple[Any, ...], Choice]]:
        self.steps += 1
        if self.steps > self.budget:
            raise BudgetExceeded
        result = self.value(formula, assignment)
        if result is False:
            return
        if result is True:
            yield dict(assignment)
            return
        pending = [key for key in order if key not in assignment]
        if not pending:
            return  # decided only by opaque leaves
        key = pending[0]
        for choice in self.subjects[key].choices:
            assignment[key] = choice
            yield from self._extend(formula, order, assignment)
            del assignment[key]

    def satisfiable(self, formula: Formula) -> bool | None:
        """True / False, or None when opaque leaves or the budget leave it open."""
        try:
            for _ in self.solutions(formula):
                return True
        except BudgetExceeded:
            return None
        return None if self.undecidable(formula) else False

    def undecidable(self, formula: Formula) -> list[str]:
        """Why the formula may stay undetermined: its opaque leaves and unanalysable subjects."""
        reasons = [f"{o.kind}: {o.reason}" for o in opaque_of(formula)]
        for leaf in leaves_of(formula):
            subject = self.subjects[self._position[id(leaf)][0]]
            if subject.problem and subject.problem not in reasons:
                reasons.append(subject.problem)
        return reasons

    def first(self, formula: Formula) -> dict[tuple[Any, ...], Choice] | None:
        try:
            return next(self.solutions(formula), None)
        except BudgetExceeded:
            return None
