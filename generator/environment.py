"""Faults of the machine, not of the input: each gets a stable ENV code, says how to fix it, and
ends the command with exit code 2 (never "internal error").

Why one classifier: Node is used by the translator, the engine and their start-up paths, and a
full disk or a read-only folder can surface in any phase that writes; the CLI's last-resort
handler asks `environment_fault` before it would call something a bug.
"""

from __future__ import annotations

import errno
import re

from generator.diagnostics import Diagnostic, GeneratorError

__all__ = ["EnvironmentFault", "environment_fault", "ENV_CODES"]

#: code -> (what it is, the fix). Stable: users and scripts match on the codes.
ENV_CODES: dict[str, tuple[str, str]] = {
    "ENV001": ("Node.js not found", "install Node.js >= 18 (https://nodejs.org) or set CPG_NODE to its path"),
    "ENV002": ("Node.js too old", "install Node.js >= 18 or point CPG_NODE at a newer one"),
    "ENV003": ("npm packages missing", "run `npm ci` in the repository root (or `make setup`)"),
    "ENV004": ("Node process hung", "the Node process stopped answering and was stopped; check the machine's "
                                    "load and rerun"),
    "ENV005": ("Node process died", "the Node process was killed or crashed (often out of memory); free memory, "
                                    "or split the work (fewer guidelines per run), and rerun"),
    "ENV006": ("disk full", "free disk space (or choose another --output) and rerun; output/ was left as it was"),
    "ENV007": ("not writable", "make the folder writable or choose another --output"),
    "ENV008": ("out of memory", "free memory or split the work, and rerun"),
}

# (code, pattern on the message of a Node-side failure), first match wins
_NODE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((code, re.compile(pattern, re.I)) for code, pattern in (
    ("ENV001", r"not on PATH|does not name an existing Node|cannot run "),
    ("ENV002", r"reports version .* needs Node"),
    ("ENV003", r"npm ci|node_modules|engine script .* is missing"),
    ("ENV004", r"did not answer within"),
    ("ENV005", r"process died|exited unexpectedly|did not start|could not be restarted|heap out of memory|ran out of"),
))
_NODE_ERRORS = ("TranslatorError", "TranslatorUnavailable", "EngineError", "EngineUnavailable")


class EnvironmentFault(GeneratorError):
    """A fault of the environment: one diagnostic with an ENV code and the fix; exit code 2."""

    def __init__(self, code: str, detail: str) -> None:
        what, fix = ENV_CODES[code]
        super().__init__([Diagnostic(code, f"{what}: {detail.splitlines()[0] if detail else what}; fix: {fix}")],
                         exit_code=2)
        self.code = code


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def environment_fault(exc: BaseException) -> EnvironmentFault | None:
    """The environment fault behind `exc` (or its causes), None when it is something else."""
    for cause in _chain(exc):
        if isinstance(cause, EnvironmentFault):
            return cause
        if isinstance(cause, MemoryError):
            return EnvironmentFault("ENV008", "Python ran out of memory")
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return EnvironmentFault("ENV006", f"no space left writing {cause.filename or 'output'}")
        if isinstance(cause, OSError) and cause.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return EnvironmentFault("ENV007", f"cannot write {cause.filename or 'output'} ({cause.strerror})")
        if type(cause).__name__ in _NODE_ERRORS or any(t.__name__ in _NODE_ERRORS for t in type(cause).__mro__):
            message = str(cause)
            for code, pattern in _NODE_PATTERNS:
                if pattern.search(message):
                    return EnvironmentFault(code, message)
    return None
