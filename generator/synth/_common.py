"""Shared pieces of every synthesized resource: canonical metadata, profiles, extensions.

Resources are built as plain JSON dicts in FHIR element order (readable, deterministic)
and then parsed with the `fhir.resources` R4B models: R4B is the closest model set the
package ships to R4 4.0.1 and serves as the structural check of everything we emit.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from generator.model.recommendation import Citation
from generator.resolve import ResolvedGuideline

CPG = "http://hl7.org/fhir/uv/cpg/StructureDefinition/"
CRMI = "http://hl7.org/fhir/uv/crmi/StructureDefinition/"
CQLIG = "http://hl7.org/fhir/uv/cql/StructureDefinition/"
EXT = "http://hl7.org/fhir/StructureDefinition/"

KNOWLEDGE_CAPABILITY = EXT + "cqf-knowledgeCapability"
STRENGTH = EXT + "cqf-strengthOfRecommendation"
QUALITY = EXT + "cqf-qualityOfEvidence"
DIRECTION = CPG + "cpg-directionOfRecommendation"
RATIONALE = CPG + "cpg-rationale"
PART_OF = CPG + "cpg-partOf"
ENABLED = CPG + "cpg-enabled"
CQL_OPTIONS = EXT + "cqf-cqlOptions"

STRENGTH_SYSTEM = "http://terminology.hl7.org/CodeSystem/recommendation-strength"
QUALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/evidence-quality"
DIRECTION_SYSTEM = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-recommendation-direction-cs"
PROCESS_SYSTEM = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-common-process-cs"
ACTIVITY_TYPE_SYSTEM = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type-cs"
PLAN_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
LIBRARY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/library-type"
ACTION_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/action-type"


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def concept(system: str, code: str, display: str, text: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text:
        result["text"] = text
    return result


def capabilities(*codes: str) -> list[dict[str, str]]:
    return [{"url": KNOWLEDGE_CAPABILITY, "valueCode": c} for c in codes]


def metadata(rg: ResolvedGuideline, resource_type: str, resource_id: str, name: str, title: str,
             description: str | None) -> dict[str, Any]:
    """The CRMI shareable + publishable metadata every knowledge artifact carries."""
    g = rg.guideline
    meta: dict[str, Any] = {
        "url": rg.url(resource_type, resource_id),
        "version": g.version,
        "name": name,
        "title": title,
        "status": g.status,
        "experimental": g.experimental,
        "date": g.date,
        "publisher": g.publisher,
    }
    if g.contact:
        meta["contact"] = [{"name": g.publisher, "telecom": [{"system": "url" if "://" in g.contact else "email", "value": g.contact}]}]
    meta["description"] = description or title
    if g.jurisdiction:
        meta["jurisdiction"] = [{"coding": [c.to_coding()]} for c in g.jurisdiction]
    if g.copyright:
        meta["copyright"] = g.copyright
    return meta


def citation_artifact(key: str, citation: Citation, passage: str | None = None) -> dict[str, Any]:
    """A RelatedArtifact citing one source document (and the passage relied on)."""
    updated = f" (last updated {citation.updated})" if citation.updated else ""
    text = f"{citation.title}{updated}."
    if passage:
        text += f' "{passage}"'
    artifact: dict[str, Any] = {"type": "citation", "label": key, "display": citation.title, "citation": text}
    if citation.url:
        artifact["url"] = citation.url
    return artifact


def checked(resource: dict[str, Any]) -> dict[str, Any]:
    """Parse with the R4B model (raises on structural errors); return the dict unchanged."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource
