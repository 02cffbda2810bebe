"""EXPLAIN: why each recommendation did or did not apply to a patient, read off the published ELM.

Why from the ELM and not the author model: `cpg apply` runs on what was published, so the
explanation must come from the same logic the engine ran. A recommendation's applicability
define is a tree of And / Or / Not over references to feature defines; the features are every
Boolean define that tree reaches. Given the engine's values, the *deciding* features are the
ones that fixed the outcome: for a false `and`, its false parts; for a true `or`, its true
parts; otherwise all parts (a `not` passes through).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.apply._engine import PatientValues

__all__ = ["Explainer", "Explanation", "RecommendationWhy", "format_explanation", "rationale_text"]

_BOOLEAN = "{urn:hl7-org:elm-types:r1}Boolean"


@dataclass(frozen=True)
class _Rule:
    """One recommendation's applicability: (library, define) and the define's ELM body."""

    rec_id: str
    title: str
    library: str
    define: str
    body: Mapping[str, Any] | None


@dataclass
class RecommendationWhy:
    rec_id: str
    title: str
    applies: bool
    value: Any  # the applicability define's value (True / False / None)
    deciding: list[tuple[str, Any]] = field(default_factory=list)  # (feature, value)

    def because(self) -> str:
        if not self.deciding:
            return "no feature decides it (the applicability is not built from features)"
        return ", ".join(f"{name} = {_show(value)}" for name, value in self.deciding)


@dataclass
class Explanation:
    """One patient: every feature's value, and per recommendation why it did or did not apply."""

    patient_id: str
    features: list[tuple[str, Any]]
    recommendations: list[RecommendationWhy]

    def of(self, rec_id: str) -> RecommendationWhy | None:
        return next((r for r in self.recommendations if r.rec_id == rec_id), None)


def _show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "null" if value is None else str(value)


class Explainer:
    """Built once per guideline from its ELM; explains any number of patients."""

    def __init__(self, elm_libraries: Sequence[Mapping[str, Any]],
                 rules: Sequence[tuple[str, str, str, str]]) -> None:
        """`rules`: (recommendation id, title, library, applicability define) in pathway order."""
        self._statements: dict[tuple[str, str], Mapping[str, Any]] = {}
        order: list[tuple[str, str]] = []
        for elm in elm_libraries:
            name = str(elm["library"]["identifier"]["id"])
            for statement in (elm["library"].get("statements") or {}).get("def", []) or []:
                key = (name, str(statement.get("name")))
                self._statements[key] = statement
                order.append(key)
        self.rules = [_Rule(rid, title, lib, define, (self._statements.get((lib, define)) or {}).get("expression"))
                      for rid, title, lib, define in rules]
        self._by_rec = {r.rec_id: r for r in self.rules}
        applicability = {(r.library, r.define) for r in self.rules}
        reached: set[tuple[str, str]] = set()
        for rule in self.rules:
            self._reach(rule.library, rule.body, reached)
        #: Boolean defines the recommendations depend on, in library order (the "features").
        self.features = [key for key in order if key in reached and key not in applicability
                         and self._statements[key].get("resultTypeName") == _BOOLEAN]

    def _reach(self, library: str, node: Any, seen: set[tuple[str, str]]) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == "ExpressionRef" and not node.get("libraryName"):
                key = (library, str(node.get("name")))
                if key not in seen and key in self._statements:
                    seen.add(key)
                    self._reach(library, self._statements[key].get("expression"), seen)
            for value in node.values():
                if isinstance(value, (Mapping, list)):
                    self._reach(library, value, seen)
        elif isinstance(node, list):
            for item in node:
                self._reach(library, item, seen)

    def expressions(self) -> dict[str, list[str]]:
        """The feature defines to evaluate besides the plan's own (library -> defines)."""
        out: dict[str, list[str]] = {}
        for library, define in self.features:
            out.setdefault(library, []).append(define)
        return out

    def explain(self, values: PatientValues, patient_id: str, applicable: Sequence[str]) -> Explanation:
        features = [(define, values.get(library, define)) for library, define in self.features]
        whys = [self._why(rule, values, rule.rec_id in applicable) for rule in self.rules]
        return Explanation(patient_id, features, whys)

    def why(self, values: PatientValues, rec_id: str) -> RecommendationWhy | None:
        """One recommendation's deciding features (as if it applies: used for the proposal's reason)."""
        rule = self._by_rec.get(rec_id)
        return None if rule is None else self._why(rule, values, True)

    def _why(self, rule: _Rule, values: PatientValues, applies: bool) -> RecommendationWhy:
        deciding: list[tuple[str, Any]] = []
        if rule.body is not None:
            self._deciding(rule.library, rule.body, values, deciding)
        return RecommendationWhy(rule.rec_id, rule.title, applies, values.get(rule.library, rule.define),
                                 list(dict.fromkeys(deciding)))

    def _value(self, library: str, node: Mapping[str, Any], values: PatientValues) -> Any:
        kind = node.get("type")
        if kind == "ExpressionRef" and not node.get("libraryName"):
            return values.get(library, str(node.get("name")))
        if kind == "Literal" and node.get("valueType") == _BOOLEAN:
            return str(node.get("value")).lower() == "true"
        if kind == "Not":
            inner = self._value(library, node["operand"], values)
            return None if inner is None else not inner
        if kind in ("And", "Or"):
            parts = [self._value(library, op, values) for op in node.get("operand", [])]
            decisive, other = (False, True) if kind == "And" else (True, False)
            if decisive in parts:
                return decisive
            return None if None in parts else other
        return None  # not a boolean combination of features

    def _deciding(self, library: str, node: Mapping[str, Any], values: PatientValues,
                  out: list[tuple[str, Any]]) -> None:
        kind = node.get("type")
        if kind == "ExpressionRef" and not node.get("libraryName"):
            out.append((str(node.get("name")), values.get(library, str(node.get("name")))))
        elif kind == "Not":
            self._deciding(library, node["operand"], values, out)
        elif kind in ("And", "Or"):
            operands = node.get("operand", [])
            outcome = self._value(library, node, values)
            decisive = False if kind == "And" else True
            chosen = [op for op in operands if self._value(library, op, values) is decisive] if outcome is decisive else []
            if outcome is None:
                chosen = [op for op in operands if self._value(library, op, values) is not (not decisive)]
            for op in chosen or operands:
                self._deciding(library, op, values, out)


def rationale_text(why: RecommendationWhy) -> str:
    """The reason a proposed request carries (cpg-rationale, markdown)."""
    return f"Proposed because '{why.title}' applies: {why.because()}."


def format_explanation(explanation: Explanation) -> str:
    """Plain text: the features with their values, then each recommendation and what decided it."""
    lines = [f"patient {explanation.patient_id}", "  features:"]
    width = max((len(name) for name, _ in explanation.features), default=0)
    lines += [f"    {name.ljust(width)}  {_show(value)}" for name, value in explanation.features]
    lines.append("  recommendations:")
    for why in explanation.recommendations:
        verdict = "APPLIES" if why.applies else "no     "
        lines.append(f"    {verdict}  {why.rec_id}: {why.because()}")
    return "\n".join(lines)
