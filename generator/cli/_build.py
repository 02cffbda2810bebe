"""`cpg build`: compile definitions/ into output/ (or check that output/ is current)."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli._common import print_diagnostics, reports_errors
from generator.cql.translator import EarlyTranslator
from generator.diagnostics import Diagnostic, DiagnosticBag, GeneratorError, summary


@click.command()
@click.option("--definitions", "definitions_dir", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True, help="Folder of guideline packages.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Where built artifacts go.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if output/ differs from what the definitions produce.")
@click.option("--no-validate", is_flag=True, help="Skip the CHECK phase (the validator).")
@reports_errors
def build(definitions_dir: Path, output_dir: Path, check: bool, no_validate: bool) -> None:
    """Compile every guideline under DEFINITIONS into OUTPUT/<guideline-id>/."""
    with EarlyTranslator() as translator:  # Node starts now, while the pipeline's modules import
        _build(definitions_dir, output_dir, check, not no_validate, translator)


def _build(definitions_dir: Path, output_dir: Path, check: bool, validate: bool, translator: EarlyTranslator) -> None:
    from generator.analyze.analysis import build_warnings
    from generator.compile import compile_each
    from generator.write import StagedOutput, stale_files

    bag = DiagnosticBag()
    stale: dict[str, list[str]] = {}
    with StagedOutput(output_dir) as staged:
        # Each guideline is written (or compared) as soon as it is checked, then let go.
        for built in compile_each(definitions_dir, bag, translator=translator, validate=validate):
            bag.extend(build_warnings(built.resolved))  # `cpg analyze`'s engine-free part: unreachable recommendations
            if check:
                stale[built.id] = stale_files(built, output_dir)
            else:
                staged.add(built)
        if bag.has_errors:
            raise GeneratorError(bag.items)  # leaving the block discards what was staged
        print_diagnostics(bag.items, show_summary=False)
        if check:
            _report_stale(stale, output_dir, bag.items)
            return
        for folder in staged.commit():
            click.echo(f"wrote {folder}")
    click.echo(summary(bag.items))


def _report_stale(stale: dict[str, list[str]], output_dir: Path, diagnostics: list[Diagnostic]) -> None:
    if any(stale.values()):
        for gid, paths in stale.items():
            for path in paths:
                click.echo(f"stale: {output_dir / gid / path}", err=True)
        click.echo("output/ is not current: run `cpg build`", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"output is current ({len(stale)} guideline(s); {summary(diagnostics)})")
