"""Layer 9, activity: what a receiving system must not misread in proposed activities.

Checks the activity vocabulary on any set of artifacts (ours or another tool's):
  * a concept naming a product or service holds one concept: several codings of one code
    system are different things (different drugs), which a choice group expresses instead;
  * `relatedAction.actionId` names another action of the same PlanDefinition;
  * a selection or grouping behaviour sits on an action that has sub-actions to select from
    (or that points to a PlanDefinition, whose actions are the choices);
  * a "no recommendation" statement (an action whose textEquivalent starts "No recommendation")
    takes no direction and proposes a message, never an order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.canonicals import CPG_DIRECTION_OF_RECOMMENDATION
from generator.diagnostics import Diagnostic
from generator.validate._model import Artifact, ref_of, split_canonical
from generator.validate._rules import diag

#: Coded elements that name ONE product or service (R4): codings there are translations, not a list.
_CONCEPTS = {
    "ActivityDefinition": ("productCodeableConcept", "code"),
    "MedicationRequest": ("medicationCodeableConcept",),
    "ServiceRequest": ("code",),
}
_ACTIVITY_TYPE_SYSTEM = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type-cs"


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    by_url = {split_canonical(str(a.resource["url"]))[0]: a.resource for a in artifacts
              if isinstance(a.resource.get("url"), str)}
    for artifact in artifacts:
        resource = artifact.resource
        rtype = resource["resourceType"]
        for element in _CONCEPTS.get(rtype, ()):
            diags += _one_concept(resource, element)
        if rtype == "PlanDefinition":
            actions = list(_actions(resource.get("action"), "PlanDefinition.action"))
            ids = {a.get("id") for a, _ in actions if a.get("id")}
            for action, path in actions:
                diags += _action(resource, action, path, ids, by_url)
    return diags


def _actions(actions: Any, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    for index, action in enumerate(actions or []):
        if isinstance(action, dict):
            yield action, f"{path}[{index}]"
            yield from _actions(action.get("action"), f"{path}[{index}].action")


def _one_concept(resource: dict[str, Any], element: str) -> list[Diagnostic]:
    concept = resource.get(element)
    if not isinstance(concept, dict):
        return []
    systems: dict[str, list[str]] = {}
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") != _ACTIVITY_TYPE_SYSTEM:
            systems.setdefault(str(coding.get("system")), []).append(str(coding.get("code")))
    for system, codes in systems.items():
        if len(set(codes)) > 1:
            return [diag("activity.codings-differ",
                         f"{element} lists {len(set(codes))} different codes of {system} ({', '.join(codes)}) as one "
                         "concept; alternatives are a choice group with one activity each",
                         resource=ref_of(resource), path=f"{resource['resourceType']}.{element}.coding")]
    return []


def _action(pd: dict[str, Any], action: dict[str, Any], path: str, ids: set[Any],
            by_url: dict[str, dict[str, Any]]) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    where = ref_of(pd)
    for index, related in enumerate(action.get("relatedAction") or []):
        target = related.get("actionId") if isinstance(related, dict) else None
        if target not in ids or target == action.get("id"):
            found.append(diag("activity.related-action",
                              f"relatedAction names action {target!r}, which is not another action of this PlanDefinition",
                              resource=where, path=f"{path}.relatedAction[{index}].actionId"))
    definition = by_url.get(split_canonical(str(action.get("definitionCanonical", "")))[0]) or {}
    selects_from_plan = definition.get("resourceType") == "PlanDefinition"  # its actions are the choices
    for behavior in ("selectionBehavior", "groupingBehavior"):
        if action.get(behavior) and not action.get("action") and not selects_from_plan:
            found.append(diag("activity.group-empty", f"{behavior} on an action without sub-actions selects nothing",
                              resource=where, path=f"{path}.{behavior}"))
    if str(action.get("textEquivalent", "")).startswith("No recommendation"):
        if any(isinstance(e, dict) and e.get("url") == CPG_DIRECTION_OF_RECOMMENDATION for e in action.get("extension") or []):
            found.append(diag("activity.no-recommendation", "a 'no recommendation' statement has a direction of "
                              "recommendation; it is neither for nor against", resource=where, path=f"{path}.extension"))
        target = by_url.get(split_canonical(str(action.get("definitionCanonical", "")))[0])
        if target is not None and (target.get("kind") != "CommunicationRequest" or target.get("doNotPerform")):
            found.append(diag("activity.no-recommendation", "a 'no recommendation' statement proposes "
                              f"{target.get('kind')} {ref_of(target)}; it may only send a message to the clinician",
                              resource=where, path=f"{path}.definitionCanonical"))
    return found
