"""Data shapes: for each kind of logic node, what patient data makes it true or false.

Why a registry keyed by node type: the analysis must know, for every leaf of a recommendation's
applicability, which FHIR resources (type, code, dates, values) decide it, so it can both reason
about which combinations are possible and write a patient Bundle that realises one. A node kind
the registry does not know (new builder nodes, raw CQL) becomes an `Opaque` leaf: reported as
"not analysable", never guessed.

Leaves on the same records (same resource type and terminology) form one *subject*. A subject's
`choices` are the distinct combinations of its leaves' values that real data can produce, each
with a concrete state that produces it. They are computed from concrete states (onset moments at
and between every duration boundary, observation values at and around every threshold), so time
ordering comes out right by construction: a condition within 4 weeks is within 3 months; a
single latest value cannot be both < 30 and >= 30; two conditions with the same code can be
one recent and one old (the leaves are existential, so sets of records combine by OR).
Records whose onset lies in the future are not considered (they are data errors, not patients).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.model import logic as L
from generator.model.terminology import Code, Duration, Quantity, ValueSet

__all__ = ["Leaf", "Opaque", "Choice", "Subject", "leaf_for", "build_subjects", "subtract", "fhir_instant",
           "REGISTRY"]

UCUM = "http://unitsofmeasure.org"
_OPS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                               ">=": operator.ge, "=": operator.eq}


# --- terminology helpers -------------------------------------------------------------------------------

def term_key(term: Code | ValueSet) -> tuple[str, ...]:
    return ("vs", term.id) if isinstance(term, ValueSet) else ("code", term.system, term.code)


def term_codes(term: Code | ValueSet) -> list[Code]:
    return list(term.codes) if isinstance(term, ValueSet) else [term]


def term_label(term: Code | ValueSet) -> str:
    return term.title if isinstance(term, ValueSet) else term.display


# --- leaves ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Leaf:
    """One analysable leaf: its subject and the test it applies to one concrete record/state."""

    kind: str  # the registry entry that made it ("Exists", "OnsetWithin", ...)
    subject: tuple[Any, ...]
    label: str
    node: Any
    params: tuple[Any, ...] = ()


@dataclass(frozen=True, eq=False)
class Opaque:
    """A leaf the registry cannot reason about; any result that depends on it is 'not analysable'."""

    kind: str
    reason: str


#: Records attributes the shapes model, and the value each other known filter must have to be modelled
#: (a window, an event bound, another clinical-status policy or a value filter changes which records count).
_RECORDS_FIELDS = {"resource_type", "terminology", "body_site"}
_RECORDS_NEUTRAL = {"window": None, "before_event": None, "value_filter": None, "category": None}
_KNOWN_RECORDS = {"ConditionRecords": ("Condition", {"Condition"}),
                  "ObservationRecords": ("Observation", {"Observation"}),
                  "ProcedureRecords": ("Procedure", {"Procedure"}),
                  "MedicationRecords": ("MedicationRequest", {"MedicationRequest", "Medication"})}


def _unmodelled_fields(node: Any, modelled: set[str]) -> list[str]:
    """Dataclass fields of `node` the shapes do not model (and that are not at their neutral value)."""
    names = [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else list(vars(node))
    odd = []
    for name in names:
        if name in modelled:
            continue
        value = getattr(node, name, None)
        if name in _RECORDS_NEUTRAL and value == _RECORDS_NEUTRAL[name]:
            continue
        if name == "status" and getattr(value, "name", None) == "ACTIVE":
            continue
        odd.append(name)
    return odd


def _records_shape(records: Any) -> tuple[str, Any, Any] | None:
    """(resource type, terminology, body site) of a Records object the shapes can model, else None."""
    known = _KNOWN_RECORDS.get(type(records).__name__)
    if known is None or type(records).__module__ != L.__name__ or _unmodelled_fields(records, _RECORDS_FIELDS):
        return None
    resource_type, spellings = known
    if getattr(records, "resource_type", None) not in spellings:
        return None
    term = getattr(records, "terminology", None)
    site = getattr(records, "body_site", None)
    if not isinstance(term, (Code, ValueSet)) or (site is not None and not isinstance(site, (Code, ValueSet))):
        return None
    if site is not None and resource_type != "Condition":
        return None
    return resource_type, term, site


def _exists(node: Any) -> Leaf | Opaque:
    if _unmodelled_fields(node, {"records"}) and not _is_taking(node):
        return Opaque(type(node).__name__, "a kind of existence the analysis does not model")
    shape = _records_shape(node.records)
    if shape is None:
        return Opaque(f"Exists({type(node.records).__name__})", "records of a kind the analysis does not know")
    resource_type, term, site = shape
    label = f"exists {resource_type} {term_label(term)}" + (f" at {term_label(site)}" if site is not None else "")
    return Leaf("Exists", (resource_type, term_key(term)), label, node, (site,))


def _is_taking(node: Any) -> bool:
    """Medication use 'taking now' (no duration) reads as: an active order exists."""
    return getattr(node, "kind", None) == "taking" and getattr(node, "duration", None) is None and \
        not _unmodelled_fields(node, {"records", "kind", "duration"})


def _timed(kind: str, resource_type: str) -> Callable[[Any], Leaf | Opaque]:
    def make(node: Any) -> Leaf | Opaque:
        shape = _records_shape(node.records)
        duration = getattr(node, "duration", None)
        if _unmodelled_fields(node, {"records", "duration"}) or shape is None or shape[0] != resource_type \
                or not isinstance(duration, Duration) or duration.unit not in _UNITS:
            return Opaque(kind, "records or duration of a kind the analysis does not know")
        _, term, site = shape
        words = {"OnsetWithin": "onset within", "OnsetBefore": "onset before", "PerformedWithin": "performed within"}
        label = f"{resource_type} {term_label(term)} {words[kind]} {duration}"
        return Leaf(kind, (resource_type, term_key(term)), label, node, (site, duration))
    return make


def _compare(node: Any) -> Leaf | Opaque:
    left, op, right = node.left, node.op, node.right
    if op not in _OPS or _unmodelled_fields(node, {"left", "op", "right"}):
        return Opaque("Compare", f"comparator {op!r}")
    if type(left) is L.AgeInYears and getattr(left, "unit", "years") == "years" and isinstance(right, int) \
            and not isinstance(right, bool):
        return Leaf("Age", ("Age",), f"age {op} {right}", node, (op, right))
    if type(left) is L.LatestValue and isinstance(right, Quantity) and not _unmodelled_fields(left, {"records"}):
        shape = _records_shape(left.records)
        if shape is None or shape[0] != "Observation":
            return Opaque("Compare", "observation records of a kind the analysis does not know")
        term = shape[1]
        return Leaf("LatestValue", ("Observation", term_key(term)),
                    f"latest {term_label(term)} {op} {right.value} {right.unit}", node, (op, right))
    return Opaque(f"Compare({type(left).__name__})", "comparison of a kind the analysis does not know")


#: node type -> how to read it. Exact types only: a subclass may mean something else.
REGISTRY: dict[type, Callable[[Any], Leaf | Opaque]] = {
    L.Exists: _exists,
    L.OnsetWithin: _timed("OnsetWithin", "Condition"),
    L.OnsetBefore: _timed("OnsetBefore", "Condition"),
    L.PerformedWithin: _timed("PerformedWithin", "Procedure"),
    L.Compare: _compare,
}
if hasattr(L, "MedicationUse"):  # the builder's medication use ("taking" is modelled, other kinds are not)
    REGISTRY[L.MedicationUse] = _exists


def leaf_for(node: Any) -> Leaf | Opaque:
    """The leaf a logic node reads as, or Opaque for a kind the registry does not know."""
    reader = REGISTRY.get(type(node))
    if reader is None:
        return Opaque(type(node).__name__, "logic node kind the analysis registry does not know")
    try:
        return reader(node)
    except (AttributeError, TypeError, ValueError) as exc:  # a changed node shape: say so, never crash
        return Opaque(type(node).__name__, f"unexpected node shape ({exc})")


# --- time ----------------------------------------------------------------------------------------------

_UNITS = ("days", "weeks", "months", "years")


def subtract(moment: dt.datetime, duration: Duration) -> dt.datetime:
    """`moment - duration` with CQL calendar semantics (a month back from 31 March is 28/29 February)."""
    if duration.unit == "days":
        return moment - dt.timedelta(days=duration.value)
    if duration.unit == "weeks":
        return moment - dt.timedelta(weeks=duration.value)
    months = duration.value * (12 if duration.unit == "years" else 1)
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def fhir_instant(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), dt.timezone.utc)


def _moments(now: dt.datetime, durations: Iterable[Duration]) -> list[dt.datetime]:
    """Onset moments covering every region the durations cut time into: inside first, then the edges."""
    bounds = sorted({subtract(now, d) for d in durations}, reverse=True)
    inside: list[dt.datetime] = []
    edges = [now, *bounds]
    for newer, older in zip(edges, edges[1:]):
        gap = (newer.date() - older.date()).days
        if gap >= 1:
            inside.append(_noon(older.date() + dt.timedelta(days=max(1, gap // 2))))
    oldest = bounds[-1] if bounds else now - dt.timedelta(days=14)
    inside.append(_noon(oldest.date() - dt.timedelta(days=60 if bounds else 0)))
    if not bounds:
        return inside
    return inside + bounds


# --- subjects and their choices ---------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """One realisable combination of a subject's leaf values, and the state that realises it."""

    values: tuple[bool, ...]  # aligned with Subject.leaves
    state: tuple[Any, ...]  # records (moments, sites, values) or an age; () = no data


