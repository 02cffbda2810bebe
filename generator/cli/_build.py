"""`cpg build`: compile definitions/ into output/ (or check that output/ is current)."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli._common import main, print_diagnostics, reports_errors
from generator.compile import compile_definitions
from generator.diagnostics import GeneratorError, summary
from generator.write import stale_files, write_output


@main.command()
@click.option("--definitions", "definitions_dir", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True, help="Folder of guideline packages.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Where built artifacts go.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if output/ differs from what the definitions produce.")
@click.option("--no-validate", is_flag=True, help="Skip the CHECK phase (the validator).")
@reports_errors
def build(definitions_dir: Path, output_dir: Path, check: bool, no_validate: bool) -> None:
    """Compile every guideline under DEFINITIONS into OUTPUT/<guideline-id>/."""
    result = compile_definitions(definitions_dir, validate=not no_validate)
    if not result.ok:
        raise GeneratorError(result.diagnostics)
    print_diagnostics(result.diagnostics, show_summary=False)
    if check:
        stale = {g.id: stale_files(g, output_dir) for g in result.guidelines}
        if any(stale.values()):
            for gid, paths in stale.items():
                for path in paths:
                    click.echo(f"stale: {output_dir / gid / path}", err=True)
            click.echo("output/ is not current: run `cpg build`", err=True)
            raise click.exceptions.Exit(1)
        click.echo(f"output is current ({len(result.guidelines)} guideline(s); {summary(result.diagnostics)})")
        return
    for folder in write_output(result.guidelines, output_dir):
        click.echo(f"wrote {folder}")
    click.echo(summary(result.diagnostics))
