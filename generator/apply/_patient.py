"""Patient input for apply: one FHIR Bundle per patient, checked before the engine sees it.

Why check here: cql-exec-fhir assumes a Bundle with a Patient and fails deep inside the engine
otherwise; a one-line message naming the file is what the user needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.apply._artifacts import ApplyError
from generator.diagnostics import Diagnostic, Severity
from generator.validate._base import screen_types
from generator.readers import MAX_JSON_BYTES, MAX_RESOURCE_DEPTH, InputError, json_depth, parse_json, read_bytes

__all__ = ["CheckedBundle", "read_patient_bundle", "read_scenario_bundle", "parse_patient_bundle",
           "check_patient_bundle", "patient_of", "execution_datetime"]


class CheckedBundle(dict[str, Any]):
    """A patient Bundle as `check_patient_bundle` returns it: apply does not check it again.

    Read-only by convention: `read_scenario_bundle` hands the same object to every reader of the
    same file content."""


def read_patient_bundle(path: Path, findings: list[Diagnostic] | None = None) -> CheckedBundle:
    """Read and check a patient Bundle file (a bounded regular file, strict JSON); warnings about
    the records (see `check_patient_bundle`) are appended to `findings` when given."""
    return parse_patient_bundle(_read(path), str(path), findings)


#: Scenario bundles parsed and checked, by file name and content (see `read_scenario_bundle`).
_SCENARIOS: OrderedDict[bytes, tuple[CheckedBundle, tuple[Diagnostic, ...]]] = OrderedDict()
_SCENARIOS_MAX = 256
_SCENARIOS_LOCK = threading.Lock()


def read_scenario_bundle(path: Path, findings: list[Diagnostic] | None = None) -> CheckedBundle:
    """`read_patient_bundle` for a guideline's scenario bundles, parsed and checked once per content.

    Why: one build reads each scenario's bundle three or four times (ahead while Node translates,
    the scenario run, its test-case Library, the site). The file is read every time and the same
    object returned only while the name holds the same bytes; patient data given to `cpg apply` is
    read with `read_patient_bundle`, so a batch never fills this."""
    data = _read(path)
    digest = hashlib.blake2b(str(path).encode("utf-8", "surrogatepass"), digest_size=32)
    digest.update(b"\0")
    digest.update(data)
    key = digest.digest()
    with _SCENARIOS_LOCK:
        known = _SCENARIOS.get(key)
        if known is not None:
            _SCENARIOS.move_to_end(key)
    if known is None:
        found: list[Diagnostic] = []
        known = parse_patient_bundle(data, str(path), found), tuple(found)
        with _SCENARIOS_LOCK:
            _SCENARIOS[key] = known
            while len(_SCENARIOS) > _SCENARIOS_MAX:
                _SCENARIOS.popitem(last=False)
    if findings is not None:
        findings.extend(known[1])
    return known[0]


def _read(path: Path) -> bytes:
    try:
        return read_bytes(path, MAX_JSON_BYTES)
    except InputError as exc:
        raise ApplyError("APPLY020", f"cannot read patient bundle {exc}") from exc


def parse_patient_bundle(data: str | bytes, where: str, findings: list[Diagnostic] | None = None) -> CheckedBundle:
    """Parse and check one patient Bundle's JSON (a file's bytes, or one line of an NDJSON file)."""
    try:
        document = parse_json(data, where)
    except InputError as exc:
        raise ApplyError("APPLY021", f"patient bundle {where} is not valid JSON: {exc.message}") from exc
    if json_depth(document, MAX_RESOURCE_DEPTH + 1) > MAX_RESOURCE_DEPTH + 1:  # +1: the Bundle around the resources
        raise ApplyError("APPLY021", f"patient bundle {where} is nested deeper than {MAX_RESOURCE_DEPTH} levels")
    return check_patient_bundle(document, where, findings)


def check_patient_bundle(document: Any, where: str = "<patient>",
                         findings: list[Diagnostic] | None = None) -> CheckedBundle:
    """The bundle when it is a Bundle holding exactly one Patient with an id, as the engine may see it:
    records of another patient left out (APPLY053), values of the wrong JSON type or with an invalid
    date or format left out (APPLY051, APPLY052). Each is a warning naming the resource, appended to
    `findings` when given: the engine would otherwise drop such data without a word."""
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        found = document.get("resourceType") if isinstance(document, dict) else type(document).__name__
        raise ApplyError("APPLY022", f"patient input {where} is not a FHIR Bundle (found {found!s})")
    entries = document.get("entry", []) or []
    if not isinstance(entries, list) or any(not isinstance(e, dict) for e in entries):
        raise ApplyError("APPLY022", f"patient input {where}: Bundle.entry must be a list of entries")
    patients = [e for e in entries if isinstance(e.get("resource"), dict) and e["resource"].get("resourceType") == "Patient"]
    if not patients:
        raise ApplyError("APPLY023", f"patient bundle {where} holds no Patient resource")
    if len(patients) > 1:
        raise ApplyError("APPLY024", f"patient bundle {where} holds {len(patients)} Patient resources; "
                         "apply evaluates one patient per bundle")
    patient_id = patients[0]["resource"].get("id")
    if not patient_id or not isinstance(patient_id, str):
        raise ApplyError("APPLY025", f"the Patient in {where} has no id (needed for the requests' subject)")
    ours = {f"Patient/{patient_id}"} | ({patients[0]["fullUrl"]} if isinstance(patients[0].get("fullUrl"), str) else set())
    kept: list[dict[str, Any]] = []
    warnings: list[Diagnostic] = []
    for entry in entries:
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            kept.append(entry)
            continue
        name = f"{resource.get('resourceType')}/{resource.get('id')}"
        other = _other_patient(resource, ours)
        if other is not None:
            warnings.append(Diagnostic("APPLY053", f"{where}: {other[0]} refers to {other[1]}, not to Patient/"
                                       f"{patient_id}; the record is not used", Severity.WARNING, resource=name,
                                       path=f"{resource.get('resourceType')}.{other[0]}"))
            continue
        cleaned, problems = screen_types(resource)
        for d in problems:
            code = "APPLY052" if d.code == "base.primitive-format" else "APPLY051"
            warnings.append(Diagnostic(code, f"{where}: {d.message}; the value is not used", Severity.WARNING,
                                       resource=name, path=d.path))
        kept.append({**entry, "resource": cleaned} if cleaned is not resource else entry)
    if findings is not None:
        findings.extend(warnings)
    if len(kept) == len(entries) and all(a is b for a, b in zip(kept, entries)):
        return document if isinstance(document, CheckedBundle) else CheckedBundle(document)
    return CheckedBundle({**document, "entry": kept})


#: Elements that say whose record a resource is.
_SUBJECT_ELEMENTS = ("subject", "patient")


def _other_patient(resource: Mapping[str, Any], ours: set[str]) -> tuple[str, str] | None:
    """(element, reference) when the record belongs to a Patient other than ours."""
    for element in _SUBJECT_ELEMENTS:
        value = resource.get(element)
        reference = value.get("reference") if isinstance(value, Mapping) else None
        if not isinstance(reference, str):
            continue
        tail = "/".join(reference.rstrip("/").split("/")[-2:])
        points_at_patient = reference.startswith("urn:") or tail.startswith("Patient/")
        if points_at_patient and reference not in ours and tail not in ours:
            return element, reference
    return None


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
