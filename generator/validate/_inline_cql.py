"""Inline `text/cql-expression` expressions of PlanDefinition actions compile (part of layer 6, CQL).

Each PlanDefinition's inline expressions are compiled as defines of one generated library that
uses FHIR 4.0.1 and includes the PlanDefinition's own library (under its name, so expressions
may refer to it as `"Name"."Define"`) and FHIRHelpers. Syntax errors are errors; other translator
errors are reported as warnings, since engines differ in what an inline expression may refer to
without qualification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.cql.declarations import LIBRARY, include_closure
from generator.diagnostics import Diagnostic, Severity
from generator.validate._model import items, ref_of, walk_actions
from generator.validate._rules import diag

CQL_EXPRESSION = "text/cql-expression"
WRAPPER = "CpgInlineExpressions"


@dataclass(frozen=True)
class Inline:
    path: str  # FHIRPath of Expression.expression
    text: str


def inline_expressions(pd: dict[str, Any]) -> list[Inline]:
    found: list[Inline] = []
    for fp, action in walk_actions(pd):
        for kind in ("condition", "dynamicValue"):
            for i, item in enumerate(items(action.get(kind))):
                expr = item.get("expression") if isinstance(item, dict) else None
                if isinstance(expr, dict) and expr.get("language") == CQL_EXPRESSION \
                        and isinstance(expr.get("expression"), str):
                    found.append(Inline(f"{fp}.{kind}[{i}].expression.expression", expr["expression"]))
    return found


def wrapper_library(expressions: list[Inline], primary: str | None, primary_text: str | None) -> tuple[str, list[int]]:
    """The generated library text and the first line of each expression's define."""
    lines = [f"library {WRAPPER} version '0.0.0'", "using FHIR version '4.0.1'",
             "include FHIRHelpers version '4.0.1' called FHIRHelpers"]
    if primary and primary_text:
        match = LIBRARY.search(primary_text)
        version = f" version '{match.group(2)}'" if match and match.group(2) else ""
        lines.append(f'include "{primary}"{version} called "{primary}"')
    lines.append("context Patient")
    starts = []
    for index, inline in enumerate(expressions):
        lines.append(f'define "Inline {index + 1}":')
        starts.append(len(lines) + 1)
        lines.extend("  " + line for line in inline.text.splitlines() or [""])
    return "\n".join(lines) + "\n", starts


def check_plan(pd: dict[str, Any], primary: str | None, sources: Mapping[str, str], translator: Any) -> list[Diagnostic]:
    """Compile the inline expressions of one PlanDefinition (none: nothing to do)."""
    expressions = inline_expressions(pd)
    if not expressions:
        return []
    text, starts = wrapper_library(expressions, primary, sources.get(primary or ""))
    libraries = {**sources, WRAPPER: text}
    translation = translator.translate(include_closure(WRAPPER, libraries), targets=[WRAPPER])[WRAPPER]
    diags: list[Diagnostic] = []
    for message in translation.messages:
        if message.severity != "error" or message.library not in (None, WRAPPER):
            continue
        line = message.line or 0
        index = max((i for i, start in enumerate(starts) if start <= line), default=0)
        severity = Severity.ERROR if message.type == "syntax" else Severity.WARNING
        rule = "cql.compile-error" if severity is Severity.ERROR else "cql.compile-warning"
        diags.append(diag(rule, f"inline CQL expression does not compile: {message.message}", resource=ref_of(pd),
                          path=expressions[index].path, severity=severity))
    return diags
