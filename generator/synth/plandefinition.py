"""SYNTH: the three PlanDefinition levels CPG asks for.

pathway (clinical-protocol) -> strategies (workflow-definition) -> recommendations
(eca-rule) -> ActivityDefinitions. Links go down by `action.definitionCanonical` and up by
`cpg-partOf`; condition logic lives only in recommendations.

A recommendation's action per activity carries its `priority` and its timing: an offset window
from the anchor as `timingRange` (low = high for one offset), otherwise the activity's Timing; relative to another activity as `relatedAction` (relationship `after-start`, offset).
A `Choice` is a nested action group (groupingBehavior `logical-group`, its selectionBehavior);
several activities are a group with selectionBehavior `all` (CPG process patterns).
"""

from __future__ import annotations

from typing import Any

from generator.model.activities import Activity, Choice, NoRecommendation, Timing
from generator.resolve import ResolvedActivity, ResolvedGuideline, ResolvedRecommendation, ResolvedStrategy
from generator.synth.activitydefinition import timing_json
from generator.synth._common import (
    CPG,
    CRMI,
    DIRECTION,
    DIRECTION_SYSTEM,
    ENABLED,
    PART_OF,
    PLAN_TYPE_SYSTEM,
    PROCESS_SYSTEM,
    QUALITY,
    QUALITY_SYSTEM,
    RATIONALE,
    STRENGTH,
    STRENGTH_SYSTEM,
    ACTION_TYPE_SYSTEM,
    capabilities,
    citation_artifact,
    concept,
    metadata,
)

PLAN_PROFILES = [CRMI + "crmi-shareableplandefinition", CRMI + "crmi-publishableplandefinition"]


def _plan(rg: ResolvedGuideline, profile: str, plan_id: str, name: str, title: str, description: str,
          type_code: str, type_display: str, part_of: str | None) -> dict[str, Any]:
    extension: list[dict[str, Any]] = [{"url": ENABLED, "valueBoolean": True}]
    if part_of:
        extension.append({"url": PART_OF, "valueCanonical": rg.versioned(part_of)})
    extension += capabilities("shareable", "computable", "publishable")
    resource: dict[str, Any] = {
        "resourceType": "PlanDefinition",
        "id": plan_id,
        "meta": {"profile": [CPG + profile, *PLAN_PROFILES]},
        "extension": extension,
    }
    resource.update(metadata(rg, "PlanDefinition", plan_id, name, title, description))
    resource["type"] = concept(PLAN_TYPE_SYSTEM, type_code, type_display)
    if rg.guideline.topic:
        resource["topic"] = [{"coding": [c.to_coding()]} for c in rg.guideline.topic]
    return resource


def _sources_artifacts(rg: ResolvedGuideline, keys: list[str]) -> list[dict[str, Any]]:
    return [citation_artifact(k, rg.guideline.sources[k]) for k in keys if k in rg.guideline.sources]


def pathway(rg: ResolvedGuideline) -> dict[str, Any]:
    g = rg.guideline
    resource = _plan(rg, "cpg-pathwaydefinition", rg.pathway_id, g.name, g.title, g.description,
                     "clinical-protocol", "Clinical Protocol", None)
    resource["relatedArtifact"] = _sources_artifacts(rg, sorted(g.sources))
    resource["action"] = [
        {
            "title": rs.strategy.title,
            "description": rs.strategy.description or rs.strategy.title,
            "code": [concept(PROCESS_SYSTEM, *rs.strategy.process.value)],
            "definitionCanonical": rg.versioned(rs.url),
        }
        for rs in rg.strategies
    ]
    return resource


def strategy(rg: ResolvedGuideline, rs: ResolvedStrategy) -> dict[str, Any]:
    s = rs.strategy
    resource = _plan(rg, "cpg-strategydefinition", rs.id, rs.name, s.title or rs.id, s.description or s.title or rs.id,
                     "workflow-definition", "Workflow Definition", rg.pathway_url)
    resource["action"] = [
        {
            "title": rr.recommendation.title,
            "description": rr.recommendation.statement or rr.recommendation.title,
            "code": [concept(PROCESS_SYSTEM, *s.process.value)],
            "definitionCanonical": rg.versioned(rr.url),
        }
        for rr in rs.recommendations
    ]
    return resource


