"""Terminology an author writes with: code systems, codes, value sets, quantities."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.canonicals import LOINC as LOINC_URI
from generator.canonicals import RXNORM as RXNORM_URI
from generator.canonicals import SNOMED as SNOMED_URI
from generator.canonicals import UCUM as UCUM_URI
from generator.diagnostics import SourceLocation
from generator.model._location import caller_location


@dataclass(frozen=True)
class Code:
    """A coded concept: `SNOMED("46713006", "Nasal route")`."""

    system: str
    code: str
    display: str
    #: Where the code's meaning was confirmed (or "UNCONFIRMED: ..."); not part of the code's identity.
    note: str | None = field(default=None, compare=False)

    def to_coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class CodeSystem:
    """A named code system; call it to make codes: `SNOMED("123", "Display")`."""

    name: str
    uri: str

    def __call__(self, code: str, display: str, note: str | None = None) -> Code:
        return Code(self.uri, code, display, note)


SNOMED = CodeSystem("SNOMEDCT", SNOMED_URI)
LOINC = CodeSystem("LOINC", LOINC_URI)
RXNORM = CodeSystem("RXNORM", RXNORM_URI)

#: Names used for code systems in generated CQL when the author did not declare one.
KNOWN_SYSTEM_NAMES: dict[str, str] = {cs.uri: cs.name for cs in (SNOMED, LOINC, RXNORM)}


@dataclass(eq=False)
class ValueSet:
    """An extensional value set the guideline publishes as a FHIR ValueSet resource."""

    id: str
    title: str
    codes: list[Code]
    description: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, compare=False, repr=False)

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class Quantity:
    """A UCUM quantity, e.g. `Quantity(30, "mL/min")`."""

    value: int | float
    unit: str

    def to_fhir(self) -> dict[str, object]:
        return {"value": self.value, "unit": self.unit, "system": UCUM_URI, "code": self.unit}

    def to_cql(self) -> str:
        return f"{self.value} '{self.unit}'"


@dataclass(frozen=True)
class Duration:
    """A calendar duration for CQL date arithmetic and FHIR Duration: `weeks(4)`."""

    value: int
    unit: str  # CQL calendar unit keyword, plural: days, weeks, months, years

    _UCUM = {"days": "d", "weeks": "wk", "months": "mo", "years": "a"}

    def to_cql(self) -> str:
        return f"{self.value} {self.unit}"

    def to_fhir(self) -> dict[str, object]:
        return {"value": self.value, "unit": self.unit.rstrip("s") if self.value == 1 else self.unit,
                "system": UCUM_URI, "code": self._UCUM[self.unit]}

    def __str__(self) -> str:
        return f"{self.value} {self.unit.rstrip('s') if self.value == 1 else self.unit}"


def days(n: int) -> Duration:
    return Duration(n, "days")


def weeks(n: int) -> Duration:
    return Duration(n, "weeks")


def months(n: int) -> Duration:
    return Duration(n, "months")


def years(n: int) -> Duration:
    return Duration(n, "years")
