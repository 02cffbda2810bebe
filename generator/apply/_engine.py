"""Python client for the CQL engine server (`node/engine.mjs`: cql-execution + cql-exec-fhir, FHIR 4.0.1).

Why one long-lived process: loading the guideline's ELM, FHIRHelpers, the FHIR model info and
the value sets costs far more than evaluating one patient. An `Engine` owns one `node` process;
`Engine.load` hands back a `LoadedLogic` that evaluates any number of patient bundles against
those libraries. The caller owns the lifetime (context manager); there is no shared instance.

    with Engine() as engine:
        logic = engine.load(elm_libraries, value_sets)
        rows = logic.evaluate({"VCF": ["Is Calcitonin Applicable"]}, bundles, "2026-03-01T00:00:00.000Z")

The engine bundled in @cqframework/cql 5.3.0 (Kotlin/JS) has no FHIR data provider, so the
JavaScript reference engine (cql-execution) with cql-exec-fhir is what evaluates patients.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from generator.cql.translator import TranslatorUnavailable, find_node

__all__ = ["Engine", "EngineError", "EngineUnavailable", "LoadedLogic", "PatientValues", "EvaluationBatch"]

SCRIPT = Path(__file__).resolve().parent / "node" / "engine.mjs"
_REQUIRED_PACKAGES = ("cql-execution", "cql-exec-fhir")
_STDERR_TAIL_LINES = 40

#: Code-service input: value set url -> version -> codes ({"code", "system", "version"?}).
ValueSetCodes = Mapping[str, Mapping[str, Sequence[Mapping[str, str]]]]


class EngineError(RuntimeError):
    """The engine process failed, or an expression raised while evaluating a patient."""


class EngineUnavailable(EngineError):
    """Node or the engine's npm packages are missing; the message says how to fix it."""


@dataclass(frozen=True)
class PatientValues:
    """Results for one patient: library name -> define name -> FHIR-shaped JSON value."""

    patient_id: str | None
    values: dict[str, dict[str, Any]]

    def get(self, library: str, define: str) -> Any:
        return self.values.get(library, {}).get(define)


@dataclass(frozen=True)
class EvaluationBatch:
    """One evaluate round trip: per-patient values in input order, and the engine's own time."""

    patients: list[PatientValues]
    engine_ms: float


def find_engine_modules(env: Mapping[str, str] | None = None, start: Path = SCRIPT) -> Path:
    """Locate node_modules holding cql-execution: $CPG_NODE_MODULES, else walk up from here."""
    env = os.environ if env is None else env
    configured = env.get("CPG_NODE_MODULES")
    candidates = [Path(configured)] if configured else [p / "node_modules" for p in start.parents]
    for candidate in candidates:
        if (candidate / "cql-execution").is_dir():
            missing = [pkg for pkg in _REQUIRED_PACKAGES if not (candidate / pkg).is_dir()]
            if missing:
                raise EngineUnavailable(f"{candidate} lacks {', '.join(missing)}; run `npm ci` in the repository root")
            return candidate
    where = f"CPG_NODE_MODULES={configured}" if configured else f"any folder above {start.parent}"
    raise EngineUnavailable(
        f"the CQL engine (node_modules/cql-execution) was not found in {where}; run `npm ci` in the repository root"
    )


