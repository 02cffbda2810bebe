"""Python client for the official CQL-to-ELM translator (@cqframework/cql, Kotlin/JS build).

Why a long-lived Node process: loading the translator and the FHIR model info costs about a
second, a warm translation a few milliseconds. One `Translator` owns one `node` process running
`node/translator.mjs`, speaks JSON lines to it and is reused for every call. Callers own its
lifetime through the context manager; there is deliberately no shared module-level instance.

    with Translator() as t:
        results = t.translate({"VCF": vcf_cql, "FHIRHelpers": helpers_cql})
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any

from generator import _node
from generator.cql import elm as elm_analysis
from generator._node import MIN_NODE_MAJOR, JsonLinesProcess
from generator.jsonfmt import dump_json_text

__all__ = [
    "DEFAULT_OPTIONS",
    "MIN_NODE_MAJOR",
    "CqlMessage",
    "EarlyTranslator",
    "Translation",
    "Translator",
    "TranslatorError",
    "TranslatorUnavailable",
    "find_node",
    "find_node_modules",
]

SCRIPT = Path(__file__).resolve().parent / "node" / "translator.mjs"

#: Compiler options as CPG content uses them (cql-options.json), plus EnableResultTypes so every
#: define carries resultTypeName/resultTypeSpecifier (needed for Library.parameter and checks).
DEFAULT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "options": (
            "EnableAnnotations",
            "EnableLocators",
            "DisableListDemotion",
            "DisableListPromotion",
            "EnableResultTypes",
        ),
        "signatureLevel": "Overloads",
        "compatibilityLevel": "1.5",
        "validateUnits": True,
        "errorLevel": "Info",
        "analyzeDataRequirements": False,
        "collapseDataRequirements": True,
    }
)

_REQUIRED_PACKAGES = ("@cqframework/cql", "cql-exec-fhir", "@lhncbc/ucum-lhc")

#: V8's old-space limit for the translator process. Why: with V8's default limit (a share of the
#: machine's memory) a long build lets garbage pile up, and the translator's resident memory grew
#: to ~600 MB over 200 libraries; one translation (FHIR model info loaded, a large library)
#: needs far less. With a limit V8 collects sooner, at no measurable cost in time.
MAX_HEAP_MB = 384

#: Restart the translator once live objects fill this share of its heap limit. Why: the Kotlin/JS
#: translator retains a little of every library it compiles (about 2 MB per request in our
#: measurements), so translating a few hundred libraries in one process ran out of heap. A
#: restart costs about 2 s (the next translation is JIT-cold again) and is needed only every
#: hundred or so libraries.
RESTART_HEAP_SHARE = 0.55


class TranslatorError(RuntimeError):
    """The translator process failed (died, timed out, answered garbage)."""


class TranslatorUnavailable(TranslatorError):
    """Node or the translator's npm packages are missing; the message says how to fix it."""


@dataclass(frozen=True)
class CqlMessage:
    """One translator message. Lines and columns are 1-based (the server normalises them)."""

    severity: str  # "error" | "warning" | "info"
    type: str  # "syntax" | "semantic" | "include" | "internal"
    message: str
    library: str | None = None
    version: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = self.library or "<cql>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.severity}: {self.message}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "CqlMessage":
        return cls(
            severity=str(data.get("severity", "error")),
            type=str(data.get("type", "internal")),
            message=str(data.get("message", "")),
            library=data.get("library"),
            version=data.get("version"),
            line=data.get("line"),
            column=data.get("column"),
            end_line=data.get("endLine"),
            end_column=data.get("endColumn"),
        )


