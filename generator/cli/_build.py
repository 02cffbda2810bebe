"""`cpg build`: compile definitions/ into output/ (or check that output/ is current)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from generator.cli._common import close_together, print_diagnostics, reports_errors, translator_for
from generator.cql.cache import CachedTranslator
from generator.cql.pool import TranslatorPool
from generator.diagnostics import Diagnostic, DiagnosticBag, GeneratorError, summary

if TYPE_CHECKING:
    from generator.apply._engine import Engine
    from generator.apply._scenarios import ScenarioOutcome, ScenarioRun
    from generator.compile import BuiltGuideline
    from generator.resolve import ResolvedGuideline


@click.command()
@click.option("--definitions", "definitions_dir", type=click.Path(path_type=Path), default=Path("definitions"),
              show_default=True, help="Folder of guideline packages.")
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=Path("output"),
              show_default=True, help="Where built artifacts go.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if output/ differs from what the definitions produce.")
@click.option("--no-validate", is_flag=True, help="Skip the CHECK phase (the validator).")
@click.option("--no-cache", is_flag=True, help="Translate every library again instead of reusing cached translations.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Translator processes (default: one per core but one, at most 4; started only when needed).")
@click.option("--sources", "sources_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of the source documents cited passages are checked against "
                   "(default: each guideline's sources_dir; env CPG_SOURCES_DIR).")
@click.option("--changes-since", "previous", metavar="OLD", default=None,
              help="A previous version (built folder, package .tgz or git revision, as `cpg diff` takes): "
                   "the site gains a \"Changes since\" section.")
@reports_errors
def build(definitions_dir: Path, output_dir: Path, check: bool, no_validate: bool, no_cache: bool,
          jobs: int | None, sources_dir: Path | None, previous: str | None) -> None:
    """Compile every guideline under DEFINITIONS into OUTPUT/<guideline-id>/."""
    # Node starts now (the translator if it may be needed, the engine for the scenarios), while the
    # pipeline's modules import.
    translator = translator_for(no_cache, jobs)
    scenarios: _ScenarioRunner | None = None
    try:
        scenarios = _ScenarioRunner(after=translator)
        _build(definitions_dir, output_dir, check, not no_validate, translator, scenarios, previous, sources_dir)
    finally:  # both Node processes exit at once
        close_together(*(running for running in (scenarios, translator) if running is not None))


def _build(definitions_dir: Path, output_dir: Path, check: bool, validate: bool,
           translator: TranslatorPool | CachedTranslator, scenarios: _ScenarioRunner,
           previous: str | None = None, sources: Path | None = None) -> None:
    from generator.analyze.analysis import build_warnings
    from generator.compile import compile_each
    from generator.publish import Review, load_templates
    from generator.write import StagedOutput, stale_files

    bag = DiagnosticBag()
    stale: dict[str, list[str]] = {}
    with StagedOutput(output_dir) as staged:
        # While Node translates: `cpg analyze`'s engine-free part (unreachable recommendations...),
        # PUBLISH's templates and the first scenario bundles.
        analysis: dict[str, list[Diagnostic]] = {}

        def while_translating(resolved: Sequence[ResolvedGuideline]) -> None:
            analysis.update((rg.guideline.id, build_warnings(rg)) for rg in resolved)
            load_templates()
            if resolved:  # the first guideline's: the later ones are translated ahead of their turn
                scenarios.read_ahead(resolved[0])

        # Each guideline is written (or compared) as soon as it is checked, then let go.
        for built in compile_each(definitions_dir, bag, translator=translator, validate=validate,
                                  while_translating=while_translating, on_synthesized=scenarios.start, sources=sources):
            bag.extend(analysis.pop(built.id) if built.id in analysis else build_warnings(built.resolved))
            # Waited for when the site is rendered, last: the other files are made while the scenarios run.
            outcomes: Callable[[], list[ScenarioOutcome]] | list[ScenarioOutcome] = functools.partial(
                scenarios.result, built, bag)
            changes = None
            if previous:  # the comparison runs scenarios on the same engine: this guideline's first
                outcomes = scenarios.result(built, bag)
                changes = _changes_since(previous, built, output_dir, translator, scenarios)
            review = Review(outcomes, changes)
            if check:
                stale[built.id] = stale_files(built, output_dir, review=review)
            else:
                staged.add(built, review=review)
        if bag.has_errors:
            raise GeneratorError(bag.items)  # leaving the block discards what was staged
        print_diagnostics(bag.items, show_summary=False)
        if check:
            _report_stale(stale, output_dir, bag.items)
            return
        for folder in staged.commit():
            click.echo(f"wrote {folder}")
    click.echo(summary(bag.items))


def _changes_since(previous: str, built: BuiltGuideline, output_dir: Path,
                   translator: TranslatorPool | CachedTranslator, scenarios: _ScenarioRunner) -> dict[str, Any]:
    """`cpg diff PREVIOUS <this build>` as data, for the site's "Changes since" section: the same
    comparison, behaviour included (every scenario of both versions on the build's engine)."""
    from generator.diff.compare import diff_versions
    from generator.diff.report import as_json
    from generator.diff.versions import Version, load_version
    from generator.publish import scenario_test_cases

    old = load_version(previous, guideline=built.id, output_dir=output_dir, translator=translator)
    new = Version(f"this build ({built.resolved.guideline.version})", built.resources, scenario_test_cases(built))
    return as_json(diff_versions(old, new, engine=scenarios.engine()))


def _report_stale(stale: dict[str, list[str]], output_dir: Path, diagnostics: list[Diagnostic]) -> None:
    if any(stale.values()):
        for gid, paths in stale.items():
            for path in paths:
                click.echo(f"stale: {output_dir / gid / path}", err=True)
        click.echo("output/ is not current: run `cpg build`", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"output is current ({len(stale)} guideline(s); {summary(diagnostics)})")


#: How long the engine's start waits for the translator's (see `_ScenarioRunner._start`).
_TRANSLATOR_START_WAIT_S = 5.0


class _ScenarioRunner:
    """Runs each built guideline's scenarios for its site, on one engine for the whole build.

    The engine (Node) starts on a thread of its own once the translator `after` answers (at once
    when the build starts none), so its start-up overlaps the translation instead of following it;
    each guideline's run is prepared as soon as the guideline is synthesized and evaluated while
    CHECK and PUBLISH run (the engine is closed unused when no guideline has scenarios).
    """

    def __init__(self, after: TranslatorPool | CachedTranslator | None = None) -> None:
        from generator.apply._engine import Engine

        self._engine = Engine()
        # One thread: the engine answers one request at a time, in the order they were queued.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpg-engine")
        self._started = self._pool.submit(self._start, after)
        self._runs: dict[str, Future[list[ScenarioOutcome]]] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._engine.close()

    def _start(self, after: TranslatorPool | CachedTranslator | None) -> None:
        # Node starting two processes at once slowed the translator's start, which is on a cold
        # build's critical path, by ~0.1 s: the engine, needed only once a guideline is built,
        # starts once the translator answers (at once when none was started).
        if after is not None:
            after.wait_started(timeout=_TRANSLATOR_START_WAIT_S)
        self._engine.start()

    def engine(self) -> Engine | None:
        """The build's engine once started (None when it could not start: comparisons then skip behaviour)."""
        try:
            self._started.result()
        except Exception:  # noqa: BLE001 - reported where scenarios need it (TEST021)
            return None
        return self._engine

    @staticmethod
    def read_ahead(rg: ResolvedGuideline) -> None:
        """Parse and check `rg`'s scenario bundles now (kept by `read_scenario_bundle`), so the run
        itself only waits for the engine; a bundle that fails is reported when the run reads it.
        The modules the run and the test-case Libraries use are imported here too."""
        import importlib

        from generator.apply._artifacts import ApplyError
        from generator.apply._patient import read_scenario_bundle

        for module in ("generator.apply._scenarios", "generator.apply.testcases"):
            importlib.import_module(module)
        for scenario in rg.scenarios:
            try:
                read_scenario_bundle(rg.package_dir / scenario.bundle)
            except ApplyError:
                continue

    def start(self, built: BuiltGuideline) -> None:
        """Queue `built`'s scenario run on the engine's thread and return once it evaluates.

        Waiting for its preparation (reading, loading the logic into the engine) gives that Python
        work the interpreter to itself; CHECK and PUBLISH then overlap the engine's evaluation."""
        if built.resolved.scenarios:
            prepared = self._pool.submit(self._prepare, built)
            self._runs[built.id] = self._pool.submit(lambda: prepared.result().run())
            wait([prepared])

    def _prepare(self, built: BuiltGuideline) -> ScenarioRun:
        from generator.publish._scenario_results import prepare_build_scenarios

        # Node missing, too old, killed...: an EngineError the CLI reports as its ENV fault (exit 2).
        self._started.result()
        return prepare_build_scenarios(built, self._engine)

    def result(self, built: BuiltGuideline, bag: DiagnosticBag) -> list[ScenarioOutcome]:
        """`built`'s outcomes (run now if `start` was not called), failing scenarios added to `bag`."""
        from generator.publish._scenario_results import ScenarioRunError, scenario_diagnostics

        if not built.resolved.scenarios:
            return []
        run = self._runs.pop(built.id, None)
        if run is None:
            self.start(built)
            run = self._runs.pop(built.id)
        try:
            outcomes = run.result()
        except ScenarioRunError as exc:
            # The site shows every scenario's result, so the guideline's scenarios must run.
            raise GeneratorError([Diagnostic("TEST021", f"the scenarios of '{built.id}' could not run: {exc}",
                                             location=built.resolved.guideline.location)]) from exc
        bag.extend(scenario_diagnostics(outcomes))
        return outcomes
