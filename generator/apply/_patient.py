"""Patient input for apply: one FHIR Bundle per patient, checked before the engine sees it.

Why check here: cql-exec-fhir assumes a Bundle with a Patient and fails deep inside the engine
otherwise; a one-line message naming the file is what the user needs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.apply._artifacts import ApplyError
from generator.readers import MAX_JSON_BYTES, MAX_RESOURCE_DEPTH, InputError, json_depth, parse_json, read_bytes

__all__ = ["read_patient_bundle", "check_patient_bundle", "patient_of", "execution_datetime"]


def read_patient_bundle(path: Path) -> dict[str, Any]:
    """Read and check a patient Bundle file (a bounded regular file, strict JSON)."""
    try:
        data = read_bytes(path, MAX_JSON_BYTES)
    except InputError as exc:
        raise ApplyError("APPLY020", f"cannot read patient bundle {exc}") from exc
    try:
        document = parse_json(data, str(path))
    except InputError as exc:
        raise ApplyError("APPLY021", f"patient bundle {path} is not valid JSON: {exc.message}") from exc
    if json_depth(document, MAX_RESOURCE_DEPTH + 1) > MAX_RESOURCE_DEPTH + 1:  # +1: the Bundle around the resources
        raise ApplyError("APPLY021", f"patient bundle {path} is nested deeper than {MAX_RESOURCE_DEPTH} levels")
    return check_patient_bundle(document, str(path))


def check_patient_bundle(document: Any, where: str = "<patient>") -> dict[str, Any]:
    """Return the bundle when it is a Bundle holding exactly one Patient with an id."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        found = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        raise ApplyError("APPLY022", f"patient input {where} is not a FHIR Bundle (found {found!s})")
    entries = document.get("entry", []) or []
    if not isinstance(entries, list) or any(not isinstance(e, dict) for e in entries):
        raise ApplyError("APPLY022", f"patient input {where}: Bundle.entry must be a list of entries")
    patients = [e["resource"] for e in entries
                if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == "Patient"]
    if not patients:
        raise ApplyError("APPLY023", f"patient bundle {where} holds no Patient resource")
    if len(patients) > 1:
        raise ApplyError("APPLY024", f"patient bundle {where} holds {len(patients)} Patient resources; "
                         "apply evaluates one patient per bundle")
    if not patients[0].get("id"):
        raise ApplyError("APPLY025", f"the Patient in {where} has no id (needed for the requests' subject)")
    return document


def patient_of(bundle: Mapping[str, Any]) -> dict[str, Any]:
    for entry in bundle.get("entry", []) or []:
        resource = entry.get("resource")
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            return resource
    raise ApplyError("APPLY023", "patient bundle holds no Patient resource")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def execution_datetime(date: str | dt.date | dt.datetime) -> str:
    """The engine's Now(): a date means the end of that day in UTC, so events of that day count.

    A full ISO date-time is passed through (normalised to milliseconds, UTC if naive).
    """
    if isinstance(date, dt.datetime):
        moment = date if date.tzinfo else date.replace(tzinfo=dt.timezone.utc)
    elif isinstance(date, dt.date):
        moment = dt.datetime.combine(date, dt.time(23, 59, 59, 999000), dt.timezone.utc)
    else:
        text = str(date).strip()
        try:
            if _DATE.match(text):
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59, 59, 999000), dt.timezone.utc)
            else:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.timezone.utc)
        except ValueError as exc:
            raise ApplyError("APPLY026", f"evaluation date {text!r} is not YYYY-MM-DD or an ISO date-time") from exc
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    zone = "Z" if minutes == 0 else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + zone
