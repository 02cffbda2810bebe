"""Data shapes: for each kind of logic node, what patient data makes it true or false.

Why a registry keyed by node type: the analysis must know, for every leaf of a recommendation's
applicability, which FHIR resources (type, code, dates, values) decide it, so it can both reason
about which combinations are possible and write a patient Bundle that realises one. A node kind
the registry does not know (new builder nodes, raw CQL) becomes an `Opaque` leaf: reported as
"not analysable", never guessed.

Leaves on the same records (same resource type and terminology, whatever their status policy,
category, site, window or value filter) form one *subject*. A subject's `choices` are the distinct
combinations of its leaves' values that real data can produce, each with the records that produce
it. They are computed from concrete records (`Rec`: dates at and between every duration boundary,
each clinical status / category / body site asked for, values at and around every threshold),
folded set by set into one accumulator per leaf (any record / how many / latest value / some or
all dates), so time ordering comes out right by construction: a condition within 4 weeks is
within 3 months; a single latest value cannot be both < 30 and >= 30; two conditions with the
same code can be one recent and one old, one active and one resolved. What decides each leaf is
read from the CQL templates (generator/cql/templates); tests check every choice and every single
record against the engine. Records that never count (refuted, not final, not completed, do not
perform) are the same as no record. Records dated in the future are not considered (data errors).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import operator
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from generator.model import logic as L
from generator.model.terminology import Code, Duration, Quantity, ValueSet

__all__ = ["Leaf", "Opaque", "Choice", "Subject", "Rec", "leaf_for", "build_subjects", "subtract", "add",
           "fhir_instant", "register_expansion", "single_records", "REGISTRY"]

UCUM = "http://unitsofmeasure.org"
_OPS: dict[str, Callable[[Any, Any], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                               ">=": operator.ge, "=": operator.eq}


# --- terminology helpers -------------------------------------------------------------------------------

#: Members of rule-based value sets as the engine sees them (the expansion the build publishes), filled in
#: by `register_expansion` for the guideline under analysis. A rule-based set without one is not analysable.
_EXPANDED: "weakref.WeakKeyDictionary[ValueSet, list[Code]]" = weakref.WeakKeyDictionary()


def register_expansion(vs: ValueSet, contains: Iterable[dict[str, str]]) -> None:
    _EXPANDED[vs] = [Code(c["system"], c["code"], c.get("display") or c["code"]) for c in contains]


def term_key(term: Code | ValueSet) -> tuple[str, ...]:
    return ("vs", term.id) if isinstance(term, ValueSet) else ("code", term.system, term.code)


def term_codes(term: Code | ValueSet) -> list[Code]:
    """The codes a terminology matches: listed codes, or a rule-based set's registered expansion."""
    if isinstance(term, ValueSet):
        return list(_EXPANDED.get(term, term.codes)) if term.rules else list(term.codes)
    return [term]


def _known_terminology(term: Any) -> bool:
    return isinstance(term, Code) or (isinstance(term, ValueSet) and (not term.rules or term in _EXPANDED))


def term_label(term: Code | ValueSet) -> str:
    return term.title if isinstance(term, ValueSet) else term.display


# --- records -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rec:
    """One concrete record the witness writes; `None` fields are absent from the resource.

    Condition: onset `moment`, `recorded` date, body `site`, clinicalStatus `status` (None: missing),
    `category`. Procedure: performed `moment`, `site`. Observation: effective `moment`, `value` (None: no
    usable value). Medication use: `moment` = start, `stop`, `status` ('active' or 'completed').
    """

    moment: dt.datetime | None = None
    site: Code | None = None
    status: str | None = None
    category: str | None = None
    recorded: dt.datetime | None = None
    value: float | None = None
    stop: dt.datetime | None = None


def _date(records: Any, rec: Rec) -> dt.datetime | None:
    """The date a record is placed in time by, as the CQL functions define it (render.py `_date_of`):
    Condition "Onset Date" (onset, else recordedDate); Procedure / Observation their date; medication start."""
    if records.resource_type == "Condition":
        return rec.moment if rec.moment is not None else rec.recorded
    return rec.moment


