"""SYNTH: extensional ValueSets (CRMI shareable/publishable/computable)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from generator.model.terminology import ValueSet
from generator.resolve import ResolvedGuideline, pascal_case
from generator.synth._common import CRMI, capabilities, metadata


def value_set(rg: ResolvedGuideline, vs: ValueSet) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ValueSet",
        "id": vs.id,
        "meta": {"profile": [CRMI + "crmi-shareablevalueset", CRMI + "crmi-publishablevalueset",
                             CRMI + "crmi-computablevalueset"]},
        "extension": capabilities("shareable", "computable", "publishable"),
    }
    resource.update(metadata(rg, "ValueSet", vs.id, pascal_case(vs.id), vs.title, vs.description))
    by_system = groupby(sorted(vs.codes, key=lambda c: c.system), key=lambda c: c.system)
    resource["compose"] = {
        "include": [
            {"system": system, "concept": [{"code": c.code, "display": c.display} for c in codes]}
            for system, codes in by_system
        ]
    }
    return resource
