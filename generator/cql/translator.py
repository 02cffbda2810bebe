"""Python client for the official CQL-to-ELM translator (@cqframework/cql, Kotlin/JS build).

Why a long-lived Node process: loading the translator and the FHIR model info costs about a
second, a warm translation a few milliseconds. One `Translator` owns one `node` process running
`node/translator.mjs`, speaks JSON lines to it and is reused for every call. Callers own its
lifetime through the context manager; there is deliberately no shared module-level instance.

    with Translator() as t:
        results = t.translate({"VCF": vcf_cql, "FHIRHelpers": helpers_cql})
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, TracebackType

from generator.jsonfmt import dump_json_text
from typing import Any

__all__ = [
    "DEFAULT_OPTIONS",
    "MIN_NODE_MAJOR",
    "CqlMessage",
    "Translation",
    "Translator",
    "TranslatorError",
    "TranslatorUnavailable",
    "find_node",
    "find_node_modules",
]

SCRIPT = Path(__file__).resolve().parent / "node" / "translator.mjs"
MIN_NODE_MAJOR = 18

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
_STDERR_TAIL_LINES = 40


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

    @property
    def errors(self) -> list[CqlMessage]:
        return [m for m in self.messages if m.is_error]


def _node_major(version_text: str) -> int | None:
    match = re.match(r"v?(\d+)\.", version_text.strip())
    return int(match.group(1)) if match else None


def find_node(env: Mapping[str, str] | None = None) -> str:
    """Locate a usable `node` (>= 18): $CPG_NODE, else `node` on PATH."""
    env = os.environ if env is None else env
    configured = env.get("CPG_NODE")
    if configured:
        node = configured if os.path.isfile(configured) else shutil.which(configured)
        if not node:
            raise TranslatorUnavailable(
                f"CPG_NODE={configured!r} does not name an existing Node.js binary; "
                f"point it at node >= {MIN_NODE_MAJOR} or unset it to use `node` from PATH"
            )
    else:
        node = shutil.which("node", path=env.get("PATH"))
        if not node:
            raise TranslatorUnavailable(
                f"Node.js (>= {MIN_NODE_MAJOR}) is needed to run the CQL translator but `node` is not on PATH; "
                "install Node.js (https://nodejs.org) or set CPG_NODE to its path"
            )
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise TranslatorUnavailable(f"cannot run {node!r}: {exc}; install Node.js >= {MIN_NODE_MAJOR}") from exc
    major = _node_major(out.stdout)
    if major is None or major < MIN_NODE_MAJOR:
        raise TranslatorUnavailable(
            f"{node} reports version {out.stdout.strip() or '?'}; the CQL translator needs Node.js >= {MIN_NODE_MAJOR}"
        )
    return node


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
    ) -> None:
        merged = dict(DEFAULT_OPTIONS)
        merged.update(options or {})
        merged["options"] = tuple(merged["options"])
        self.options: Mapping[str, Any] = MappingProxyType(merged)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._env = dict(os.environ if env is None else env)
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._next_id = 0
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
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start node and wait until the translator answers a ping (raises TranslatorUnavailable)."""
        if self._process is not None:
            return
        node = find_node(self._env)
        node_modules = find_node_modules(self._env)
        if not SCRIPT.is_file():
            raise TranslatorUnavailable(f"translator script {SCRIPT} is missing (broken installation)")
        self._process = subprocess.Popen(
            [node, str(SCRIPT), "--node-modules", str(node_modules)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env,
        )
        self._threads = [
            threading.Thread(target=self._pump_stdout, name="cql-translator-stdout", daemon=True),
            threading.Thread(target=self._pump_stderr, name="cql-translator-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            reply = self._request({"op": "ping"}, timeout=self.startup_timeout)
        except TranslatorError as exc:
            self.close()
            raise TranslatorUnavailable(f"the CQL translator did not start: {exc}") from exc
        self.translator_version = reply.get("translatorVersion")

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
    def _dead(self, what: str) -> TranslatorError:
        process = self._process
        code = process.poll() if process is not None else None
        tail = self.stderr_tail()
        detail = f" (exit code {code})" if code is not None else ""
        return TranslatorError(f"{what}{detail}" + (f"; translator stderr:\n{tail}" if tail else ""))

    def _request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise TranslatorError("translator is not running (use `with Translator() as t:`)")
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            line = json.dumps({"id": request_id, **payload}, ensure_ascii=False) + "\n"
            try:
                process.stdin.write(line.encode("utf-8"))
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._dead(f"the translator process died ({exc})") from exc
            try:
                raw = self._lines.get(timeout=timeout)
            except queue.Empty:
                error = self._dead(f"the translator did not answer within {timeout:g} s")
                self._kill()
                raise error from None
            if raw is None:
                self._lines.put(None)  # keep reporting the death to later calls
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                raise self._dead("the translator process exited unexpectedly")
        try:
            reply: dict[str, Any] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise TranslatorError(f"unreadable translator reply: {raw[:200]!r}") from exc
        if reply.get("id") != request_id:
            raise TranslatorError(f"translator answered request {reply.get('id')} instead of {request_id}")
        if "error" in reply:
            raise TranslatorError(f"translator error: {reply['error']}")
        return reply

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self.close()

    def ping(self) -> dict[str, Any]:
        return self._request({"op": "ping"}, timeout=self.timeout)

    def translate(
        self,
        libraries: Mapping[str, str],
        targets: Sequence[str] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Translation]:
        """Translate CQL libraries keyed by library name; they may include each other by name.

        `targets` limits which libraries are translated and returned (the others are only served
        as include sources, e.g. FHIRHelpers); by default every library is translated.
        """
        names = list(libraries if targets is None else targets)
        unknown = [n for n in names if n not in libraries]
        if unknown:
            raise ValueError(f"targets not among the libraries: {', '.join(unknown)}")
        payload = {
            "op": "translate",
            "libraries": dict(libraries),
            "targets": names,
            "options": {**self.options, "options": list(self.options["options"])},
        }
        reply = self._request(payload, timeout=self.timeout if timeout is None else timeout)
        results: dict[str, Translation] = {}
        for name in names:
            raw = reply["results"].get(name)
            if raw is None:
                raise TranslatorError(f"translator returned no result for library {name}")
            results[name] = _translation(name, raw)
        return results


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
