"""The static part of `cpg analyze`: conflicts (candidates), unreachable and always-on recommendations.

Pure Python over the resolved model: applicability becomes formulas over data-shape leaves
(`formula`, `shapes`); the search answers "can one patient make these hold?". Conflicts found here
are only *candidates*: `analyze_built` (generator/analyze/__init__.py) proves each on the real
engine with a generated witness patient, and only confirmed ones are reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.analyze.findings import Finding
from generator.analyze.formula import And, Const, Formula, FormulaBuilder, Not, Search, conjuncts, describe
from generator.analyze.shapes import Choice, Subject, build_subjects, register_expansion, term_codes
from generator.apply import execution_datetime
from generator.diagnostics import Severity
from generator.model.activities import Communication
from generator.model.recommendation import Direction
from generator.resolve import ResolvedGuideline, ResolvedRecommendation
from generator.compose import ExpansionError
from generator.synth.valueset import expansion_of

__all__ = ["Candidate", "GuidelineModel", "analyse_statically", "build_warnings", "candidates", "evaluation_moment"]


def evaluation_moment(date: str) -> dt.datetime:
    """The engine's Now() for an evaluation date (end of that day, UTC), as a datetime."""
    return dt.datetime.fromisoformat(execution_datetime(date).replace("Z", "+00:00"))


@dataclass
class Candidate:
    """Two recommendations whose activities overlap; `contradiction` when one advises against the other."""

    first: ResolvedRecommendation
    second: ResolvedRecommendation
    activities: list[tuple[str, str]]  # (first activity id, second activity id)
    contradiction: bool
    formula: Formula


@dataclass
class GuidelineModel:
    """A guideline's applicability as formulas, its subjects and a search over them."""

    rg: ResolvedGuideline
    date: str
    now: dt.datetime
    formulas: dict[str, Formula]
    subjects: dict[tuple[Any, ...], Subject]
    search: Search
    reachable: dict[str, bool | None] = field(default_factory=dict)

    @classmethod
    def of(cls, rg: ResolvedGuideline, *, budget: int = 200_000) -> "GuidelineModel":
        date = rg.guideline.date
        now = evaluation_moment(date)
        for vs in rg.value_sets:  # rule-based value sets: their members are the published expansion
            try:
                expansion = expansion_of(rg, vs) if vs.rules else None
            except ExpansionError:  # reported by the rules (TERM004); here the set just stays not analysable
                expansion = None
            if expansion is not None:
                register_expansion(vs, expansion.contains)
        builder = FormulaBuilder(list(rg.features))
        formulas = {rr.id: builder.build(rr.recommendation.applicability) for rr in rg.recommendations}
        subjects = build_subjects(builder.leaves, now)
        return cls(rg, date, now, formulas, subjects, Search(subjects, budget))

    def solutions(self, formula: Formula) -> Iterator[dict[tuple[Any, ...], Choice]]:
        return self.search.solutions(formula)


def _codes(activity: Any) -> frozenset[tuple[str, str]]:
    code = getattr(activity, "code", None)
    if code is None:
        return frozenset()
    return frozenset((c.system, c.code) for c in term_codes(code))


def _against(rr: ResolvedRecommendation, activity: Any) -> bool:
    return bool(activity.do_not_perform) or rr.recommendation.direction is Direction.AGAINST


def candidates(model: GuidelineModel) -> list[Candidate]:
    """Pairs of recommendations with overlapping activities (same kind, shared codes).

    Communications are left out: their codes say what kind of message it is, not what is done.
    Two recommendations that both advise against the same thing agree; they are not reported.
    """
    recs = model.rg.recommendations
    found: list[Candidate] = []
    for i, first in enumerate(recs):
        for second in recs[i + 1:]:
            pairs: list[tuple[str, str]] = []
            contradiction = False
            overlap = False
            for a in first.activities:
                for b in second.activities:
                    if isinstance(a.activity, Communication) or type(a.activity) is not type(b.activity):
                        continue
                    if not _codes(a.activity) & _codes(b.activity):
                        continue
                    against_a, against_b = _against(first, a.activity), _against(second, b.activity)
                    if against_a and against_b:
                        continue
                    pairs.append((a.id, b.id))
                    contradiction = contradiction or against_a != against_b
                    overlap = True
            if overlap:
                formula = And((model.formulas[first.id], model.formulas[second.id]))
                found.append(Candidate(first, second, pairs, contradiction, formula))
    return found


def _core(model: GuidelineModel, parts: list[Formula]) -> list[Formula]:
    """A minimal set of conjuncts that still cannot hold together (deletion-based)."""
    core = list(parts)
    for part in list(parts):
        trial = [p for p in core if p is not part]
        if trial and model.search.satisfiable(And(tuple(trial))) is False:
            core = trial
    return core


def analyse_statically(model: GuidelineModel) -> list[Finding]:
    """Unreachable, always-on and not-analysable recommendations (no engine needed)."""
    findings: list[Finding] = []
    gid = model.rg.guideline.id
    for rr in model.rg.recommendations:
        formula = model.formulas[rr.id]
        sat = model.search.satisfiable(formula)
        model.reachable[rr.id] = sat
        location = rr.recommendation.location
        if sat is False:
            core = _core(model, conjuncts(formula))
            names = [describe(p) for p in core]
            findings.append(Finding(
                "ANALYZE010", Severity.WARNING,
                f"recommendation '{rr.id}' can never apply: no patient satisfies {' and '.join(names)} together",
                gid, location, [rr.id], names))
        elif sat is None:
            reasons = model.search.undecidable(formula) or ["the search budget ran out"]
            findings.append(Finding(
                "ANALYZE012", Severity.INFO,
                f"recommendation '{rr.id}' is not analysable: " + "; ".join(reasons), gid, location, [rr.id]))
    for rr in model.rg.recommendations:
        if model.reachable.get(rr.id) is not True:
            continue
        formula = model.formulas[rr.id]
        location = rr.recommendation.location
        if isinstance(formula, Const) or model.search.satisfiable(Not(formula)) is False:
            findings.append(Finding(
                "ANALYZE011", Severity.INFO,
                f"recommendation '{rr.id}' applies to every patient (its applicability cannot be false)",
                gid, location, [rr.id], [describe(p) for p in conjuncts(formula)]))
            continue
        others = [o for o in model.rg.recommendations if o is not rr and model.reachable.get(o.id) is not False]
        if any(model.reachable.get(o.id) is None for o in others):
            continue  # an unanalysable recommendation is part of the entry condition: no claim
        if others and all(model.search.satisfiable(And((model.formulas[o.id], Not(formula)))) is False
                          for o in others):
            findings.append(Finding(
                "ANALYZE011", Severity.INFO,
                f"recommendation '{rr.id}' applies to every patient any recommendation of the guideline applies to "
                f"(the pathway's entry condition implies {describe(formula)})",
                gid, location, [rr.id], [describe(p) for p in conjuncts(formula)]))
    return findings


def build_warnings(rg: ResolvedGuideline) -> list[Any]:
    """The fast, engine-free part `cpg build` runs: unreachable recommendations, as warnings.

    Measured at ~0.07 s for the VCF guideline and ~0.2 s for 50 synthetic guidelines (benchmarks/RESULTS.md);
    conflicts need the engine and stay in `cpg analyze`.
    """
    findings = analyse_statically(GuidelineModel.of(rg))
    return [f.diagnostic for f in findings if f.code == "ANALYZE010"]
