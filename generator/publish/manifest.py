"""The CRMI manifest (asset-collection Library) and the packaging order of a guideline's resources.

CRMI packaging wants the manifest first, then the owned artifacts (pathway first), then
their dependencies. The order is decided here once, from the resolved construct tree
(not from the order synth happened to emit), so bundles and the package agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from generator.canonicals import (CRMI_MANIFEST_LIBRARY, FHIR_MODEL_INFO, LIBRARY_TYPE, PLAN_DEFINITION_TYPE,
                                  SHARED_LIBRARY_BASE)
from generator.model.terminology import KNOWN_SYSTEM_NAMES

if TYPE_CHECKING:
    from generator.resolve import ResolvedGuideline

# Ranks of the packaging order; below ARTIFACT_LIMIT a resource is one of the guideline's own artifacts.
_MANIFEST, _PATHWAY, _STRATEGY, _RECOMMENDATION, _ACTIVITY, _LOGIC = range(6)
ARTIFACT_LIMIT = 6
_OTHER_LIBRARY, _TERMINOLOGY, _OTHER = 6, 7, 8


def manifest_id(rg: ResolvedGuideline) -> str:
    return f"{rg.guideline.id}-manifest"


def _type_code(resource: dict[str, Any], system: str) -> str | None:
    for coding in resource.get("type", {}).get("coding", []):
        if coding.get("system") == system:
            return str(coding.get("code"))
    return None


def _rank(resource: dict[str, Any], rg: ResolvedGuideline) -> int:
    kind = resource["resourceType"]
    if kind == "PlanDefinition":
        return {"clinical-protocol": _PATHWAY, "workflow-definition": _STRATEGY}.get(
            _type_code(resource, PLAN_DEFINITION_TYPE) or "", _RECOMMENDATION)
    if kind == "ActivityDefinition":
        return _ACTIVITY
    if kind == "Library":
        if _type_code(resource, LIBRARY_TYPE) == "asset-collection":
            return _MANIFEST
        return _LOGIC if resource.get("url") == rg.library_url else _OTHER_LIBRARY
    if kind in ("ValueSet", "CodeSystem"):
        return _TERMINOLOGY
    return _OTHER


def _tree_positions(rg: ResolvedGuideline) -> dict[str, int]:
    """Canonical url -> position in the construct tree (pathway, strategies, recs, activities, value sets)."""
    urls = [rg.pathway_url]
    urls += [s.url for s in rg.strategies]
    urls += [r.url for r in rg.recommendations]
    urls += [a.url for a in rg.activities]
    urls += [rg.value_set_url(vs) for vs in rg.value_sets]
    return {url: i for i, url in enumerate(dict.fromkeys(urls))}


def packaging_order(resources: Iterable[dict[str, Any]], rg: ResolvedGuideline) -> list[dict[str, Any]]:
    """Manifest, pathway, strategies, recommendations, activities, logic library, then dependencies."""
    positions = _tree_positions(rg)
    big = len(positions)

    def key(resource: dict[str, Any]) -> tuple[int, int, str, str]:
        return (_rank(resource, rg), positions.get(str(resource.get("url")), big),
                resource["resourceType"], str(resource.get("id")))

    return sorted(resources, key=key)


def is_artifact(resource: dict[str, Any], rg: ResolvedGuideline) -> bool:
    return _rank(resource, rg) < ARTIFACT_LIMIT


def _codings(node: Any) -> Iterator[str]:
    """Every code system a resource uses in a Coding, a Quantity or a ValueSet include."""
    if isinstance(node, dict):
        system = node.get("system")
        if isinstance(system, str) and ("code" in node or "concept" in node or "filter" in node):
            yield system
        for key, value in node.items():
            if key not in ("meta", "contained", "content"):
                yield from _codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codings(item)


def _versioned(resource: dict[str, Any]) -> str:
    url = str(resource.get("url", ""))
    return f"{url}|{resource['version']}" if resource.get("version") else url


def _bare(canonical: str) -> str:
    return canonical.split("|", 1)[0]


def _shared(resource: dict[str, Any]) -> bool:
    """A library every guideline shares (FHIRHelpers): a dependency of the guideline, not a component."""
    return str(resource.get("url", "")).startswith(SHARED_LIBRARY_BASE)


def external_dependencies(resources: list[dict[str, Any]]) -> list[dict[str, str]]:
    """`depends-on` entries for what the set uses but does not contain (sorted by canonical)."""
    owned = {str(r.get("url")) for r in resources if r.get("url") and not _shared(r)}
    found: dict[str, str] = {FHIR_MODEL_INFO: "FHIR model information (FHIR-ModelInfo 4.0.1)"}
    for resource in resources:
        for system in _codings(resource):
            if system not in owned:
                found.setdefault(system, f"Code system {KNOWN_SYSTEM_NAMES.get(system, system)}")
        if resource["resourceType"] == "Library":
            for artifact in resource.get("relatedArtifact", []):
                target = artifact.get("resource")
                if artifact.get("type") == "depends-on" and target and _bare(target) not in owned:
                    found[target] = artifact.get("display") or found.get(target) or target
    return [{"type": "depends-on", "display": display, "resource": canonical}
            for canonical, display in sorted(found.items())]


def manifest_library(rg: ResolvedGuideline, components: list[dict[str, Any]]) -> dict[str, Any]:
    """The crmi-manifestlibrary: `composed-of` every component, `depends-on` what lies outside."""
    g = rg.guideline
    ident = manifest_id(rg)
    resource: dict[str, Any] = {
        "resourceType": "Library",
        "id": ident,
        "meta": {"profile": [CRMI_MANIFEST_LIBRARY]},
        "url": rg.url("Library", ident),
        "version": g.version,
        "name": f"{g.name}Manifest",
        "title": f"{g.title} manifest",
        "status": g.status,
        "experimental": g.experimental,
        "type": {"coding": [{"system": LIBRARY_TYPE, "code": "asset-collection", "display": "Asset Collection"}]},
        "date": g.date,
        "publisher": g.publisher,
        "description": f"Every artifact of {g.title} and what they depend on, for packaging and distribution.",
    }
    if g.copyright:
        resource["copyright"] = g.copyright
    composed = [
        {"type": "composed-of", "display": str(r.get("title") or r.get("name") or r["id"]),
         "resource": _versioned(r)}
        for r in components if not _shared(r)
    ]
    resource["relatedArtifact"] = composed + external_dependencies(components)
    return resource
