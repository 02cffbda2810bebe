"""Remember where an author object was written, so diagnostics can point at it."""

from __future__ import annotations

import sys
from pathlib import Path

from generator.diagnostics import SourceLocation

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def caller_location() -> SourceLocation | None:
    """The first stack frame outside the generator package: the author's file and line."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not str(Path(filename).resolve()).startswith(_PACKAGE_DIR):
            return SourceLocation.relative(filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None
