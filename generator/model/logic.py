"""Patient logic an author writes: case features and a small expression builder.

The builder describes *what* to ask of the patient record (conditions with a code, time
since onset, latest observation value, age, ...). It knows nothing about CQL syntax: the
CQL phase (`generator.cql.render`) turns these nodes into CQL through jinja2 templates.
Features and expressions combine with `&`, `|` and `~`; Python's `and` / `or` / `not` and
chained comparisons cannot be overloaded, so they raise LOGIC001 at once instead of
silently keeping one operand.

Builder logic is two-valued: a comparison whose data is missing (no observation, no birth
date) is false, not null, so `~feature` means "not known to be" and a negated feature never
silently switches a recommendation off.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import Literal, Union

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.errors import AuthorError
from generator.model.terminology import Code, Duration, Quantity, ValueSet

Terminology = Union[Code, ValueSet]
Comparator = Literal["<", "<=", ">", ">=", "="]
COMPARATORS = ("<", "<=", ">", ">=", "=")


class _NoTruth:
    """Logic objects have no Python truth value: `a and b`, `not a`, `18 <= age < 50` raise."""

    def __bool__(self) -> bool:
        raise AuthorError("LOGIC001", f"a {type(self).__name__} has no Python truth value: combine logic with "
                          "& | ~ (not `and`/`or`/`not`), and write `(18 <= age) & (age < 50)` instead of a "
                          "chained comparison")


class BooleanLogic(_NoTruth):
    """Something that yields true/false for a patient; combinable with & | ~."""

    def __and__(self, other: "BooleanLike") -> "AllOf":
        return AllOf(_flatten(AllOf, self, _as_logic(other)))

    def __rand__(self, other: "BooleanLike") -> "AllOf":
        return AllOf(_flatten(AllOf, _as_logic(other), self))

    def __or__(self, other: "BooleanLike") -> "AnyOf":
        return AnyOf(_flatten(AnyOf, self, _as_logic(other)))

    def __ror__(self, other: "BooleanLike") -> "AnyOf":
        return AnyOf(_flatten(AnyOf, _as_logic(other), self))

    def __invert__(self) -> "Not":
        return Not(self)


BooleanLike = Union[BooleanLogic, str]


def _flatten(kind: type, *parts: BooleanLogic) -> tuple[BooleanLogic, ...]:
    """`a & b & c` is one AllOf of three, not nested pairs (reads better in CQL)."""
    flat: list[BooleanLogic] = []
    for part in parts:
        flat.extend(part.parts if type(part) is kind else (part,))  # type: ignore[attr-defined]
    return tuple(flat)


def _as_logic(value: BooleanLike) -> BooleanLogic:
    if isinstance(value, BooleanLogic):
        return value
    if isinstance(value, str):
        return FeatureName(value, caller_location())
    raise AuthorError("ARG001", "expected a Feature, a logic expression or a feature name, "
                      f"got {type(value).__name__} {value!r:.60}")


def _terminology(value: object, what: str) -> Terminology:
    if isinstance(value, (Code, ValueSet)):
        return value
    raise AuthorError("ARG001", f"{what}: expected Code or ValueSet (e.g. SNOMED('...', '...')), "
                      f"got {type(value).__name__} {value!r:.60}")


def _duration(value: object, what: str) -> Duration:
    if isinstance(value, Duration):
        return value
    raise AuthorError("LOGIC002", f"{what} needs a Duration such as weeks(4) or months(3), got {value!r:.60}")


def _comparator(op: object) -> Comparator:
    if op not in COMPARATORS:
        raise AuthorError("LOGIC004", f"comparison operator {op!r} is not one of {', '.join(COMPARATORS)}")
    return op  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class AllOf(BooleanLogic):
    parts: tuple[BooleanLogic, ...]


@dataclass(frozen=True, eq=False)
class AnyOf(BooleanLogic):
    parts: tuple[BooleanLogic, ...]


@dataclass(frozen=True, eq=False)
class Not(BooleanLogic):
    part: BooleanLogic


@dataclass(frozen=True, eq=False)
class FeatureName(BooleanLogic):
    """A reference to a feature by its name, resolved (or reported unknown) at build time."""

    name: str
    location: SourceLocation | None = None


# --- comparable values ------------------------------------------------------------------


class _Comparable(_NoTruth):  # noqa: PLW1641 - __hash__ kept below
    """A value the author compares with `<`, `<=`, `>`, `>=` (and `==` where it makes sense).

    `right_kind` is what the other side must be; anything else is LOGIC002 at the author's line.
    """

    right_kind: type = int
    right_hint: str = "an integer"

    def _compare(self, op: Comparator, other: object) -> "Compare":
        if isinstance(other, bool) or not isinstance(other, self.right_kind):
            raise AuthorError("LOGIC002", f"{type(self).__name__} compares with {self.right_hint}, "
                              f"not {type(other).__name__} {other!r:.40}")
        return Compare(self, op, other)  # type: ignore[arg-type]

    def __lt__(self, other: object) -> "Compare":
        return self._compare("<", other)

    def __le__(self, other: object) -> "Compare":
        return self._compare("<=", other)

    def __gt__(self, other: object) -> "Compare":
        return self._compare(">", other)

    def __ge__(self, other: object) -> "Compare":
        return self._compare(">=", other)

    def __eq__(self, other: object) -> "Compare":  # type: ignore[override]
        return self._compare("=", other)

    def __ne__(self, other: object) -> "Not":  # type: ignore[override]
        return Not(self._compare("=", other))

    __hash__ = object.__hash__


@dataclass(frozen=True, eq=False)
class Compare(BooleanLogic):
    left: "_Comparable"
    op: Comparator
    right: Quantity | int | Duration


# --- demographics -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AgeInYears(_Comparable):
    """The patient's age in whole years at evaluation time (Patient.birthDate)."""

    unit: str = "years"


