"""ELM analysis: summary, Library.parameter, dataRequirement, relatedArtifact, condition checks."""

from __future__ import annotations

from typing import Any

import pytest

from generator.cql import elm as E
from generator.cql.translator import DEFAULT_OPTIONS, Translator

LIBRARY = """library Fractures version '1.2.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
codesystem "SNOMED": 'http://snomed.info/sct'
codesystem "LOINC": 'http://loinc.org' version '2.74'
valueset "Vertebral Fractures": 'http://example.org/fhir/ValueSet/vertebral-fractures'
code "Calcitonin": '1234' from "SNOMED" display 'Calcitonin preparation'
code "Pain score": '72514-3' from "LOINC"
parameter "Pain Threshold" Integer default 7
parameter "Lookback" Interval<DateTime>
context Patient
define "Fractures": [Condition: "Vertebral Fractures"]
define "Has Fracture": exists "Fractures"
define "Pain Scores": [Observation: "Pain score"] O where O.value > "Pain Threshold"
define "Severe Pain": exists ("Pain Scores" O where O.value >= 9)
define "Calcitonin Orders": [MedicationRequest: medication in "Calcitonin"]
define "Age": AgeInYears()
define "Dose": 200 '[iU]'
define "Window": Interval[1 'mg', 2 'mg']
define "Pair": Tuple { a: 1, b: 'x' }
define private "Helper": 1
define function "Twice"(x Integer): x * 2
"""


@pytest.fixture(scope="module")
def elm(translator: Translator, fhirhelpers: str) -> dict[str, Any]:
    result = translator.translate({"Fractures": LIBRARY, "FHIRHelpers": fhirhelpers}, ["Fractures"])["Fractures"]
    assert result.ok, [str(m) for m in result.messages]
    assert result.elm is not None
    return result.elm


def test_summary(elm: dict[str, Any]) -> None:
    s = E.summarize(elm)
    assert (s.name, s.version) == ("Fractures", "1.2.0")
    assert s.defines == {
        "Patient": "FHIR.Patient",
        "Fractures": "List<FHIR.Condition>",
        "Has Fracture": "System.Boolean",
        "Pain Scores": "List<FHIR.Observation>",
        "Severe Pain": "System.Boolean",
        "Calcitonin Orders": "List<FHIR.MedicationRequest>",
        "Age": "System.Integer",
        "Dose": "System.Quantity",
        "Window": "Interval<System.Quantity>",
        "Pair": "Tuple { a System.Integer, b System.String }",
        "Helper": "System.Integer",
    }
    assert s.private_defines == {"Helper"}
    assert s.functions == (E.FunctionInfo("Twice", (("x", "System.Integer"),), "System.Integer"),)
    assert s.parameters == (
        E.ParameterInfo("Pain Threshold", "System.Integer", True),
        E.ParameterInfo("Lookback", "Interval<System.DateTime>", False),
    )
    default = s.parameters[0].default
    assert default is not None and (default["type"], default["value"]) == ("Literal", "7")
    assert s.parameters[1].default is None
    assert s.includes == (E.IncludeInfo("FHIRHelpers", "4.0.1", "FHIRHelpers"),)
    assert s.usings == (
        E.UsingInfo("System", "urn:hl7-org:elm-types:r1", None),
        E.UsingInfo("FHIR", "http://hl7.org/fhir", "4.0.1"),
    )
    assert s.code_systems == (
        E.CodeSystemInfo("SNOMED", "http://snomed.info/sct"),
        E.CodeSystemInfo("LOINC", "http://loinc.org", "2.74"),
    )
    assert s.value_sets == (
        E.ValueSetInfo("Vertebral Fractures", "http://example.org/fhir/ValueSet/vertebral-fractures"),
    )
    assert s.codes == (
        E.CodeInfo("Calcitonin", "1234", "SNOMED", "http://snomed.info/sct", None, "Calcitonin preparation"),
        E.CodeInfo("Pain score", "72514-3", "LOINC", "http://loinc.org", "2.74"),
    )
    assert s.contexts == ("Patient",)


def test_library_parameters_exact(elm: dict[str, Any]) -> None:
    assert E.library_parameters(elm) == [
        {"name": "Pain Threshold", "use": "in", "min": 0, "max": "1", "type": "integer"},
        {"name": "Lookback", "use": "in", "min": 0, "max": "1", "type": "Period"},
        {"name": "Patient", "use": "out", "min": 0, "max": "1", "type": "Patient"},
        {"name": "Fractures", "use": "out", "min": 0, "max": "*", "type": "Condition"},
        {"name": "Has Fracture", "use": "out", "min": 0, "max": "1", "type": "boolean"},
        {"name": "Pain Scores", "use": "out", "min": 0, "max": "*", "type": "Observation"},
        {"name": "Severe Pain", "use": "out", "min": 0, "max": "1", "type": "boolean"},
        {"name": "Calcitonin Orders", "use": "out", "min": 0, "max": "*", "type": "MedicationRequest"},
        {"name": "Age", "use": "out", "min": 0, "max": "1", "type": "integer"},
        {"name": "Dose", "use": "out", "min": 0, "max": "1", "type": "Quantity"},
        {"name": "Window", "use": "out", "min": 0, "max": "1", "type": "Range"},
        {"name": "Pair", "use": "out", "min": 0, "max": "1", "type": "Any"},
    ]


