"""SYNTH: CodeSystems the guideline defines itself (systems under its own canonical).

Where no standard code exists for a concept, an author may use a local system
`<canonical>/CodeSystem/<id>`; we publish it so every code the artifacts use resolves.
"""

from __future__ import annotations

from typing import Any

from generator.model.terminology import Code
from generator.resolve import ResolvedGuideline, pascal_case
from generator.synth._common import CRMI, capabilities, metadata


def local_code_systems(rg: ResolvedGuideline) -> dict[str, list[Code]]:
    """System URI -> its codes, for systems under the guideline's canonical base."""
    prefix = rg.guideline.canonical.rstrip("/") + "/CodeSystem/"
    found: dict[str, list[Code]] = {}
    for code in [*rg.codes, *(c for vs in rg.value_sets for c in vs.codes)]:
        if code.system.startswith(prefix):
            bucket = found.setdefault(code.system, [])
            if all(c.code != code.code for c in bucket):
                bucket.append(code)
    return dict(sorted(found.items()))


def code_system(rg: ResolvedGuideline, uri: str, codes: list[Code]) -> dict[str, Any]:
    cs_id = uri.rsplit("/", 1)[-1]
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": cs_id,
        "meta": {"profile": [CRMI + "crmi-shareablecodesystem", CRMI + "crmi-publishablecodesystem"]},
        "extension": capabilities("shareable", "publishable"),
    }
    resource.update(metadata(rg, "CodeSystem", cs_id, pascal_case(cs_id),
                             f"{rg.guideline.title}: local codes",
                             f"Concepts {rg.guideline.title} needs that have no standard code."))
    resource["caseSensitive"] = True
    resource["content"] = "complete"
    resource["count"] = len(codes)
    resource["concept"] = [{"code": c.code, "display": c.display} for c in sorted(codes, key=lambda c: c.code)]
    return resource
