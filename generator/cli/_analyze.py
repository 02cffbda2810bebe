"""`cpg analyze`: conflicts (proven on the engine), unreachable / always-on recommendations, coverage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator.cli._common import reports_errors
from generator.diagnostics import Diagnostic, GeneratorError, Severity

FAIL_ON = ("conflict", "warning", "never")


def _compile(definitions_dir: Path, wanted: str | None) -> list:
    from generator.compile import compile_definitions
    from generator.diagnostics import DiagnosticBag
    from generator.load import load_definitions

    if wanted is not None:  # a mistyped id is found before the translator starts
        bag = DiagnosticBag()
        ids = [item.guideline.id for item in load_definitions(definitions_dir, bag)]
        if bag.has_errors:
            raise GeneratorError(bag.items)
        if wanted not in ids:
            raise GeneratorError([Diagnostic("ANALYZE030", f"unknown guideline '{wanted}': no package in "
                                             f"{definitions_dir}/ defines it")], exit_code=2)
    result = compile_definitions(definitions_dir, validate=False)
    if not result.ok:
        raise GeneratorError(result.diagnostics)
    return [b for b in result.guidelines if wanted is None or b.id == wanted]


def exit_code_for(findings: list, fail_on: str) -> int:
    """1 when the findings reach the `--fail-on` level: conflict = ANALYZE001, warning = any warning or error."""
    if fail_on == "never":
        return 0
    if fail_on == "conflict":
        return 1 if any(f.code == "ANALYZE001" for f in findings) else 0
    return 1 if any(f.severity in (Severity.ERROR, Severity.WARNING) for f in findings) else 0


@click.command("analyze")
@click.argument("guideline", required=False)
@click.option("--definitions", "definitions_dir", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True, help="Folder of guideline packages.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=None,
              help="Write each witness patient Bundle to OUTPUT/<guideline>/<id>.json.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fail-on", "fail_on", type=click.Choice(FAIL_ON), default="conflict", show_default=True,
              help="Exit 1 on a conflict (default), on any warning, or never.")
@click.option("--no-coverage", is_flag=True, help="Skip the coverage of the guideline's scenarios.")
@click.option("--verbose", "-v", is_flag=True, help="Also list every overlap note (ANALYZE002) in text output.")
@reports_errors
def analyze_command(guideline: str | None, definitions_dir: Path, output_dir: Path | None, fmt: str, fail_on: str,
                    no_coverage: bool, verbose: bool) -> None:
    """Find conflicting, unreachable and always-on recommendations of GUIDELINE (default: all), each
    conflict proven by a generated patient on the CQL engine, and what the scenarios do not cover."""
    from generator.analyze import analyze_built, write_witnesses
    from generator.analyze.coverage import format_coverage
    from generator.apply import running_engine

    built = _compile(definitions_dir, guideline)
    analyses = []
    with running_engine() as engine:
        for index, item in enumerate(built, 1):
            if sys.stderr.isatty():  # progress on long work, only on a terminal
                click.echo(f"analysing {item.id} ({index}/{len(built)})", err=True)
            analyses.append(analyze_built(item, engine, with_coverage=not no_coverage))
    if output_dir is not None:
        for analysis in analyses:
            try:
                write_witnesses(analysis, output_dir)
            except OSError as exc:
                raise GeneratorError([Diagnostic("ANALYZE031", f"cannot write witnesses to {output_dir}: {exc}")],
                                     exit_code=2) from exc
    findings = [f for a in analyses for f in a.findings]
    if fmt == "json":
        document = {"guidelines": [{
            "id": a.guideline,
            "findings": [f.to_json() for f in a.findings],
            "coverage": None if a.coverage is None else {
                "scenarios": a.coverage.scenarios,
                "recommendations": {r: {"applicable": y, "notApplicable": n}
                                    for r, (y, n) in a.coverage.recommendations.items()},
                "features": {f: {"true": y, "false": n} for f, (y, n) in a.coverage.features.items()},
                "uncoveredRecommendations": a.coverage.uncovered_recommendations,
                "uncoveredFeatures": a.coverage.uncovered_features,
            },
        } for a in analyses], "summary": _counts(findings)}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for analysis in analyses:
            hidden = 0
            for finding in analysis.findings:
                if finding.code == "ANALYZE002" and not verbose:
                    hidden += 1
                    continue
                click.echo(str(finding.diagnostic))
                witness = finding.witness
                if witness is not None and finding.severity is not Severity.INFO:
                    click.echo(f"  witness: {witness.file or '(use --output DIR to write it)'}")
                    click.echo(f"  keep it as a scenario: {witness.scenario}")
            if hidden:
                click.echo(f"{analysis.guideline}: {hidden} overlap note(s) (ANALYZE002: the same activity proposed "
                           "by two recommendations for one patient, each with a witness); --verbose lists them")
            if analysis.coverage is not None:
                click.echo(format_coverage(analysis.coverage))
        counts = _counts(findings)
        click.echo(f"{counts['conflicts']} conflict(s), {counts['errors']} error(s), {counts['warnings']} warning(s), "
                   f"{counts['information']} note(s)")
    code = exit_code_for(findings, fail_on)
    if code:
        raise click.exceptions.Exit(code)


def _counts(findings: list) -> dict[str, int]:
    return {
        "conflicts": sum(f.code == "ANALYZE001" for f in findings),
        "errors": sum(f.severity is Severity.ERROR for f in findings),
        "warnings": sum(f.severity is Severity.WARNING for f in findings),
        "information": sum(f.severity is Severity.INFO for f in findings),
    }