@dataclass(frozen=True, eq=False)
class AgeInMonths(AgeInYears):
    """The patient's age in whole months at evaluation time (Patient.birthDate)."""

    unit: str = "months"


SEXES = ("male", "female", "other", "unknown")


@dataclass(frozen=True, eq=False)
class SexIs(BooleanLogic):
    """Patient.gender equals `value` (FHIR administrative-gender); false when gender is missing."""

    value: str


@dataclass(frozen=True, eq=False)
class AdministrativeSex(_NoTruth):
    """Patient.gender; compare with `==` to one of male, female, other, unknown."""

    def __eq__(self, other: object) -> SexIs:  # type: ignore[override]
        if other not in SEXES:
            raise AuthorError("LOGIC004", f"administrative sex {other!r} is not one of {', '.join(SEXES)}")
        return SexIs(other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> Not:  # type: ignore[override]
        return Not(self.__eq__(other))

    __hash__ = object.__hash__


# --- events and elapsed time ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EventDate(_NoTruth):
    """The date of the earliest or latest matching record (null when there is none)."""

    records: "Records"
    which: Literal["earliest", "latest"]

    def __sub__(self, other: "EventDate") -> "Elapsed":
        if not isinstance(other, EventDate):
            raise AuthorError("LOGIC002", f"subtract an event date from an event date, not {other!r:.40}")
        return Elapsed(other, self)


@dataclass(frozen=True, eq=False)
class Elapsed(_Comparable):
    """Time from `start` to `end` (now when `end` is None); compare with a Duration."""

    start: EventDate
    end: EventDate | None = None
    right_kind = Duration
    right_hint = "a Duration such as weeks(6)"


def time_since(event: EventDate) -> Elapsed:
    """Time from an event to now: `time_since(conditions(X).earliest()) >= months(3)`."""
    if not isinstance(event, EventDate):
        raise AuthorError("ARG001", f"time_since needs records(...).earliest() or .latest(), got {event!r:.40}")
    return Elapsed(event)


# --- patient data -----------------------------------------------------------------------


class ClinicalStatus(enum.Enum):
    """Which Conditions count, by clinicalStatus (verificationStatus refuted/entered-in-error never count).

    ACTIVE: active, recurrence or relapse. HISTORY: any clinicalStatus (also inactive, remission,
    resolved). A Condition *without* clinicalStatus is not known to be active: it counts for
    HISTORY, never for ACTIVE — the same everywhere (features, body-site filters, counts).
    """

    ACTIVE = "active"
    HISTORY = "history"


@dataclass(frozen=True, eq=False)
class Records(_NoTruth):
    """Resources of one type with a code from `terminology`, filtered to the clinically relevant ones.

    Filters narrow the set and each returns a new object: `.within(months(12))` (dated in the
    last 12 months), `.before(event)` (dated before an event), `.with_body_site(site)`.
    """

    resource_type: str
    terminology: Terminology
    body_site: Terminology | None = None
    window: Duration | None = None
    before_event: EventDate | None = None
    status: ClinicalStatus = ClinicalStatus.ACTIVE
    category: str | None = None  # conditions: Condition.category code (CONDITION_CATEGORIES)
    value_filter: tuple[Comparator, Quantity] | None = None

    def exists(self) -> "Exists":
        return Exists(self)

    def within(self, duration: Duration) -> "Records":
        """Only records dated at most `duration` before now (see README for each kind's date)."""
        return replace(self, window=_duration(duration, "within()"))

    def before(self, event: EventDate) -> "Records":
        """Only records dated strictly before `event` (e.g. `conditions(X).earliest()`)."""
        if not isinstance(event, EventDate):
            raise AuthorError("ARG001", f"before() needs records(...).earliest() or .latest(), got {event!r:.40}")
        return replace(self, before_event=event)

    def count(self) -> "Count":
        return Count(self)

    def at_least(self, n: int, *, apart: Duration | None = None) -> "AtLeast":
        """At least `n` records; with `apart=`, two of them at least that long apart (n must be 2)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise AuthorError("ARG001", f"at_least() needs a positive integer, got {n!r:.40}")
        if apart is not None:
            _duration(apart, "at_least(apart=)")
            if n != 2:
                raise AuthorError("LOGIC004", "at_least(n, apart=...) is defined for n=2 (two results that far apart)")
        return AtLeast(self, n, apart)

    def earliest(self) -> EventDate:
        return EventDate(self, "earliest")

    def latest(self) -> EventDate:
        return EventDate(self, "latest")

    __hash__ = object.__hash__


class _BodySite:
    def with_body_site(self, site: Terminology) -> "Records":
        """Only records whose bodySite has a coding in `site` (a Code or ValueSet)."""
        return replace(self, body_site=_terminology(site, "Records.body_site"))  # type: ignore[type-var]


class ConditionRecords(_BodySite, Records):
    """Conditions with a code, by the feature's clinical-status policy (see `conditions`)."""

    def onset_within(self, duration: Duration) -> "OnsetWithin":
        """Onset (or recorded date when onset is absent) at most `duration` before now."""
        return OnsetWithin(self, _duration(duration, "onset_within()"))

    def onset_before(self, duration: Duration) -> "OnsetBefore":
        """Onset at least `duration` before now (e.g. persisting beyond 3 months)."""
        return OnsetBefore(self, _duration(duration, "onset_before()"))

    def recorded_within(self, duration: Duration) -> "RecordedWithin":
        """Condition.recordedDate at most `duration` before now."""
        return RecordedWithin(self, _duration(duration, "recorded_within()"))


class ObservationRecords(Records):
    """Final/amended/corrected Observations with a code (see `observations`)."""

    def latest_value(self) -> "LatestValue":
        return LatestValue(self)

    def with_value(self, op: Comparator, threshold: Quantity) -> "ObservationRecords":
        """Only observations whose value compares true with `threshold` (for counts)."""
        if not isinstance(threshold, Quantity):
            raise AuthorError("LOGIC002", f"with_value() compares with a Quantity, not {threshold!r:.40}")
        return replace(self, value_filter=(_comparator(op), threshold))


class ProcedureRecords(_BodySite, Records):
    """Completed Procedures with a code (see `procedures`)."""

    def performed_within(self, duration: Duration) -> "PerformedWithin":
        return PerformedWithin(self, _duration(duration, "performed_within()"))


class MedicationRecords(Records):
    """Medication use from MedicationRequest and MedicationStatement (see `medications`)."""

    def exists(self) -> "Exists":
        """Currently taking (same as `taking()`)."""
        return self.taking()

    def taking(self) -> "Exists":
        return MedicationUse(self, "taking", None)

    def taking_for_at_least(self, duration: Duration) -> "MedicationUse":
        return MedicationUse(self, "taking_for", _duration(duration, "taking_for_at_least()"))

    def started_within(self, duration: Duration) -> "MedicationUse":
        return MedicationUse(self, "started_within", _duration(duration, "started_within()"))

    def stopped_within(self, duration: Duration) -> "MedicationUse":
        return MedicationUse(self, "stopped_within", _duration(duration, "stopped_within()"))


@dataclass(frozen=True, eq=False)
class Exists(BooleanLogic):
    records: Records


@dataclass(frozen=True, eq=False)
class MedicationUse(Exists):
    """Medication use by time: taking now, for at least, started or stopped within."""

    kind: Literal["taking", "taking_for", "started_within", "stopped_within"] = "taking"
    duration: Duration | None = None


@dataclass(frozen=True, eq=False)
class OnsetWithin(BooleanLogic):
    records: ConditionRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class OnsetBefore(BooleanLogic):
    records: ConditionRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class RecordedWithin(BooleanLogic):
    records: ConditionRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class PerformedWithin(BooleanLogic):
    records: ProcedureRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class AtLeast(BooleanLogic):
    records: Records
    n: int
    apart: Duration | None = None


@dataclass(frozen=True, eq=False)
class Count(_Comparable):
    """How many matching records; compare with an integer."""

    records: Records


@dataclass(frozen=True, eq=False)
class LatestValue(_Comparable):
    """The value of the most recent matching Observation with a usable value; compare with a Quantity."""

    records: ObservationRecords
    right_kind = Quantity
    right_hint = "a Quantity such as Quantity(30, 'mL/min')"


@dataclass(frozen=True, eq=False)
class RawCql(BooleanLogic):
    """Author-written CQL; may reference other features by their quoted names."""

    text: str


#: FHIR R4 condition-category codes (http://terminology.hl7.org/CodeSystem/condition-category).
CONDITION_CATEGORIES = {"problem-list-item": "Problem List Item", "encounter-diagnosis": "Encounter Diagnosis"}


def conditions(terminology: Terminology, *, status: ClinicalStatus = ClinicalStatus.ACTIVE,
               category: str | None = None) -> ConditionRecords:
    """Conditions coded in `terminology`; `status=ClinicalStatus.HISTORY` also counts resolved ones;
    `category="problem-list-item"` or `"encounter-diagnosis"` keeps only Conditions of that category."""
    if not isinstance(status, ClinicalStatus):
        raise AuthorError("LOGIC004", f"status must be ClinicalStatus.ACTIVE or ClinicalStatus.HISTORY, got {status!r:.40}")
    if category is not None and category not in CONDITION_CATEGORIES:
        raise AuthorError("LOGIC004", f"condition category {category!r} is not one of {', '.join(CONDITION_CATEGORIES)}")
    return ConditionRecords("Condition", _terminology(terminology, "ConditionRecords.terminology"), status=status, category=category)


def observations(terminology: Terminology) -> ObservationRecords:
    return ObservationRecords("Observation", _terminology(terminology, "ObservationRecords.terminology"))


def procedures(terminology: Terminology) -> ProcedureRecords:
    return ProcedureRecords("Procedure", _terminology(terminology, "ProcedureRecords.terminology"))


def medications(terminology: Terminology) -> MedicationRecords:
    return MedicationRecords("Medication", _terminology(terminology, "MedicationRecords.terminology"))


def age_in_years() -> AgeInYears:
    return AgeInYears()


def age_in_months() -> AgeInMonths:
    return AgeInMonths()


def administrative_sex() -> AdministrativeSex:
    return AdministrativeSex()


# --- features -------------------------------------------------------------------------

_CQL_NOISE = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:[^'\\]|\\.)*'", re.S)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def raw_cql_names(text: str) -> list[tuple[str, int]]:
    """The quoted identifiers raw CQL uses, with the 0-based line of each (comments and strings skipped)."""
    blanked = _CQL_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return [(m.group(1).replace('\\"', '"'), blanked.count("\n", 0, m.start())) for m in _QUOTED.finditer(blanked)]


@dataclass(eq=False)
class Feature(BooleanLogic):
    """A named piece of patient logic (a CPG case feature), emitted as one CQL define.

    Give either a builder expression (`logic`) or raw CQL (`cql=`). The name becomes the
    CQL identifier, so write it in Initial Case: "Acute Vertebral Fracture". Raw CQL may
    declare the codes and value sets it retrieves by (`codes=`, `value_sets=`) and refer to
    them, to other features and to FHIRHelpers by name; nothing else is visible to it.
    """

    name: str
    logic: BooleanLike | None = None
    cql: str | None = None
    description: str | None = None
    codes: list[Code] = field(default_factory=list)
    value_sets: list[ValueSet] = field(default_factory=list)
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)
    cql_location: SourceLocation | None = field(default=None, repr=False)  # first line of the cql= string

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise AuthorError("ARG001", f"a feature's name must be a non-empty string, got {self.name!r:.40}")
        if self.logic is not None:
            self.logic = _as_logic(self.logic)
        if self.cql is not None and not isinstance(self.cql, str):
            raise AuthorError("ARG001", f"cql= must be a string of CQL, got {type(self.cql).__name__}")
        for term in [*self.codes, *self.value_sets]:
            _terminology(term, "Feature.codes/value_sets")
        if self.cql is not None and self.location is not None and self.cql_location is None:
            from generator.model._location import keyword_line

            line = keyword_line(self.location, "cql")
            self.cql_location = SourceLocation(self.location.file, line) if line else self.location

    @property
    def expression(self) -> BooleanLogic | None:
        """The logic to render: builder expression, or raw CQL, or None (reported by the rules)."""
        if self.cql is not None:
            return RawCql(self.cql)
        return self.logic  # type: ignore[return-value]

    def __hash__(self) -> int:
        return id(self)