@dataclass
class Subject:
    """Leaves over the same records; `choices` are what data can make of them (no data first)."""

    key: tuple[Any, ...]
    resource_type: str
    terminology: Code | ValueSet | None
    leaves: list[Leaf] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    unit: str | None = None
    problem: str | None = None  # set when the leaves cannot be analysed together

    def index(self, leaf: Leaf) -> int:
        return next(i for i, candidate in enumerate(self.leaves) if candidate is leaf)


def _site_matches(required: Any, site: Code | None) -> bool:
    """Does a record whose body site is coded `site` fall in the `required` site terminology?"""
    if required is None:
        return True
    return site is not None and any((c.system, c.code) == (site.system, site.code) for c in term_codes(required))


def _record_values(leaves: Sequence[Leaf], now: dt.datetime, moment: dt.datetime | None,
                   site: Code | None) -> tuple[bool, ...]:
    """Values of the (existential) leaves for ONE record with this onset/performed moment and body site.

    A record without a date (None) exists but is within / before nothing: the engine's date is null.
    """
    values = []
    for leaf in leaves:
        required = leaf.params[0]
        if not _site_matches(required, site):
            values.append(False)
        elif leaf.kind == "Exists":
            values.append(True)
        elif moment is None:
            values.append(False)
        elif leaf.kind in ("OnsetWithin", "PerformedWithin"):
            values.append(subtract(now, leaf.params[1]) <= moment <= now)
        elif leaf.kind == "OnsetBefore":
            values.append(moment <= subtract(now, leaf.params[1]))
        else:
            values.append(False)
    return tuple(values)