def test_data_requirements_exact(elm: dict[str, Any]) -> None:
    assert E.data_requirements(elm) == [
        {
            "type": "Condition",
            "profile": ["http://hl7.org/fhir/StructureDefinition/Condition"],
            "codeFilter": [
                {"path": "code", "valueSet": "http://example.org/fhir/ValueSet/vertebral-fractures"},
            ],
        },
        {
            "type": "MedicationRequest",
            "profile": ["http://hl7.org/fhir/StructureDefinition/MedicationRequest"],
            "codeFilter": [
                {
                    "path": "medication",
                    "code": [
                        {"system": "http://snomed.info/sct", "code": "1234", "display": "Calcitonin preparation"},
                    ],
                },
            ],
        },
        {
            "type": "Observation",
            "profile": ["http://hl7.org/fhir/StructureDefinition/Observation"],
            "codeFilter": [
                {"path": "code", "code": [{"system": "http://loinc.org", "version": "2.74", "code": "72514-3"}]},
            ],
        },
        {"type": "Patient", "profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]},
    ]


def test_data_requirements_date_filter(translator: Translator, fhirhelpers: str) -> None:
    cql = """library Dated version '1'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
valueset "Visits": 'http://example.org/fhir/ValueSet/visits'
parameter "Period" Interval<DateTime>
context Patient
define "Visits In Period": [Encounter: "Visits"] V where V.period during "Period"
"""
    with Translator({"options": [*DEFAULT_OPTIONS["options"], "EnableDateRangeOptimization"]}) as t:
        result = t.translate({"Dated": cql, "FHIRHelpers": fhirhelpers}, ["Dated"])["Dated"]
    assert result.ok, [str(m) for m in result.messages]
    assert E.data_requirements(result.elm) == [
        {
            "type": "Encounter",
            "profile": ["http://hl7.org/fhir/StructureDefinition/Encounter"],
            "codeFilter": [{"path": "type", "valueSet": "http://example.org/fhir/ValueSet/visits"}],
            "dateFilter": [{"path": "period"}],
        },
        {"type": "Patient", "profile": ["http://hl7.org/fhir/StructureDefinition/Patient"]},
    ]


def test_related_artifacts(elm: dict[str, Any]) -> None:
    base = "http://example.org/fhir/Library/"
    assert E.related_artifacts(E.summarize(elm), lambda name: base + name) == [
        {
            "type": "depends-on",
            "display": "FHIR model information",
            "resource": "http://fhir.org/guides/cqf/common/Library/FHIR-ModelInfo|4.0.1",
        },
        {"type": "depends-on", "display": "Library FHIRHelpers", "resource": base + "FHIRHelpers|4.0.1"},
        {"type": "depends-on", "display": "Code system SNOMED", "resource": "http://snomed.info/sct"},
        {"type": "depends-on", "display": "Code system LOINC", "resource": "http://loinc.org|2.74"},
        {
            "type": "depends-on",
            "display": "Value set Vertebral Fractures",
            "resource": "http://example.org/fhir/ValueSet/vertebral-fractures",
        },
    ]


def test_condition_check(elm: dict[str, Any]) -> None:
    s = E.summarize(elm)
    assert E.condition_check(s, "Has Fracture") is None
    assert E.condition_check(s, "Severe Pain") is None
    assert E.condition_check(s, "Age") == (
        "define \"Age\" in library Fractures version '1.2.0' is System.Integer, not System.Boolean"
    )
    assert E.condition_check(s, "Fractures") == (
        "define \"Fractures\" in library Fractures version '1.2.0' is List<FHIR.Condition>, not System.Boolean"
    )
    assert E.condition_check(s, "Has Fractures") == (
        "library Fractures version '1.2.0' has no define named \"Has Fractures\" (did you mean \"Has Fracture\"?)"
    )
    assert E.condition_check(s, "Zzz") == "library Fractures version '1.2.0' has no define named \"Zzz\""
    assert "is a function" in (E.condition_check(s, "Twice") or "")
    assert "is private" in (E.condition_check(s, "Helper") or "")


def test_fhir_type_mapping() -> None:
    assert E.fhir_type("System.Boolean") == ("boolean", False)
    assert E.fhir_type("List<System.Code>") == ("Coding", True)
    assert E.fhir_type("Interval<System.Date>") == ("Period", False)
    assert E.fhir_type("List<Interval<System.Quantity>>") == ("Range", True)
    assert E.fhir_type("FHIR.Observation") == ("Observation", False)
    assert E.fhir_type("FHIR.Encounter.Participant") == ("BackboneElement", False)
    assert E.fhir_type("Choice<FHIR.Quantity, FHIR.Range>") == ("Any", False)


def test_elm_without_result_types_is_rejected(translator: Translator) -> None:
    with Translator({"options": ["EnableLocators"]}) as t:
        elm = t.translate({"Plain": "library Plain version '1'\ndefine X: 1\n"})["Plain"].elm
    assert elm is not None
    with pytest.raises(ValueError, match="EnableResultTypes"):
        E.summarize(elm)
