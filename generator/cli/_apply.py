"""`cpg apply` (CPG $apply of a built guideline to one patient) and `cpg test` (its scenarios).

Both start one CQL engine process, load the guideline's libraries once, then evaluate patients.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from generator.apply import Applier, ApplyError, Artifacts, Engine, EngineError, load_artifacts, read_patient_bundle
from generator.apply._scenarios import ScenarioOutcome, format_table, run_scenarios
from generator.cli._common import reports_errors
from generator.diagnostics import DiagnosticBag, GeneratorError
from generator.jsonfmt import dump_json_text
from generator.load import LoadedGuideline, load_definitions


def _date(value: str | None) -> str:
    if value is None:
        return dt.date.today().isoformat()  # the CLI's default only; library calls always take a date
    try:
        dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ApplyError("APPLY026", f"--date {value!r} is not a date (YYYY-MM-DD)") from exc
    return value


def _start_engine() -> Engine:
    engine = Engine()
    try:
        engine.start()
    except EngineError as exc:
        raise ApplyError("APPLY042", str(exc).splitlines()[0], exit_code=1) from exc
    return engine


@click.command("apply")
@click.argument("guideline")
@click.option("--patient", "patient_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Patient data: a FHIR Bundle (JSON) holding one Patient and their records.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Evaluation date (CQL Now() is the end of that day, UTC). Default: today.")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the result Bundle here instead of stdout.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Where built guidelines live (for GUIDELINE given as an id).")
@reports_errors
def apply_command(guideline: str, patient_path: Path, date: str | None, out_path: Path | None, output_dir: Path) -> None:
    """Apply GUIDELINE's pathway to one patient and print the resulting Bundle (CPG $apply).

    GUIDELINE is a guideline id built under OUTPUT, or a path to a built folder, a Bundle or a
    package .tgz.
    """
    when = _date(date)
    artifacts = load_artifacts(guideline, output_dir)
    bundle = read_patient_bundle(patient_path)
    engine = _start_engine()
    try:
        result = Applier(artifacts, engine).apply(bundle, when)
    finally:
        engine.close()
    text = dump_json_text(result.bundle)
    summary = f"{len(result.applicable)} applicable recommendation(s)" + (
        ": " + ", ".join(result.applicable) if result.applicable else "")
    if out_path is None:
        click.echo(text, nl=False)
        click.echo(summary, err=True)
    else:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out_path} ({summary})")


def _loaded(definitions_dir: Path, wanted: str | None) -> list[LoadedGuideline]:
    bag = DiagnosticBag()
    loaded = load_definitions(definitions_dir, bag)
    if bag.has_errors:
        raise GeneratorError(bag.items)
    if wanted is not None:
        loaded = [item for item in loaded if item.guideline.id == wanted]
        if not loaded:
            raise ApplyError("TEST001", f"unknown guideline '{wanted}': no package in {definitions_dir}/ defines it")
    return loaded


def _fresh_artifacts(definitions_dir: Path) -> dict[str, Artifacts]:
    """Compile the definitions in memory (no output/ needed)."""
    from generator.compile import compile_definitions

    result = compile_definitions(definitions_dir, validate=False)
    if not result.ok:
        raise GeneratorError(result.diagnostics)
    return {g.id: Artifacts.from_resources(g.resources, source=f"<build of {g.id}>") for g in result.guidelines}


@click.command("test")
@click.argument("guideline", required=False)
@click.option("--definitions", "definitions_dir", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True, help="Folder of guideline packages (the scenarios come from here).")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Where built guidelines live.")
@click.option("--fresh", is_flag=True, help="Compile the definitions in memory instead of using OUTPUT.")
@click.option("--coverage", is_flag=True,
              help="Also report which recommendations and features the scenarios leave uncovered.")
@reports_errors
def test_command(guideline: str | None, definitions_dir: Path, output_dir: Path, fresh: bool, coverage: bool) -> None:
    """Run the scenarios of GUIDELINE (default: every guideline) through $apply; exit 1 on any failure."""
    loaded = [item for item in _loaded(definitions_dir, guideline) if item.guideline.scenarios]
    if not loaded:
        raise ApplyError("TEST002", f"no scenarios to run in {definitions_dir}/"
                         + (f" for '{guideline}'" if guideline else ""), exit_code=1)
    fresh_artifacts = _fresh_artifacts(definitions_dir) if fresh else {}
    outcomes: list[ScenarioOutcome] = []
    coverage_reports: list[str] = []
    engine = _start_engine()
    try:
        for item in loaded:
            gid = item.guideline.id
            if fresh:
                artifacts = fresh_artifacts[gid]
            elif (output_dir / gid).is_dir():
                artifacts = load_artifacts(output_dir / gid, output_dir)
            else:
                raise ApplyError("TEST003", f"guideline '{gid}' is not built in {output_dir}/ (run `cpg build` "
                                 "or use --fresh)")
            applier = Applier(artifacts, engine)
            outcomes.extend(run_scenarios(gid, item.guideline.scenarios, item.package_dir, applier))
            if coverage:
                coverage_reports.append(_coverage_report(item, artifacts, engine))
    finally:
        engine.close()
    click.echo(format_table(outcomes))
    for report in coverage_reports:
        click.echo(report)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise click.exceptions.Exit(1)


def _coverage_report(item: LoadedGuideline, artifacts: Artifacts, engine: Engine) -> str:
    """`cpg test --coverage`: what the scenarios leave uncovered (see generator.analyze.coverage)."""
    from generator.analyze.coverage import coverage_of_resolved, format_coverage
    from generator.resolve import resolve

    bag = DiagnosticBag()
    resolved = resolve(item, bag)
    if bag.has_errors:
        raise GeneratorError(bag.items)
    return format_coverage(coverage_of_resolved(resolved, artifacts, engine))
