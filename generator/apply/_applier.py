"""The `$apply` entry points: `Applier` for many patients, `apply` for one.

Why an `Applier` object: it owns the compiled pathway and the libraries loaded in one engine
process, so `cpg test` and the benchmark pay the load once and then stream patients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.apply._artifacts import ApplyError, Artifacts, load_artifacts
from generator.apply._engine import Engine, EngineError, EvaluationBatch
from generator.apply._patient import CheckedBundle, check_patient_bundle, execution_datetime, patient_of
from generator.apply._plan import ApplyResult, CompiledPlan, compile_plan, realize

__all__ = ["Applier", "apply", "running_engine", "BATCH_SIZE", "Timing"]

#: Patients per engine round trip: large enough to amortise the pipe, small enough to stream.
BATCH_SIZE = 64


@dataclass
class Timing:
    """Where the time went for a run of patients (milliseconds)."""

    engine_ms: float = 0.0  # CQL evaluation inside node
    transport_ms: float = 0.0  # JSON encode/decode and the pipe, both sides
    python_ms: float = 0.0  # building RequestGroups, requests, bundles
    patients: int = 0


def _authored(date: str | dt.date | dt.datetime) -> str:
    if isinstance(date, dt.datetime):
        return date.isoformat()
    return date.isoformat() if isinstance(date, dt.date) else str(date).strip()


class Applier:
    """A guideline ready to apply: compiled pathway + libraries loaded in `engine`."""

    def __init__(self, artifacts: Artifacts, engine: Engine, pathway: dict[str, Any] | None = None) -> None:
        self.artifacts = artifacts
        self.plan: CompiledPlan = compile_plan(artifacts, pathway)
        value_sets = artifacts.value_set_codes()
        elm = artifacts.elm_libraries()
        _check_value_sets(elm, value_sets)
        try:
            self._logic = engine.load(elm, value_sets)
        except EngineError as exc:
            raise ApplyError("APPLY040", f"the CQL engine could not load the libraries: {_first_line(exc)}",
                             exit_code=1) from exc
        self.timing = Timing()

    def evaluate(self, bundles: Sequence[Mapping[str, Any]], date: str | dt.date | dt.datetime) -> EvaluationBatch:
        """Engine values for each bundle (already checked) at `date`."""
        try:
            return self._logic.evaluate(self.plan.expressions, bundles, execution_datetime(date))
        except EngineError as exc:
            raise ApplyError("APPLY041", f"CQL evaluation failed: {_first_line(exc)}", exit_code=1) from exc

    def apply_many(self, bundles: Sequence[Mapping[str, Any]], date: str | dt.date | dt.datetime,
                   *, batch_size: int = BATCH_SIZE) -> list[ApplyResult]:
        """Apply to every bundle, `batch_size` patients per engine round trip.

        Pipelined: Node evaluates the next batch (on a worker thread) while Python builds the
        results of this one, so the engine and Python overlap on two cores.
        """
        checked = [b if isinstance(b, CheckedBundle) else check_patient_bundle(b, f"bundle #{i + 1}")
                   for i, b in enumerate(bundles)]
        moment = execution_datetime(date)
        authored = _authored(date)
        size = max(batch_size, 1)
        chunks = [checked[start:start + size] for start in range(0, len(checked), size)]
        results: list[ApplyResult] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpg-evaluate") as pool:
            pending = pool.submit(self._timed_evaluate, chunks[0], date) if chunks else None
            for index, chunk in enumerate(chunks):
                assert pending is not None
                batch, round_trip = pending.result()
                pending = pool.submit(self._timed_evaluate, chunks[index + 1], date) if index + 1 < len(chunks) else None
                began = time.perf_counter()
                for bundle, values in zip(chunk, batch.patients):
                    results.append(realize(self.plan, values, str(patient_of(bundle)["id"]), moment, authored))
                self.timing.python_ms += (time.perf_counter() - began) * 1000
                self.timing.engine_ms += batch.engine_ms
                self.timing.transport_ms += max(round_trip - batch.engine_ms, 0.0)
                self.timing.patients += len(chunk)
        return results

    def _timed_evaluate(self, chunk: Sequence[Mapping[str, Any]],
                        date: str | dt.date | dt.datetime) -> tuple[EvaluationBatch, float]:
        began = time.perf_counter()
        batch = self.evaluate(chunk, date)
        return batch, (time.perf_counter() - began) * 1000

    def apply(self, bundle: Mapping[str, Any], date: str | dt.date | dt.datetime) -> ApplyResult:
        return self.apply_many([bundle], date)[0]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_value_sets(elm_libraries: Sequence[Mapping[str, Any]], value_sets: Mapping[str, Any]) -> None:
    """Every value set a library names must be loadable, or `in` would silently be false/null."""
    for elm in elm_libraries:
        name = elm["library"]["identifier"]["id"]
        for vs in (elm["library"].get("valueSets") or {}).get("def", []) or []:
            url = str(vs.get("id"))
            if url not in value_sets:
                raise ApplyError("APPLY016", f"value set {url} used by library {name} is not among the artifacts")


@contextlib.contextmanager
def running_engine(given: Engine | None = None) -> Iterator[Engine]:
    """`given`, or an engine of our own for the block, closed after it.

    Every command that needs the engine goes through here, so a failing engine is reported one
    way: as its environment fault (Node missing, too old, killed: ENV0xx, exit 2), else APPLY042."""
    if given is not None:
        yield given
        return
    try:
        with Engine() as own:
            yield own
    except EngineError as exc:
        from generator.environment import environment_fault

        raise environment_fault(exc) or ApplyError("APPLY042", _first_line(exc), exit_code=2) from exc


def apply(artifacts: Artifacts | Sequence[Mapping[str, Any]] | str | Path, patient_bundle: Mapping[str, Any],
          date: str | dt.date | dt.datetime, *, engine: Engine | None = None) -> dict[str, Any]:
    """CPG `$apply` of the guideline's pathway to one patient Bundle; returns the result Bundle.

    `artifacts` is an `Artifacts`, a list of built resources, or what `cpg apply` accepts
    (a built folder, bundle, package or guideline id). Starts an engine unless one is given.
    """
    if isinstance(artifacts, (str, Path)):
        artifacts = load_artifacts(artifacts)
    elif not isinstance(artifacts, Artifacts):
        artifacts = Artifacts.from_resources(artifacts)
    with running_engine(engine) as running:
        return Applier(artifacts, running).apply(patient_bundle, date).bundle
