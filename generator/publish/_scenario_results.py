"""The guideline's scenarios run on the real CQL engine, for the site's "Scenarios" section.

Why at publish time: a reviewer signs off what the pathway *does* for the patients the authors
had in mind, so the page shows each scenario's result from the same code `cpg test` runs
(`run_scenarios`), on the artifacts being published. `cpg build` runs them once with one engine
for the whole build and reports a failing scenario at its line (TEST020); other callers of
`publication_files` get the same results from an engine started for the call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from generator.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from generator.apply._engine import Engine
    from generator.apply._scenarios import ScenarioOutcome, ScenarioRun
    from generator.publish import Built


def run_build_scenarios(built: Built, engine: Engine | None = None) -> list[ScenarioOutcome]:
    """Every scenario of `built`, applied to its freshly built resources (in scenario order)."""
    if not built.resolved.scenarios:
        return []
    with _running(engine) as running:
        return prepare_build_scenarios(built, running).run()


def prepare_build_scenarios(built: Built, engine: Engine) -> ScenarioRun:
    """`built`'s scenarios read and its logic loaded in `engine`, ready to `run` (see `ScenarioRun`)."""
    from generator.apply._applier import Applier
    from generator.apply._artifacts import ApplyError
    from generator.apply._scenarios import ScenarioRun
    from generator.apply.testcases import built_artifacts

    rg = built.resolved
    artifacts = built_artifacts(built)  # type: ignore[arg-type]
    try:
        applier = Applier(artifacts, engine)
    except ApplyError as exc:
        raise ScenarioRunError(rg.guideline.id, "; ".join(d.message for d in exc.diagnostics)) from exc
    return ScenarioRun(rg.guideline.id, rg.scenarios, rg.package_dir, applier)


class ScenarioRunError(RuntimeError):
    """The engine could not load the guideline, so no scenario could run (TEST021)."""

    def __init__(self, guideline: str, reason: str) -> None:
        super().__init__(f"the engine could not load the guideline: {reason}")
        self.guideline = guideline


def scenario_diagnostics(outcomes: list[ScenarioOutcome]) -> list[Diagnostic]:
    """A TEST020 warning at each failing scenario's line: the site shows it failed, the build says so."""
    return [Diagnostic("TEST020", f"scenario '{o.scenario.id}' does not give what it expects: {o.detail}",
                       Severity.WARNING, location=o.scenario.location)
            for o in outcomes if not o.passed]


@contextlib.contextmanager
def _running(engine: Engine | None) -> Iterator[Engine]:
    if engine is not None:
        yield engine
        return
    from generator.apply._engine import Engine

    with Engine() as started:
        yield started
