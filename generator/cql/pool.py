"""Several translator processes behind one `translate`, for builds of many guidelines.

Why: the translator is single-threaded Node and most of a cold build's CPU; with N guidelines
to translate and two cores, two processes translate two libraries at once. Processes start
only when calls overlap (a one-guideline build starts one), each early on a thread as
`EarlyTranslator` does, and each keeps its own memory bounded by restarting (see `Translator`).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Mapping, Sequence

from generator.cql.translator import EarlyTranslator, Translation

__all__ = ["TranslatorPool", "default_jobs"]


def default_jobs() -> int:
    """Translator processes a build may use: one per core but one, at most 4 (each holds ~400 MB at most).

    Why not one per core: Python synthesizes and validates on a core of its own while Node
    translates, and each extra translator pays its own JIT warm-up. Measured on 2 cores
    (benchmarks/RESULTS.md): a second translator made cold builds slower at N=2, 10 and 50
    guidelines (N=50: 12.5 s against 9.7 s), so two cores get one."""
    return max(1, min((os.cpu_count() or 1) - 1, 4))


class TranslatorPool:
    """Up to `jobs` translators; a call takes an idle one, or starts one while fewer than `jobs` run."""

    def __init__(self, jobs: int = 1, *, early: bool = True) -> None:
        self.jobs = max(1, jobs)
        self._idle: queue.Queue[EarlyTranslator] = queue.Queue()
        self._all: list[EarlyTranslator] = []
        self._lock = threading.Lock()
        if early:
            self._idle.put(self._start())

    def _start(self) -> EarlyTranslator:
        translator = EarlyTranslator()
        self._all.append(translator)
        return translator

    @property
    def started(self) -> int:
        """How many translator processes were started."""
        return len(self._all)

    def _take(self) -> EarlyTranslator:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if len(self._all) < self.jobs:
                return self._start()
        return self._idle.get()

    def pinned(self) -> EarlyTranslator:
        """The first process (started if need be): translations that build on earlier ones (a
        session's sources live in one Node process) always go to it."""
        with self._lock:
            if not self._all:
                self._idle.put(self._start())
            return self._all[0]

    def pinned_restarts(self) -> int:
        """How often the pinned process was replaced (0 while none runs)."""
        return self._all[0].translator.restarts if self._all else 0

    def wait_started(self, timeout: float | None = None) -> None:
        """Return once the processes started so far answered, or after `timeout` seconds (at once
        when none was started)."""
        for translator in list(self._all):
            translator.wait_started(timeout)

    def get(self) -> "TranslatorPool":
        """Itself: lets the pool stand where an `EarlyTranslator` is awaited."""
        return self

    @property
    def restarts(self) -> int:
        return self.pinned_restarts()

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None, session: str | None = None) -> dict[str, Translation]:
        if session is not None:  # a session lives in one process
            return self.pinned().translate(libraries, targets, timeout=timeout, session=session)
        translator = self._take()
        try:
            return translator.translate(libraries, targets, timeout=timeout)
        finally:
            self._idle.put(translator)

    def close(self) -> None:
        for translator in self._all:
            translator.close()

    def __enter__(self) -> "TranslatorPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
