"""SYNTH: ActivityDefinitions conforming to the CPG activity profiles.

Each profile fixes kind, the request profile, intent `proposal`, requires doNotPerform,
and carries the CPG activity-type code; the clinical code rides beside it in `code`
(services, communications) or in `productCodeableConcept` (medications).

Urgency and timing belong to the activity (CPG computable activity: `priority`, `timing[x]`):
`priority` is the stated RequestPriority (omitted when the source states none, never a
default), `timingTiming` a FHIR Timing whose `code.text` is the source's wording and whose
`repeat` holds what is structured (`boundsDuration` for "for 4 weeks", `count` 1 for a
one-off "at"/"immediately"). The offset window from the anchor goes on the recommendation's
action (see plandefinition.py).
"""

from __future__ import annotations

from typing import Any

from generator.canonicals import VALUESET_REFERENCE
from generator.model.activities import Dosage, Medication, Service, Timing
from generator.model.terminology import Code, ValueSet
from generator.resolve import ResolvedActivity, ResolvedGuideline
from generator.synth._common import ACTIVITY_TYPE_SYSTEM, CPG, CRMI, capabilities, coding, metadata

AD_PROFILES = [CRMI + "crmi-shareableactivitydefinition", CRMI + "crmi-publishableactivitydefinition"]


def _clinical_concept(term: Code | ValueSet | None, rg: ResolvedGuideline, text: str) -> dict[str, Any] | None:
    if isinstance(term, Code):
        return {"coding": [term.to_coding()], "text": text}
    if isinstance(term, ValueSet):
        # A class of products or services: point at the value set. Its members are never listed as
        # codings of one concept (codings are translations of ONE concept; different drugs are not);
        # alternatives the clinician picks from are a Choice, one activity per drug.
        return {"extension": [{"url": VALUESET_REFERENCE, "valueUri": rg.value_set_url(term)}], "text": text}
    return None


def timing_json(timing: Timing, *, medication: bool = False) -> dict[str, Any]:
    """The FHIR Timing of an activity: the source's words in code.text, structured parts in repeat.

    "At"/"immediately" make a one-off event `count` 1, except for a medication: there the timing
    says when to *start*, and `$apply` merges it into the dosage's Timing, where `count` 1 would
    mean a single dose."""
    repeat: dict[str, Any] = {}
    if timing.duration is not None:
        repeat["boundsDuration"] = timing.duration.to_fhir()
    elif timing.offset is not None and not medication:
        repeat["count"] = 1  # a one-off event ("at 4-6 weeks", "immediately")
    result: dict[str, Any] = {}
    if repeat:
        result["repeat"] = repeat
    result["code"] = {"text": timing.text}
    return result


def _dosage(d: Dosage) -> dict[str, Any]:
    result: dict[str, Any] = {"text": d.text}
    repeat: dict[str, Any] = {}
    if d.duration is not None:
        repeat["boundsDuration"] = d.duration.to_fhir()
    if d.frequency is not None:
        repeat["frequency"] = d.frequency
    if d.period is not None:
        repeat["period"] = d.period.value
        repeat["periodUnit"] = {"days": "d", "weeks": "wk", "months": "mo", "years": "a"}[d.period.unit]
    if repeat:
        result["timing"] = {"repeat": repeat}
    if d.as_needed:
        result["asNeededBoolean"] = True
    if d.route is not None:
        result["route"] = {"coding": [d.route.to_coding()]}
    if d.dose is not None:
        result["doseAndRate"] = [{"doseQuantity": d.dose.to_fhir()}]
    return result


def activity_definition(rg: ResolvedGuideline, ra: ResolvedActivity) -> dict[str, Any]:
    activity = ra.activity
    resource: dict[str, Any] = {
        "resourceType": "ActivityDefinition",
        "id": ra.id,
        "meta": {"profile": [CPG + activity.profile, *AD_PROFILES]},
        "extension": capabilities("shareable", "computable", "publishable"),
    }
    description = activity.description or ra.recommendation.recommendation.statement or ra.title
    resource.update(metadata(rg, "ActivityDefinition", ra.id, ra.name, ra.title, description))
    if ra.message_define:
        resource["library"] = [rg.versioned(rg.library_url)]
    resource["kind"] = activity.kind
    resource["profile"] = CPG + activity.request_profile

    type_coding = coding(ACTIVITY_TYPE_SYSTEM, activity.activity_type, activity.activity_type_display)
    clinical = _clinical_concept(activity.code, rg, ra.title)
    if isinstance(activity, Medication) or clinical is None:
        resource["code"] = {"coding": [type_coding]}
    else:
        merged = dict(clinical)
        merged["coding"] = [type_coding, *clinical.get("coding", [])]
        resource["code"] = merged
    resource["intent"] = "proposal"
    if activity.priority is not None:
        resource["priority"] = activity.priority.value
    resource["doNotPerform"] = activity.do_not_perform
    if isinstance(activity.timing, Timing):
        resource["timingTiming"] = timing_json(activity.timing, medication=isinstance(activity, Medication))
    if isinstance(activity, Service) and activity.body_site is not None:
        resource["bodySite"] = [{"coding": [activity.body_site.to_coding()]}]
    if isinstance(activity, Medication):
        if clinical is not None:
            resource["productCodeableConcept"] = clinical
        if activity.dosages:
            resource["dosage"] = [_dosage(d) for d in activity.dosages]
    if ra.message_define:
        resource["dynamicValue"] = [
            {
                "path": "payload[0].contentString",
                "expression": {"language": "text/cql-identifier", "expression": ra.message_define},
            }
        ]
    return resource
