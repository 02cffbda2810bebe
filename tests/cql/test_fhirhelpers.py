"""Our generated FHIRHelpers 4.0.1: compiles cleanly and drives the translator's implicit conversions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import Any

from generator.cql.fhirhelpers import conversions, fhirhelpers_cql, model_info_path
from generator.cql.translator import Translator

USES_CONVERSIONS = """library UsesHelpers version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
context Patient
define "High Value": [Observation] O where O.value > 5 'mg'
define "Active": [Condition] C where C.clinicalStatus ~ Code { code: 'active', system: 'http://terminology.hl7.org/CodeSystem/condition-clinical' }
define "Recent Encounters": [Encounter] E where E.period ends 1 year or less before Today()
define "Active Orders": [MedicationRequest] M where M.status = 'active' and M.doNotPerform is not true
define "Born Before Today": Patient.birthDate < Today()
define "In Range": [Observation] O where (O.value as Range) includes 5 'mg'
"""


def function_refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        if node.get("type") == "FunctionRef" and "libraryName" in node:
            yield node["libraryName"], node["name"]
        for value in node.values():
            yield from function_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from function_refs(item)


def test_generated_text_is_deterministic_and_declares_the_library(fhirhelpers: str) -> None:
    assert fhirhelpers_cql() == fhirhelpers
    assert re.search(r"^library FHIRHelpers version '4\.0\.1'$", fhirhelpers, re.MULTILINE)
    assert re.search(r"^using FHIR version '4\.0\.1'$", fhirhelpers, re.MULTILINE)


def test_every_conversion_info_has_its_function(fhirhelpers: str) -> None:
    root = ET.parse(model_info_path()).getroot()
    declared = {
        (c.get("functionName"), c.get("fromType"))
        for c in root.findall("{urn:hl7-org:elm-modelinfo:r1}conversionInfo")
    }
    assert len(declared) > 250
    for function, from_type in declared:
        name = function.removeprefix("FHIRHelpers.")
        assert re.search(rf"define function {name}\(\w+ {re.escape(from_type)}\)", fhirhelpers), (function, from_type)
    # Primitives without a conversionInfo are covered too.
    generated = {(c.function, c.from_type) for c in conversions()}
    assert ("ToString", "FHIR.code") in generated and ("ToInteger", "FHIR.positiveInt") in generated


def test_fhirhelpers_compiles_without_errors_or_warnings(translator: Translator, fhirhelpers: str) -> None:
    result = translator.translate({"FHIRHelpers": fhirhelpers})["FHIRHelpers"]
    assert result.messages == [], [str(m) for m in result.messages]
    assert result.elm["library"]["identifier"] == {"id": "FHIRHelpers", "version": "4.0.1"}


def test_implicit_conversions_call_our_fhirhelpers(translator: Translator, fhirhelpers: str) -> None:
    result = translator.translate({"UsesHelpers": USES_CONVERSIONS, "FHIRHelpers": fhirhelpers}, ["UsesHelpers"])
    translation = result["UsesHelpers"]
    assert translation.ok, [str(m) for m in translation.messages]
    called = set(function_refs(translation.elm))
    assert {
        ("FHIRHelpers", "ToQuantity"),
        ("FHIRHelpers", "ToConcept"),
        ("FHIRHelpers", "ToInterval"),
        ("FHIRHelpers", "ToString"),
        ("FHIRHelpers", "ToBoolean"),
        ("FHIRHelpers", "ToDate"),
    } <= called


def test_without_fhirhelpers_the_same_comparison_fails(translator: Translator) -> None:
    cql = USES_CONVERSIONS.replace("include FHIRHelpers version '4.0.1' called FHIRHelpers\n", "")
    translation = translator.translate({"NoHelpers": cql})["NoHelpers"]
    assert any("FHIRHelpers" in m.message for m in translation.errors)