@dataclass(frozen=True)
class Translation:
    """The outcome of translating one library.

    `elm` is present whenever the translator produced a library, even with errors (its
    annotations then carry the CqlToElmError entries); check `ok` before publishing it.
    """

    name: str
    version: str | None
    elm: dict[str, Any] | None
    elm_json: str
    messages: list[CqlMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(m.is_error for m in self.messages)

    # The ELM's analyses, computed once per translation: a build shares one FHIRHelpers translation
    # among all its guidelines, and the CQL phase, SYNTH and CHECK all ask for the summary.
    @functools.cached_property
    def summary(self) -> elm_analysis.LibrarySummary:
        """Defines, types and terminology of the ELM (raises ValueError without ELM or result types)."""
        if self.elm is None:
            raise ValueError(f"{self.name} has no ELM")
        return elm_analysis.summarize(self.elm)

    @functools.cached_property
    def parameters(self) -> list[dict[str, Any]]:
        """FHIR `Library.parameter` entries of the library."""
        return elm_analysis.library_parameters(self.elm or {}, self.summary)

    @functools.cached_property
    def data_requirements(self) -> list[dict[str, Any]]:
        """FHIR `Library.dataRequirement` entries of the library."""
        return elm_analysis.data_requirements(self.elm or {}, self.summary)

    @property
    def errors(self) -> list[CqlMessage]:
        return [m for m in self.messages if m.is_error]


def find_node(env: Mapping[str, str] | None = None) -> str:
    """Locate a usable `node` (>= 18): $CPG_NODE, else `node` on PATH."""
    return _node.find_node(env, user="CQL translator", error=TranslatorUnavailable)


def find_node_modules(env: Mapping[str, str] | None = None, start: Path = SCRIPT) -> Path:
    """Locate the node_modules holding the translator: $CPG_NODE_MODULES, else walk up from here."""
    env = os.environ if env is None else env
    configured = env.get("CPG_NODE_MODULES")
    candidates = [Path(configured)] if configured else [p / "node_modules" for p in start.parents]
    for candidate in candidates:
        if (candidate / "@cqframework" / "cql").is_dir():
            missing = [pkg for pkg in _REQUIRED_PACKAGES if not (candidate / pkg).is_dir()]
            if missing:
                raise TranslatorUnavailable(
                    f"{candidate} lacks {', '.join(missing)}; run `npm ci` in the repository root"
                )
            return candidate
    where = f"CPG_NODE_MODULES={configured}" if configured else f"any folder above {start.parent}"
    raise TranslatorUnavailable(
        f"the CQL translator (node_modules/@cqframework/cql) was not found in {where}; "
        "run `npm ci` in the repository root (or set CPG_NODE_MODULES)"
    )


class Translator:
    """One Node translator process, reused for every `translate` call. Not shareable across threads
    for concurrent calls (calls are serialised by a lock)."""

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        timeout: float = 120.0,
        startup_timeout: float = 60.0,
        env: Mapping[str, str] | None = None,
        max_heap_mb: int = MAX_HEAP_MB,
        restart_heap_share: float = RESTART_HEAP_SHARE,
    ) -> None:
        merged = dict(DEFAULT_OPTIONS)
        merged.update(options or {})
        merged["options"] = tuple(merged["options"])
        self.options: Mapping[str, Any] = MappingProxyType(merged)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.max_heap_mb = max_heap_mb
        self.restart_heap_share = restart_heap_share
        self.restarts = 0
        self._calls = threading.Lock()  # a translation and the restart it may trigger are one step
        self._env = dict(os.environ if env is None else env)
        self._node = JsonLinesProcess(
            env=self._env, error=TranslatorError, name="the translator", label="translator",
            thread_name="cql-translator",
        )
        self.translator_version: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> "Translator":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._node.pid

    def start(self) -> None:
        """Start node and wait until the translator answers a ping (raises TranslatorUnavailable)."""
        if self._node.pid is not None:
            return
        node = find_node(self._env)
        node_modules = find_node_modules(self._env)
        if not SCRIPT.is_file():
            raise TranslatorUnavailable(f"translator script {SCRIPT} is missing (broken installation)")
        self._node.start([node, f"--max-old-space-size={self.max_heap_mb}", "--expose-gc", str(SCRIPT),
                          "--node-modules", str(node_modules)])
        try:
            reply = self._request({"op": "ping"}, timeout=self.startup_timeout)
        except TranslatorError as exc:
            self.close()
            raise TranslatorUnavailable(f"the CQL translator did not start: {exc}") from exc
        self.translator_version = reply.get("translatorVersion")

    def close(self) -> None:
        """Close stdin (the server exits on EOF), then reap the process; kill it if it lingers."""
        self._node.close()

    def stderr_tail(self) -> str:
        return self._node.stderr_tail()

    # -- protocol ------------------------------------------------------------------------------
    def _request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        if not self._node.running:
            raise TranslatorError("translator is not running (use `with Translator() as t:`)")
        reply = self._node.request(payload, timeout)
        if "error" in reply:
            raise TranslatorError(f"translator error: {reply['error']}")
        return reply

    def ping(self) -> dict[str, Any]:
        return self._request({"op": "ping"}, timeout=self.timeout)

    def translate(
        self,
        libraries: Mapping[str, str],
        targets: Sequence[str] | None = None,
        *,
        timeout: float | None = None,
        session: str | None = None,
    ) -> dict[str, Translation]:
        """Translate CQL libraries keyed by library name; they may include each other by name.

        `targets` limits which libraries are translated and returned (the others are only served
        as include sources, e.g. FHIRHelpers); by default every library is translated.
        With `session`, libraries sent earlier in the same session (by this process: see
        `restarts`) are still served and their compilations reused (generator.cql.library_set).
        """
        names = list(libraries if targets is None else targets)
        unknown = [n for n in names if n not in libraries]
        if unknown and session is None:
            raise ValueError(f"targets not among the libraries: {', '.join(unknown)}")
        payload = {
            "op": "translate",
            "libraries": dict(libraries),
            "targets": names,
            "options": {**self.options, "options": list(self.options["options"])},
            "collectAbove": self.restart_heap_share,
        }
        if session is not None:
            payload["session"] = session
        with self._calls:
            try:
                reply = self._request(payload, timeout=self.timeout if timeout is None else timeout)
            except TranslatorError as exc:
                if not self._node.alive:
                    self._recover()  # a dead process (heap exhausted, killed, hung) must not fail every later request
                if "heap out of memory" in str(exc):
                    raise TranslatorError(
                        f"the translator ran out of its {self.max_heap_mb} MB heap translating {len(libraries)} "
                        "libraries in one request: send fewer (each with what it includes) or raise max_heap_mb"
                    ) from exc
                raise
            results: dict[str, Translation] = {}
            for name in names:
                raw = reply["results"].get(name)
                if raw is None:
                    raise TranslatorError(f"translator returned no result for library {name}")
                results[name] = _translation(name, raw)
            if float(reply.get("heapShare") or 0.0) > self.restart_heap_share:
                self._restart()
        return results

    def _recover(self) -> None:
        """Replace a dead process so the next request works; this request's error is still raised."""
        try:
            self._restart()
        except TranslatorError:
            pass  # the next request reports that the translator is not running

    def _restart(self) -> None:
        """A fresh process in place of this one (see RESTART_HEAP_SHARE); results do not depend on it."""
        self.close()
        try:
            self.start()
        except TranslatorUnavailable as exc:  # it ran a moment ago: a failure now is not "unavailable"
            raise TranslatorError(f"the translator could not be restarted: {exc}") from exc
        self.restarts += 1


