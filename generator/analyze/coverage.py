"""Coverage of a guideline's own scenarios: which recommendations and features they exercise.

A scenario set covers a recommendation when at least one scenario makes it applicable and at
least one does not; it covers a feature when some scenario makes it true and some false. Values
come from the real engine (the same defines `cpg apply` evaluates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.analyze.findings import Finding
from generator.apply import ApplyError, Artifacts, Engine, EngineError, execution_datetime, read_scenario_bundle
from generator.diagnostics import Severity, SourceLocation
from generator.model.guideline import Scenario
from generator.model.logic import Feature

if TYPE_CHECKING:
    from generator.resolve import ResolvedGuideline

__all__ = ["Coverage", "scenario_coverage", "coverage_findings", "format_coverage", "coverage_of_resolved"]


@dataclass
class Coverage:
    guideline: str
    scenarios: int
    #: recommendation id -> (scenarios where applicable, scenarios where not)
    recommendations: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    #: feature name -> (scenarios where true, scenarios where false)
    features: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @staticmethod
    def _covered(seen: tuple[list[str], list[str]]) -> bool:
        return bool(seen[0]) and bool(seen[1])

    @property
    def uncovered_recommendations(self) -> list[str]:
        return [r for r, seen in self.recommendations.items() if not self._covered(seen)]

    @property
    def uncovered_features(self) -> list[str]:
        return [f for f, seen in self.features.items() if not self._covered(seen)]


def scenario_coverage(guideline_id: str, library: str, recommendations: Sequence[tuple[str, str]],
                      features: Sequence[Feature], scenarios: Sequence[Scenario], package_dir: Path,
                      artifacts: Artifacts, engine: Engine) -> Coverage:
    """Evaluate every scenario once: each recommendation's applicability define and each feature define.

    `recommendations` is (id, applicability define) in pathway order.
    """
    coverage = Coverage(guideline_id, len(scenarios))
    coverage.recommendations = {rid: ([], []) for rid, _ in recommendations}
    coverage.features = {f.name: ([], []) for f in features}
    if not scenarios:
        return coverage
    try:
        logic = engine.load(artifacts.elm_libraries(), artifacts.value_set_codes())
    except EngineError as exc:
        raise ApplyError("APPLY040", f"the CQL engine could not load the libraries: {exc}", exit_code=1) from exc
    defines = [define for _, define in recommendations] + [f.name for f in features]
    try:
        for scenario in scenarios:
            try:
                bundle = read_scenario_bundle(package_dir / scenario.bundle)
                row = logic.evaluate({library: defines}, [bundle], execution_datetime(scenario.date)).patients[0]
            except (ApplyError, EngineError) as exc:
                coverage.errors.append(f"{scenario.id}: {exc}")
                continue
            for rid, define in recommendations:
                coverage.recommendations[rid][0 if row.get(library, define) is True else 1].append(scenario.id)
            for feature in features:
                coverage.features[feature.name][0 if row.get(library, feature.name) is True else 1].append(scenario.id)
    finally:
        logic.unload()
    return coverage


def coverage_of_resolved(rg: "ResolvedGuideline", artifacts: Artifacts, engine: Engine) -> Coverage:
    """Coverage of a resolved guideline's scenarios on its built artifacts (`cpg test --coverage`)."""
    recs = [(rr.id, rr.applicability_define) for rr in rg.recommendations]
    return scenario_coverage(rg.guideline.id, rg.library_name, recs, rg.features, rg.scenarios, rg.package_dir,
                             artifacts, engine)


def coverage_findings(coverage: Coverage, locations: dict[str, SourceLocation | None],
                      feature_locations: dict[str, SourceLocation | None]) -> list[Finding]:
    gid = coverage.guideline
    if not coverage.scenarios:
        return [Finding("ANALYZE024", Severity.INFO, "the guideline has no scenarios: coverage cannot be measured", gid)]
    findings: list[Finding] = []
    for rid, (yes, no) in coverage.recommendations.items():
        if not yes:
            findings.append(Finding("ANALYZE020", Severity.WARNING,
                                    f"no scenario makes recommendation '{rid}' applicable", gid, locations.get(rid),
                                    [rid]))
        elif not no:
            findings.append(Finding("ANALYZE021", Severity.INFO,
                                    f"every scenario makes recommendation '{rid}' applicable (none shows when it "
                                    "does not apply)", gid, locations.get(rid), [rid]))
    for name, (yes, no) in coverage.features.items():
        if not yes:
            findings.append(Finding("ANALYZE022", Severity.INFO, f"no scenario makes feature '{name}' true", gid,
                                    feature_locations.get(name), features=[name]))
        elif not no:
            findings.append(Finding("ANALYZE023", Severity.INFO, f"no scenario makes feature '{name}' false", gid,
                                    feature_locations.get(name), features=[name]))
    return findings


def format_coverage(coverage: Coverage) -> str:
    """A short table: how much the scenarios cover, then what they miss."""
    recs, feats = coverage.recommendations, coverage.features
    if not coverage.scenarios:
        return f"coverage of {coverage.guideline}: no scenarios"
    lines = [f"coverage of {coverage.guideline}: {coverage.scenarios} scenario(s); "
             f"recommendations {len(recs) - len(coverage.uncovered_recommendations)}/{len(recs)} covered "
             f"(applicable and not), features {len(feats) - len(coverage.uncovered_features)}/{len(feats)} covered "
             "(true and false)"]
    for rid in coverage.uncovered_recommendations:
        yes, _ = recs[rid]
        lines.append(f"  recommendation {rid}: " + ("never applicable" if not yes else "always applicable"))
    for name in coverage.uncovered_features:
        yes, _ = feats[name]
        lines.append(f"  feature {name}: " + ("never true" if not yes else "never false"))
    lines += [f"  error: {e}" for e in coverage.errors]
    return "\n".join(lines)