def recommendation(rg: ResolvedGuideline, rr: ResolvedRecommendation) -> dict[str, Any]:
    rec = rr.recommendation
    statement = rec.statement or rec.title or rr.id
    resource = _plan(rg, "cpg-recommendationdefinition", rr.id, rr.name, rec.title or rr.id, statement,
                     "eca-rule", "ECA Rule", rr.strategy.url)
    source_keys = sorted({s.document for s in rec.sources})
    if source_keys:
        resource["relatedArtifact"] = _sources_artifacts(rg, source_keys)
    resource["library"] = [rg.versioned(rg.library_url)]

    action: dict[str, Any] = {}
    evidence: list[dict[str, Any]] = []
    if rec.strength is not None:
        evidence.append({"url": STRENGTH, "valueCodeableConcept": concept(STRENGTH_SYSTEM, *rec.strength.value)})
    if rec.certainty is not None:
        evidence.append({"url": QUALITY, "valueCodeableConcept": concept(QUALITY_SYSTEM, *rec.certainty.value)})
    if rec.direction is not None:
        evidence.append({"url": DIRECTION, "valueCodeableConcept": concept(DIRECTION_SYSTEM, *rec.direction.value)})
    if rec.rationale:
        evidence.append({"url": RATIONALE, "valueMarkdown": rec.rationale})
    if evidence:
        action["extension"] = evidence
    action["title"] = rec.title or rr.id
    action["description"] = statement
    action["code"] = [concept(PROCESS_SYSTEM, *rr.strategy.strategy.process.value)]
    action["documentation"] = [
        citation_artifact(s.document, rg.guideline.sources[s.document], s.passage)
        for s in rec.sources
        if s.document in rg.guideline.sources
    ]
    action["condition"] = [
        {
            "kind": "applicability",
            "expression": {
                "description": f"Applicability of '{rec.title or rr.id}'",
                "language": "text/cql-identifier",
                "expression": rr.applicability_define,
            },
        }
    ]
    children = [_group_or_activity(rg, rr, item) for item in rec.actions]
    if len(children) == 1 and "action" not in children[0]:
        action.update({k: v for k, v in children[0].items() if k not in ("title", "description")})
    elif len(children) == 1:
        child = children[0]
        action["groupingBehavior"] = child["groupingBehavior"]
        action["selectionBehavior"] = child["selectionBehavior"]
        action["action"] = child["action"]
    else:
        action["groupingBehavior"] = "logical-group"
        action["selectionBehavior"] = "all"
        action["action"] = children
    resource["action"] = [_ordered(action)]
    return resource


#: R4 PlanDefinition.action element order (JSON is written in this order).
_ACTION_ORDER = ("id", "extension", "prefix", "title", "description", "textEquivalent", "priority", "code", "reason",
                 "documentation", "goalId", "subjectCodeableConcept", "trigger", "condition", "input", "output",
                 "relatedAction", "timingDateTime", "timingAge", "timingPeriod", "timingDuration", "timingRange",
                 "timingTiming", "participant", "type", "groupingBehavior", "selectionBehavior", "requiredBehavior",
                 "precheckBehavior", "cardinalityBehavior", "definitionCanonical", "transform", "dynamicValue", "action")


def _ordered(action: dict[str, Any]) -> dict[str, Any]:
    return {k: action[k] for k in _ACTION_ORDER if k in action}


def _group_or_activity(rg: ResolvedGuideline, rr: ResolvedRecommendation, item: Activity | Choice) -> dict[str, Any]:
    by_activity = {id(ra.activity): ra for ra in rr.activities}
    if isinstance(item, Choice):
        members = [_activity_action(rg, by_activity[id(a)], by_activity) for a in item.activities]
        title = item.title or "Choose: " + "; ".join(m["title"] for m in members)
        group: dict[str, Any] = {"title": title, "description": title, "groupingBehavior": "logical-group",
                                 "selectionBehavior": item.select.value, "action": members}
        if item.id:
            group["id"] = item.id
        return _ordered(group)
    return _activity_action(rg, by_activity[id(item)], by_activity)


def _activity_action(rg: ResolvedGuideline, ra: ResolvedActivity, by_activity: dict[int, ResolvedActivity]) -> dict[str, Any]:
    activity = ra.activity
    child: dict[str, Any] = {"id": ra.id, "title": ra.title, "description": activity.description or ra.title}
    if isinstance(activity, NoRecommendation):
        child["textEquivalent"] = activity.message  # shown as is by systems that do not run the activity
    if activity.priority is not None:
        child["priority"] = activity.priority.value
    timing = activity.timing
    if isinstance(timing, Timing):
        child.update(_action_timing(timing, by_activity))
    child["type"] = concept(ACTION_TYPE_SYSTEM, "create", "Create")
    child["definitionCanonical"] = rg.versioned(ra.url)
    return _ordered(child)


def _offset(timing: Timing) -> tuple[str, dict[str, Any]] | None:
    """The offset from the anchor: a Range (low = high for one offset). Never a bare Duration, which
    readers take for how long the action lasts rather than when it starts."""
    if timing.offset is None or (timing.offset.value == 0 and timing.offset_high is None):
        return None
    if timing.offset_high is None:
        return "Range", {"low": timing.offset.to_fhir(), "high": timing.offset.to_fhir()}
    return "Range", {"low": timing.offset.to_fhir(), "high": timing.offset_high.to_fhir()}


def _action_timing(timing: Timing, by_activity: dict[int, ResolvedActivity]) -> dict[str, Any]:
    """When the action is due: relative to another action, an offset window, or the activity's Timing."""
    offset = _offset(timing)
    out: dict[str, Any] = {}
    if timing.after is not None:
        related: dict[str, Any] = {"actionId": by_activity[id(timing.after)].id, "relationship": "after-start"}
        if offset is not None and timing.offset_high is None:
            related["offsetDuration"] = timing.offset.to_fhir()  # type: ignore[union-attr]
        elif offset is not None:
            related["offsetRange"] = offset[1]
        out["relatedAction"] = [related]
        out["timingTiming"] = timing_json(timing)
    elif offset is not None:
        out[f"timing{offset[0]}"] = offset[1]
    else:
        out["timingTiming"] = timing_json(timing)
    return out
