"""Patient logic an author writes: case features and a small expression builder.

The builder describes *what* to ask of the patient record (conditions with a code, time
since onset, latest observation value, age, ...). It knows nothing about CQL syntax: the
CQL phase (`generator.cql.render`) turns these nodes into CQL through jinja2 templates.
Features and expressions combine with `&`, `|` and `~`.

Builder logic is two-valued: a comparison whose data is missing (no observation, no birth
date) is false, not null, so `~feature` means "not known to be" and a negated feature never
silently switches a recommendation off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.terminology import Code, Duration, Quantity, ValueSet

Terminology = Union[Code, ValueSet]
Comparator = Literal["<", "<=", ">", ">=", "="]


class BooleanLogic:
    """Something that yields true/false for a patient; combinable with & | ~."""

    def __and__(self, other: "BooleanLike") -> "AllOf":
        return AllOf(_flatten(AllOf, self, _as_logic(other)))

    def __or__(self, other: "BooleanLike") -> "AnyOf":
        return AnyOf(_flatten(AnyOf, self, _as_logic(other)))

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
    raise TypeError(f"expected a Feature, a logic expression or a feature name, got {type(value).__name__}")


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


# --- patient data -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Records:
    """Resources of one type with a code from `terminology`, filtered to the clinically relevant ones."""

    resource_type: str
    terminology: Terminology
    body_site: Terminology | None = None

    def exists(self) -> "Exists":
        return Exists(self)


class ConditionRecords(Records):
    """Active, not refuted Conditions with a code (see `conditions`)."""

    def onset_within(self, duration: Duration) -> "OnsetWithin":
        """Onset (or recorded date when onset is absent) at most `duration` before now."""
        return OnsetWithin(self, duration)

    def onset_before(self, duration: Duration) -> "OnsetBefore":
        """Onset at least `duration` before now (e.g. persisting beyond 3 months)."""
        return OnsetBefore(self, duration)

    def with_body_site(self, site: Terminology) -> "ConditionRecords":
        return ConditionRecords(self.resource_type, self.terminology, site)


class ObservationRecords(Records):
    """Final/amended/corrected Observations with a code (see `observations`)."""

    def latest_value(self) -> "LatestValue":
        return LatestValue(self)


class ProcedureRecords(Records):
    """Completed Procedures with a code (see `procedures`)."""

    def performed_within(self, duration: Duration) -> "PerformedWithin":
        return PerformedWithin(self, duration)


class MedicationRecords(Records):
    """Active MedicationRequests (not do-not-perform) for a medication (see `medications`)."""


@dataclass(frozen=True, eq=False)
class Exists(BooleanLogic):
    records: Records


@dataclass(frozen=True, eq=False)
class OnsetWithin(BooleanLogic):
    records: ConditionRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class OnsetBefore(BooleanLogic):
    records: ConditionRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class PerformedWithin(BooleanLogic):
    records: ProcedureRecords
    duration: Duration


@dataclass(frozen=True, eq=False)
class LatestValue:
    """The value of the most recent matching Observation; compare it with a Quantity."""

    records: ObservationRecords

    def _compare(self, op: Comparator, other: Quantity) -> "Compare":
        if not isinstance(other, Quantity):
            raise TypeError("compare an observation value with a Quantity, e.g. Quantity(30, 'mL/min')")
        return Compare(self, op, other)

    def __lt__(self, other: Quantity) -> "Compare":
        return self._compare("<", other)

    def __le__(self, other: Quantity) -> "Compare":
        return self._compare("<=", other)

    def __gt__(self, other: Quantity) -> "Compare":
        return self._compare(">", other)

    def __ge__(self, other: Quantity) -> "Compare":
        return self._compare(">=", other)


@dataclass(frozen=True, eq=False)
class AgeInYears:
    """The patient's age in whole years at evaluation time."""

    def __lt__(self, other: int) -> "Compare":
        return Compare(self, "<", other)

    def __le__(self, other: int) -> "Compare":
        return Compare(self, "<=", other)

    def __gt__(self, other: int) -> "Compare":
        return Compare(self, ">", other)

    def __ge__(self, other: int) -> "Compare":
        return Compare(self, ">=", other)


@dataclass(frozen=True, eq=False)
class Compare(BooleanLogic):
    left: LatestValue | AgeInYears
    op: Comparator
    right: Quantity | int


@dataclass(frozen=True, eq=False)
class RawCql(BooleanLogic):
    """Author-written CQL; may reference other features by their quoted names."""

    text: str


def conditions(terminology: Terminology) -> ConditionRecords:
    return ConditionRecords("Condition", terminology)


def observations(terminology: Terminology) -> ObservationRecords:
    return ObservationRecords("Observation", terminology)


def procedures(terminology: Terminology) -> ProcedureRecords:
    return ProcedureRecords("Procedure", terminology)


def medications(terminology: Terminology) -> MedicationRecords:
    return MedicationRecords("MedicationRequest", terminology)


def age_in_years() -> AgeInYears:
    return AgeInYears()


# --- features -------------------------------------------------------------------------


@dataclass(eq=False)
class Feature(BooleanLogic):
    """A named piece of patient logic (a CPG case feature), emitted as one CQL define.

    Give either a builder expression (`logic`) or raw CQL (`cql=`). The name becomes the
    CQL identifier, so write it in Initial Case: "Acute Vertebral Fracture".
    """

    name: str
    logic: BooleanLike | None = None
    cql: str | None = None
    description: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def __post_init__(self) -> None:
        if self.logic is not None:
            self.logic = _as_logic(self.logic)

    @property
    def expression(self) -> BooleanLogic | None:
        """The logic to render: builder expression, or raw CQL, or None (reported by the rules)."""
        if self.cql is not None:
            return RawCql(self.cql)
        return self.logic  # type: ignore[return-value]

    def __hash__(self) -> int:
        return id(self)
