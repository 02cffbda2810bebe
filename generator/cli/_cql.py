"""`cpg cql FILE...`: compile hand-written .cql files with the official translator.

For authors debugging CQL outside a guideline build: messages are printed compiler-style
(`path/File.cql:line:col: error: message`) so editors can jump to them. Includes resolve from the
folders of the given files; FHIRHelpers (4.0.1 or 4.0.0) falls back to our generated library.
The files are translated once each, includes first, over one translator session; messages are
printed as each batch completes, with `translated done/total` progress on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli._common import reports_errors, translator_for
from generator.cql.declarations import declared_name
from generator.cql.fhirhelpers import FHIRHELPERS_NAME, FHIRHELPERS_VERSION
from generator.cql.library_set import add_generated_helpers, translate_set
from generator.cql.translator import CqlMessage, Translation, TranslatorError
from generator.diagnostics import Diagnostic, GeneratorError
from generator.readers import InputError, read_text

GENERATED_HELPERS_LABEL = f"<generated {FHIRHELPERS_NAME} {FHIRHELPERS_VERSION}>"


def library_name(text: str, path: Path) -> str:
    """The declared library name, else the file stem (the translator reports the same)."""
    return declared_name(text) or path.stem


def _read_cql(path: Path) -> str:
    """A bounded regular file (a FIFO or device named *.cql is refused, not read forever)."""
    try:
        return read_text(path)
    except InputError as exc:
        raise GeneratorError([Diagnostic("CQL", str(exc))], exit_code=2) from exc


def _sources(files: tuple[Path, ...]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(library name -> CQL, library name -> shown path, target names). Given files win over
    same-named libraries found next to them."""
    libraries: dict[str, str] = {}
    shown: dict[str, str] = {}
    targets: list[str] = []
    for path in files:
        text = _read_cql(path)
        name = library_name(text, path)
        if name in targets:
            raise GeneratorError([Diagnostic("CQL", f"{path}: library {name} is also defined in {shown[name]}")])
        libraries[name], shown[name] = text, str(path)
        targets.append(name)
    for folder in sorted({p.resolve().parent for p in files}):
        for candidate in sorted(folder.glob("*.cql")):
            text = _read_cql(candidate)
            name = library_name(text, candidate)
            if name not in libraries:
                libraries[name], shown[name] = text, str(candidate)
    add_generated_helpers(libraries, shown)  # for each FHIRHelpers version included and not given
    return libraries, shown, targets


def format_message(message: CqlMessage, shown: dict[str, str]) -> str:
    where = shown.get(message.library or "", message.library or "<cql>")
    if message.line is not None:
        where += f":{message.line}"
        if message.column is not None:
            where += f":{message.column}"
    return f"{where}: {message.severity}: {message.message}"


@click.command("cql")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write <LibraryName>.json ELM here for each library that compiles without errors.")
@click.option("--no-cache", is_flag=True, help="Translate every library again instead of reusing cached translations.")
@reports_errors
def cql(files: tuple[Path, ...], out_dir: Path | None, no_cache: bool) -> None:
    """Translate CQL FILES to ELM and report the translator's messages; exit 1 on errors."""
    libraries, shown, targets = _sources(files)
    printed: set[str] = set()
    counts = {"error": 0, "warning": 0}
    terminal = sys.stderr.isatty()

    def report(name: str, translation: Translation) -> None:
        """Print a library's messages as soon as its batch is translated (streamed)."""
        if terminal:
            click.echo("\r\033[K", err=True, nl=False)  # clear the progress line
        for message in translation.messages:
            line = format_message(message, shown)
            if line in printed:  # an include's message repeats in each library including it
                continue
            printed.add(line)
            counts[message.severity] = counts.get(message.severity, 0) + 1
            color = {"error": "red", "warning": "yellow"}.get(message.severity)
            click.secho(line, fg=color, err=True)

    def progress(done: int, total: int) -> None:
        click.echo(f"\rtranslated {done}/{total}", err=True, nl=False)

    try:
        with translator_for(no_cache, jobs=1) as translator:
            # Each library translated once, includes first, over one translator session (libraries
            # translated before come from the translation cache).
            results = translate_set(translator, libraries, targets, on_result=report,
                                    progress=progress if terminal else None)
    except TranslatorError as exc:
        raise GeneratorError([Diagnostic("CQL", str(exc))]) from exc
    if terminal:
        click.echo("\r\033[K", err=True, nl=False)
    errors, warnings = counts["error"], counts["warning"]
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in targets:
            translation = results[name]
            if translation.ok and translation.elm is not None:
                target = out_dir / f"{name}.json"
                target.write_text(translation.elm_json, encoding="utf-8")
                click.echo(f"wrote {target}")
    click.echo(
        f"{len(targets)} librar{'y' if len(targets) == 1 else 'ies'}: "
        f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
        err=True,
    )
    if errors:
        # Not click's Exit: reports_errors treats any other exception as an internal error.
        raise GeneratorError([], exit_code=1)
