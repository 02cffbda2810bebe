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

from generator.analyze.shapes import UCUM, Choice, Rec, Subject, fhir_instant, subtract, term_codes
from generator.canonicals import CONDITION_CATEGORY, CONDITION_CLINICAL
from generator.canonicals import CONDITION_VER_STATUS as CONDITION_VERIFICATION
from generator.model.terminology import Code, Duration

__all__ = ["witness_bundle", "scenario_line", "witness_id"]



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


def birth_date(months_old: int, now: dt.datetime) -> dt.date:
    """A birth date making the patient exactly `months_old` whole months old at `now` (10 days past the
    month boundary, so AgeInMonths and AgeInYears = months // 12 hold whatever the month lengths)."""
    return subtract(now, Duration(months_old, "months")).date() - dt.timedelta(days=10)


def witness_bundle(ident: str, subjects: Mapping[tuple[Any, ...], Subject],
                   assignment: Mapping[tuple[Any, ...], Choice], now: dt.datetime) -> dict[str, Any]:
    """A collection Bundle: one Patient and the records the assignment's choices stand for.

    With no age subject the patient is 70 (a birth date is usual); with no sex subject, gender is absent.
    """
    patient_id = f"{ident}-patient"
    age_choice = assignment.get(("Age",))
    months_old = age_choice.state[0] if age_choice is not None and age_choice.state else (
        None if age_choice is not None else 70 * 12 + 6)
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    sex_choice = assignment.get(("Sex",))
    if sex_choice is not None and sex_choice.state:
        patient["gender"] = sex_choice.state[0]
    if months_old is not None:
        patient["birthDate"] = birth_date(months_old, now).isoformat()
    resources: list[dict[str, Any]] = [patient]
    everyone = list(subjects.values())
    counter = 0
    for key, subject in subjects.items():
        choice = assignment.get(key)
        if choice is None or not choice.state or subject.resource_type in ("Age", "Sex"):
            continue
        code = _distinct_code(subject, everyone)
        for record in choice.state:
            counter += 1
            rid = f"{ident}-{subject.resource_type.lower()}-{counter}"
            resources.append(_record(subject, code, record, rid, patient_id))
    return {
        "resourceType": "Bundle",
        "id": ident,
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def _record(subject: Subject, code: Code, rec: Rec, rid: str, patient_id: str) -> dict[str, Any]:
    """The FHIR resource for one record state (fields as the CQL templates read them)."""
    subject_ref = {"reference": f"Patient/{patient_id}"}
    concept = {"coding": [_coding(code)]}
    if subject.resource_type == "Condition":
        condition: dict[str, Any] = {"resourceType": "Condition", "id": rid}
        if rec.status is not None:
            condition["clinicalStatus"] = {"coding": [{"system": CONDITION_CLINICAL, "code": rec.status}]}
        condition["verificationStatus"] = {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]}
        if rec.category is not None:
            condition["category"] = [{"coding": [{"system": CONDITION_CATEGORY, "code": rec.category}]}]
        condition.update({"code": concept, "subject": subject_ref})
        if rec.site is not None:
            condition["bodySite"] = [{"coding": [_coding(rec.site)]}]
        if rec.moment is not None:
            condition["onsetDateTime"] = fhir_instant(rec.moment)
        if rec.recorded is not None:
            condition["recordedDate"] = fhir_instant(rec.recorded)
        return condition
    if subject.resource_type == "Procedure":
        procedure: dict[str, Any] = {"resourceType": "Procedure", "id": rid, "status": "completed", "code": concept,
                                     "subject": subject_ref}
        if rec.site is not None:
            procedure["bodySite"] = [{"coding": [_coding(rec.site)]}]
        if rec.moment is not None:
            procedure["performedDateTime"] = fhir_instant(rec.moment)
        return procedure
    if subject.resource_type == "Medication":
        request: dict[str, Any] = {"resourceType": "MedicationRequest", "id": rid, "status": rec.status,
                                   "intent": "order", "medicationCodeableConcept": concept, "subject": subject_ref}
        period = {k: fhir_instant(v) for k, v in (("start", rec.moment), ("end", rec.stop)) if v is not None}
        if period:
            request["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": period}}}]
        return request
    observation: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final", "code": concept,
                                   "subject": subject_ref}
    if rec.moment is not None:
        observation["effectiveDateTime"] = fhir_instant(rec.moment)
    if subject.unit is not None and rec.value is not None:
        observation["valueQuantity"] = {"value": _number(rec.value), "unit": subject.unit, "system": UCUM,
                                        "code": subject.unit}
    elif rec.value is not None:
        observation["valueInteger"] = int(rec.value)  # no unit asked: any usable value (valueInteger is one)
    return observation


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def scenario_line(ident: str, bundle_path: str, date: str, applicable: Sequence[str], title: str) -> str:
    """The `Scenario(...)` an author pastes into the guideline's scenarios to keep this patient."""
    present = ", ".join(repr(r) for r in applicable)
    return (f"Scenario({ident!r}, title={title!r}, bundle={bundle_path!r}, date={date!r}, "
            f"present=[{present}], absent=ALL_OTHERS)")
