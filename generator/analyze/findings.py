"""What `cpg analyze` reports: stable codes, severities, the author's file:line, and attachments.

Codes (stable; never reuse a number):
  ANALYZE001 error    conflict: one recommendation proposes what another advises against, for one patient
  ANALYZE002 info     the same activity is proposed by two recommendations for one patient
  ANALYZE003 info     a candidate conflict the engine did not confirm on any generated patient (not a conflict)
  ANALYZE010 warning  unreachable: no patient can make the recommendation apply
  ANALYZE011 info     always on: applies to every patient (or to everyone any other recommendation applies to)
  ANALYZE012 info     not analysable: the applicability uses logic the data-shape registry does not know
  ANALYZE020 warning  no scenario makes the recommendation applicable
  ANALYZE021 info     every scenario makes the recommendation applicable (none shows when it does not apply)
  ANALYZE022 info     no scenario makes the feature true
  ANALYZE023 info     no scenario makes the feature false
  ANALYZE024 info     the guideline has no scenarios (coverage cannot be measured)
  ANALYZE030 error    unknown guideline (usage)
  ANALYZE031 error    a witness could not be written to --output
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.diagnostics import Diagnostic, Severity, SourceLocation

__all__ = ["Finding", "Witness", "SEVERITY_RANK"]

SEVERITY_RANK = {Severity.ERROR: 2, Severity.WARNING: 1, Severity.INFO: 0}


@dataclass
class Witness:
    """A generated patient on which the engine confirmed the finding."""

    id: str
    date: str
    bundle: dict[str, Any]
    applicable: list[str]
    title: str
    file: str | None = None  # where --output wrote it
    scenario: str | None = None  # the ready-to-paste Scenario(...) line


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    guideline: str
    location: SourceLocation | None = None
    recommendations: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    witness: Witness | None = None

    @property
    def diagnostic(self) -> Diagnostic:
        subject = f"{self.guideline}/" + ("+".join(f"rec:{r}" for r in self.recommendations) if self.recommendations
                                         else ("feature:" + self.features[0] if self.features else "guideline"))
        return Diagnostic(self.code, self.message, self.severity, location=self.location, subject=subject)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code, "severity": self.severity.value, "message": self.message, "guideline": self.guideline,
            "location": str(self.location) if self.location else None,
            "recommendations": self.recommendations, "features": self.features,
        }
        if self.witness is not None:
            data["witness"] = {"id": self.witness.id, "date": self.witness.date, "file": self.witness.file,
                               "applicable": self.witness.applicable, "scenario": self.witness.scenario,
                               "bundle": self.witness.bundle}
        return data
