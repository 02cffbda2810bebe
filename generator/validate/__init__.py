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

import dataclasses
from collections.abc import Iterable
from typing import Any

from generator.diagnostics import Diagnostic, SourceLocation
from generator.validate import _base, _cql, _input, _metadata, _profiles, _references, _structure, _terminology
from generator.validate._input import UNUSABLE, load_artifacts
from generator.validate._model import DEFAULT_EXTERNAL_CANONICALS, Artifact, ValidationOptions, as_artifacts, ref_of
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
        diags += _base.check(artifacts)
    if "profile" in enabled:
        diags += _profiles.check(artifacts)
    if "reference" in enabled:
        diags += _references.check(artifacts, opts)
    if "cql" in enabled:
        diags += _cql.check(artifacts, opts)
    if "terminology" in enabled:
        diags += _terminology.check(artifacts)
    if "metadata" in enabled:
        diags += _metadata.check(artifacts)
    return located(diags, artifacts)


def located(diags: list[Diagnostic], artifacts: list[Artifact]) -> list[Diagnostic]:
    """Each finding about a resource names the file it came from (`file`, `bundle.json#entry[3]`,
    `package.tgz!package/x.json`) as its location, unless a layer located it more precisely."""
    files: dict[str, str] = {}
    for a in artifacts:
        if a.source:
            files.setdefault(ref_of(a.resource), a.source)
    if not files:
        return diags
    out = []
    for d in diags:
        source = files.get((d.resource or "").split("#", 1)[0]) if d.location is None else None
        out.append(dataclasses.replace(d, location=SourceLocation(source, 0)) if source else d)
    return out
