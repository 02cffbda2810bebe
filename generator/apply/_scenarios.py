"""TEST: run a guideline's Scenarios through `$apply` and compare the applicable recommendations.

Why here and not in pytest: scenarios are part of the guideline (authors write them next to the
recommendations) and `cpg test` must run them on the *built* artifacts with the real engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.apply._applier import Applier
from generator.apply._artifacts import ApplyError
from generator.apply._patient import read_scenario_bundle
from generator.apply.explain import Explanation, format_explanation
from generator.model.guideline import Scenario

__all__ = ["ScenarioOutcome", "ScenarioRun", "run_scenarios", "format_table", "format_failures", "format_explanations"]


@dataclass
class ScenarioOutcome:
    guideline: str
    scenario: Scenario
    applicable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # expected present, not applicable
    unexpected: list[str] = field(default_factory=list)  # expected absent, applicable
    error: str | None = None
    explanation: Explanation | None = None
    data_problems: list[str] = field(default_factory=list)  # DATA001: record values the logic could not use

    @property
    def passed(self) -> bool:
        return self.error is None and not self.missing and not self.unexpected

    @property
    def detail(self) -> str:
        if self.error is not None:
            return self.error
        parts = []
        if self.missing:
            parts.append("expected but not applicable: " + ", ".join(self.missing))
        if self.unexpected:
            parts.append("applicable but expected absent: " + ", ".join(self.unexpected))
        return "; ".join(parts) or f"{len(self.applicable)} applicable"


def run_scenarios(guideline_id: str, scenarios: Sequence[Scenario], package_dir: Path,
                  applier: Applier) -> list[ScenarioOutcome]:
    """Apply each scenario's bundle (relative to the package) at its date; one outcome each."""
    return ScenarioRun(guideline_id, scenarios, package_dir, applier).run()


class ScenarioRun:
    """A guideline's scenarios, read and checked (`__init__`, Python only), then applied (`run`).

    Two steps so a caller can give the first the interpreter to itself and overlap only the
    second, the engine's evaluation, with other work (`cpg build`). Scenarios of one date go to
    the engine together (one round trip, `apply_many`); if that batch fails, each is applied alone
    so the error lands on the scenario that caused it."""

    def __init__(self, guideline_id: str, scenarios: Sequence[Scenario], package_dir: Path, applier: Applier) -> None:
        self.applier = applier
        known = {rec.id for rec in applier.plan.recommendations()}
        self.outcomes: list[ScenarioOutcome] = []
        self._by_date: dict[str, list[tuple[ScenarioOutcome, dict[str, Any]]]] = {}
        for scenario in scenarios:
            outcome = ScenarioOutcome(guideline_id, scenario)
            self.outcomes.append(outcome)
            unknown = sorted({*scenario.present, *scenario.absent} - known)
            if unknown:
                outcome.error = "names unknown recommendation(s): " + ", ".join(unknown)
                continue
            try:
                bundle = read_scenario_bundle(package_dir / scenario.bundle)
            except ApplyError as exc:
                outcome.error = "; ".join(d.message for d in exc.diagnostics)
                continue
            self._by_date.setdefault(scenario.date, []).append((outcome, bundle))

    def run(self) -> list[ScenarioOutcome]:
        """Apply every readable scenario; returns every outcome, in scenario order."""
        for date, group in self._by_date.items():
            try:
                results = self.applier.apply_many([bundle for _, bundle in group], date)
            except ApplyError:
                results = None
            for index, (outcome, bundle) in enumerate(group):
                try:
                    result = results[index] if results is not None else self.applier.apply(bundle, date)
                except ApplyError as exc:
                    outcome.error = "; ".join(d.message for d in exc.diagnostics)
                    continue
                scenario = outcome.scenario
                outcome.applicable = result.applicable
                outcome.data_problems = result.data_problems
                outcome.explanation = result.explanation
                outcome.missing = [r for r in scenario.present if r not in result.applicable]
                outcome.unexpected = [r for r in scenario.absent if r in result.applicable]
        self._by_date = {}
        return self.outcomes


def format_table(outcomes: Sequence[ScenarioOutcome]) -> str:
    """A plain pass/fail table, one scenario per row, and a summary line."""
    rows = [("scenario", "date", "result", "detail")]
    rows += [(f"{o.guideline}/{o.scenario.id}", o.scenario.date, "PASS" if o.passed else "FAIL", o.detail)
             for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])), row[3]]).rstrip() for row in rows]
    failed = sum(1 for o in outcomes if not o.passed)
    lines.append(f"{len(outcomes) - failed} passed, {failed} failed")
    return "\n".join(lines)


def format_failures(outcomes: Sequence[ScenarioOutcome]) -> str:
    """For each failing scenario: expected vs actual, and the features that decided each mismatch."""
    blocks = []
    for o in outcomes:
        if o.passed or o.error is not None:
            continue
        lines = [f"{o.guideline}/{o.scenario.id} failed:",
                 f"  expected applicable: {', '.join(o.scenario.present) or '(none)'}",
                 f"  actually applicable: {', '.join(o.applicable) or '(none)'}"]
        for label, ids in (("expected but not applicable", o.missing), ("applicable but expected absent", o.unexpected)):
            for rec_id in ids:
                why = o.explanation.of(rec_id) if o.explanation is not None else None
                lines.append(f"  {label}: {rec_id}" + (f" (decided by {why.because()})" if why else ""))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def format_explanations(outcomes: Sequence[ScenarioOutcome]) -> str:
    """`cpg test --explain`: every scenario's features and why each recommendation did or did not apply."""
    blocks = []
    for o in outcomes:
        if o.explanation is not None:
            blocks.append(f"scenario {o.guideline}/{o.scenario.id} ({o.scenario.date}):\n" + format_explanation(o.explanation))
    return "\n\n".join(blocks)
