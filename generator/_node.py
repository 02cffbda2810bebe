"""A long-lived Node.js child process speaking JSON lines, shared by the CQL translator and engine.

One request per stdin line, one reply per stdout line, each reply carrying the request's `id`.
`JsonLinesProcess` owns the pipes, the stdout/stderr pump threads, a bounded stderr tail for error
messages, and shutdown. Callers own the protocol on top (which ops, what replies mean) and choose
the exception class and the wording of the messages, so each client keeps its own error types.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from generator.jsonfmt import JSONDecodeError, dump_compact, load_json

__all__ = ["MIN_NODE_MAJOR", "JsonLinesProcess", "find_node"]

MIN_NODE_MAJOR = 18
_STDERR_TAIL_LINES = 40


def _node_major(version_text: str) -> int | None:
    match = re.match(r"v?(\d+)\.", version_text.strip())
    return int(match.group(1)) if match else None


def find_node(env: Mapping[str, str] | None, *, user: str, error: type[Exception]) -> str:
    """Locate a usable `node` (>= 18): $CPG_NODE, else `node` on PATH.

    `user` names what needs Node in the messages ("CQL translator"); `error` is raised with them.
    """
    env = os.environ if env is None else env
    configured = env.get("CPG_NODE")
    if configured:
        node = configured if os.path.isfile(configured) else shutil.which(configured)
        if not node:
            raise error(
                f"CPG_NODE={configured!r} does not name an existing Node.js binary; "
                f"point it at node >= {MIN_NODE_MAJOR} or unset it to use `node` from PATH"
            )
    else:
        node = shutil.which("node", path=env.get("PATH"))
        if not node:
            raise error(
                f"Node.js (>= {MIN_NODE_MAJOR}) is needed to run the {user} but `node` is not on PATH; "
                "install Node.js (https://nodejs.org) or set CPG_NODE to its path"
            )
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError as exc:
        raise error(f"cannot run {node!r}: {exc}; install Node.js >= {MIN_NODE_MAJOR}") from exc
    major = _node_major(out.stdout)
    if major is None or major < MIN_NODE_MAJOR:
        raise error(
            f"{node} reports version {out.stdout.strip() or '?'}; the {user} needs Node.js >= {MIN_NODE_MAJOR}"
        )
    return node


class JsonLinesProcess:
    """One child process answering JSON-line requests; requests are serialised by a lock.

    Failures (the process died, stayed silent past the timeout, answered garbage or the wrong
    request) raise `error`. The messages name the process: `name` as their subject ("the
    translator process died"), `label` for its stderr and replies ("translator stderr",
    "unreadable translator reply") and `answerer` for a reply to the wrong request (default
    `label`). A reply carrying an "error" member is returned as is; the caller words it.
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        error: type[Exception],
        name: str,
        label: str,
        answerer: str | None = None,
        thread_name: str = "node",
    ) -> None:
        self.env = env
        self.error = error
        self.name = name
        self.label = label
        self.answerer = label if answerer is None else answerer
        self.thread_name = thread_name
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._next_id = 0

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Started and not closed (the process may still have died on its own)."""
        return self._process is not None and self._process.stdin is not None

    @property
    def alive(self) -> bool:
        """Started, not closed, and the process has not exited."""
        return self._process is not None and self._process.poll() is None

    def start(self, argv: Sequence[str]) -> None:
        """Spawn `argv` with piped stdio and start the pump threads (no handshake)."""
        # Fresh channels: a previous process's end-of-stream marker must not reach this one.
        self._lines = queue.Queue()
        self._stderr = deque(maxlen=_STDERR_TAIL_LINES)
        self._process = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env
        )
        # Each pump is bound to this process and these channels, so a pump of a previous process
        # that outlives close()'s join (a restart) cannot write into the new ones.
        self._threads = [
            threading.Thread(target=self._pump_stdout, args=(self._process, self._lines),
                             name=f"{self.thread_name}-stdout", daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self._process, self._stderr),
                             name=f"{self.thread_name}-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

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

    def kill(self) -> None:
        """Kill the process if it still runs, then reap it as `close` does."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self.close()

    @staticmethod
    def _pump_stdout(process: subprocess.Popen[bytes], lines: queue.Queue[bytes | None]) -> None:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            lines.put(None)

    @staticmethod
    def _pump_stderr(process: subprocess.Popen[bytes], tail: deque[str]) -> None:
        assert process.stderr is not None
        try:
            for raw in process.stderr:
                tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
        except (OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    # -- protocol ------------------------------------------------------------------------------
    def _dead(self, what: str) -> Exception:
        process = self._process
        code = process.poll() if process is not None else None
        tail = self.stderr_tail()
        detail = f" (exit code {code})" if code is not None else ""
        return self.error(f"{what}{detail}" + (f"; {self.label} stderr:\n{tail}" if tail else ""))

    def request(self, payload: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """Send `payload` with a fresh id and return the matching reply; on timeout kill the process.

        The caller checks `running` first (its "not running" message is its own).
        """
        process = self._process
        if process is None or process.stdin is None:
            raise self.error(f"{self.name} is not running")
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            line = dump_compact({"id": request_id, **payload}) + b"\n"
            try:
                process.stdin.write(line)
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._dead(f"{self.name} process died ({exc})") from exc
            try:
                raw = self._lines.get(timeout=timeout)
            except queue.Empty:
                error = self._dead(f"{self.name} did not answer within {timeout:g} s")
                self.kill()
                raise error from None
            if raw is None:
                self._lines.put(None)  # keep reporting the death to later calls
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                raise self._dead(f"{self.name} process exited unexpectedly")
        try:
            reply: dict[str, Any] = load_json(raw)
        except JSONDecodeError as exc:
            raise self.error(f"unreadable {self.label} reply: {raw[:200]!r}") from exc
        if reply.get("id") != request_id:
            raise self.error(f"{self.answerer} answered request {reply.get('id')} instead of {request_id}")
        return reply
