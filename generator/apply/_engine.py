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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from generator._node import JsonLinesProcess, find_node

__all__ = ["Engine", "EngineError", "EngineUnavailable", "LoadedLogic", "PatientValues", "EvaluationBatch"]

SCRIPT = Path(__file__).resolve().parent / "node" / "engine.mjs"
_REQUIRED_PACKAGES = ("cql-execution", "cql-exec-fhir")

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
        self._node = JsonLinesProcess(
            env=self._env, error=EngineError, name="the CQL engine", label="engine", answerer="the engine",
            thread_name="cql-engine",
        )
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
        return self._node.pid

    def start(self) -> None:
        """Start node and wait for the engine to answer a ping (raises EngineUnavailable)."""
        if self._node.pid is not None:
            return
        node = find_node(self._env, user="CQL engine", error=EngineUnavailable)
        modules = find_engine_modules(self._env)
        if not SCRIPT.is_file():
            raise EngineUnavailable(f"engine script {SCRIPT} is missing (broken installation)")
        self._node.start(
            [node, str(SCRIPT), "--node-modules", str(modules), *(["--exact-distinct"] if self.exact_distinct else [])]
        )
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
        self._node.close()

    def stderr_tail(self) -> str:
        return self._node.stderr_tail()

    # -- protocol ------------------------------------------------------------------------------
    def _request(self, payload: Mapping[str, Any], timeout: float | None = None) -> dict[str, Any]:
        if not self._node.running:
            raise EngineError("the CQL engine is not running (use `with Engine() as engine:`)")
        reply = self._node.request(payload, self.timeout if timeout is None else timeout)
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
