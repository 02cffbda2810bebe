"""R4 JSON primitive values: the JSON type each FHIR primitive must have and its lexical rules.

R4 JSON is strict (http://hl7.org/fhir/R4/json.html#primitive): boolean, integer and decimal
values are JSON booleans and numbers, every other primitive is a JSON string; `null` only
appears inside an array to keep it aligned with its `_name` array. Lexical rules are the
`regex` of each type's value element in the R4 StructureDefinitions (profiles-types.json;
`tests/validate/test_primitives.py` compares them), plus the datatype page's prose: strings
SHALL NOT exceed 1 MB and need non-whitespace content; ids are 1-64 characters.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

MAX_STRING_BYTES = 2**20
_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
REGEX: dict[str, re.Pattern[str]] = {name: re.compile(pattern) for name, pattern in {
    "date": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
    "dateTime": _YEAR + r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T" + _TIME + _ZONE + r")?)?)?",
    "instant": _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T" + _TIME + _ZONE,
    "time": _TIME,
    "code": r"[^\s]+(\s[^\s]+)*",
    "id": r"[A-Za-z0-9\-\.]{1,64}",
    "oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "uri": r"\S*", "url": r"\S*", "canonical": r"\S*",
}.items()}
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
INTEGERS = {"integer": -2**31, "unsignedInt": 0, "positiveInt": 1}  # type -> minimum (maximum 2^31-1)
STRINGS = frozenset({"string", "markdown", "xhtml", "date", "dateTime", "instant", "time", "code", "id", "oid",
                     "uuid", "uri", "url", "canonical", "base64Binary"})
PRIMITIVES = frozenset({"boolean", "decimal", *INTEGERS, *STRINGS})


def primitive_type(element_path: str, type_code: str, resource_types: frozenset[str]) -> str:
    """The FHIR primitive behind a type code (`System.String` is Resource.id's id, Extension.url's
    uri, every other element id's string)."""
    if not type_code.startswith("http://hl7.org/fhirpath/System."):
        return type_code
    parts = element_path.split(".")
    if len(parts) == 2 and parts[1] == "id" and parts[0] in resource_types:
        return "id"
    return "uri" if element_path == "Extension.url" else "string"


def json_name(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def json_type_problem(ftype: str, value: Any) -> str | None:
    """Why `value` has the wrong JSON type for FHIR primitive `ftype` (None when right)."""
    if ftype == "boolean":
        ok, want = isinstance(value, bool), "a JSON boolean"
    elif ftype in INTEGERS:
        ok, want = isinstance(value, int) and not isinstance(value, bool), "a JSON integer number"
    elif ftype == "decimal":
        ok, want = isinstance(value, (int, float)) and not isinstance(value, bool), "a JSON number"
    else:
        ok, want = isinstance(value, str), "a JSON string"
    return None if ok else f"{ftype} must be {want}, not a JSON {json_name(value)} ({_shown(value)})"


def format_problem(ftype: str, value: Any) -> str | None:
    """Why a value of the right JSON type breaks the lexical rules of `ftype` (None when fine)."""
    if ftype in INTEGERS:
        if not INTEGERS[ftype] <= value <= 2**31 - 1:
            return f"{value} is outside the range of {ftype}"
        return None
    if not isinstance(value, str) or value == "":
        return None  # JSON types are checked first; empty strings are ele-1
    if ftype in ("string", "markdown"):
        if not value.strip():
            return f"a {ftype} must have non-whitespace content"
        if len(value) > MAX_STRING_BYTES // 4 and len(value.encode("utf-8", "surrogatepass")) > MAX_STRING_BYTES:
            return f"a {ftype} must not exceed 1 MB ({len(value.encode('utf-8', 'surrogatepass')):,} bytes)"
        return None
    if ftype == "base64Binary":
        # R4's regex `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`, checked without the regex engine (attachments run to MBs)
        packed = value if _BASE64.fullmatch(value) else "".join(value.split())
        if len(packed) % 4 or not _BASE64.fullmatch(packed):
            return "not valid base64"
        return None
    pattern = REGEX.get(ftype)
    if pattern is not None and not pattern.fullmatch(value):
        if ftype in ("uri", "url", "canonical"):
            return f"a {ftype} must not contain whitespace ({_shown(value)})"
        if ftype == "id" and len(value) > 64:
            return f"an id has at most 64 characters ({len(value)})"
        return f"{_shown(value)} is not a valid {ftype}"
    if ftype in ("date", "dateTime", "instant") and len(value) >= 10:
        try:
            dt.date.fromisoformat(value[:10])
        except ValueError:
            return f"{_shown(value)} is not a calendar date"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