def _during(moment: dt.datetime | None, now: dt.datetime, duration: Duration) -> bool:
    return moment is not None and subtract(now, duration) <= moment <= now


def _counts(records: Any, rec: Rec, now: dt.datetime) -> bool:
    """Does this record pass the Records filters (status policy, category, site, window, value)?"""
    if records.resource_type == "Condition":
        if records.status is L.ClinicalStatus.ACTIVE and rec.status != "active":
            return False  # active / recurrence / relapse; missing clinicalStatus is not known to be active
        if records.category is not None and rec.category != records.category:
            return False
    if not _site_matches(records.body_site, rec.site):
        return False
    if records.window is not None and not _during(_date(records, rec), now, records.window):
        return False
    if records.value_filter is not None:
        op, quantity = records.value_filter
        if rec.value is None or not _OPS[op](rec.value, float(quantity.value)):
            return False
    return True


def _current(rec: Rec, now: dt.datetime) -> bool:
    """Medication Use `current`: status active/on-hold and the period not ended before now."""
    return rec.status == "active" and (rec.stop is None or rec.stop >= now)


# --- leaves ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Leaf:
    """One analysable leaf: its subject and how one set of records (or an age / sex) decides it.

    `aggregate` says how records combine: "any" (some record passes `test`), "count" (how many records
    count, compared with `op` `threshold`), "latest" (the latest usable value compared), "dates" (`test` on
    the record dates must hold for `op` "some" or "all" dated records: earliest / latest event date); "Age"
    and "Sex" leaves compare the patient's age in months / gender.
    """

    kind: str  # the registry entry that made it ("Exists", "OnsetWithin", ...)
    subject: tuple[Any, ...]
    label: str
    node: Any
    params: tuple[Any, ...] = ()
    records: Any = None
    aggregate: str = "any"  # any | count | latest | dates | Age | Sex
    test: Callable[..., bool] | None = None
    op: str | None = None
    threshold: Any = None


@dataclass(frozen=True, eq=False)
class Opaque:
    """A leaf the registry cannot reason about; any result that depends on it is 'not analysable'."""

    kind: str
    reason: str


#: Records attributes the shapes model. Anything else that is not at its neutral value (an event bound
#: `.before(...)`, a field added later) makes the leaf Opaque.
_RECORDS_FIELDS = {"resource_type", "terminology", "body_site", "status", "category", "window", "value_filter"}
_RECORDS_NEUTRAL: dict[str, Any] = {"before_event": None}
_KNOWN_RECORDS = {"ConditionRecords": "Condition", "ObservationRecords": "Observation",
                  "ProcedureRecords": "Procedure", "MedicationRecords": "Medication"}


def _unmodelled_fields(node: Any, modelled: set[str]) -> list[str]:
    """Dataclass fields of `node` the shapes do not model (and that are not at their neutral value)."""
    names = [f.name for f in dataclasses.fields(node)] if dataclasses.is_dataclass(node) else list(vars(node))
    return [name for name in names if name not in modelled
            and not (name in _RECORDS_NEUTRAL and getattr(node, name, None) == _RECORDS_NEUTRAL[name])]


def _records_problem(records: Any) -> str | None:
    """Why a Records object cannot be modelled, or None when it can."""
    name = type(records).__name__
    kind = _KNOWN_RECORDS.get(name)
    if kind is None or type(records).__module__ != L.__name__:
        return f"records of a kind the analysis does not know ({name})"
    odd = _unmodelled_fields(records, _RECORDS_FIELDS)
    if odd:
        return f"a records filter the analysis does not model ({', '.join(odd)})"
    if records.resource_type != kind:
        return f"{name} of resource type {records.resource_type!r}"
    if not _known_terminology(records.terminology):
        return "a rule-based value set without an expansion"
    if records.body_site is not None and (kind not in ("Condition", "Procedure") or not _known_terminology(records.body_site)):
        return "a body-site filter the analysis does not model"
    if records.window is not None and (not isinstance(records.window, Duration) or records.window.unit not in _UNITS):
        return "a window the analysis does not model"
    if kind == "Condition" and (not isinstance(records.status, L.ClinicalStatus)
                                or records.category not in (None, *L.CONDITION_CATEGORIES)):
        return "a condition status or category the analysis does not model"
    if kind != "Condition" and records.category is not None:
        return "a category filter on records other than conditions"
    if records.value_filter is not None and (kind != "Observation" or records.value_filter[0] not in _OPS):
        return "a value filter the analysis does not model"
    return None


