"""SYNTH: the three PlanDefinition levels CPG asks for.

pathway (clinical-protocol) -> strategies (workflow-definition) -> recommendations
(eca-rule) -> ActivityDefinitions. Links go down by `action.definitionCanonical` and up by
`cpg-partOf`; condition logic lives only in recommendations.
"""

from __future__ import annotations

from typing import Any

from generator.resolve import ResolvedGuideline, ResolvedRecommendation, ResolvedStrategy
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
    children = [
        {
            "id": ra.id,
            "title": ra.title,
            "description": ra.activity.description or ra.title,
            "type": concept(ACTION_TYPE_SYSTEM, "create", "Create"),
            "definitionCanonical": rg.versioned(ra.url),
        }
        for ra in rr.activities
    ]
    if len(children) == 1:
        child = children[0]
        action["id"] = child["id"]
        action["type"] = child["type"]
        action["definitionCanonical"] = child["definitionCanonical"]
    else:
        action["groupingBehavior"] = "logical-group"
        action["selectionBehavior"] = "all"
        action["action"] = children
    resource["action"] = [action]
    return resource
