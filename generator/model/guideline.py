"""The guideline: metadata, its pathway of strategies, and its test scenarios."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.logic import Feature
from generator.model.recommendation import Citation, Recommendation
from generator.model.terminology import Code, ValueSet


class Process(enum.Enum):
    """CPG common process codes (cpg-common-process-cs) for pathway and strategy actions."""

    REGISTRATION = ("registration", "Registration")
    TRIAGE = ("triage", "Triage")
    LOCAL_URGENT_CARE = ("local-urgent-care", "Local urgent care")
    HISTORY_AND_PHYSICAL = ("history-and-physical", "History and physical")
    PROVIDE_COUNSELING = ("provide-counseling", "Provide counseling")
    DIAGNOSTIC_TESTING = ("diagnostic-testing", "Diagnostic testing")
    DETERMINE_DIAGNOSIS = ("determine-diagnosis", "Determine diagnosis")
    GUIDELINE_BASED_CARE = ("guideline-based-care", "Guideline-based care")
    DISPENSE_MEDICATIONS = ("dispense-medications", "Dispense medications")
    EMERGENCY_CARE = ("emergency-care", "Emergency care")
    ACUTE_TERTIARY_CARE = ("actue-tertiary-care", "Acute tertiary care")
    DISCHARGE_REFERRAL = ("discharge-referral-of-patient", "Discharge/referral of patient")
    RECORD_AND_REPORT = ("record-and-report", "Record and report")
    MONITOR_AND_FOLLOW_UP = ("monitor-and-follow-up-of-patient", "Monitor and follow-up of patient")
    ALERTS_REMINDERS_EDUCATION = ("alerts-reminders-education", "Alerts, reminders, and education")


@dataclass(eq=False)
class Strategy:
    """A phase or branch of the pathway (CPG strategy PlanDefinition)."""

    id: str
    title: str | None = None
    description: str | None = None
    process: Process = Process.GUIDELINE_BASED_CARE
    recommendations: list[Recommendation] = field(default_factory=list)
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def __hash__(self) -> int:
        return id(self)


class _AllOthers:
    """Sentinel for `Scenario(absent=ALL_OTHERS)`: every recommendation not listed as present."""

    def __repr__(self) -> str:
        return "ALL_OTHERS"


ALL_OTHERS = _AllOthers()


@dataclass(eq=False)
class Scenario:
    """A test patient: a FHIR Bundle, an evaluation date and the recommendations expected.

    `absent=ALL_OTHERS` pins down the whole pathway for the patient: every recommendation not in
    `present` must not apply. The Guideline expands it into the explicit list.
    """

    id: str
    bundle: str
    date: str
    title: str | None = None
    present: list[str] = field(default_factory=list)
    absent: list[str] | _AllOthers = field(default_factory=list)
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def expand(self, recommendation_ids: list[str]) -> None:
        """Replace ALL_OTHERS by the ids of every recommendation not expected present."""
        if self.absent is ALL_OTHERS:
            self.absent = [rid for rid in recommendation_ids if rid not in self.present]


@dataclass(eq=False)
class Guideline:
    """The root of a guideline's construct tree; one per package under definitions/."""

    id: str
    name: str
    title: str
    canonical: str
    version: str
    date: str
    description: str
    publisher: str
    status: str = "draft"
    experimental: bool = True
    contact: str | None = None
    copyright: str | None = None
    license: str | None = None  # SPDX id for the NPM package (e.g. "CC-BY-4.0"); unset = not-open-source
    jurisdiction: list[Code] = field(default_factory=list)
    topic: list[Code] = field(default_factory=list)
    sources: dict[str, Citation] = field(default_factory=dict)
    strategies: list[Strategy] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    value_sets: list[ValueSet] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    sources_dir: str | None = None  # folder holding the source documents (for passage checks)
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    def __post_init__(self) -> None:
        ids = [rec.id for rec in self.recommendations]
        for scenario in self.scenarios:
            scenario.expand(ids)

    @property
    def recommendations(self) -> list[Recommendation]:
        return [rec for strategy in self.strategies for rec in strategy.recommendations]
