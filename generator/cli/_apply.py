"""`cpg apply` (CPG $apply of a built guideline to one patient) and `cpg test` (its scenarios).

Both start one CQL engine process, load the guideline's libraries once, then evaluate patients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import click

from generator.apply import Applier, ApplyError, Artifacts, Engine, load_artifacts, read_patient_bundle, running_engine
from generator.apply._scenarios import ScenarioOutcome, format_explanations, format_failures, format_table, run_scenarios
from generator.apply.explain import format_explanation
from generator.cli._common import ProgressLine, print_diagnostics, reports_errors
from generator.diagnostics import Diagnostic, DiagnosticBag, GeneratorError
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


@click.command("apply")
@click.argument("guideline")
@click.option("--patient", "patient_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Patient data: a FHIR Bundle (JSON) holding one Patient and their records.")
@click.option("--patients", "patients_path", type=click.Path(path_type=Path),
              help="Many patients: a folder of Bundle files or an .ndjson file (one Bundle per line), streamed.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Evaluation date (CQL Now() is the end of that day, UTC). Default: today.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Write the result Bundle here instead of stdout; with --patients a folder or an .ndjson file.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Where built guidelines live (for GUIDELINE given as an id).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Engine processes for --patients (default: one per core, at most 4).")
@click.option("--explain", is_flag=True,
              help="Also print every feature's value and why each recommendation did or did not apply "
                   "(to stderr when the Bundle goes to stdout; with --patient only).")
@reports_errors
def apply_command(guideline: str, patient_path: Path | None, patients_path: Path | None, date: str | None,
                  out_path: Path | None, output_dir: Path, jobs: int | None, explain: bool) -> None:
    """Apply GUIDELINE's pathway to one patient (--patient) or many (--patients) (CPG $apply).

    GUIDELINE is a guideline id built under OUTPUT, or a path to a built folder, a Bundle or a
    package .tgz.
    """
    if (patient_path is None) == (patients_path is None):
        raise click.UsageError("give exactly one of --patient FILE and --patients DIR|FILE.ndjson")
    if explain and patients_path is not None:
        raise click.UsageError("--explain explains one patient: use it with --patient")
    when = _date(date)
    artifacts = load_artifacts(guideline, output_dir)
    if patients_path is not None:
        _apply_batch(artifacts, patients_path, when, out_path, jobs)
        return
    assert patient_path is not None
    findings: list[Diagnostic] = []  # patient records not used, each named (APPLY051-053)
    bundle = read_patient_bundle(patient_path, findings)
    print_diagnostics(findings, show_summary=False)
    with running_engine() as engine:
        result = Applier(artifacts, engine).apply(bundle, when)
    for problem in result.data_problems:  # a value the logic could not use, named (never a patient failure)
        click.echo(f"warning[{problem.split(' ', 1)[0]}] {problem.split(' ', 1)[-1]}", err=True)
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
    if explain and result.explanation is not None:
        click.echo(format_explanation(result.explanation), err=out_path is None)


def _apply_batch(artifacts: Artifacts, source: Path, when: str, out_path: Path | None, jobs: int | None) -> None:
    """Stream patients through `BatchApplier`; results to a folder, an NDJSON file or stdout (NDJSON)."""
    from generator.apply.batch import BatchApplier, default_jobs, read_patients
    from generator.jsonfmt import dump_compact

    if not source.exists():
        raise ApplyError("APPLY071", f"--patients {source} does not exist", exit_code=2)
    to_folder = out_path is not None and out_path.suffix != ".ndjson"
    if out_path is not None:
        (out_path if to_folder else out_path.parent).mkdir(parents=True, exist_ok=True)
    progress = ProgressLine("applied")
    done = failed = 0
    with contextlib.ExitStack() as stack:
        lines = stack.enter_context(out_path.open("wb")) if out_path is not None and not to_folder else None
        batch = stack.enter_context(BatchApplier(artifacts, jobs=jobs or default_jobs()))
        for outcome in batch.run(read_patients(source), when):
            for warning in outcome.warnings:  # records of this patient not used, each named (APPLY051-053)
                click.echo(f"warning: patient {outcome.label}: {warning}", err=True)
            for problem in outcome.result.data_problems if outcome.result is not None else []:  # DATA001
                click.echo(f"warning: patient {outcome.label}: {problem}", err=True)
            if outcome.result is None:
                failed += 1
                click.echo(f"error: patient {outcome.label}: {outcome.error}", err=True)
            elif to_folder:
                assert out_path is not None
                (out_path / f"{_safe_name(outcome.label)}.json").write_text(dump_json_text(outcome.result.bundle),
                                                                          encoding="utf-8")
            elif lines is not None:
                lines.write(dump_compact(outcome.result.bundle) + b"\n")
            else:
                click.echo(dump_compact(outcome.result.bundle).decode("utf-8"))
            done += 1
            progress.update(done, failed)
    progress.finish()
    click.echo(f"{done} patient(s): {done - failed} applied, {failed} failed"
               + (f"; results in {out_path}" if out_path is not None else ""), err=out_path is None)
    if failed:
        raise click.exceptions.Exit(1)


def _safe_name(label: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)


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
@click.option("--explain", is_flag=True,
              help="For every scenario, print each feature's value and why each recommendation did or did not apply.")
@click.option("--coverage", is_flag=True,
              help="Also report which recommendations and features the scenarios leave uncovered.")
@reports_errors
def test_command(guideline: str | None, definitions_dir: Path, output_dir: Path, fresh: bool, explain: bool,
                 coverage: bool) -> None:
    """Run the scenarios of GUIDELINE (default: every guideline) through $apply; exit 1 on any failure."""
    loaded = [item for item in _loaded(definitions_dir, guideline) if item.guideline.scenarios]
    if not loaded:
        raise ApplyError("TEST002", f"no scenarios to run in {definitions_dir}/"
                         + (f" for '{guideline}'" if guideline else ""), exit_code=1)
    fresh_artifacts = _fresh_artifacts(definitions_dir) if fresh else {}
    outcomes: list[ScenarioOutcome] = []
    coverage_reports: list[str] = []
    with running_engine() as engine:
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
    click.echo(format_table(outcomes))
    for outcome in outcomes:  # record values the logic could not use, per scenario (DATA001)
        for problem in outcome.data_problems:
            click.echo(f"warning[{problem.split(' ', 1)[0]}] {outcome.guideline}/{outcome.scenario.id}: "
                       f"{problem.split(' ', 1)[-1]}")
    failures = format_failures(outcomes)
    if failures:
        click.echo("\n" + failures)
    if explain:
        click.echo("\n" + format_explanations(outcomes))
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
