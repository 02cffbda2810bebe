"""Layer 2, structure: parse each resource with the `fhir.resources.R4B` pydantic models.

fhir.resources has no separate R4 (4.0.1) model package; R4B (4.3.0) is structurally a
superset of R4 for the definitional resources we emit (PlanDefinition, ActivityDefinition,
Library, ValueSet, CodeSystem, Measure, Questionnaire), so it serves as the structural
check for R4 output. Elements R4B added are caught by the base layer, which walks the
real R4 StructureDefinitions (`base.element-unknown`). Types whose R4B shape diverges
from R4 are not model-checked here: see `SKIPPED_TYPES`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from generator.diagnostics import Diagnostic
from generator.validate._definitions import DefinitionsUnavailable, load_definitions
from generator.validate._model import Artifact, items, ref_of
from generator.validate._rules import diag

# Present in R4 but removed or remodelled in R4B: a model error there would be noise.
SKIPPED_TYPES = frozenset({"EffectEvidenceSynthesis", "RiskEvidenceSynthesis", "Evidence", "EvidenceVariable"})


def _model(resource_type: str) -> Any | None:
    from fhir.resources.R4B import get_fhir_model_class

    try:
        return get_fhir_model_class(resource_type)
    except (ValueError, KeyError, ImportError, AttributeError):
        return None


def fhirpath_of(resource_type: str, loc: tuple[Any, ...]) -> str:
    """pydantic's error location -> FHIRPath (`('action', 0, 'title')` -> `PlanDefinition.action[0].title`)."""
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part not in ("__root__",) and not part.startswith("function-"):
            name = part[:-6] if part.endswith("__ext") else part
            path += "." + (name[:-5] if name.endswith("_fhir") else name)
    return path


def missing_required(resource: dict[str, Any]) -> list[str]:
    """FHIRPaths of elements R4 requires (min >= 1) that are absent, nested elements included."""
    try:
        defs = load_definitions()
    except DefinitionsUnavailable:
        return []
    out: list[str] = []

    def walk(node: dict[str, Any], el_path: str, type_name: str, fp: str) -> None:
        base = defs.base_of(el_path, type_name)
        children = defs.children(base)
        present: set[str] = set()
        for key in node:
            name = key[1:] if key.startswith("_") else key
            if name in children:
                present.add(children[name][0].path)
        for cel in {c[0].path: c[0] for c in children.values()}.values():
            if cel.min >= 1 and cel.path not in present:
                out.append(f"{fp}.{cel.path.rsplit('.', 1)[-1].replace('[x]', '')}")
        for key, value in node.items():
            child = children.get(key)
            if child is None:
                continue
            cel, ctype = child
            values = items(value)
            for i, v in enumerate(values):
                if not isinstance(v, dict):
                    continue
                cfp = f"{fp}.{key}[{i}]" if cel.max != "1" else f"{fp}.{key}"
                if ctype == "Resource" or "resourceType" in v:
                    if isinstance(v.get("resourceType"), str):
                        walk(v, v["resourceType"], v["resourceType"], cfp)
                else:
                    walk(v, cel.path, ctype, cfp)

    walk(resource, resource["resourceType"], resource["resourceType"], resource["resourceType"])
    return out


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for a in artifacts:
        diags.extend(check_resource(a.resource))
    return diags


def check_bundle(bundle: dict[str, Any]) -> list[Diagnostic]:
    """The model check of a Bundle without its entries' resources (validated on their own)."""
    return [d for d in check_resource(bundle) if not re.match(r"Bundle\.entry\[\d+\]\.resource\b", d.path or "")]


def check_resource(res: dict[str, Any]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    rtype = res["resourceType"]
    if rtype in SKIPPED_TYPES:
        return diags
    model = _model(rtype)
    if model is None:
        return diags
    try:
        model.model_validate(res)
    except ValidationError as exc:
        for err in exc.errors():
            kind = err.get("type", "")
            code = {
                "extra_forbidden": "structure.unknown-element",
                "missing": "structure.missing-required",
            }.get(kind, "structure.invalid-value")
            msg = err.get("msg", "invalid")
            if "is required" in msg:  # fhir.resources reports missing required primitives as value errors
                code = "structure.missing-required"
            if code == "structure.invalid-value" and err.get("input") is not None and not isinstance(err["input"], (dict, list)):
                msg += f" (got {err['input']!r})"
            diags.append(diag(code, msg, resource=ref_of(res), path=fhirpath_of(rtype, tuple(err.get("loc", ())))))
        # The models stop checking required elements once another error is found: every finding
        # counts, so the missing ones are added from the R4 definitions.
        reported = {d.path for d in diags if d.code == "structure.missing-required"}
        for path in missing_required(res):
            if path not in reported:
                diags.append(diag("structure.missing-required", f"required element {path.rsplit('.', 1)[-1]} is missing",
                                  resource=ref_of(res), path=path))
    except (ValueError, TypeError, KeyError) as exc:  # model-side failures that are not pydantic errors
        diags.append(diag("structure.invalid-value", f"the resource cannot be read as {rtype}: {exc}",
                          resource=ref_of(res), path=rtype))
    return diags