class Engine:
    """One Node engine process. Calls are serialised by a lock (one request in flight)."""

    def __init__(self, *, timeout: float = 300.0, startup_timeout: float = 60.0,
                 env: Mapping[str, str] | None = None, exact_distinct: bool = False) -> None:
        """`exact_distinct` turns off the server's fast path for distinct query results (for tests)."""
        self.timeout = timeout
        self.exact_distinct = exact_distinct
        self.startup_timeout = startup_timeout
        self._env = dict(os.environ if env is None else env)
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._next_id = 0
        self.fast_distinct = False
        self.engine_version: str | None = None
        self.data_provider_version: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> "Engine":
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start node and wait for the engine to answer a ping (raises EngineUnavailable)."""
        if self._process is not None:
            return
        try:
            node = find_node(self._env)
        except TranslatorUnavailable as exc:
            raise EngineUnavailable(str(exc).replace("CQL translator", "CQL engine")) from exc
        modules = find_engine_modules(self._env)
        if not SCRIPT.is_file():
            raise EngineUnavailable(f"engine script {SCRIPT} is missing (broken installation)")
        self._process = subprocess.Popen(
            [node, str(SCRIPT), "--node-modules", str(modules), *(["--exact-distinct"] if self.exact_distinct else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self._env,
        )
        self._threads = [
            threading.Thread(target=self._pump_stdout, name="cql-engine-stdout", daemon=True),
            threading.Thread(target=self._pump_stderr, name="cql-engine-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            reply = self._request({"op": "ping"}, timeout=self.startup_timeout)
        except EngineError as exc:
            self.close()
            raise EngineUnavailable(f"the CQL engine did not start: {exc}") from exc
        self.fast_distinct = bool(reply.get("fastDistinct"))
        self.engine_version = reply.get("engine")
        self.data_provider_version = reply.get("dataProvider")

    def close(self) -> None:
        """Close stdin (the server exits on EOF), then reap the process; kill it if it lingers."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def _pump_stdout(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            for line in process.stdout:
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._lines.put(None)

    def _pump_stderr(self) -> None:
        process = self._process
        assert process is not None and process.stderr is not None
        try:
            for raw in process.stderr:
                self._stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    # -- protocol ------------------------------------------------------------------------------
    def _dead(self, what: str) -> EngineError:
        process = self._process
        code = process.poll() if process is not None else None
        tail = self.stderr_tail()
        detail = f" (exit code {code})" if code is not None else ""
        return EngineError(f"{what}{detail}" + (f"; engine stderr:\n{tail}" if tail else ""))

    def _request(self, payload: Mapping[str, Any], timeout: float | None = None) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise EngineError("the CQL engine is not running (use `with Engine() as engine:`)")
        wait = self.timeout if timeout is None else timeout
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            line = json.dumps({"id": request_id, **payload}, ensure_ascii=False, separators=(",", ":")) + "\n"
            try:
                process.stdin.write(line.encode("utf-8"))
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._dead(f"the CQL engine process died ({exc})") from exc
            try:
                raw = self._lines.get(timeout=wait)
            except queue.Empty:
                error = self._dead(f"the CQL engine did not answer within {wait:g} s")
                if process.poll() is None:
                    process.kill()
                self.close()
                raise error from None
            if raw is None:
                self._lines.put(None)  # keep reporting the death to later calls
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                raise self._dead("the CQL engine process exited unexpectedly")
        try:
            reply: dict[str, Any] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EngineError(f"unreadable engine reply: {raw[:200]!r}") from exc
        if reply.get("id") != request_id:
            raise EngineError(f"the engine answered request {reply.get('id')} instead of {request_id}")
        if "error" in reply:
            raise EngineError(str(reply["error"]))
        return reply

    def ping(self) -> dict[str, Any]:
        return self._request({"op": "ping"})

    def load(self, libraries: Sequence[Mapping[str, Any]], value_sets: ValueSetCodes | None = None) -> "LoadedLogic":
        """Load ELM libraries (includes resolved among them) and the code service's value sets."""
        reply = self._request({"op": "load", "libraries": list(libraries), "valueSets": value_sets or {}})
        names = {item["name"]: item.get("version") for item in reply.get("libraries", [])}
        return LoadedLogic(self, str(reply["key"]), names)


class LoadedLogic:
    """A set of libraries loaded in an engine; evaluates patient bundles against them."""

    def __init__(self, engine: Engine, key: str, libraries: dict[str, str | None]) -> None:
        self._engine = engine
        self.key = key
        self.libraries = libraries

    def evaluate(self, expressions: Mapping[str, Sequence[str]], bundles: Sequence[Mapping[str, Any]],
                 execution_datetime: str) -> EvaluationBatch:
        """Evaluate the named defines (library -> defines) for each bundle at `execution_datetime`.

        Raises EngineError naming the patient when an expression fails for any of them.
        """
        reply = self._engine._request({
            "op": "evaluate", "key": self.key, "executionDateTime": execution_datetime,
            "expressions": {lib: list(defines) for lib, defines in expressions.items()},
            "patients": list(bundles),
        })
        rows: list[PatientValues] = []
        for row in reply.get("results", []):
            if "error" in row:
                raise EngineError(f"evaluating patient {row.get('patient') or '?'} failed: {row['error']}")
            rows.append(PatientValues(row.get("patient"), row.get("values", {})))
        if len(rows) != len(bundles):
            raise EngineError(f"the engine returned {len(rows)} results for {len(bundles)} patients")
        return EvaluationBatch(rows, float(reply.get("elapsedMs", 0.0)))

    def unload(self) -> None:
        self._engine._request({"op": "unload", "key": self.key})