def _records_leaf(kind: str, node: Any, records: Any, label: str, **how: Any) -> Leaf | Opaque:
    problem = _records_problem(records)
    if problem is not None:
        return Opaque(f"{kind}({type(records).__name__})", problem)
    return Leaf(kind, (records.resource_type, term_key(records.terminology)), label, node,
                (records.body_site, how.pop("duration", None)), records=records, **how)


def _describe(records: Any) -> str:
    text = f"{records.resource_type} {term_label(records.terminology)}"
    if records.resource_type == "Condition" and records.status is L.ClinicalStatus.HISTORY:
        text += " (ever)"
    if records.category is not None:
        text += f" as {records.category}"
    if records.body_site is not None:
        text += f" at {term_label(records.body_site)}"
    if records.value_filter is not None:
        text += f" with value {records.value_filter[0]} {records.value_filter[1].value} {records.value_filter[1].unit}"
    if records.window is not None:
        text += f" within {records.window}"
    return text


def _duration_ok(duration: Any) -> bool:
    return isinstance(duration, Duration) and duration.unit in _UNITS


def _exists(node: Any) -> Leaf | Opaque:
    if _unmodelled_fields(node, {"records"}):
        return Opaque(type(node).__name__, "a kind of existence the analysis does not model")
    return _records_leaf("Exists", node, node.records, f"exists {_describe(node.records)}",
                         test=lambda rec, now: True)


_MEDICATION_TESTS: dict[str, Callable[[Rec, dt.datetime, Duration | None], bool]] = {
    # the templates' medication_use_test: U.current / U.start / U.stop of the Medication Use tuple
    "taking": lambda rec, now, d: _current(rec, now),
    "taking_for": lambda rec, now, d: _current(rec, now) and rec.moment is not None and rec.moment <= subtract(now, d),
    "started_within": lambda rec, now, d: _during(rec.moment, now, d),  # type: ignore[arg-type]
    "stopped_within": lambda rec, now, d: _during(rec.stop, now, d),  # type: ignore[arg-type]
}


def _medication_use(node: Any) -> Leaf | Opaque:
    kind, duration = getattr(node, "kind", None), getattr(node, "duration", None)
    if _unmodelled_fields(node, {"records", "kind", "duration"}) or kind not in _MEDICATION_TESTS \
            or (kind == "taking") != (duration is None) or (duration is not None and not _duration_ok(duration)):
        return Opaque("MedicationUse", f"medication use {kind!r} the analysis does not model")
    test = _MEDICATION_TESTS[kind]
    words = {"taking": "taking", "taking_for": f"taking for at least {duration}",
             "started_within": f"started within {duration}", "stopped_within": f"stopped within {duration}"}[kind]
    return _records_leaf("MedicationUse", node, node.records, f"{_describe(node.records)} {words}",
                         duration=duration, test=lambda rec, now: test(rec, now, duration))


def _onset_before(records: Any, rec: Rec, now: dt.datetime, d: Duration) -> bool:
    onset = _date(records, rec)
    return onset is not None and onset <= subtract(now, d)


#: The templates' onset_within / onset_before ("Onset Date"), recorded_within (recordedDate) and
#: performed_within ("Performed Date"), each for one record.
_TIMED_TESTS: dict[str, Callable[[Any, Rec, dt.datetime, Duration], bool]] = {
    "OnsetWithin": lambda records, rec, now, d: _during(_date(records, rec), now, d),
    "OnsetBefore": _onset_before,
    "RecordedWithin": lambda records, rec, now, d: _during(rec.recorded, now, d),
    "PerformedWithin": lambda records, rec, now, d: _during(rec.moment, now, d),
}


