"""Located diagnostics shared by every phase.

Every problem the tool finds, in author definitions, CQL or FHIR artifacts, is a
`Diagnostic`: a stable code (grouped by phase: LOAD, REF, RULE, CQL, FHIR, CHK, TERM,
PUB, ...), a severity, a message and where it happened. Phases collect diagnostics and
the caller fails once, listing all of them (the SUSHI / CDK habit).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "information"


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in an author file: `definitions/x/recs.py:42`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    @classmethod
    def relative(cls, file: str | Path, line: int, root: Path | None = None) -> "SourceLocation":
        """Make a location with the path relative to `root` (the cwd by default) when possible."""
        path = Path(file).resolve()
        base = (root or Path.cwd()).resolve()
        try:
            shown = str(path.relative_to(base))
        except ValueError:
            shown = str(path)
        return cls(shown, line)


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `location` is an author file:line; `resource`/`path` name a FHIR place."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    location: SourceLocation | None = None
    resource: str | None = None  # e.g. "PlanDefinition/vcf-calcitonin"
    path: str | None = None  # FHIRPath inside the resource, e.g. "action[0].condition[0]"
    subject: str | None = None  # construct path, e.g. "vertebral-compression-fracture/rec:kyphoplasty"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        parts = [f"{self.severity.value}[{self.code}]"]
        if self.location is not None:
            parts.append(str(self.location))
        if self.resource is not None:
            parts.append(self.resource + (f" @ {self.path}" if self.path else ""))
        if self.subject is not None:
            parts.append(self.subject + ":")
        elif self.location is not None or self.resource is not None:
            parts[-1] += ":"
        parts.append(self.message)
        return " ".join(parts)


def summary(diagnostics: list[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"


@dataclass
class DiagnosticBag:
    """A collector that phases append to; `errors` tells the caller whether to stop."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def error(self, code: str, message: str, **where: object) -> None:
        self.items.append(Diagnostic(code, message, Severity.ERROR, **where))  # type: ignore[arg-type]

    def warning(self, code: str, message: str, **where: object) -> None:
        self.items.append(Diagnostic(code, message, Severity.WARNING, **where))  # type: ignore[arg-type]

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    @property
    def error_count(self) -> int:
        return sum(d.is_error for d in self.items)


class GeneratorError(Exception):
    """Raised to stop a command with diagnostics; carries the process exit code (click habit)."""

    exit_code = 1

    def __init__(self, diagnostics: list[Diagnostic], exit_code: int = 1):
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics
        self.exit_code = exit_code
