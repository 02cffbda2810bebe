"""ANALYZE: what a guideline's logic does across all patients, proven on the real engine.

* `analysis`: applicability as formulas over data shapes (`shapes`), searched for patients
  (`formula`): unreachable / always-on recommendations and conflict *candidates*.
* here: each candidate is proven on the CQL engine with a generated witness patient (`witness`);
  only confirmed conflicts are reported.
* `coverage`: what the guideline's own scenarios exercise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.analyze.analysis import Candidate, GuidelineModel, analyse_statically, candidates
from generator.analyze.coverage import Coverage, coverage_findings, coverage_of_resolved
from generator.analyze.findings import SEVERITY_RANK, Finding, Witness
from generator.analyze.formula import BudgetExceeded
from generator.analyze.witness import scenario_line, witness_bundle, witness_id
from generator.apply import Applier, Artifacts, Engine
from generator.diagnostics import Severity

if TYPE_CHECKING:
    from generator.compile import BuiltGuideline

__all__ = ["Analysis", "analyze_built", "Finding", "Witness", "Coverage", "SEVERITY_RANK", "ATTEMPTS"]

#: Generated patients tried per conflict candidate before it is reported as unconfirmed.
ATTEMPTS = 6


@dataclass
class Analysis:
    guideline: str
    findings: list[Finding] = field(default_factory=list)
    coverage: Coverage | None = None

    @property
    def conflicts(self) -> list[Finding]:
        return [f for f in self.findings if f.code == "ANALYZE001"]


def analyze_built(built: "BuiltGuideline", engine: Engine, *, with_coverage: bool = True) -> Analysis:
    """Analyse one compiled guideline: static findings, engine-confirmed conflicts, scenario coverage."""
    rg = built.resolved
    analysis = Analysis(rg.guideline.id)
    model = GuidelineModel.of(rg)
    analysis.findings.extend(analyse_statically(model))
    artifacts = Artifacts.from_resources(built.resources, source=f"<build of {rg.guideline.id}>")
    applier = Applier(artifacts, engine)
    for candidate in candidates(model):
        finding = _confirm(model, applier, candidate)
        if finding is not None:
            analysis.findings.append(finding)
    if with_coverage:
        coverage = coverage_of_resolved(rg, artifacts, engine)
        analysis.coverage = coverage
        analysis.findings.extend(coverage_findings(
            coverage, {rr.id: rr.recommendation.location for rr in rg.recommendations},
            {f.name: f.location for f in rg.features}))
    return analysis


def _confirm(model: GuidelineModel, applier: Applier, candidate: Candidate) -> Finding | None:
    """Try generated patients until the engine makes both recommendations apply; None if they never can."""
    a, b = candidate.first, candidate.second
    gid = model.rg.guideline.id
    ident = witness_id(a.id, b.id)
    tried = 0
    try:
        for assignment in model.solutions(candidate.formula):
            tried += 1
            bundle = witness_bundle(ident, model.subjects, assignment, model.now)
            result = applier.apply(bundle, model.date)
            if a.id in result.applicable and b.id in result.applicable:
                return _conflict(candidate, gid, ident, bundle, model.date, result.applicable)
            if tried >= ATTEMPTS:
                break
    except BudgetExceeded:
        pass
    if tried == 0:
        return None  # no patient can make both apply: not a conflict
    return Finding("ANALYZE003", Severity.INFO,
                   f"'{a.id}' and '{b.id}' overlap in {_activities(candidate)} and the analysis expected both to "
                   f"apply to one patient, but the engine confirmed none of {tried} generated patient(s); not "
                   "reported as a conflict", gid, a.recommendation.location, [a.id, b.id])


def _activities(candidate: Candidate) -> str:
    return ", ".join(f"{x} / {y}" for x, y in candidate.activities)


def _conflict(candidate: Candidate, gid: str, ident: str, bundle: dict, date: str,
              applicable: list[str]) -> Finding:
    a, b = candidate.first, candidate.second
    if candidate.contradiction:
        code, severity = "ANALYZE001", Severity.ERROR
        message = (f"conflict: '{a.id}' and '{b.id}' both apply to one patient, one proposing what the other "
                   f"advises against ({_activities(candidate)})")
    else:
        code, severity = "ANALYZE002", Severity.INFO
        message = (f"'{a.id}' and '{b.id}' both apply to one patient and propose the same activity "
                   f"({_activities(candidate)})")
    title = f"Witness: '{a.id}' and '{b.id}' both apply (cpg analyze {code})"
    witness = Witness(ident, date, bundle, list(applicable), title,
                      scenario=scenario_line(ident, f"scenarios/{ident}.json", date, applicable, title))
    # Reported at the second recommendation's line (the later one in the pathway); both are named.
    return Finding(code, severity, message, gid, b.recommendation.location, [a.id, b.id], witness=witness)


def write_witnesses(analysis: Analysis, folder: Path) -> None:
    """Write each witness as `<folder>/<guideline>/<id>.json` and fill in its Scenario line."""
    from generator.jsonfmt import dump_json

    target = folder / analysis.guideline
    lines: list[str] = []
    for finding in analysis.findings:
        witness = finding.witness
        if witness is None:
            continue
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{witness.id}.json"
        path.write_bytes(dump_json(witness.bundle))
        witness.file = str(path)
        lines.append(f"# {finding.code} {' + '.join(finding.recommendations)}\n{witness.scenario}")
    if lines:  # copy the bundles into the guideline's scenarios/ folder and paste these lines
        (target / "scenarios.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ += ["write_witnesses"]
