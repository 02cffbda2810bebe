"""A test patient in clinical words: who, and what their record holds, at the scenario's date.

The reviewer of a guideline checks that its scenarios are the patients they had in mind; a
line like "72-year-old female · compression fracture of L1 (onset 2026-03-01, active)" says
that faster than a FHIR Bundle. Read-only and tolerant: the bundle was checked when the
scenario ran, and a missing element is simply not mentioned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from generator.publish.narrative import concept_display


def _first_display(concept: Mapping[str, Any] | None) -> str:
    return concept_display(concept) or "(uncoded)"


def _date(value: Any) -> str | None:
    return str(value)[:10] if value else None


def age_at(birth_date: str | None, on: str) -> int | None:
    """Whole years between a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) and `on`."""
    if not birth_date:
        return None
    try:
        parts = [int(p) for p in birth_date[:10].split("-")]
        year, month, day = (parts + [1, 1])[:3]
        when = dt.date.fromisoformat(on[:10])
    except ValueError:
        return None
    return when.year - year - ((when.month, when.day) < (month, day))


def _status(resource: Mapping[str, Any], element: str) -> str | None:
    value = resource.get(element)
    if isinstance(value, Mapping):
        return concept_display(value)
    return str(value) if value else None


def _condition(c: Mapping[str, Any]) -> str:
    details = []
    onset = _date(c.get("onsetDateTime") or c.get("onsetPeriod", {}).get("start") or c.get("recordedDate"))
    if onset:
        details.append(f"onset {onset}")
    sites = [concept_display(s) for s in c.get("bodySite", [])]
    if any(sites):
        details.append("site " + ", ".join(s for s in sites if s))
    details.append(_status(c, "clinicalStatus") or "clinical status not recorded")
    return f"{_first_display(c.get('code'))} ({'; '.join(details)})"


def _observation(o: Mapping[str, Any]) -> str:
    if "valueQuantity" in o:
        quantity = o["valueQuantity"]
        value = f"{quantity.get('value')} {quantity.get('unit') or quantity.get('code') or ''}".rstrip()
    elif "valueInteger" in o:
        value = str(o["valueInteger"])
    elif "valueCodeableConcept" in o:
        value = _first_display(o["valueCodeableConcept"])
    elif "valueBoolean" in o:
        value = "yes" if o["valueBoolean"] else "no"
    elif "valueString" in o:
        value = str(o["valueString"])
    else:
        value = "no value"
    when = _date(o.get("effectiveDateTime") or o.get("effectivePeriod", {}).get("start") or o.get("issued"))
    return f"{_first_display(o.get('code'))}: {value}" + (f" ({when})" if when else "")


def _procedure(p: Mapping[str, Any]) -> str:
    when = _date(p.get("performedDateTime") or p.get("performedPeriod", {}).get("start"))
    return f"{_first_display(p.get('code'))} ({p.get('status', 'status not recorded')}" + (f", {when})" if when else ")")


def _medication(m: Mapping[str, Any]) -> str:
    return f"{_first_display(m.get('medicationCodeableConcept'))} ({m.get('resourceType')}, {m.get('status', '?')})"


_KINDS = {
    "Condition": ("Conditions", _condition),
    "Observation": ("Observations", _observation),
    "Procedure": ("Procedures", _procedure),
    "MedicationRequest": ("Medications", _medication),
    "MedicationStatement": ("Medications", _medication),
}


def patient_summary(bundle: Mapping[str, Any], date: str) -> dict[str, Any]:
    """{"headline": "72-year-old female", "facts": [(heading, [lines])...]} for one scenario patient."""
    resources = [e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, Mapping)]
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), {})
    age = age_at(patient.get("birthDate"), date)
    sex = patient.get("gender") or "sex not recorded"
    headline = f"{age}-year-old {sex}" if age is not None else f"age unknown, {sex}"
    facts: dict[str, list[str]] = {}
    for resource in resources:
        kind = _KINDS.get(str(resource.get("resourceType")))
        if kind is not None:
            heading, words = kind
            facts.setdefault(heading, []).append(words(resource))
    others = sorted({str(r.get("resourceType")) for r in resources} - {"Patient", *_KINDS})
    if others:
        facts["Other records"] = others
    return {"headline": headline, "facts": list(facts.items())}
