"""Shared CLI plumbing: the root group, diagnostics printing, exit codes."""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

import click

from generator.diagnostics import Diagnostic, GeneratorError, Severity, summary

if TYPE_CHECKING:
    from generator.cql.cache import CachedTranslator
    from generator.cql.pool import TranslatorPool

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
        "cache": "generator.cli._cache:cache_command",
        "load": "generator.cli._load:load_command",
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
    _skip_final_collection()
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


_final_collection_skipped = False


def _skip_final_collection() -> None:
    """At exit the interpreter's last collection walks every object still alive (~0.13 s after a
    build, on the critical path of every command). Nothing then needs it: files are closed, child
    processes reaped, temporary folders removed by their own exit handlers. `gc.freeze()` at exit
    takes the objects out of it; registered once, so a process that calls `main` many times (tests,
    a host program) keeps its collector until it exits."""
    global _final_collection_skipped
    if not _final_collection_skipped:
        atexit.register(gc.freeze)
        _final_collection_skipped = True


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
            from generator.environment import environment_fault

            fault = environment_fault(exc)
            if fault is not None:  # Node missing/old/hung/killed, disk full...: ENV0xx, exit 2
                print_diagnostics(fault.diagnostics)
                ctx.exit(fault.exit_code)
            if (ctx.find_root().obj or {}).get("debug"):
                raise
            click.secho(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", fg="red", err=True)
            ctx.exit(2)

    return wrapper  # type: ignore[return-value]


def exit_for(diagnostics: list[Diagnostic]) -> int:
    return 1 if any(d.severity is Severity.ERROR for d in diagnostics) else 0


__all__ = ["main", "print_diagnostics", "reports_errors", "exit_for", "close_together"]


def translator_for(no_cache: bool, jobs: int | None = None) -> "TranslatorPool | CachedTranslator":
    """The translator a command uses: the on-disk translation cache in front of up to `jobs` Node
    translators (default: one per core), or (with `--no-cache`, or CPG_NO_CACHE=1) the translators
    alone, the first started at once on a thread."""
    from generator.cql.cache import CachedTranslator
    from generator.cql.pool import TranslatorPool, default_jobs

    jobs = jobs or default_jobs()
    if no_cache or os.environ.get("CPG_NO_CACHE") == "1":
        return TranslatorPool(jobs)
    return CachedTranslator(jobs=jobs)


def close_together(*resources: Any) -> None:
    """`close()` each of `resources` at once: each Node process takes ~15 ms to exit, on the path
    of every command's end. Every one is closed; the first error is raised after."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, len(resources)), thread_name_prefix="cpg-close") as pool:
        closing = [pool.submit(resource.close) for resource in resources]
    for done in closing:
        done.result()


class ProgressLine:
    """"applied 1200 (3 failed)" rewritten in place on stderr, only when stderr is a terminal.

    One convention for every long command: progress never goes to a pipe or a log, so output
    stays clean for machines; at most ~10 redraws a second.
    """

    def __init__(self, verb: str, total: int | None = None) -> None:
        self.verb = verb
        self.total = total
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def update(self, done: int, failed: int = 0) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        of = f"/{self.total}" if self.total is not None else ""
        sys.stderr.write(f"\r{self.verb} {done}{of}" + (f" ({failed} failed)" if failed else "") + " ")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
