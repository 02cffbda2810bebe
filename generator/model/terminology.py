"""Terminology an author writes with: code systems, codes, value sets, quantities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.canonicals import LOINC as LOINC_URI
from generator.canonicals import RXNORM as RXNORM_URI
from generator.canonicals import SNOMED as SNOMED_URI
from generator.canonicals import UCUM as UCUM_URI
from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.errors import AuthorError

ICD10CM_URI = "http://hl7.org/fhir/sid/icd-10-cm"
_ICD10CM_CODE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def code_problem(system: str, code: str) -> str | None:
    """Why `code` cannot belong to `system` (format and check digit), or None.

    Only format is decidable offline: a well-formed code may still not exist in the system.
    """
    from generator.validate._terminology import loinc_problem, snomed_problem

    if system == SNOMED_URI:
        problem = snomed_problem(code)
        if problem and re.match(r"^\d{1,7}-\d$", code):
            problem += " (it looks like a LOINC code)"
        return problem and f"SNOMED CT code {code!r} {problem}"
    if system == LOINC_URI:
        problem = loinc_problem(code)
        return problem and f"LOINC code {code!r} {problem}"
    if system == RXNORM_URI and not code.isdigit():
        return f"RxNorm code {code!r} is not numeric"
    if system == ICD10CM_URI and not _ICD10CM_CODE.match(code):
        return f"ICD-10-CM code {code!r} is not of the form A00 or A00.0000"
    return None


def unit_problem(unit: str) -> str | None:
    """Why `unit` is not valid case-sensitive UCUM, or None."""
    from generator.validate._terminology import ucum_problem

    if not isinstance(unit, str):
        return f"unit must be a string, got {type(unit).__name__}"
    problem = ucum_problem(unit)
    return problem and f"unit {unit!r} is not valid case-sensitive UCUM: {problem}"


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
        """`note`: where the code's meaning was confirmed, or "UNCONFIRMED: ..." (shown on the site)."""
        if not isinstance(code, str) or not isinstance(display, str):
            raise AuthorError("ARG001", f"{self.name}(code, display) takes two strings, got {code!r:.30}, {display!r:.30}")
        if note is not None and not isinstance(note, str):
            raise AuthorError("ARG001", f"{self.name}(..., note=) takes a string, got {note!r:.30}")
        problem = code_problem(self.uri, code)
        if problem:
            raise AuthorError("TERM001", problem)
        return Code(self.uri, code, display, note)


SNOMED = CodeSystem("SNOMEDCT", SNOMED_URI)
LOINC = CodeSystem("LOINC", LOINC_URI)
RXNORM = CodeSystem("RXNORM", RXNORM_URI)
ICD10CM = CodeSystem("ICD10CM", ICD10CM_URI)

#: Names used for code systems in generated CQL when the author did not declare one.
KNOWN_SYSTEM_NAMES: dict[str, str] = {cs.uri: cs.name for cs in (SNOMED, LOINC, RXNORM, ICD10CM)}


@dataclass(frozen=True)
class Rule:
    """An intensional part of a value set: `is_a(SNOMED(...))`, `code_prefix(ICD10CM, "N18")`, ...

    `kind` is "is-a" (the concept and its descendants), "prefix" (codes starting with `value`) or
    "range" (ICD-10-CM categories `value`..`to`, each with its descendants).
    """

    kind: str
    system: str
    value: str
    to: str | None = None
    display: str | None = None


def is_a(code: Code) -> Rule:
    """The concept and all its descendants (SNOMED CT or any hierarchical system)."""
    if not isinstance(code, Code):
        raise AuthorError("ARG001", f"is_a() needs a Code, got {code!r:.40}")
    return Rule("is-a", code.system, code.code, display=code.display)


def code_prefix(system: CodeSystem, prefix: str) -> Rule:
    """Every code of `system` that starts with `prefix` (ICD-10-CM: "N18" is N18 and all N18.x)."""
    if not isinstance(system, CodeSystem) or not isinstance(prefix, str) or not prefix:
        raise AuthorError("ARG001", "code_prefix(system, prefix) needs a CodeSystem and a non-empty string")
    if system.uri == ICD10CM_URI and not re.match(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{0,4})?$|^[A-TV-Z][0-9]?$", prefix):
        raise AuthorError("TERM003", f"{prefix!r} is not the beginning of an ICD-10-CM code")
    return Rule("prefix", system.uri, prefix)


