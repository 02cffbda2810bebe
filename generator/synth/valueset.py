"""SYNTH: ValueSets (CRMI shareable/publishable/computable): compose from codes and rules, and the
expansion the author checked in (so engines without a terminology server can evaluate them)."""

from __future__ import annotations

from typing import Any

from generator.compose import Expansion, compose_of, read_expansion
from generator.model.terminology import ValueSet
from generator.resolve import ResolvedGuideline, pascal_case
from generator.synth._common import CRMI, capabilities, metadata


def expansion_of(rg: ResolvedGuideline, vs: ValueSet) -> Expansion | None:
    """The author's expansion file (path relative to the guideline package), or None if not given.

    Raises ExpansionError; the RULES phase reports it first (TERM004), so SYNTH never sees a bad one.
    """
    return read_expansion(rg.package_dir / vs.expansion) if vs.expansion else None


def value_set(rg: ResolvedGuideline, vs: ValueSet) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ValueSet",
        "id": vs.id,
        "meta": {"profile": [CRMI + "crmi-shareablevalueset", CRMI + "crmi-publishablevalueset",
                             CRMI + "crmi-computablevalueset"]},
        "extension": capabilities("shareable", "computable", "publishable"),
    }
    resource.update(metadata(rg, "ValueSet", vs.id, pascal_case(vs.id), vs.title, vs.description))
    resource["compose"] = compose_of(vs.codes, vs.rules)
    expansion = expansion_of(rg, vs)
    if expansion is not None:
        resource["expansion"] = {
            "timestamp": expansion.date,
            "total": len(expansion.contains),
            "parameter": [{"name": "expansion-source", "valueString": expansion.source}],
            "contains": expansion.contains,
        }
    return resource
