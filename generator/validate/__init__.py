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
from collections.abc import Callable, Iterable
from typing import Any

from generator.diagnostics import Diagnostic, SourceLocation
from generator.validate import (_activities, _base, _cql, _expansion, _input, _metadata, _profiles, _references,
                                _structure, _terminology)
from generator.validate._definitions import DefinitionsUnavailable, load_definitions
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
    "load_rules",
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
    artifacts, found = _input.check_set(as_artifacts(resources))
    diags = located(found, artifacts)
    if opts.on_findings is not None and diags:
        opts.on_findings(diags)

    def base() -> list[Diagnostic]:
        # The base layer also hands the later layers a copy without wrongly typed values (no crash on them).
        nonlocal artifacts
        found, artifacts = _base.check_and_clean(artifacts)
        return found

    layers: list[tuple[str, Callable[[], list[Diagnostic]]]] = [
        ("structure", lambda: _structure.check(artifacts)),
        ("base", base),
        ("profile", lambda: _profiles.check(artifacts)),
        ("reference", lambda: _references.check(artifacts, opts)),
        ("terminology", lambda: _terminology.check(artifacts) + _expansion.check(artifacts)),
        ("metadata", lambda: _metadata.check(artifacts)),
        ("activity", lambda: _activities.check(artifacts)),
        ("cql", lambda: _cql.check(artifacts, opts)),  # last: the slow one, after the offline findings
    ]
    for name, run in layers:
        if name in enabled:
            found = located(run(), artifacts)
            diags += found
            if opts.on_findings is not None and found:
                opts.on_findings(found)
    return diags


def load_rules() -> None:
    """Fill the per-process caches validation uses (R4 definitions, every profile invariant
    compiled) now instead of at first use, e.g. while Node translates. No result depends on it."""
    try:
        load_definitions()
    except DefinitionsUnavailable:
        pass  # the base layer reports it when it runs
    _profiles.compile_invariants()


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
