"""Witness patients: a FHIR Bundle that realises a search assignment, and its `Scenario(...)` line.

Why generated from the data shapes and not hand-made: every reported conflict must be proven by
the real engine on a real patient, and the author should be able to keep that patient as a
scenario (`cpg test` then guards the fix).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from generator.analyze.shapes import UCUM, Choice, Subject, fhir_instant, term_codes
from generator.model.terminology import Code

__all__ = ["witness_bundle", "scenario_line", "witness_id"]

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def witness_id(*parts: str) -> str:
    """`analyze-<parts>`, shortened with a hash so that it and the record ids made from it
    (`<id>-medicationstatement-12`, 24 more characters) stay within FHIR's 64-character id limit."""
    ident = "analyze-" + "--".join(parts)
    if len(ident) <= _ID_ROOM:
        return ident
    return f"{ident[:_ID_ROOM - 9]}-{hashlib.sha256(ident.encode()).hexdigest()[:8]}"


_ID_ROOM = 64 - len("-medicationstatement-99")


def _coding(code: Code) -> dict[str, str]:
    return {"system": code.system, "code": code.code, "display": code.display}


def _distinct_code(subject: Subject, subjects: Sequence[Subject]) -> Code:
    """A code of the subject's terminology that the other subjects of its type do not use, if any.

    So a record written for one subject does not also switch on another subject's leaves.
    """
    others = {(c.system, c.code) for s in subjects if s is not subject and s.resource_type == subject.resource_type
              and s.terminology is not None for c in term_codes(s.terminology)}
    codes = term_codes(subject.terminology)  # type: ignore[arg-type]
    return next((c for c in codes if (c.system, c.code) not in others), codes[0])


def witness_bundle(ident: str, subjects: Mapping[tuple[Any, ...], Subject],
                   assignment: Mapping[tuple[Any, ...], Choice], now: dt.datetime) -> dict[str, Any]:
    """A collection Bundle: one Patient and the records the assignment's choices stand for."""
    patient_id = f"{ident}-patient"
    age_choice = assignment.get(("Age",))
    age = age_choice.state[0] if age_choice is not None and age_choice.state else (
        None if age_choice is not None else 70)
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    if age is not None:
        birthday = dt.date(now.year - age, now.month, min(now.day, 28)) - dt.timedelta(days=100)
        patient["birthDate"] = birthday.isoformat()
    resources: list[dict[str, Any]] = [patient]
    everyone = list(subjects.values())
    counter = 0
    for key, subject in subjects.items():
        choice = assignment.get(key)
        if choice is None or not choice.state or subject.resource_type == "Age":
            continue
        code = _distinct_code(subject, everyone)
        records = [choice.state] if subject.resource_type == "Observation" else list(choice.state)
        for record in records:
            counter += 1
            rid = f"{ident}-{subject.resource_type.lower()}-{counter}"
            resources.append(_record(subject, code, record, rid, patient_id, now))
    return {
        "resourceType": "Bundle",
        "id": ident,
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def _record(subject: Subject, code: Code, record: Any, rid: str, patient_id: str, now: dt.datetime) -> dict[str, Any]:
    subject_ref = {"reference": f"Patient/{patient_id}"}
    concept = {"coding": [_coding(code)]}
    if subject.resource_type == "Condition":
        moment, site = record
        condition: dict[str, Any] = {
            "resourceType": "Condition", "id": rid,
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
            "code": concept, "subject": subject_ref,
        }
        if moment is not None:
            condition["onsetDateTime"] = fhir_instant(moment)
        if site is not None:
            condition["bodySite"] = [{"coding": [_coding(site)]}]
        return condition
    if subject.resource_type == "Procedure":
        moment, _ = record
        procedure = {"resourceType": "Procedure", "id": rid, "status": "completed", "code": concept,
                     "subject": subject_ref}
        if moment is not None:
            procedure["performedDateTime"] = fhir_instant(moment)
        return procedure
    if subject.resource_type == "MedicationRequest":
        return {"resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order",
                "medicationCodeableConcept": concept, "subject": subject_ref}
    value = record[0]
    observation: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final", "code": concept, "subject": subject_ref,
        "effectiveDateTime": fhir_instant(dt.datetime.combine(now.date() - dt.timedelta(days=1), dt.time(12),
                                                              dt.timezone.utc)),
    }
    if subject.unit is not None and value is not None:
        observation["valueQuantity"] = {"value": value, "unit": subject.unit, "system": UCUM, "code": subject.unit}
    return observation


def scenario_line(ident: str, bundle_path: str, date: str, applicable: Sequence[str], title: str) -> str:
    """The `Scenario(...)` an author pastes into the guideline's scenarios to keep this patient."""
    present = ", ".join(repr(r) for r in applicable)
    return (f"Scenario({ident!r}, title={title!r}, bundle={bundle_path!r}, date={date!r}, "
            f"present=[{present}], absent=ALL_OTHERS)")