def code_range(system: CodeSystem, first: str, last: str) -> Rule:
    """ICD-10-CM categories `first`..`last` (e.g. "I20".."I25") with all their subcodes."""
    category = re.compile(r"^[A-TV-Z][0-9]{2}$")
    if not isinstance(system, CodeSystem) or system.uri != ICD10CM_URI:
        raise AuthorError("TERM003", "code_range() is defined for ICD-10-CM categories (ICD10CM, 'I20', 'I25')")
    if not (isinstance(first, str) and isinstance(last, str) and category.match(first) and category.match(last)
            and first[0] == last[0] and first <= last):
        raise AuthorError("TERM003", f"code_range({first!r}, {last!r}) needs two 3-character ICD-10-CM categories "
                          "of one chapter letter, first <= last")
    return Rule("range", system.uri, first, to=last)


@dataclass(eq=False)
class ValueSet:
    """A value set the guideline publishes as a FHIR ValueSet resource.

    `codes` lists concepts; `rules` adds intensional parts (`is_a`, `code_prefix`, `code_range`).
    A value set with rules needs `expansion=`: a JSON file under the guideline package (path
    relative to it) with its `source`, `date` and `contains`, exported from a terminology
    server; the build publishes it as ValueSet.expansion and checks it agrees with the rules.
    """

    id: str
    title: str
    codes: list[Code] = field(default_factory=list)
    description: str | None = None
    rules: list[Rule] = field(default_factory=list)
    expansion: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.codes, (list, tuple)) or not isinstance(self.rules, (list, tuple)):
            raise AuthorError("ARG001", f"value set '{self.id}': codes= and rules= are lists")
        for code in self.codes:
            if not isinstance(code, Code):
                raise AuthorError("ARG001", f"value set '{self.id}': {code!r:.40} is not a Code (e.g. SNOMED('...', '...'))")
        for rule in self.rules:
            if not isinstance(rule, Rule):
                raise AuthorError("ARG001", f"value set '{self.id}': {rule!r:.40} is not a rule (is_a, code_prefix, code_range)")
        if not self.codes and not self.rules:
            raise AuthorError("TERM002", f"value set '{self.id}' is empty: give codes= or rules=")

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class Quantity:
    """A UCUM quantity, e.g. `Quantity(30, "mL/min")`."""

    value: int | float
    unit: str

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise AuthorError("ARG001", f"Quantity value must be a number, got {self.value!r:.40}")
        problem = unit_problem(self.unit)
        if problem:
            raise AuthorError("UNIT001", problem)

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

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise AuthorError("ARG001", f"a duration is a whole non-negative number of {self.unit}, got {self.value!r:.40}")

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


#: Non-UCUM unit spellings common in EHR data -> the UCUM unit they mean. An observation value in
#: one of these is read as the UCUM unit (README "Values as they arrive"); any other unit that is not
#: the threshold's own is not converted: the value is not used and is listed in "Data Problems".
EHR_UNIT_SPELLINGS: dict[str, str] = {
    "mL/min/1.73m2": "mL/min/{1.73_m2}",
    "mL/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "mL/min/1.73m^2": "mL/min/{1.73_m2}",
    "mL/min/{1.73m2}": "mL/min/{1.73_m2}",
    "mL/min/1.73.m2": "mL/min/{1.73_m2}",
    "mmHg": "mm[Hg]",
    "mm Hg": "mm[Hg]",
    "mcg": "ug",
    "IU": "[iU]",
    "IU/L": "[iU]/L",
    "kg/m^2": "kg/m2",
    "bpm": "/min",
    "beats/min": "/min",
    "mg/g creat": "mg/g",
    "mg/g{creat}": "mg/g",
}


def unit_spellings(unit: str) -> list[str]:
    """`unit` and every EHR spelling that means it (sorted, deterministic)."""
    return sorted({unit, *(k for k, v in EHR_UNIT_SPELLINGS.items() if v == unit)})
