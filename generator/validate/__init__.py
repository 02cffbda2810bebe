"""`cpg validate`: a standalone validator for computable guideline artifacts, ours and anyone's.

The compiler runs the same `validate()` on what it synthesizes and refuses to write output
with errors, so this is a library first and a command second:

    resources, load_diags = load_artifacts(path)
    diags = validate(resources, options=ValidationOptions(...))

Layers (each its own module, each rule registered in `_rules.RULES`): input, structure
(fhir.resources R4B models), base R4 (bindings + FHIRPath constraints from the official
R4 definitions), profiles (CPG 2.0.0, CRMI 1.0.0, Using CQL with FHIR), references,
CQL (official translator), terminology, metadata.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from generator.diagnostics import Diagnostic
from generator.validate import _activities, _base, _cql, _expansion, _input, _metadata, _profiles, _references, _structure, _terminology
from generator.validate._input import UNUSABLE, load_artifacts
from generator.validate._model import DEFAULT_EXTERNAL_CANONICALS, Artifact, ValidationOptions, as_artifacts
from generator.validate._rules import LAYERS, RULES, Rule

__all__ = [
    "Artifact",
    "DEFAULT_EXTERNAL_CANONICALS",
    "LAYERS",
    "RULES",
    "Rule",
    "UNUSABLE",
    "ValidationOptions",
    "load_artifacts",
    "validate",
]


def validate(
    resources: Iterable[Artifact | dict[str, Any]], options: ValidationOptions | None = None
) -> list[Diagnostic]:
    """Run every layer over the set; returns all findings (errors, warnings, infos)."""
    opts = options or ValidationOptions()
    enabled = set(opts.layers) if opts.layers is not None else set(LAYERS)
    if not opts.cql:
        enabled.discard("cql")
    artifacts, diags = _input.check_set(as_artifacts(resources))
    if "structure" in enabled:
        diags += _structure.check(artifacts)
    if "base" in enabled:
        base_diags, artifacts = _base.check_and_clean(artifacts)
        diags += base_diags
    if "profile" in enabled:
        diags += _profiles.check(artifacts)
    if "reference" in enabled:
        diags += _references.check(artifacts, opts)
    if "cql" in enabled:
        diags += _cql.check(artifacts, opts)
    if "terminology" in enabled:
        diags += _terminology.check(artifacts)
        diags += _expansion.check(artifacts)
    if "metadata" in enabled:
        diags += _metadata.check(artifacts)
    if "activity" in enabled:
        diags += _activities.check(artifacts)
    return diags
