"""SYNTH: Libraries carrying CQL and its compiled ELM.

The logic Library claims the CRMI computable/executable and CQL IG cql-library,
elm-json-library and cql-module profiles: content is CQL + ELM JSON (base64), parameters,
data requirements and depends-on related artifacts are computed from the ELM (as
`$data-requirements` would), and the translator options travel in a contained Parameters
referenced by `cqf-cqlOptions`. The ELM is embedded as compact JSON (servers refuse the
megabyte strings pretty-printed ELM makes). Shared libraries (FHIRHelpers) are built by
`shared_library`: the same resource, byte for byte, whichever guideline emits it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from generator.canonicals import SHARED_LIBRARY_BASE
from generator.cql import elm as elm_analysis
from generator.cql.translator import Translation
from generator.jsonfmt import dump_compact
from generator.resolve import ResolvedGuideline
from generator.synth._common import CQL_OPTIONS, CQLIG, CRMI, LIBRARY_TYPE_SYSTEM, capabilities, concept

LIBRARY_PROFILES = [
    CRMI + "crmi-shareablelibrary",
    CRMI + "crmi-publishablelibrary",
    CRMI + "crmi-computablelibrary",
    CRMI + "crmi-executablelibrary",
    CQLIG + "cql-library",
    CQLIG + "elm-json-library",
    CQLIG + "cql-module",
]
CQL_MEDIA = "text/cql; version=1.5"
ELM_MEDIA = "application/elm+json; version=1.5"
FHIRHELPERS_VERSION = "4.0.1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _options_parameters(options: Mapping[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for key in sorted(options):
        value = options[key]
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, bool):
                params.append({"name": key, "valueBoolean": v})
            else:
                params.append({"name": key, "valueString": str(v)})
    params.append({"name": "format", "valueString": "JSON"})
    return {"resourceType": "Parameters", "id": "options", "parameter": params}


# Libraries every guideline includes under the same name and version, published once for all
# guidelines: one canonical (SHARED_LIBRARY_BASE), an id derived from name and version, and
# metadata that does not depend on the guideline, so every guideline emits byte-identical copies
# (PUT and conditional create of a second guideline then meet the same resource, not a collision).
SHARED_LIBRARIES = frozenset({"FHIRHelpers"})
# Fixed, never the clock: the date our generated FHIRHelpers text last changed meaning.
SHARED_LIBRARY_DATE = "2026-12-06"
SHARED_LIBRARY_PUBLISHER = "cpg generator"


def library_canonical_base(rg: ResolvedGuideline) -> str:
    return rg.guideline.canonical.rstrip("/") + "/Library/"


def library_canonical(rg: ResolvedGuideline, name: str) -> str:
    """The canonical (without version) of library `name` as the guideline's resources cite it."""
    return SHARED_LIBRARY_BASE + name if name in SHARED_LIBRARIES else library_canonical_base(rg) + name


def shared_library_id(name: str, version: str) -> str:
    """`FHIRHelpers-4.0.1`: identical copies share it, another version gets its own resource."""
    return f"{name}-{version}"


def _content(cql: str, translation: Translation) -> list[dict[str, str]]:
    """CQL and ELM as attachments. The ELM is compact JSON: pretty-printed ELM in base64 made
    Libraries over 1 MB that servers refuse (the readable copy is output/<id>/elm/)."""
    return [
        {"contentType": CQL_MEDIA, "data": _b64(cql.encode("utf-8"))},
        {"contentType": ELM_MEDIA, "data": _b64(dump_compact(translation.elm))},
    ]


def logic_library(rg: ResolvedGuideline, name: str, version: str, title: str, description: str,
                  cql: str, translation: Translation, options: Mapping[str, Any]) -> dict[str, Any]:
    """The Library of the guideline's own compiled CQL library."""
    g = rg.guideline
    metadata: dict[str, Any] = {"status": g.status, "experimental": g.experimental, "date": g.date,
                                "publisher": g.publisher}
    if g.jurisdiction:
        metadata["jurisdiction"] = [{"coding": [c.to_coding()]} for c in g.jurisdiction]
    if g.copyright:
        metadata["copyright"] = g.copyright
    return _library(name, name, library_canonical(rg, name), version, title, description, metadata, cql,
                    translation, options, lambda lib: library_canonical(rg, lib))


def shared_library(name: str, version: str, title: str, description: str, cql: str, translation: Translation,
                   options: Mapping[str, Any]) -> dict[str, Any]:
    """The Library of a shared CQL library (FHIRHelpers): the same resource whichever guideline emits it."""
    metadata = {"status": "active", "experimental": False, "date": SHARED_LIBRARY_DATE,
                "publisher": SHARED_LIBRARY_PUBLISHER}
    return _library(shared_library_id(name, version), name, SHARED_LIBRARY_BASE + name, version, title,
                    description, metadata, cql, translation, options, lambda lib: SHARED_LIBRARY_BASE + lib)


def _library(rid: str, name: str, url: str, version: str, title: str, description: str, metadata: dict[str, Any],
             cql: str, translation: Translation, options: Mapping[str, Any],
             canonical_of: Callable[[str], str]) -> dict[str, Any]:
    assert translation.elm is not None
    resource: dict[str, Any] = {
        "resourceType": "Library",
        "id": rid,
        "meta": {"profile": LIBRARY_PROFILES},
        "contained": [_options_parameters(options)],
        "extension": [{"url": CQL_OPTIONS, "valueReference": {"reference": "#options"}},
                      *capabilities("shareable", "computable", "publishable", "executable")],
        "url": url,
        "version": version,
        "name": name,
        "title": title,
        "status": metadata["status"],
        "experimental": metadata["experimental"],
        "type": concept(LIBRARY_TYPE_SYSTEM, "logic-library", "Logic Library"),
        "date": metadata["date"],
        "publisher": metadata["publisher"],
        "description": description,
    }
    for key in ("jurisdiction", "copyright"):
        if key in metadata:
            resource[key] = metadata[key]
    related = elm_analysis.related_artifacts(translation.summary, canonical_of)
    if related:
        resource["relatedArtifact"] = related
    parameters = translation.parameters
    if parameters:
        resource["parameter"] = parameters
    requirements = translation.data_requirements
    if requirements:
        resource["dataRequirement"] = requirements
    resource["content"] = _content(cql, translation)
    return resource
