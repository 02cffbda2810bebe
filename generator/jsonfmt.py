"""The one JSON formatting of every file the tool writes (2-space indent, UTF-8, final newline).

A module of its own, importing nothing from the project, so every phase can share it
without import cycles. orjson, because the standard library's encoder falls back to pure
Python whenever `indent` is set: a build dumps every resource up to four times (file, two
bundles, package) and that was the largest single cost of WRITE. Its indented output is
byte-identical to `json.dumps(data, indent=2, ensure_ascii=False)` (tests pin that, on every
built file too) except for floats below 1e-4, spelled `1e-7` or `0.00001` where the standard library writes
`1e-07` or `1e-05`: valid JSON for the same number either way. Like FHIR JSON, it has no NaN or Infinity.
What orjson refuses (nesting deeper than its limit) goes through the standard library, same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def dump_json(data: Any) -> bytes:
    """Indented UTF-8 JSON with a final newline: the format of every written file."""
    try:
        return orjson.dumps(data, option=_INDENTED)
    except orjson.JSONEncodeError:  # e.g. nesting deeper than orjson's limit (~254): ELM of long `or` chains
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def dump_json_text(data: Any) -> str:
    return dump_json(data).decode("utf-8")


def dump_compact(data: Any) -> bytes:
    """One-line UTF-8 JSON (protocol messages to Node)."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def load_json(data: str | bytes) -> Any:
    """Parse JSON text (raises `JSONDecodeError`, a `ValueError`, like the standard library)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # deeper nesting than orjson reads, or the standard library's own error


JSONDecodeError = json.JSONDecodeError