def _timed(kind: str, resource_type: str) -> Callable[[Any], Leaf | Opaque]:
    """OnsetWithin / OnsetBefore / RecordedWithin (conditions), PerformedWithin (procedures)."""
    test = _TIMED_TESTS[kind]

    def make(node: Any) -> Leaf | Opaque:
        duration, records = getattr(node, "duration", None), node.records
        if _unmodelled_fields(node, {"records", "duration"}) or not _duration_ok(duration) \
                or getattr(records, "resource_type", None) != resource_type:
            return Opaque(kind, "records or duration of a kind the analysis does not know")
        words = {"OnsetWithin": "onset within", "OnsetBefore": "onset before", "RecordedWithin": "recorded within",
                 "PerformedWithin": "performed within"}[kind]
        return _records_leaf(kind, node, records, f"{_describe(records)} {words} {duration}",
                             duration=duration, test=lambda rec, now: test(records, rec, now, duration))
    return make


def _at_least(node: Any) -> Leaf | Opaque:
    n = getattr(node, "n", None)
    if _unmodelled_fields(node, {"records", "n", "apart"}) or node.apart is not None \
            or not isinstance(n, int) or isinstance(n, bool):
        return Opaque("AtLeast", "at_least(apart=...) is not modelled (dates of two records apart)")
    return _records_leaf("Count", node, node.records, f"at least {n} {_describe(node.records)}",
                         aggregate="count", op=">=", threshold=n)


def _compare(node: Any) -> Leaf | Opaque:
    left, op, right = node.left, node.op, node.right
    if op not in _OPS or _unmodelled_fields(node, {"left", "op", "right"}):
        return Opaque("Compare", f"comparator {op!r}")
    if type(left) in (L.AgeInYears, L.AgeInMonths) and isinstance(right, int) and not isinstance(right, bool):
        unit = getattr(left, "unit", None)
        if unit not in ("years", "months"):
            return Opaque("Compare", f"age in {unit!r}")
        return Leaf("Age", ("Age",), f"age {op} {right} {unit}", node, (op, right), aggregate="Age", op=op,
                    threshold=(right, unit))
    if type(left) is L.LatestValue and isinstance(right, Quantity) and not _unmodelled_fields(left, {"records"}):
        if getattr(left.records, "resource_type", None) != "Observation":
            return Opaque("Compare", "observation records of a kind the analysis does not know")
        return _records_leaf("LatestValue", node, left.records,
                             f"latest {_describe(left.records)} {op} {right.value} {right.unit}", aggregate="latest",
                             op=op, threshold=right)
    if type(left) is L.Count and isinstance(right, int) and not isinstance(right, bool) \
            and not _unmodelled_fields(left, {"records"}):
        return _records_leaf("Count", node, left.records, f"count of {_describe(left.records)} {op} {right}",
                             aggregate="count", op=op, threshold=right)
    if type(left) is L.Elapsed and left.end is None and _duration_ok(right) and op != "=" \
            and not _unmodelled_fields(left, {"start", "end"}) and type(left.start) is L.EventDate \
            and left.start.which in ("earliest", "latest"):
        # Coalesce(Min/Max(date) + D <op'> Now(), false) (render.py `Elapsed`). Monotone in the date, so:
        # earliest >= D: SOME dated record is that old; earliest <= D: ALL are (and one exists); latest: reversed.
        flipped = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}[op]
        records, which = left.start.records, left.start.which
        mode = "some" if (which == "earliest") == (op in (">=", ">")) else "all"
        return _records_leaf("Elapsed", node, records, f"time since {which} {_describe(records)} {op} {right}",
                             duration=right, aggregate="dates", op=mode,
                             test=lambda moment, now: _OPS[flipped](add(moment, right), now))
    return Opaque(f"Compare({type(left).__name__})", "comparison of a kind the analysis does not know")