def _record_choices(subject: Subject, now: dt.datetime) -> list[Choice]:
    durations = [leaf.params[1] for leaf in subject.leaves if leaf.kind != "Exists"]
    # One body-site code per distinct code of every site terminology the leaves ask for: overlapping site
    # value sets then give every realisable match pattern (any other site code matches no leaf, like none).
    sites: list[Code | None] = [None]
    for leaf in subject.leaves:
        for code in term_codes(leaf.params[0]) if leaf.params and leaf.params[0] is not None else []:
            if all(s is None or (s.system, s.code) != (code.system, code.code) for s in sites):
                sites.append(code)
    singles: list[tuple[tuple[bool, ...], tuple[Any, ...]]] = []
    moments: list[dt.datetime | None] = [*_moments(now, durations), None]  # undated records last
    for moment in moments:
        for site in sites:
            singles.append((_record_values(subject.leaves, now, moment, site), ((moment, site),)))
    # Sets of records: the leaves are existential, so a set's values are the OR of its records' values.
    none = tuple(False for _ in subject.leaves)
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {none: ()}
    frontier = [none]
    while frontier:
        grown = []
        for values in frontier:
            for single, record in singles:
                combined = tuple(a or b for a, b in zip(values, single))
                if combined not in found:
                    found[combined] = found[values] + record
                    grown.append(combined)
        frontier = grown
    return [Choice(values, state) for values, state in found.items()]


