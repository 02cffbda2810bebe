"""`cpg validate PATH`: check computable guideline artifacts, ours or anyone's.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 unusable input (missing
path, unreadable package). `--format json` prints one FHIR OperationOutcome so other
tools can consume the result.
"""

from __future__ import annotations

import contextlib
import sys
import json
from typing import Any

import click

from generator.cli._common import reports_errors, translator_for
from generator.cql.cache import CachedTranslator
from generator.cql.pool import TranslatorPool
from generator.diagnostics import Diagnostic, Severity, summary

_ISSUE_TYPE = {
    "input.missing": "not-found",
    "input.too-large": "too-long",
    "input.package-limit": "too-long",
    "input.package-unsafe": "security",
    "input.duplicate-id": "duplicate",
    "reference.duplicate-canonical": "duplicate",
    "base.binding": "code-invalid",
    "base.code-unknown": "code-invalid",
    "base.invariant": "invariant",
    "profile.invariant": "invariant",
    "profile.cardinality": "required",
    "profile.prohibited": "structure",
    "profile.fixed": "value",
    "profile.pattern": "value",
    "profile.binding": "code-invalid",
    "structure.missing-required": "required",
}
_LAYER_TYPE = {
    "input": "invalid", "structure": "structure", "base": "structure", "profile": "business-rule",
    "reference": "not-found", "cql": "invalid", "terminology": "code-invalid", "metadata": "business-rule",
}


def issue_type(d: Diagnostic) -> str:
    from generator.validate import RULES

    if d.code.endswith(".unavailable"):
        return "not-supported"
    rule = RULES.get(d.code)
    return _ISSUE_TYPE.get(d.code) or _LAYER_TYPE.get(rule.layer if rule else "", "processing")


#: Extension (FHIR extensions pack) naming the source file of an issue.
OO_FILE = "http://hl7.org/fhir/StructureDefinition/operationoutcome-file"


def shown_file(d: Diagnostic) -> str | None:
    """`file`, or `file:line` when the line is known."""
    if d.location is None:
        return None
    return f"{d.location.file}:{d.location.line}" if d.location.line else d.location.file


def operation_outcome(diags: list[Diagnostic]) -> dict[str, Any]:
    """All findings as one R4 OperationOutcome (issue.diagnostics carries the rule id, the
    operationoutcome-file extension the file, issue.expression the FHIRPath)."""
    issues: list[dict[str, Any]] = []
    for d in diags:
        where = d.resource or shown_file(d)
        issue: dict[str, Any] = {
            "severity": d.severity.value,
            "code": issue_type(d),
            "details": {"text": f"{where}: {d.message}" if where else d.message},
            "diagnostics": d.code,
        }
        if d.location is not None:
            issue = {"extension": [{"url": OO_FILE, "valueString": shown_file(d)}], **issue}
        if d.path:
            issue["expression"] = [d.path]
        issues.append(issue)
    if not issues:
        issues.append({"severity": "information", "code": "informational", "details": {"text": "no issues found"}})
    return {"resourceType": "OperationOutcome", "issue": issues}


def table(diags: list[Diagnostic]) -> str:
    rows = [("SEVERITY", "RULE", "FILE", "RESOURCE", "FHIRPATH", "MESSAGE")]
    for d in diags:
        rows.append((d.severity.value, d.code, shown_file(d) or "-", d.resource or "-", d.path or "-", d.message))
    widths = [min(max(len(r[i]) for r in rows), 60) for i in range(5)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5] for r in rows]
    return "\n".join(lines)


def _order(d: Diagnostic) -> tuple[int, str, str, str]:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}[d.severity]
    return rank, d.location.file if d.location else "", d.resource or "", d.path or ""


@click.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table for people, json for one FHIR OperationOutcome")
@click.option("--no-cql", is_flag=True, help="Skip the CQL layer (no translator process).")
@click.option("--closed", is_flag=True,
              help="Canonicals outside the validated set (and its cached package dependencies) are errors, not warnings.")
@click.option("--rules", "list_rules", is_flag=True, help="List every rule id with its description and exit.")
@click.option("--no-cache", is_flag=True, help="Translate every library again instead of reusing cached translations.")
@reports_errors
def validate_command(path: str | None, fmt: str, no_cql: bool, closed: bool, list_rules: bool, no_cache: bool) -> None:
    """Validate FHIR CPG artifacts in PATH (folder, JSON file, Bundle, or NPM package .tgz)."""
    ctx = click.get_current_context()
    if list_rules:
        from generator.validate import RULES

        for rule in RULES.values():
            click.echo(f"{rule.id:32} {rule.severity.value:12} {rule.description}")
        return
    if path is None:
        raise click.UsageError("PATH is required (or use --rules)")
    with contextlib.ExitStack() as stack:
        # The translation cache first: a library translated before (by a build, or an earlier
        # validation) is not translated again; else Node starts now, while the other layers run.
        translator = None if no_cql else stack.enter_context(translator_for(no_cache, jobs=1))
        # On a terminal, findings are printed as each layer produces them; elsewhere one sorted table.
        stream = fmt == "table" and sys.stdout.isatty()
        diags, count = _validate(path, translator, cql=not no_cql, closed=closed,
                                 on_findings=_print_findings if stream else None)
    if fmt == "json":
        click.echo(json.dumps(operation_outcome(diags), indent=2))
    else:
        if diags and not stream:
            click.echo(table(diags))
        click.echo(summary(diags) + f" ({count} resources)")
    from generator.validate import UNUSABLE

    if any(d.code in UNUSABLE for d in diags):
        ctx.exit(2)
    ctx.exit(1 if any(d.severity is Severity.ERROR for d in diags) else 0)


def _progress(done: int, total: int) -> None:
    """`cql done/total` on a terminal's stderr line (nothing when stderr is not a terminal)."""
    click.echo(f"\rcql {done}/{total}" + ("\n" if done == total else ""), err=True, nl=False)


def _print_findings(found: list[Diagnostic]) -> None:
    for d in sorted(found, key=_order):
        color = {Severity.ERROR: "red", Severity.WARNING: "yellow"}.get(d.severity)
        where = " ".join(x for x in (shown_file(d), d.resource and d.resource + (f" @ {d.path}" if d.path else "")) if x)
        click.secho(f"{d.severity.value}[{d.code}] {where}: {d.message}" if where else f"{d.severity.value}[{d.code}] {d.message}",
                    fg=color)


def _validate(path: str, translator: CachedTranslator | TranslatorPool | None, *, cql: bool, closed: bool = False,
              on_findings: Any = None) -> tuple[list[Diagnostic], int]:
    from pathlib import Path

    from generator.validate import ValidationOptions, load_artifacts, validate
    from generator.validate._dependencies import declared_dependencies

    artifacts, load_diags = load_artifacts(path)
    root = Path(path)
    options = ValidationOptions(
        cql=cql, translator=translator, closed=closed, dependencies=declared_dependencies(root),
        source_root=root if root.is_dir() else None,  # .cql files are looked up only in a validated folder
        progress=_progress if sys.stderr.isatty() else None, on_findings=on_findings,
    )
    if on_findings is not None and load_diags:
        on_findings(load_diags)
    diags = load_diags + (validate(artifacts, options) if artifacts else [])
    diags.sort(key=_order)
    return diags, len(artifacts)
