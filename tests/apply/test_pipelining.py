"""`Applier.apply_many` overlaps the engine and Python: Node evaluates batch k+1 while Python
builds the results of batch k (both cores busy; `cpg test` and throughput depend on it)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from generator.apply import _applier
from generator.apply._applier import Applier, Timing
from generator.apply._engine import EvaluationBatch


def _bundle(pid: str) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": pid}}]}


class _Logic:
    def __init__(self) -> None:
        self.started: list[list[str]] = []
        self.second_batch_started = threading.Event()
        self.threads: set[str] = set()

    def evaluate(self, expressions: Any, bundles: list[dict[str, Any]], moment: Any) -> EvaluationBatch:
        ids = [b["entry"][0]["resource"]["id"] for b in bundles]
        self.started.append(ids)
        self.threads.add(threading.current_thread().name)
        if len(self.started) == 2:
            self.second_batch_started.set()
        return EvaluationBatch(patients=[{"id": i} for i in ids], engine_ms=1.0)  # type: ignore[misc]


def _make_applier(logic: _Logic) -> Applier:
    applier = Applier.__new__(Applier)
    applier.plan = SimpleNamespace(expressions=[])  # type: ignore[assignment]
    applier._logic = logic  # type: ignore[assignment]
    applier.timing = Timing()
    return applier


def test_the_next_batch_is_evaluated_while_this_one_is_realized(monkeypatch: pytest.MonkeyPatch) -> None:
    logic = _Logic()
    realized: list[str] = []
    overlapped: list[bool] = []

    def realize(plan: Any, values: dict[str, str], patient_id: str, moment: Any, authored: str) -> str:
        if not realized:  # first patient of the first batch: the second batch must start meanwhile
            overlapped.append(logic.second_batch_started.wait(timeout=10))
        realized.append(patient_id)
        return f"result-{values['id']}"

    monkeypatch.setattr(_applier, "realize", realize)
    bundles = [_bundle(f"p{i}") for i in range(5)]
    results = _make_applier(logic).apply_many(bundles, "2026-01-01", batch_size=2)
    assert overlapped == [True]
    assert results == [f"result-p{i}" for i in range(5)]  # input order kept
    assert logic.started == [["p0", "p1"], ["p2", "p3"], ["p4"]]
    assert logic.threads and threading.main_thread().name not in logic.threads


def test_an_engine_error_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing(_Logic):
        def evaluate(self, expressions: Any, bundles: list[dict[str, Any]], moment: Any) -> EvaluationBatch:
            if len(self.started) == 1:
                from generator.apply._engine import EngineError

                raise EngineError("boom")
            return super().evaluate(expressions, bundles, moment)

    monkeypatch.setattr(_applier, "realize", lambda *args: "ok")
    with pytest.raises(_applier.ApplyError, match="boom"):
        _make_applier(Failing()).apply_many([_bundle(f"p{i}") for i in range(4)], "2026-01-01", batch_size=2)
