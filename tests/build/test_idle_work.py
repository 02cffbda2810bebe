"""Work overlapping the translation runs on a thread of lowered priority and never fails silently."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from generator.compile import compile_each
from generator.diagnostics import DiagnosticBag
from generator.warmup import IDLE_NICENESS, IdleWork

MINIMAL = Path(__file__).resolve().parents[1] / "golden" / "minimal" / "definitions"


def test_tasks_run_in_order_on_another_thread() -> None:
    seen: list[tuple[str, int]] = []
    with IdleWork(lambda: seen.append(("a", threading.get_ident())), lambda: seen.append(("b", threading.get_ident()))) as idle:
        idle.join()
    assert [name for name, _ in seen] == ["a", "b"]
    assert all(ident != threading.get_ident() for _, ident in seen)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_the_thread_runs_at_a_lower_priority_and_the_caller_keeps_its_own() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    niceness: list[int] = []
    with IdleWork(lambda: niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))) as idle:
        idle.join()
    assert niceness == [min(before + IDLE_NICENESS, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_a_failing_task_is_raised_by_join_and_the_later_ones_do_not_run() -> None:
    ran: list[str] = []

    def fail() -> None:
        raise ValueError("broken analysis")

    with IdleWork(fail, lambda: ran.append("later")) as idle, pytest.raises(ValueError, match="broken analysis"):
        idle.join()
    assert ran == []


def test_a_failing_while_translating_callback_stops_the_compile() -> None:
    def broken(_resolved: object) -> None:
        raise RuntimeError("the caller's work failed")

    with pytest.raises(RuntimeError, match="the caller's work failed"):
        list(compile_each(MINIMAL, DiagnosticBag(), while_translating=broken))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_the_priority_is_lowered_relative_to_the_callers() -> None:
    """A build started with `nice -n 5` runs its idle work at 15, not at 10 (which would raise it)."""
    niceness: list[int] = []

    def run_lowered() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)  # this thread only
        with IdleWork(lambda: niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))) as idle:
            idle.join()

    caller = threading.Thread(target=run_lowered)
    caller.start()
    caller.join()
    assert niceness == [min(5 + IDLE_NICENESS, 19)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_without_a_translation_to_protect_the_work_keeps_the_callers_priority() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    niceness: list[int] = []
    with IdleWork(lambda: niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id())),
                  lowered=False) as idle:
        idle.join()
    assert niceness == [before]
