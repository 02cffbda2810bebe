"""Strict R4 JSON and the validator's former blind spots: each class has a case that must be
reported and a close valid case that must not be."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.links import unsafe_link
from generator.validate import ValidationOptions, load_artifacts, validate
from generator.validate._definitions import find_package
from generator.validate._primitives import REGEX
from tests.validate.conftest import conformant_resources, find

AD = "ActivityDefinition/order-hba1c-test"
PD = "PlanDefinition/order-hba1c"
LIB = "Library/DiabetesLogic"
Change = Callable[[list[dict[str, Any]]], None]


def _set(ref: str, **values: Any) -> Change:
    return lambda res: find(res, ref).update(values)


def _codes(change: Change) -> set[str]:
    res = conformant_resources()
    change(res)
    return {d.code for d in validate(res, ValidationOptions(cql=False)) if d.is_error}


def _div(link: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{link}">x</a></div>'}


def _code_system(res: list[dict[str, Any]], code: str) -> None:
    res.append({"resourceType": "CodeSystem", "id": "local", "url": "http://example.org/cs", "status": "active",
                "content": "complete", "concept": [{"code": "a", "concept": [{"code": "a1"}]}]})
    find(res, AD)["code"]["coding"].append({"system": "http://example.org/cs", "code": code, "display": "A"})


# (rule, invalid change, valid counterpart)
CASES: dict[str, tuple[str, Change, Change]] = {
    "null": ("base.json-null", _set(AD, title=None), _set(AD, title="Order HbA1c")),
    "string-as-boolean": ("base.json-type", _set(AD, experimental="true"), _set(AD, experimental=True)),
    "number-as-date": ("base.json-type", _set(AD, date=2020), _set(AD, date="2020")),
    "string-as-decimal": ("base.json-type", _set(AD, quantity={"value": "200", "unit": "mg"}),
                          _set(AD, quantity={"value": 200, "unit": "mg"})),
    "string-as-integer": ("base.json-type", lambda r: find(r, LIB)["content"][0].update(size="12"),
                          lambda r: find(r, LIB)["content"][0].update(size=12)),
    "list-for-single": ("base.json-type", _set(AD, name=["OrderHbA1c"]), _set(AD, name="OrderHbA1c")),
    "object-for-string": ("base.json-type", _set(AD, name={"a": 1}), _set(AD, name="OrderHbA1c")),
    "single-for-list": ("base.json-type", _set(AD, topic={"text": "x"}), _set(AD, topic=[{"text": "x"}])),
    "whitespace-string": ("base.primitive-format", _set(AD, title=" \t "), _set(AD, title=" x ")),
    "whitespace-uri": ("base.primitive-format", _set(AD, url="  "), lambda r: None),
    "uri-with-space": ("base.primitive-format", lambda r: find(r, AD)["code"]["coding"][0].update(system="not a uri"),
                       lambda r: None),
    "id-over-64": ("base.primitive-format", _set(AD, id="a" * 65), _set(AD, id="a" * 64)),
    "string-over-1mb": ("base.primitive-format", _set(AD, description="a" * (2**20 + 1)),
                        _set(AD, description="a" * 2**20)),
    "impossible-date": ("base.primitive-format", _set(AD, date="2021-02-30"), _set(AD, date="2020-02-29")),
    "per-1": ("base.invariant", _set(AD, effectivePeriod={"start": "2020-02-01", "end": "2020-01-31"}),
              _set(AD, effectivePeriod={"start": "2020-01", "end": "2020-01-15"})),
    "extension-binding": ("base.binding", lambda r: find(r, LIB).setdefault("extension", []).append(
        {"url": "http://hl7.org/fhir/StructureDefinition/cqf-knowledgeCapability", "valueCode": "bogus"}),
        lambda r: find(r, LIB).setdefault("extension", []).append(
        {"url": "http://hl7.org/fhir/StructureDefinition/cqf-knowledgeCapability", "valueCode": "computable"})),
    "local-code-system": ("base.code-unknown", lambda r: _code_system(r, "b"), lambda r: _code_system(r, "a1")),
    "narrative-javascript": ("base.invariant", _set(AD, text=_div("jav&#x09;ascript:alert(1)")),
                             _set(AD, text=_div("https://example.org/javascript"))),
    "narrative-data-href": ("base.invariant", _set(AD, text=_div("data:text/html,x")), _set(AD, text=_div("#x"))),
    "citation-data-url": ("base.unsafe-link", _set(AD, relatedArtifact=[{"type": "citation", "url": "data:text/html,x"}]),
                          _set(AD, relatedArtifact=[{"type": "citation", "url": "https://example.org/data:x"}])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_is_reported_and_valid_is_not(case: str) -> None:
    rule, invalid, valid = CASES[case]
    assert rule in _codes(invalid), case
    assert rule not in _codes(valid), case


def test_later_layers_never_crash_on_wrong_types() -> None:
    """Every element of every resource replaced in turn by values of other JSON types: located findings only."""
    for ref in (AD, PD, LIB):
        keys = [k for k in find(conformant_resources(), ref) if k not in ("resourceType", "id")]
        for key in keys:
            for value in (None, 7, "x", [], {"x": [1]}, [None], True):
                res = conformant_resources()
                find(res, ref)[key] = value
                validate(res, ValidationOptions(cql=False))  # raises on a crash


def test_unknown_contained_type_and_deep_nesting_are_located() -> None:
    res = conformant_resources()
    find(res, AD)["contained"] = [{"resourceType": "Foo", "id": "x"}]
    (d,) = [d for d in validate(res, ValidationOptions(cql=False)) if d.code == "input.unknown-type"]
    assert d.path == "ActivityDefinition.contained[0]" and d.resource == AD
    res = conformant_resources()
    action: dict[str, Any] = {"title": "leaf"}
    for _ in range(400):
        action = {"title": "x", "action": [action]}
    find(res, PD)["action"].append(action)
    assert "input.too-deep" in {d.code for d in validate(res, ValidationOptions(cql=False))}


def test_bundle_files_are_validated_themselves(tmp_path: Path) -> None:
    entries = [{"fullUrl": f"urn:uuid:0000000{i}-0000-0000-0000-000000000000", "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for i, r in enumerate(conformant_resources())]
    good = {"resourceType": "Bundle", "id": "b", "type": "transaction", "entry": entries}
    path = tmp_path / "bundle.json"

    def codes(change: Callable[[dict[str, Any]], None]) -> set[str]:
        bundle = json.loads(json.dumps(good))
        change(bundle)
        path.write_text(json.dumps(bundle))
        return {d.code for d in load_artifacts(path)[1]}

    assert codes(lambda b: None) == set()
    assert "base.binding" in codes(lambda b: b["entry"][0]["request"].update(method="FETCH"))
    assert "base.invariant" in codes(lambda b: b["entry"][0].pop("request"))  # bdl-3
    assert "base.invariant" in codes(lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"]))  # bdl-7
    assert "structure.missing-required" in codes(lambda b: b.pop("type"))
    assert "base.element-unknown" in codes(lambda b: b.update(foo=1))
    assert "base.primitive-format" in codes(lambda b: b.update(timestamp="yesterday"))
    assert "base.primitive-format" in codes(lambda b: b["entry"][0].update(fullUrl="a b"))


@pytest.mark.parametrize("url, scheme", [
    ("javascript:x", "javascript"), (" JaVaScRiPt:x", "javascript"), ("jav&#x09;ascript:x", "javascript"),
    ("java\nscript:x", "javascript"), ("&#106;avascript:x", "javascript"), ("vbscript:x", "vbscript"),
    ("data:text/html;base64,PHNjcmlwdD4=", "data"), ("https://example.org/javascript:", None), ("#javascript", None),
    ("mailto:a@b.org", None), ("relative/data:x", None),
])
def test_unsafe_link(url: str, scheme: str | None) -> None:
    assert unsafe_link(url) == scheme


def test_primitive_regexes_are_the_r4_ones() -> None:
    package = find_package()
    if package is None:
        pytest.skip("R4 definitions not installed")
    bundle = json.loads((package / "dist" / "fhir" / "r4" / "profiles-types.json").read_text("utf-8"))
    official = {}
    for entry in bundle["entry"]:
        sd = entry["resource"]
        for el in sd.get("snapshot", {}).get("element", []) if sd.get("kind") == "primitive-type" else []:
            for t in el.get("type", []) if el["path"].endswith(".value") else []:
                official.update({sd["name"]: x["valueString"] for x in t.get("extension", []) if x["url"].endswith("/regex")})
    assert {name: REGEX[name].pattern for name in REGEX} == {name: official[name] for name in REGEX}


@pytest.mark.parametrize("expression, rule", [
    ("1 +", "cql.compile-error"),
    ('"DiabetesLogic"."Is Recommendation Applicable" and true', None),
    ("exists [Condition]", None),
])
def test_inline_cql_expressions_compile(expression: str, rule: str | None, session_translator: Any) -> None:
    res = conformant_resources()
    condition = find(res, PD)["action"][0]["condition"][0]["expression"]
    condition.update(language="text/cql-expression", expression=expression)
    diags = validate(res, ValidationOptions(translator=session_translator))
    found = [d for d in diags if d.code.startswith("cql.compile") and d.path and "condition" in d.path]
    if rule is None:
        assert found == [], [str(d) for d in found]
    else:
        assert rule in {d.code for d in found}
        assert all(d.path.endswith("condition[0].expression.expression") for d in found)
