"""Recommendations: applicability, activities, grading and the sources they trace to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model._errors import ModelError
from generator.model.activities import Activity, Choice, NoRecommendation
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
    then: Activity | Choice | list[Activity | Choice] = field(default_factory=list)
    strength: Strength | None = None
    direction: Direction | None = None
    certainty: Certainty | None = None
    sources: list[Source] = field(default_factory=list)
    rationale: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def __post_init__(self) -> None:
        if self.when is not None:
            self.when = _as_logic(self.when)
        for item in self.actions:
            if not isinstance(item, (Activity, Choice)):
                raise ModelError("RULE033", f"then= takes activities or Choice groups, got {type(item).__name__}",
                                 self.location)
        self._check_no_recommendation()
        self._check_relative_timing()

    def _check_no_recommendation(self) -> None:
        """A "no recommendation" statement stands alone and takes no side (RULE034)."""
        if not any(isinstance(a, NoRecommendation) for a in self.activities):
            return
        if len(self.activities) > 1:
            raise ModelError("RULE034", f"recommendation '{self.id}': a NoRecommendation stands alone; "
                             "do not mix it with activities to perform", self.location)
        if self.direction is not None or self.strength is not None:
            raise ModelError("RULE034", f"recommendation '{self.id}' states no recommendation, so it has no "
                             "direction or strength", self.location)

    def _check_relative_timing(self) -> None:
        """`at(..., after=activity)` must name another activity of this recommendation (RULE035)."""
        mine = self.activities
        for activity in mine:
            timing = activity.timing
            anchor = getattr(timing, "after", None)
            if anchor is None:
                continue
            if anchor is activity or not any(anchor is other for other in mine):
                raise ModelError("RULE035", f"recommendation '{self.id}': the timing of "
                                 f"'{activity.title or activity.id}' is relative to an activity that is not "
                                 "another activity of this recommendation", getattr(timing, "location", None)
                                 or self.location)
            seen = [activity]
            while anchor is not None:  # follow the chain: a → b → a would never start
                if any(anchor is s for s in seen):
                    names = " → ".join(a.title or "?" for a in [*seen, anchor])
                    raise ModelError("RULE035", f"recommendation '{self.id}': timings wait on each other in a cycle "
                                     f"({names})", getattr(timing, "location", None) or self.location)
                seen.append(anchor)
                anchor = getattr(anchor.timing, "after", None)

    @property
    def actions(self) -> list[Activity | Choice]:
        """What `then=` holds, in order: activities and Choice groups."""
        return list(self.then) if isinstance(self.then, (list, tuple)) else [self.then]

    @property
    def activities(self) -> list[Activity]:
        """Every activity, those inside Choice groups included, in order."""
        flat: list[Activity] = []
        for item in self.actions:
            flat.extend(item.activities if isinstance(item, Choice) else [item])
        return flat

    @property
    def applicability(self) -> BooleanLogic | None:
        return self.when  # type: ignore[return-value]

    def __hash__(self) -> int:
        return id(self)
