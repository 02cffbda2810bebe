"""SYNTH: Libraries carrying CQL and its compiled ELM.

The logic Library claims the CRMI computable/executable and CQL IG cql-library,
elm-json-library and cql-module profiles: content is CQL + ELM JSON (base64), parameters,
data requirements and depends-on related artifacts are computed from the ELM (as
`$data-requirements` would), and the translator options travel in a contained Parameters
referenced by `cqf-cqlOptions`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from generator.cql import elm as elm_analysis
from generator.cql.translator import Translation
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


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


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


def library_canonical_base(rg: ResolvedGuideline) -> str:
    return rg.guideline.canonical.rstrip("/") + "/Library/"


def logic_library(rg: ResolvedGuideline, name: str, version: str, title: str, description: str,
                  cql: str, translation: Translation, options: Mapping[str, Any]) -> dict[str, Any]:
    """A Library for one compiled CQL library (the guideline's logic, or FHIRHelpers)."""
    g = rg.guideline
    assert translation.elm is not None
    summary = translation.summary
    resource: dict[str, Any] = {
        "resourceType": "Library",
        "id": name,
        "meta": {"profile": LIBRARY_PROFILES},
        "contained": [_options_parameters(options)],
        "extension": [{"url": CQL_OPTIONS, "valueReference": {"reference": "#options"}},
                      *capabilities("shareable", "computable", "publishable", "executable")],
        "url": library_canonical_base(rg) + name,
        "version": version,
        "name": name,
        "title": title,
        "status": g.status,
        "experimental": g.experimental,
        "type": concept(LIBRARY_TYPE_SYSTEM, "logic-library", "Logic Library"),
        "date": g.date,
        "publisher": g.publisher,
        "description": description,
    }
    if g.jurisdiction:
        resource["jurisdiction"] = [{"coding": [c.to_coding()]} for c in g.jurisdiction]
    if g.copyright:
        resource["copyright"] = g.copyright
    related = elm_analysis.related_artifacts(summary, lambda lib: library_canonical_base(rg) + lib)
    if related:
        resource["relatedArtifact"] = related
    parameters = translation.parameters
    if parameters:
        resource["parameter"] = parameters
    requirements = translation.data_requirements
    if requirements:
        resource["dataRequirement"] = requirements
    resource["content"] = [
        {"contentType": CQL_MEDIA, "data": _b64(cql)},
        {"contentType": ELM_MEDIA, "data": _b64(translation.elm_json)},
    ]
    return resource