def _sex_is(node: Any) -> Leaf | Opaque:
    if _unmodelled_fields(node, {"value"}) or node.value not in L.SEXES:
        return Opaque("SexIs", "administrative sex of a kind the analysis does not know")
    return Leaf("Sex", ("Sex",), f"administrative sex {node.value}", node, (node.value,), aggregate="Sex",
                threshold=node.value)


#: node type -> how to read it. Exact types only: a subclass may mean something else.
REGISTRY: dict[type, Callable[[Any], Leaf | Opaque]] = {
    L.Exists: _exists,
    L.MedicationUse: _medication_use,
    L.OnsetWithin: _timed("OnsetWithin", "Condition"),
    L.OnsetBefore: _timed("OnsetBefore", "Condition"),
    L.RecordedWithin: _timed("RecordedWithin", "Condition"),
    L.PerformedWithin: _timed("PerformedWithin", "Procedure"),
    L.AtLeast: _at_least,
    L.Compare: _compare,
    L.SexIs: _sex_is,
}


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


def _shift_months(moment: dt.datetime, months: int) -> dt.datetime:
    """`moment` moved by whole months, the day clamped to the target month's length (CQL calendar arithmetic)."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def subtract(moment: dt.datetime, duration: Duration) -> dt.datetime:
    """`moment - duration` with CQL calendar semantics (a month back from 31 March is 28/29 February)."""
    if duration.unit == "days":
        return moment - dt.timedelta(days=duration.value)
    if duration.unit == "weeks":
        return moment - dt.timedelta(weeks=duration.value)
    return _shift_months(moment, -duration.value * (12 if duration.unit == "years" else 1))


def add(moment: dt.datetime, duration: Duration) -> dt.datetime:
    """`moment + duration` with CQL calendar semantics."""
    if duration.unit == "days":
        return moment + dt.timedelta(days=duration.value)
    if duration.unit == "weeks":
        return moment + dt.timedelta(weeks=duration.value)
    return _shift_months(moment, duration.value * (12 if duration.unit == "years" else 1))


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

#: More distinct record states, or more record-by-state steps, than this in one subject: not analysable
#: (never a guess). The VCF guideline's largest subject takes ~500 steps.
MAX_STATES = 20_000
MAX_STEPS = 400_000


@dataclass(frozen=True)
class Choice:
    """One realisable combination of a subject's leaf values, and the state that realises it."""

    values: tuple[bool, ...]  # aligned with Subject.leaves
    state: tuple[Any, ...]  # records (`Rec`), or an age in months, or a gender; () = no data


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


def _start(leaf: Leaf) -> Any:
    return {"any": False, "count": 0, "dates": (False, False)}.get(leaf.aggregate)


def _step(leaf: Leaf, acc: Any, rec: Rec, now: dt.datetime, cap: int) -> Any:
    """The leaf's accumulator after one more record (the `_Invalid` marker: an order the engine leaves open)."""
    if not _counts(leaf.records, rec, now):
        return acc
    if leaf.aggregate == "any":
        return acc or bool(leaf.test(rec, now))  # type: ignore[misc]
    if leaf.aggregate == "count":
        return min(acc + 1, cap)
    moment = _date(leaf.records, rec)
    if leaf.aggregate == "latest":
        if rec.value is None or moment is None:
            return acc
        if acc is not None and acc[0] == moment:
            return _INVALID  # two usable values at one moment: which is "latest" is not defined
        return (moment, rec.value) if acc is None or moment > acc[0] else acc
    if moment is None:
        return acc
    holds = bool(leaf.test(moment, now))  # type: ignore[misc]
    return (acc[0] or holds, acc[1] or not holds)  # dates: (some dated record holds, some does not)


_INVALID = object()


def _value(leaf: Leaf, acc: Any, now: dt.datetime) -> bool:
    if leaf.aggregate == "any":
        return bool(acc)
    if leaf.aggregate == "count":
        return _OPS[leaf.op](acc, leaf.threshold)  # type: ignore[index]
    if leaf.aggregate == "latest":
        return acc is not None and _OPS[leaf.op](acc[1], float(leaf.threshold.value))  # type: ignore[index]
    return acc[0] and (leaf.op == "some" or not acc[1])  # dates


