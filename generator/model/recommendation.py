"""Recommendations: applicability, activities, grading and the sources they trace to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.activities import Activity
from generator.model.logic import BooleanLike, BooleanLogic, _as_logic


class Strength(enum.Enum):
    """GRADE strength (THO recommendation-strength)."""

    STRONG = ("strong", "Strong")
    WEAK = ("weak", "Weak")


class Certainty(enum.Enum):
    """GRADE certainty of evidence (THO evidence-quality)."""

    HIGH = ("high", "High quality")
    MODERATE = ("moderate", "Moderate quality")
    LOW = ("low", "Low quality")
    VERY_LOW = ("very-low", "Very low quality")


class Direction(enum.Enum):
    """CPG direction of recommendation."""

    FOR = ("for", "For")
    AGAINST = ("against", "Against")


@dataclass(frozen=True)
class Source:
    """A passage of a source document this recommendation comes from (checked verbatim)."""

    document: str
    passage: str
    location: SourceLocation | None = field(default_factory=caller_location, compare=False, repr=False)


@dataclass(frozen=True)
class Citation:
    """A source document of the guideline: the file it is in and how to cite it."""

    file: str
    title: str
    updated: str | None = None
    url: str | None = None
    note: str | None = None


@dataclass(eq=False)
class Recommendation:
    """One recommendation: becomes a CPG recommendation PlanDefinition (eca-rule)."""

    id: str
    title: str | None = None
    statement: str | None = None
    when: BooleanLike | None = None
    then: Activity | list[Activity] = field(default_factory=list)
    strength: Strength | None = None
    direction: Direction | None = None
    certainty: Certainty | None = None
    sources: list[Source] = field(default_factory=list)
    rationale: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def __post_init__(self) -> None:
        if self.when is not None:
            self.when = _as_logic(self.when)

    @property
    def activities(self) -> list[Activity]:
        return self.then if isinstance(self.then, list) else [self.then]

    @property
    def applicability(self) -> BooleanLogic | None:
        return self.when  # type: ignore[return-value]

    def __hash__(self) -> int:
        return id(self)
