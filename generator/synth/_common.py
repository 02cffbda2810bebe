"""Shared pieces of every synthesized resource: canonical metadata, profiles, extensions.

Resources are built as plain JSON dicts in FHIR element order (readable, deterministic)
and then parsed with the `fhir.resources` R4B models: R4B is the closest model set the
package ships to R4 4.0.1 and serves as the structural check of everything we emit.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

# The synth modules import these canonicals from here, under the short names they use.
from generator.canonicals import ACTION_TYPE as ACTION_TYPE_SYSTEM
from generator.canonicals import CPG, CQLIG, CRMI
from generator.canonicals import CPG_ACTIVITY_TYPE as ACTIVITY_TYPE_SYSTEM
from generator.canonicals import CPG_COMMON_PROCESS as PROCESS_SYSTEM
from generator.canonicals import CPG_DIRECTION_OF_RECOMMENDATION as DIRECTION
from generator.canonicals import CPG_ENABLED as ENABLED
from generator.canonicals import CPG_PART_OF as PART_OF
from generator.canonicals import CPG_RATIONALE as RATIONALE
from generator.canonicals import CPG_RECOMMENDATION_DIRECTION as DIRECTION_SYSTEM
from generator.canonicals import CQF_CQL_OPTIONS as CQL_OPTIONS
from generator.canonicals import CQF_KNOWLEDGE_CAPABILITY as KNOWLEDGE_CAPABILITY
from generator.canonicals import CQF_QUALITY_OF_EVIDENCE as QUALITY
from generator.canonicals import CQF_STRENGTH_OF_RECOMMENDATION as STRENGTH
from generator.canonicals import EVIDENCE_QUALITY as QUALITY_SYSTEM
from generator.canonicals import LIBRARY_TYPE as LIBRARY_TYPE_SYSTEM
from generator.canonicals import PLAN_DEFINITION_TYPE as PLAN_TYPE_SYSTEM
from generator.canonicals import RECOMMENDATION_STRENGTH as STRENGTH_SYSTEM
from generator.model.recommendation import Citation
from generator.resolve import ResolvedGuideline


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