def _variants(subject: Subject, now: dt.datetime) -> list[Rec]:
    """Single records covering every region the subject's durations, sites, statuses and values cut data into."""
    leaves = subject.leaves
    durations = [leaf.params[1] for leaf in leaves if leaf.params[1] is not None]
    durations += [leaf.records.window for leaf in leaves if leaf.records.window is not None]
    moments: list[dt.datetime] = _moments(now, durations)
    if any(leaf.aggregate == "latest" for leaf in leaves):  # which value is latest: more distinct dates
        moments += [m - dt.timedelta(days=1) for m in moments if m - dt.timedelta(days=1) not in moments]
    dated: list[dt.datetime | None] = [*moments, None]  # undated records last
    sites: list[Code | None] = [None]
    for leaf in leaves:
        for code in term_codes(leaf.records.body_site) if leaf.records.body_site is not None else []:
            if all(s is None or (s.system, s.code) != (code.system, code.code) for s in sites):
                sites.append(code)
    kind = subject.resource_type
    if kind == "Observation":
        values: list[float | None] = [*_observation_values(subject), None]
        return [Rec(moment=m, value=v) for m in moments for v in values]
    if kind == "Procedure":
        return [Rec(moment=m, site=site) for m in dated for site in sites]
    if kind == "Medication":
        stops: list[dt.datetime | None] = [*moments, now + dt.timedelta(days=30), None]
        return [Rec(moment=m, stop=stop, status=status) for m in dated for stop in stops
                for status in ("active", "completed")]
    history = any(leaf.records.status is L.ClinicalStatus.HISTORY for leaf in leaves)
    statuses = ["active", "resolved", None] if history else ["active"]
    categories = [None, *sorted({leaf.records.category for leaf in leaves if leaf.records.category is not None})]
    # recordedDate matters for recorded_within, and as the onset when onset is absent ("Onset Date")
    recorded_durations = [leaf.params[1] for leaf in leaves if leaf.kind == "RecordedWithin"]
    dates = [(m, None) for m in dated]
    if recorded_durations:
        dates = [(m, r) for m in moments for r in [*_moments(now, recorded_durations), None]] + \
            [(None, r) for r in dated]
    return [Rec(moment=m, site=site, status=status, category=category, recorded=r)
            for m, r in dates for site in sites for status in statuses for category in categories]


def _observation_values(subject: Subject) -> list[float]:
    """Values at and around every threshold (latest-value comparisons and value filters), in one unit."""
    quantities = [leaf.threshold for leaf in subject.leaves if leaf.aggregate == "latest"]
    quantities += [leaf.records.value_filter[1] for leaf in subject.leaves if leaf.records.value_filter is not None]
    units = {q.unit for q in quantities}
    if len(units) > 1:
        subject.problem = f"{subject.resource_type} compared in different units ({', '.join(sorted(units))})"
        return []
    subject.unit = units.pop() if units else None
    thresholds = sorted({float(q.value) for q in quantities})
    if not thresholds:
        return [1.0]
    candidates = [(low + high) / 2 for low, high in zip(thresholds, thresholds[1:])]
    candidates += [max(thresholds[0] - 1, thresholds[0] / 2 if thresholds[0] > 0 else thresholds[0] - 1),
                   thresholds[-1] + 1, *thresholds]
    return candidates


