"""Each builder, run by the real translator and the real CQL engine on patients coded as EHRs send them.

Patients are evaluated on 2026-06-01. P1 meets every feature it can; P2 is the counter-case
(resolved / status-less conditions, old or wrong-unit values, a '>90' comparator, recent medication);
an empty patient shows that every builder stays two-valued (false, never null) when data is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.apply import Artifacts, Engine
from generator.apply._engine import LoadedLogic
from generator.compile import compile_definitions
from generator.cql.translator import Translator

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
NOW = "2026-06-01T12:00:00.000Z"
SNOMED, LOINC, RXNORM = "http://snomed.info/sct", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def condition(ident: str, onset: str, *, status: str | None = "active", site: str | None = None,
              recorded: str | None = None, category: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Condition", "id": ident, "code": cc(SNOMED, "207957008"),
                         "subject": {"reference": "Patient/p"}, "onsetDateTime": onset}
    if category:
        r["category"] = [cc("http://terminology.hl7.org/CodeSystem/condition-category", category)]
    if status:
        r["clinicalStatus"] = cc(CLINICAL, status)
    if site:
        r["bodySite"] = [cc(SNOMED, site)]
    if recorded:
        r["recordedDate"] = recorded
    return r


def procedure(ident: str, performed: str, site: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"resourceType": "Procedure", "id": ident, "status": "completed", "code": cc(SNOMED, "113091000"),
                         "subject": {"reference": "Patient/p"}, "performedDateTime": performed}
    if site:
        r["bodySite"] = [cc(SNOMED, site)]
    return r


def observation(ident: str, code: str, when: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": ident, "status": "final", "code": cc(LOINC, code),
            "subject": {"reference": "Patient/p"}, "effectiveDateTime": when, **value}


def bundle(*resources: dict[str, Any], gender: str | None = None, birth: str | None = None) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "p"}
    if gender:
        patient["gender"] = gender
    if birth:
        patient["birthDate"] = birth
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (patient, *resources)]}


P1 = bundle(
    condition("c1", "2026-05-01", site="421060004", recorded="2026-05-15", category="problem-list-item"),
    procedure("mri1", "2026-05-20", site="421060004"),
    observation("e1", "62238-1", "2025-09-01", valueQuantity={"value": 55, "unit": "mL/min/1.73m2"}),  # EHR spelling
    observation("e2", "62238-1", "2026-01-15", valueInteger=50),
    observation("e3", "62238-1", "2026-05-25", valueQuantity={"value": 58}),  # no unit at all
    observation("pain1", "72514-3", "2026-04-01", valueInteger=8),
    observation("pain2", "72514-3", "2026-05-20", valueInteger=2),
    {"resourceType": "MedicationStatement", "id": "ms1", "status": "active", "medicationCodeableConcept": cc(RXNORM, "161"),
     "subject": {"reference": "Patient/p"}, "effectivePeriod": {"start": "2026-01-01"}},
    {"resourceType": "MedicationRequest", "id": "mr1", "status": "stopped", "intent": "order",
     "medicationCodeableConcept": cc(RXNORM, "161"), "subject": {"reference": "Patient/p"}, "authoredOn": "2026-03-01",
     "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-03-01", "end": "2026-05-20"}}}}]},
    {**condition("ckd1", "2020-01-01"), "code": cc("http://hl7.org/fhir/sid/icd-10-cm", "N18.4")},
    gender="female", birth="1960-01-01",
)

P2 = bundle(
    condition("c-resolved", "2025-01-20", status="resolved", site="36470004", category="problem-list-item"),
    condition("c-encounter", "2020-01-01", category="encounter-diagnosis"),
    condition("c-no-status", "2026-05-25", status=None, recorded="2026-05-25"),
    procedure("mri-old", "2025-06-01"),
    observation("e-mg", "62238-1", "2026-05-01", valueQuantity={"value": 45, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}),
    observation("e-old", "62238-1", "2024-01-01", valueQuantity={"value": 40, "unit": "mL/min/{1.73_m2}", "system": UCUM,
                                                                 "code": "mL/min/{1.73_m2}"}),
    observation("e-gt", "62238-1", "2026-05-20", valueQuantity={"value": 90, "comparator": ">", "unit": "mL/min/{1.73_m2}"}),
    {"resourceType": "MedicationStatement", "id": "ms2", "status": "active", "medicationCodeableConcept": cc(RXNORM, "161"),
     "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2026-05-20"},
    {**condition("ckd2", "2020-01-01"), "code": cc("http://hl7.org/fhir/sid/icd-10-cm", "N19")},
    gender="male", birth="2025-01-01",
)

EMPTY = bundle()

EXPECTED = {
    #                                    P1     P2     empty
    "Fracture In Last 12 Weeks":        (True, False, False),
    "Fracture Ever":                    (True, True, False),
    "Fracture Recorded Within 30 Days": (True, False, False),
    "Spine Fracture":                   (True, False, False),
    "MRI Within 3 Months":              (True, False, False),
    "Spine MRI Within 3 Months":        (True, False, False),
    "Low eGFR In Last 12 Months":       (True, False, False),
    "Two Low eGFR 90 Days Apart":       (True, False, False),
    "Three eGFR Results":               (True, True, False),
    "Severe Pain Before Fracture":      (True, False, False),
    "MRI Within 6 Weeks Of Fracture":   (True, False, False),
    "Fracture Older Than 8 Weeks":      (False, True, False),
    "Female":                           (True, False, False),
    "Under 24 Months":                  (False, True, False),
    "Adult":                            (True, False, False),
    "Taking Analgesic":                 (True, True, False),
    "Taking Analgesic 3 Months":        (True, False, False),
    "Analgesic Started Within 30 Days": (False, True, False),
    "Analgesic Stopped Within 30 Days": (True, False, False),
    "Chronic Kidney Disease":           (True, False, False),  # rule-based value set, evaluated from its expansion
    "Fracture On Problem List":         (True, False, False),  # P2: resolved on the list, active only as encounter dx
    "Exactly Three eGFR Results":       (True, True, False),
}


@pytest.fixture(scope="module")
def logic(session_translator: Translator) -> Iterator[LoadedLogic]:
    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    artifacts = Artifacts.from_resources(result.guidelines[0].resources)
    with Engine() as engine:
        yield engine.load(artifacts.elm_libraries(), artifacts.value_set_codes())


@pytest.fixture(scope="module")
def values(logic: LoadedLogic) -> list[dict[str, Any]]:
    batch = logic.evaluate({"BuilderDemo": [*EXPECTED, "Data Problems"]}, [P1, P2, EMPTY], NOW)
    return [p.values["BuilderDemo"] for p in batch.patients]


@pytest.mark.parametrize("feature", list(EXPECTED))
def test_builder_on_real_engine(values: list[dict[str, Any]], feature: str) -> None:
    assert tuple(v[feature] for v in values) == EXPECTED[feature]


def test_unusable_values_are_reported_per_resource_not_a_patient_failure(values: list[dict[str, Any]]) -> None:
    p1, p2, empty = (sorted(v["Data Problems"] or []) for v in values)
    assert p1 == []
    assert p2 == ["DATA001 Observation/e-gt: value not usable in mL/min/{1.73_m2}",
                  "DATA001 Observation/e-mg: value not usable in mL/min/{1.73_m2}"]
    assert empty == []


def test_rule_based_value_set_publishes_compose_and_expansion(session_translator: Translator) -> None:
    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=True)
    assert result.ok, [str(d) for d in result.diagnostics]
    vs = next(r for r in result.guidelines[0].resources if r["resourceType"] == "ValueSet" and r["id"] == "chronic-kidney-disease")
    assert vs["compose"]["include"] == [
        {"system": "http://hl7.org/fhir/sid/icd-10-cm", "filter": [{"property": "code", "op": "regex", "value": "N18.*"}]},
        {"system": "http://snomed.info/sct", "filter": [{"property": "concept", "op": "is-a", "value": "709044004"}]},
    ]
    assert vs["expansion"]["timestamp"] == "2026-01-15" and vs["expansion"]["total"] == 5
    assert vs["expansion"]["parameter"][0]["valueString"].startswith("test fixture")


def test_every_builder_is_described_in_words_for_reviewers() -> None:
    """The reviewer's site says what each builder asks of the record; none is left "not described"."""
    from generator.publish._describe import clause_texts, describe

    from .definitions.builderdemo import FEATURES

    by_name = {f.name: f for f in FEATURES}
    texts = {f.name: " / ".join(clause_texts(describe(f, by_name))) for f in FEATURES}
    assert not [name for name, text in texts.items() if "not described" in text]
    assert "medication use" in texts["Taking Analgesic 3 Months"] and "at least 3 months ago" in texts["Taking Analgesic 3 Months"]
    assert "two of them at least 90 days apart" in texts["Two Low eGFR 90 Days Apart"]
    assert "age is below 24 months" in texts["Under 24 Months"]
    assert "1 rule" not in texts["Chronic Kidney Disease"] and "2 rules" in texts["Chronic Kidney Disease"]


def test_cpg_apply_names_unusable_values_as_data001_warnings(session_translator: Translator, tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from generator.cli import main

    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=False)
    artifacts = tmp_path / "artifacts.json"
    artifacts.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                     "entry": [{"resource": r} for r in result.guidelines[0].resources]}))
    patient = tmp_path / "p2.json"
    patient.write_text(json.dumps(P2))
    run = CliRunner().invoke(main, ["apply", str(artifacts), "--patient", str(patient), "--date", "2026-06-01"])
    assert run.exit_code == 0, run.output
    assert "warning[DATA001] Observation/e-mg: value not usable in mL/min/{1.73_m2}" in run.stderr
    assert "warning[DATA001] Observation/e-gt" in run.stderr
    assert "Observation/e-old" not in run.stderr  # a usable value (outside the window) is no problem
