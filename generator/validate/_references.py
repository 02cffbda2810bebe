"""Layer 5, references: every canonical the artifacts depend on must resolve.

A canonical resolves when a resource in the set has that `url` (and, for `url|version`,
that version), or when it starts with a prefix declared external in
`ValidationOptions.external_canonicals` (HL7, THO, SNOMED, LOINC, ... by default).
Checked: `library`, `action.definitionCanonical`, the `cpg-partOf` and `cqf-library`
extensions, value set canonicals in `compose` and `codeFilter`, and `relatedArtifact`
depends-on / composed-of resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.canonicals import CPG_PART_OF, CQF_LIBRARY
from generator.diagnostics import Diagnostic
from generator.validate._model import Artifact, ValidationOptions, items, ref_of, split_canonical, walk_actions
from generator.validate._rules import diag

_DEFINITIONS = ("PlanDefinition", "ActivityDefinition", "Questionnaire")


def canonicals(res: dict[str, Any]) -> Iterator[tuple[str, str, tuple[str, ...] | None]]:
    """(FHIRPath, canonical, expected resource types or None for any) for each reference in `res`."""
    rtype = res["resourceType"]
    for i, lib in enumerate(items(res.get("library"))):
        if isinstance(lib, str):
            yield f"{rtype}.library[{i}]", lib, ("Library",)
    for i, ext in enumerate(items(res.get("extension"))):
        if not isinstance(ext, dict):
            continue
        if ext.get("url") == CPG_PART_OF and isinstance(ext.get("valueCanonical"), str):
            yield f"{rtype}.extension[{i}].valueCanonical", ext["valueCanonical"], ("PlanDefinition",)
        if ext.get("url") == CQF_LIBRARY and isinstance(ext.get("valueCanonical"), str):
            yield f"{rtype}.extension[{i}].valueCanonical", ext["valueCanonical"], ("Library",)
    if rtype == "PlanDefinition":
        for fp, action in walk_actions(res):
            if isinstance(action.get("definitionCanonical"), str):
                yield f"{fp}.definitionCanonical", action["definitionCanonical"], _DEFINITIONS
            for key in ("input", "output"):
                for j, dr in enumerate(items(action.get(key))):
                    yield from _code_filters(dr, f"{fp}.{key}[{j}]")
    for i, ra in enumerate(items(res.get("relatedArtifact"))):
        if isinstance(ra, dict) and ra.get("type") in ("depends-on", "composed-of") and isinstance(ra.get("resource"), str):
            yield f"{rtype}.relatedArtifact[{i}].resource", ra["resource"], None
    for i, dr in enumerate(items(res.get("dataRequirement"))):
        yield from _code_filters(dr, f"{rtype}.dataRequirement[{i}]")
    compose = res.get("compose") if rtype == "ValueSet" else None
    if isinstance(compose, dict):
        for part in ("include", "exclude"):
            for i, inc in enumerate(items(compose.get(part))):
                for j, vs in enumerate(items(inc.get("valueSet") if isinstance(inc, dict) else None)):
                    if isinstance(vs, str):
                        yield f"ValueSet.compose.{part}[{i}].valueSet[{j}]", vs, ("ValueSet",)


def _code_filters(dr: Any, fp: str) -> Iterator[tuple[str, str, tuple[str, ...] | None]]:
    if not isinstance(dr, dict):
        return
    for k, cf in enumerate(items(dr.get("codeFilter"))):
        if isinstance(cf, dict) and isinstance(cf.get("valueSet"), str):
            yield f"{fp}.codeFilter[{k}].valueSet", cf["valueSet"], ("ValueSet",)


def check(artifacts: list[Artifact], options: ValidationOptions) -> list[Diagnostic]:
    by_url: dict[str, list[dict[str, Any]]] = {}
    diags: list[Diagnostic] = []
    seen: dict[tuple[str, str | None], str] = {}
    for a in artifacts:
        url = a.resource.get("url")
        if isinstance(url, str):
            key = (url, a.resource.get("version"))
            if key in seen:
                diags.append(diag("reference.duplicate-canonical",
                                  f"{url}|{key[1]} is also declared by {seen[key]}", resource=ref_of(a.resource),
                                  path=f"{a.resource['resourceType']}.url"))
            seen.setdefault(key, ref_of(a.resource))
            by_url.setdefault(url, []).append(a.resource)
    for a in artifacts:
        res = a.resource
        ref = ref_of(res)
        for fp, canonical, expected in canonicals(res):
            url, version = split_canonical(canonical)
            targets = by_url.get(url)
            if not targets:
                if not options.is_external(url):
                    diags.append(diag("reference.unresolved",
                                      f"{canonical} is not in the set and not under a declared external prefix", resource=ref, path=fp))
                continue
            if version is not None and not any(t.get("version") == version for t in targets):
                have = sorted({str(t.get("version")) for t in targets})
                diags.append(diag("reference.version-mismatch",
                                  f"{canonical} asks for version {version}; the set has {url} at {', '.join(have)}",
                                  resource=ref, path=fp))
            if expected is not None and not any(t["resourceType"] in expected for t in targets):
                diags.append(diag("reference.wrong-type",
                                  f"{canonical} is a {targets[0]['resourceType']}, expected {' or '.join(expected)}",
                                  resource=ref, path=fp))
    return diags