def _record_choices(subject: Subject, now: dt.datetime) -> list[Choice]:
    """Every realisable value combination of the leaves over SETS of records (breadth first: fewest records).

    Each leaf folds records into an accumulator (any / count / latest value / earliest or latest date);
    the tuple of accumulators is the state, so equal states need no further exploration.
    """
    singles = _variants(subject, now)
    if subject.problem:
        return []
    leaves = subject.leaves
    caps = [int(leaf.threshold) + 1 if leaf.aggregate == "count" else 0 for leaf in leaves]
    start = tuple(_start(leaf) for leaf in leaves)
    reached: dict[tuple[Any, ...], tuple[Rec, ...]] = {start: ()}
    frontier = [start]
    steps = 0
    while frontier:
        grown = []
        steps += len(frontier) * len(singles)
        if steps > MAX_STEPS:
            subject.problem = f"{subject.resource_type} {term_label(subject.terminology)}: too many data " \
                "combinations to enumerate"  # type: ignore[arg-type]
            return []
        for state in frontier:
            for rec in singles:
                after = tuple(_step(leaf, acc, rec, now, cap) for leaf, acc, cap in zip(leaves, state, caps))
                if any(a is _INVALID for a in after) or after in reached:
                    continue
                reached[after] = reached[state] + (rec,)
                grown.append(after)
                if len(reached) > MAX_STATES:
                    subject.problem = f"{subject.resource_type} {term_label(subject.terminology)}: too many data " \
                        "combinations to enumerate"  # type: ignore[arg-type]
                    return []
        frontier = grown
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {}
    for state, records in reached.items():
        found.setdefault(tuple(_value(leaf, acc, now) for leaf, acc in zip(leaves, state)), records)
    return [Choice(values, state) for values, state in found.items()]


def single_records(subject: Subject, now: dt.datetime) -> list[Choice]:
    """Each single record the subject's choices are built from, with the leaf values it alone gives
    (what a test checks against the engine record by record)."""
    caps = [int(leaf.threshold) + 1 if leaf.aggregate == "count" else 0 for leaf in subject.leaves]
    return [Choice(tuple(_value(leaf, _step(leaf, _start(leaf), rec, now, cap), now)
                         for leaf, cap in zip(subject.leaves, caps)), (rec,)) for rec in _variants(subject, now)]


def _age_choices(subject: Subject) -> list[Choice]:
    """Ages in whole months at and around every threshold (AgeInYears is AgeInMonths // 12)."""
    candidates: set[int] = set()
    for leaf in subject.leaves:
        value, unit = leaf.threshold
        months_at = value * 12 if unit == "years" else value
        candidates |= {months_at - 1, months_at, months_at + 1, months_at + 11, months_at + 12, months_at - 12}
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {}
    for age in sorted((a for a in candidates if a >= 0), key=lambda a: (abs(a - 70 * 12 - 6), a)):  # adults first
        values = tuple(_OPS[leaf.op](age // 12 if leaf.threshold[1] == "years" else age, leaf.threshold[0])
                       for leaf in subject.leaves)
        found.setdefault(values, (age,))
    found.setdefault(tuple(False for _ in subject.leaves), ())  # no birth date: every comparison is false
    return [Choice(values, state) for values, state in found.items()]


def _sex_choices(subject: Subject) -> list[Choice]:
    found: dict[tuple[bool, ...], tuple[Any, ...]] = {tuple(False for _ in subject.leaves): ()}  # gender missing
    for sex in L.SEXES:
        found.setdefault(tuple(leaf.threshold == sex for leaf in subject.leaves), (sex,))
    return [Choice(values, state) for values, state in found.items()]


def build_subjects(leaves: Iterable[Leaf], now: dt.datetime) -> dict[tuple[Any, ...], Subject]:
    """Group leaves by subject and compute each subject's realisable choices at `now`."""
    subjects: dict[tuple[Any, ...], Subject] = {}
    for leaf in leaves:
        subject = subjects.get(leaf.subject)
        if subject is None:
            term = leaf.records.terminology if leaf.records is not None else None
            subject = subjects[leaf.subject] = Subject(leaf.subject, leaf.subject[0], term)
        subject.leaves.append(leaf)
    for subject in subjects.values():
        if subject.terminology is not None and not term_codes(subject.terminology):
            # an empty value set matches nothing: every leaf as for no records (a count = 0 holds)
            subject.choices = [Choice(tuple(_value(leaf, _start(leaf), now) for leaf in subject.leaves), ())]
        elif subject.resource_type == "Age":
            subject.choices = _age_choices(subject)
        elif subject.resource_type == "Sex":
            subject.choices = _sex_choices(subject)
        else:
            subject.choices = _record_choices(subject, now)
    return subjects
