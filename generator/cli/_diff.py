"""`cpg diff OLD NEW`: changes between two versions of a guideline, grouped by recommendation, with the bump."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import click

from generator.cli._common import reports_errors


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--guideline", default=None, help="Which guideline, when a git revision defines several.")
@click.option("--definitions", default="definitions", show_default=True,
              help="Definitions folder inside the repository (for git revisions).")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"), show_default=True,
              help="Where built guidelines live (for OLD/NEW given as a guideline id).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option("--no-behaviour", is_flag=True, help="Do not run the scenarios on both versions.")
@click.option("--fail-on", "fail_on", type=click.Choice(["breaking", "undeclared", "never"]), default="never",
              show_default=True, help="Exit 1 when the change needs a major bump (breaking), or a bigger bump than "
              "NEW's version number declares (undeclared).")
@reports_errors
def diff_command(old: str, new: str, guideline: str | None, definitions: str, output_dir: Path, fmt: str,
                 no_behaviour: bool, fail_on: str) -> None:
    """Compare OLD and NEW (built folders, package .tgz files, guideline ids under OUTPUT, or git
    revisions of the definitions) and propose the semantic version bump."""
    from generator.apply import running_engine
    from generator.diff import diff_versions, load_version
    from generator.diff.report import as_json, as_markdown, as_text

    from generator.diff.versions import is_built

    with contextlib.ExitStack() as stack:
        translator = None
        if not (is_built(old, output_dir) and is_built(new, output_dir)):  # one translator builds both revisions
            from generator.cql.translator import Translator, TranslatorError
            from generator.diagnostics import Diagnostic, GeneratorError

            try:
                translator = stack.enter_context(Translator())
            except TranslatorError as exc:
                raise GeneratorError([Diagnostic("DIFF007", f"cannot build a git revision: {exc}")],
                                     exit_code=2) from exc
        before, after = (load_version(side, guideline=guideline, definitions=definitions, output_dir=output_dir,
                                      translator=translator) for side in (old, new))
    if no_behaviour:
        diff = diff_versions(before, after)
    else:
        with running_engine() as engine:
            diff = diff_versions(before, after, engine=engine)
    if fmt == "json":
        click.echo(json.dumps(as_json(diff), indent=2, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(as_markdown(diff), nl=False)
    else:
        click.echo(as_text(diff))
    if (fail_on == "breaking" and diff.breaking) or (fail_on == "undeclared" and diff.declared_enough is False):
        raise click.exceptions.Exit(1)
