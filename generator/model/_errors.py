"""An author mistake found while a model object is being built: a stable code at the author's line.

Why an exception and not a diagnostic: the object cannot be built, so the import of the
definitions stops; LOAD reports it under its own code (not LOAD003) at the caller's file:line.
"""

from __future__ import annotations

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location


class ModelError(ValueError):
    """A located, coded authoring error raised at construction (e.g. RULE030 for a bad priority)."""

    def __init__(self, code: str, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.location = location or caller_location()
