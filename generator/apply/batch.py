"""Batch `$apply`: many patients streamed through one or more engines, in bounded memory.

Why a module of its own: `Applier.apply_many` is the fast path for a list already in memory;
a population (10,000 patients) must be read, applied and written as a stream, one patient's
bad data must not stop the others, and with two cores two engine processes evaluate at once.
Patients are read lazily (a folder of Bundle files, or an NDJSON file of one Bundle per line),
applied in chunks of `BATCH_SIZE`, at most two chunks per engine in flight, and yielded in
input order, so memory depends on the chunk size and the number of engines, not on the number
of patients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.apply._applier import BATCH_SIZE, Applier, running_engine
from generator.apply._artifacts import ApplyError, Artifacts
from generator.apply._patient import parse_patient_bundle, read_patient_bundle
from generator.apply._plan import ApplyResult
from generator.diagnostics import Diagnostic

__all__ = ["PatientOutcome", "BatchApplier", "read_patients", "default_jobs"]

#: Input of one patient: where it came from, its checked Bundle or why it could not be read, and the
#: warnings about records of it the engine will not see (APPLY051-053).
PatientInput = tuple[str, "dict[str, Any] | ApplyError", list[str]]


@dataclass(frozen=True)
class PatientOutcome:
    """One patient of a batch: the `$apply` result, or the error that stopped this patient only."""

    label: str
    result: ApplyResult | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def default_jobs() -> int:
    """Engines to run: one per core, at most 4 (each loads the whole guideline)."""
    return max(1, min(os.cpu_count() or 1, 4))


def read_patients(source: Path) -> Iterator[PatientInput]:
    """Patients of a folder (`*.json` Bundles, sorted by name) or an NDJSON file, read one at a time."""
    if source.is_dir():
        for path in sorted(source.glob("*.json")):
            findings: list[Diagnostic] = []
            try:
                bundle: dict[str, Any] | ApplyError = read_patient_bundle(path, findings)
            except ApplyError as exc:
                bundle = exc
            yield path.stem, bundle, [d.message for d in findings]
        return
    if source.suffix != ".ndjson":
        raise ApplyError("APPLY070", f"--patients {source} is neither a folder of Bundle files nor an .ndjson file",
                         exit_code=2)
    try:
        handle = source.open(encoding="utf-8")
    except OSError as exc:
        raise ApplyError("APPLY071", f"cannot read {source}: {exc}", exit_code=2) from exc
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                label = f"{source.name}:{number}"
                found: list[Diagnostic] = []
                try:
                    parsed: dict[str, Any] | ApplyError = parse_patient_bundle(line, label, found)
                except ApplyError as exc:
                    parsed = exc
                yield label, parsed, [d.message for d in found]
        except UnicodeDecodeError as exc:
            raise ApplyError("APPLY071", f"{source} is not UTF-8 text: {exc}", exit_code=2) from exc


class BatchApplier:
    """`jobs` engines, each with the guideline loaded once, applying chunks of patients in turn."""

    def __init__(self, artifacts: Artifacts, *, jobs: int = 1, batch_size: int = BATCH_SIZE) -> None:
        self.jobs = max(1, jobs)
        self.batch_size = max(1, batch_size)
        self._stack = contextlib.ExitStack()
        self._appliers: list[Applier] = []
        try:
            for _ in range(self.jobs):
                engine = self._stack.enter_context(running_engine())
                self._appliers.append(Applier(artifacts, engine))
        except BaseException:
            self._stack.close()
            raise
        # One thread per engine: an engine answers one request at a time.
        self._pools = [self._stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cpg-apply-{i}"))
                       for i in range(self.jobs)]

    def __enter__(self) -> "BatchApplier":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def run(self, patients: Iterable[PatientInput], date: str | dt.date | dt.datetime) -> Iterator[PatientOutcome]:
        """Outcomes in input order; a patient's error never stops the batch."""
        in_flight: deque[Future[list[PatientOutcome]]] = deque()
        for index, chunk in enumerate(_chunks(patients, self.batch_size)):
            applier = self._appliers[index % self.jobs]
            in_flight.append(self._pools[index % self.jobs].submit(_apply_chunk, applier, chunk, date))
            while len(in_flight) >= 2 * self.jobs:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()


def _chunks(patients: Iterable[PatientInput], size: int) -> Iterator[list[PatientInput]]:
    chunk: list[PatientInput] = []
    for patient in patients:
        chunk.append(patient)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _apply_chunk(applier: Applier, chunk: Sequence[PatientInput],
                 date: str | dt.date | dt.datetime) -> list[PatientOutcome]:
    """Apply the readable patients of a chunk together; if the engine fails on the chunk, patient
    by patient, so the error is pinned on the patient that caused it."""
    readable = [(label, bundle) for label, bundle, _ in chunk if not isinstance(bundle, ApplyError)]
    results: dict[str, ApplyResult | str] = {}
    try:
        for (label, _), result in zip(readable, applier.apply_many([b for _, b in readable], date)):
            results[label] = result
    except ApplyError:
        for label, bundle in readable:
            try:
                results[label] = applier.apply(bundle, date)
            except ApplyError as exc:
                results[label] = "; ".join(d.message for d in exc.diagnostics)
    outcomes = []
    for label, bundle, warnings in chunk:
        if isinstance(bundle, ApplyError):
            outcomes.append(PatientOutcome(label, error="; ".join(d.message for d in bundle.diagnostics),
                                           warnings=tuple(warnings)))
        else:
            found = results[label]
            outcomes.append(PatientOutcome(label, error=found, warnings=tuple(warnings)) if isinstance(found, str)
                            else PatientOutcome(label, result=found, warnings=tuple(warnings)))
    return outcomes