def _observation_choices(subject: Subject) -> list[Choice]:
    compares = [leaf for leaf in subject.leaves if leaf.kind == "LatestValue"]
    units = {leaf.params[1].unit for leaf in compares}
    if len(units) > 1:
        subject.problem = f"{subject.resource_type} compared in different units ({', '.join(sorted(units))})"
        return []
    subject.unit = units.pop() if units else None
    thresholds = sorted({float(leaf.params[1].value) for leaf in compares})
    candidates: list[float] = []
    for low, high in zip(thresholds, thresholds[1:]):
        candidates.append((low + high) / 2)
    if thresholds:
        candidates += [max(thresholds[0] - 1, thresholds[0] / 2 if thresholds[0] > 0 else thresholds[0] - 1),
                       thresholds[-1] + 1, *thresholds]
    else:
        candidates.append(1.0)
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {tuple(False for _ in subject.leaves): ()}
    for value in [*candidates, None]:  # None: an observation without a value (every comparison false)
        values = tuple(True if leaf.kind == "Exists" else
                       value is not None and _OPS[leaf.params[0]](value, float(leaf.params[1].value))
                       for leaf in subject.leaves)
        found.setdefault(values, (None if value is None else _number(value),))
    return [Choice(values, state) for values, state in found.items()]


def _age_choices(subject: Subject) -> list[Choice]:
    thresholds = sorted({int(leaf.params[1]) for leaf in subject.leaves})
    candidates: list[int] = []
    for t in thresholds:
        candidates += [t + 1, t, max(t - 1, 0)]
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {}
    for age in sorted(set(candidates), key=lambda a: (abs(a - 70), a)):  # adult ages first: readable witnesses
        values = tuple(_OPS[leaf.params[0]](age, int(leaf.params[1])) for leaf in subject.leaves)
        found.setdefault(values, (age,))
    found.setdefault(tuple(False for _ in subject.leaves), ())  # no birth date: every comparison is false
    return [Choice(values, state) for values, state in found.items()]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def build_subjects(leaves: Iterable[Leaf], now: dt.datetime) -> dict[tuple[Any, ...], Subject]:
    """Group leaves by subject and compute each subject's realisable choices at `now`."""
    subjects: dict[tuple[Any, ...], Subject] = {}
    for leaf in leaves:
        subject = subjects.get(leaf.subject)
        if subject is None:
            term = leaf.node.records.terminology if leaf.kind not in ("Age", "LatestValue") else (
                leaf.node.left.records.terminology if leaf.kind == "LatestValue" else None)
            subject = subjects[leaf.subject] = Subject(leaf.subject, leaf.subject[0], term)
        subject.leaves.append(leaf)
    for subject in subjects.values():
        if subject.terminology is not None and not term_codes(subject.terminology):
            subject.choices = [Choice(tuple(False for _ in subject.leaves), ())]  # an empty value set matches nothing
        elif subject.resource_type in ("Condition", "Procedure", "MedicationRequest"):
            subject.choices = _record_choices(subject, now)
        elif subject.resource_type == "Observation":
            subject.choices = _observation_choices(subject)
        else:
            subject.choices = _age_choices(subject)
    return subjects
