"""`generator.jsonfmt`: orjson-backed, yet byte-identical to the standard library's indented output.

Every file the tool writes goes through `dump_json`; the switch to orjson was only allowed
because its bytes equal `json.dumps(data, indent=2, ensure_ascii=False) + "\\n"` (UTF-8).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.jsonfmt import JSONDecodeError, dump_compact, dump_json, dump_json_text, load_json

ROOT = Path(__file__).resolve().parents[2]
VCF = ROOT / "output" / "vertebral-compression-fracture"
RESOURCES = sorted((VCF / "resources").glob("*.json"))
OTHER_JSON = sorted(p for p in VCF.rglob("*.json") if p.parent != VCF / "resources")


def reference(data: Any) -> bytes:
    """The format every written file had before orjson: the standard library's."""
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


TRICKY: dict[str, Any] = {
    "non-ascii": "é 漢字 😀 \u00a0 \u2028 \u2029 Ω",
    "control": "\x00 \x01 \x1f \x7f \t \n \r \b \f",
    "quotes and backslashes": 'say "hi" \\ C:\\path\\ \\"escaped\\" \'single\'',
    "html": "</script><script>alert('x')</script> <!-- & &amp; ]]>",
    "empty containers": {"dict": {}, "list": [], "nested": [{}, [], [{}], {"a": []}], "empty string": ""},
    "ints": [0, 1, -1, 42, -42, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63)],
    "floats": [0.1, 0.5, -0.25, 100.0, 1.5e300, -1.5e300, 1e16, 1e22, 123.456, 0.0001, 3.141592653589793,
               5e-324, 1.7976931348623157e308, -0.0],
    "booleans and null": [True, False, None, {"t": True, "f": False, "n": None}],
    "keys": {"": 0, "é": 1, "a b": 2, 'q"uote': 3, "back\\slash": 4, "\n": 5, "漢": 6},
    "deep": [[[[[{"x": [[{"y": {"z": [1, [2, [3, [4, [5, {}]]]]]}}]]}]]]]],
    "unordered keys keep insertion order": {"b": 1, "a": 2, "c": {"z": 1, "y": 2}},
}


@pytest.mark.parametrize("key", sorted(TRICKY))
def test_dump_json_matches_stdlib_on_tricky_values(key: str) -> None:
    value = TRICKY[key]
    assert dump_json(value) == reference(value)
    assert dump_json({key: value}) == reference({key: value})


def test_dump_json_matches_stdlib_on_everything_at_once() -> None:
    assert dump_json(TRICKY) == reference(TRICKY)
    assert dump_json([TRICKY, TRICKY]) == reference([TRICKY, TRICKY])


@pytest.mark.parametrize("value", [{}, [], "", 0, -7, 0.1, 100.0, True, False, None, "é", [{}], {"a": {}}],
                         ids=repr)
def test_dump_json_matches_stdlib_on_scalars_and_empties(value: Any) -> None:
    assert dump_json(value) == reference(value)


def test_deep_nesting_matches_stdlib() -> None:
    value: Any = "leaf"
    for depth in range(100):
        value = {f"level{depth}": [value, depth]} if depth % 2 else [value]
    assert dump_json(value) == reference(value)


@pytest.mark.parametrize(("value", "spelled"), [(1e-7, b"1e-7"), (1e-5, b"0.00001"), (2.5e-5, b"0.000025"), (-1e-6, b"-1e-6")])
def test_small_floats_are_valid_json_in_shortest_form(value: float, spelled: bytes) -> None:
    """The one documented difference from the standard library (which writes 1e-07): exponents of
    floats below 1e-4 are spelled as orjson spells them (1e-7, 0.00001). Still valid JSON that reads back to the same number."""
    out = dump_json({"v": value})
    assert spelled in out
    assert json.loads(out)["v"] == value


def test_dump_json_is_utf8_bytes_with_a_final_newline() -> None:
    data = {"a": "é😀", "b": [1, 2]}
    out = dump_json(data)
    assert isinstance(out, bytes)
    assert out.endswith(b"}\n") and not out.endswith(b"\n\n")
    assert "é😀".encode() in out  # not \u-escaped
    assert dump_json_text(data) == out.decode("utf-8")


def test_dump_compact_is_one_line_like_stdlib_compact() -> None:
    data = {"id": 3, "text": "line\nbreak é", "nested": {"x": [1, 2.5, None]}}
    out = dump_compact(data)
    assert out == json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert b"\n" not in out


@pytest.mark.parametrize("path", RESOURCES, ids=lambda p: p.name)
def test_written_resources_round_trip_byte_for_byte(path: Path) -> None:
    raw = path.read_bytes()
    assert dump_json(json.loads(raw)) == raw
    assert dump_json(load_json(raw)) == raw


@pytest.mark.parametrize("path", OTHER_JSON, ids=lambda p: p.relative_to(VCF).as_posix())
def test_other_written_json_round_trips_byte_for_byte(path: Path) -> None:
    raw = path.read_bytes()
    assert dump_json(json.loads(raw)) == raw


def test_the_output_folder_has_resources_to_compare() -> None:
    assert len(RESOURCES) > 50  # the parametrized round trip above really ran over the built guideline


def test_load_json_reads_str_and_bytes_like_stdlib() -> None:
    text = '{"a": [1, 2.5, -3, true, false, null], "é": "漢字 \\u00e9 \\ud83d\\ude00"}'
    assert load_json(text) == json.loads(text)
    assert load_json(text.encode("utf-8")) == json.loads(text)


@pytest.mark.parametrize("bad", ["", "{", '{"a": 1,}', "[1, 2", "{'a': 1}", "nope", b"\xff\xfe", '{"a" 1}'],
                         ids=repr)
def test_load_json_raises_a_value_error_on_bad_input(bad: str | bytes) -> None:
    with pytest.raises(ValueError) as info:
        load_json(bad)
    assert isinstance(info.value, JSONDecodeError)
    # Callers written for the standard library (`except json.JSONDecodeError`) keep working.
    assert issubclass(JSONDecodeError, json.JSONDecodeError)
    assert issubclass(JSONDecodeError, ValueError)


def test_nesting_deeper_than_orjson_allows_falls_back_to_the_same_bytes() -> None:
    """ELM of a long `or` chain nests hundreds of levels; orjson stops at about 254."""
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(400):
        node["operand"] = [{}]
        node = node["operand"][0]
    assert dump_json(deep) == reference(deep)
    assert load_json(dump_json(deep)) == deep
    assert load_json(dump_compact(deep)) == deep
