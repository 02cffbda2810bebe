"""The deciding features read off an applicability tree: and / or / not, true / false / null."""

from __future__ import annotations

from typing import Any

import pytest

from generator.apply._engine import PatientValues
from generator.apply.explain import Explainer

BOOL = "{urn:hl7-org:elm-types:r1}Boolean"


def ref(name: str) -> dict[str, Any]:
    return {"type": "ExpressionRef", "name": name, "resultTypeName": BOOL}


def op(kind: str, *operands: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "operand": list(operands) if kind != "Not" else operands[0], "resultTypeName": BOOL}


def explainer(body: dict[str, Any]) -> Explainer:
    defines = [{"name": n, "resultTypeName": BOOL, "expression": {"type": "Exists"}} for n in "ABC"]
    defines.append({"name": "Is R Applicable", "resultTypeName": BOOL, "expression": body})
    elm = {"library": {"identifier": {"id": "L"}, "statements": {"def": defines}}}
    return Explainer([elm], [("r", "R", "L", "Is R Applicable")])


def deciding(body: dict[str, Any], **values: Any) -> list[tuple[str, Any]]:
    why = explainer(body).why(PatientValues("p", {"L": values}), "r")
    assert why is not None
    return why.deciding


@pytest.mark.parametrize(("values", "expected"), [
    ({"A": True, "B": False, "C": True}, [("B", False)]),            # a false `and`: its false parts
    ({"A": True, "B": True, "C": True}, [("A", True), ("B", True), ("C", True)]),  # a true `and`: all
    ({"A": None, "B": True, "C": True}, [("A", None)]),              # null: the unknown part
])
def test_and(values: dict[str, Any], expected: list[tuple[str, Any]]) -> None:
    assert deciding(op("And", ref("A"), ref("B"), ref("C")), **values) == expected


def test_or_and_not() -> None:
    body = op("Or", ref("A"), op("Not", ref("B")))
    assert deciding(body, A=False, B=False) == [("B", False)]           # a true `or`: its true parts (not B)
    assert deciding(body, A=False, B=True) == [("A", False), ("B", True)]  # a false `or`: all parts


def test_features_are_the_boolean_defines_reached() -> None:
    assert explainer(op("And", ref("A"), ref("C"))).features == [("L", "A"), ("L", "C")]
