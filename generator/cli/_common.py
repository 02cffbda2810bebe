"""Shared CLI plumbing: the root group, diagnostics printing, exit codes."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

import click

from generator.diagnostics import Diagnostic, GeneratorError, Severity, summary

F = TypeVar("F", bound=Callable[..., Any])


class LazyGroup(click.Group):
    """A group whose sub-commands are imported when they are invoked (or listed by --help).

    Why: `cpg build` starts the Node translator first thing; importing every sub-command's
    dependencies (FHIR models, validator, engine) up front would delay that by ~0.4 s of a
    cold build's critical path.
    """

    #: command name -> "module:attribute"
    COMMANDS = {
        "build": "generator.cli._build:build",
        "validate": "generator.cli._validate:validate_command",
        "cql": "generator.cli._cql:cql",
        "apply": "generator.cli._apply:apply_command",
        "test": "generator.cli._apply:test_command",
        "analyze": "generator.cli._analyze:analyze_command",
        "diff": "generator.cli._diff:diff_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.COMMANDS})

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # suggest among the lazy commands too
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for unexpected failures.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Compile, validate, publish and run computable clinical guidelines (CPG-on-FHIR)."""
    # A short-lived, allocation-heavy process (ELM and resources are large trees of dicts): with
    # the default threshold (700) the cyclic collector ran ~25 times per guideline and took ~8 %
    # of a build. Collecting young objects less often cuts that to ~3 %; nothing is kept longer.
    gc.set_threshold(10_000, 10, 10)
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def print_diagnostics(diagnostics: Iterable[Diagnostic], *, show_summary: bool = True) -> None:
    items = list(diagnostics)
    for d in items:
        color = {"error": "red", "warning": "yellow"}.get(d.severity.value)
        click.secho(str(d), fg=color, err=True)
    if show_summary and items:
        click.echo(summary(items), err=True)


def reports_errors(func: F) -> F:
    """Decorator: print a GeneratorError's diagnostics and exit with its code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            return func(*args, **kwargs)
        except GeneratorError as exc:
            print_diagnostics(exc.diagnostics)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - last-resort guard, tracebacks only with --debug
            if (ctx.find_root().obj or {}).get("debug"):
                raise
            click.secho(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", fg="red", err=True)
            ctx.exit(2)

    return wrapper  # type: ignore[return-value]


def exit_for(diagnostics: list[Diagnostic]) -> int:
    return 1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0


__all__ = ["main", "print_diagnostics", "reports_errors", "exit_for"]
