"""Remember where an author object was written, so diagnostics can point at it."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from generator.diagnostics import SourceLocation

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent) + os.sep  # with the separator: not generator-foo/


@functools.lru_cache(maxsize=1024)
def _is_author_file(filename: str) -> bool:
    """Cached: every author object asks, and resolving a path is a handful of system calls."""
    return not filename.startswith("<") and not str(Path(filename).resolve()).startswith(_PACKAGE_DIR)


@functools.lru_cache(maxsize=1024)
def _shown(filename: str, cwd: str) -> str:
    return SourceLocation.relative(filename, 0, Path(cwd)).file


def caller_location() -> SourceLocation | None:
    """The first stack frame outside the generator package: the author's file and line."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if _is_author_file(filename):
            return SourceLocation(_shown(filename, str(Path.cwd())), frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None