class EarlyTranslator:
    """A translator of our own, started on a thread as soon as it is created.

    Why: Node's start-up (~0.5 s) then overlaps Python's imports and the loading of the
    definitions. A start failure (Node missing, npm packages absent) is raised by `get`, i.e.
    where the CQL phase first needs the translator, not earlier.
    """

    def __init__(self, translator: Translator | None = None) -> None:
        self.translator = translator or Translator()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="cpg-translator-start", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self.translator.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised by `get`
            self._error = exc

    def wait_started(self, timeout: float | None = None) -> None:
        """Return once the process answered (or failed to start), or after `timeout` seconds."""
        self._thread.join(timeout)

    def get(self) -> Translator:
        """The started translator (raises what starting it raised)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.translator

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None, session: str | None = None) -> dict[str, Translation]:
        """`Translator.translate` once started (so it can stand where a Translator is expected)."""
        return self.get().translate(libraries, targets, timeout=timeout, session=session)

    @property
    def restarts(self) -> int:
        return self.get().restarts

    def close(self) -> None:
        self._thread.join()
        self.translator.close()

    def __enter__(self) -> "EarlyTranslator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _translation(name: str, raw: Mapping[str, Any]) -> Translation:
    elm = raw.get("elm")
    messages = [CqlMessage.from_json(m) for m in raw.get("messages", [])]
    version: str | None = None
    if isinstance(elm, dict):
        version = elm.get("library", {}).get("identifier", {}).get("version")
    if version is None:
        version = next((m.version for m in messages if m.library == name and m.version), None)
    elm_json = dump_json_text(elm) if elm is not None else ""
    return Translation(name=name, version=version, elm=elm, elm_json=elm_json, messages=messages)
