"""Remember where an author object was written, so diagnostics can point at it."""

from __future__ import annotations

import ast
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


@functools.lru_cache(maxsize=64)
def _parsed(path: str, mtime: float) -> ast.Module | None:
    try:
        return ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def keyword_line(location: SourceLocation, keyword: str) -> int | None:
    """The line where `keyword=`'s value starts in the call written at `location` (None if not found).

    Raw CQL errors are reported at the line *inside* the author's `cql=` string, so we need where
    that string begins, not where the call begins.
    """
    path = Path(location.file)
    try:
        tree = _parsed(str(path.resolve()), path.stat().st_mtime)
    except OSError:
        return None
    if tree is None:
        return None
    best: ast.keyword | None = None
    best_start = -1
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno <= location.line <= (node.end_lineno or node.lineno):
            for kw in node.keywords:
                if kw.arg == keyword and node.lineno > best_start:
                    best, best_start = kw, node.lineno
    return best.value.lineno if best is not None else None
