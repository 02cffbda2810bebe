"""Layer 5, references: every canonical the artifacts depend on must resolve.

A canonical resolves when a resource in the set has that `url` (and, for `url|version`,
that version), when it starts with a prefix declared external in
`ValidationOptions.external_canonicals` (HL7, THO, SNOMED, LOINC, ... by default), or when a
declared package dependency in the local FHIR package cache defines it. `#id` names a
contained resource of the same resource. A canonical under the set's own canonical base (or a
cached dependency's) that is not there is broken (`reference.unresolved`); anything else, e.g.
a VSAC value set or another IG, is `reference.outside-set` (a warning, an error with
`--closed`). A depends-on naming a code system URI is a terminology dependency, not checked.
Checked: `library`, `action.definitionCanonical`, the `cpg-partOf` and `cqf-library`
extensions, value set canonicals in `compose` and `codeFilter`, and `relatedArtifact`
depends-on / composed-of resources.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from generator.canonicals import CPG_PART_OF, CQF_LIBRARY
from generator.diagnostics import Diagnostic, Severity
from generator.validate._dependencies import DependencyIndex
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


def _code_systems(artifacts: list[Artifact]) -> set[str]:
    """Code system URIs the set uses or declares: a depends-on naming one is a terminology
    dependency, not a resource to resolve (a code system URI need not resolve to anything)."""
    from generator.cql.declarations import declared_code_systems
    from generator.validate._terminology import known_systems

    found: set[str] = set(known_systems())

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("system"), str):
                found.add(value["system"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for a in artifacts:
        res = a.resource
        walk({k: v for k, v in res.items() if k != "relatedArtifact"})
        if res["resourceType"] == "Library":
            for content in items(res.get("content")):
                text = _cql_text(content)
                if text:
                    found.update(declared_code_systems(text))
    return found


def _cql_text(content: Any) -> str | None:
    if not isinstance(content, dict) or not str(content.get("contentType", "")).startswith("text/cql"):
        return None
    try:
        return base64.b64decode(str(content.get("data", "")), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def own_bases(artifacts: list[Artifact]) -> set[str]:
    """Canonical bases of the set ({base}/{Type}/{id}): a canonical under one is expected in the set."""
    bases = set()
    for a in artifacts:
        url, rtype = a.resource.get("url"), a.resource["resourceType"]
        if isinstance(url, str) and f"/{rtype}/" in url:
            bases.add(url.rsplit(f"/{rtype}/", 1)[0] + "/")
    return bases


def _contained(res: dict[str, Any], ref: str) -> dict[str, Any] | None:
    rid = ref[1:]
    return next((c for c in items(res.get("contained")) if isinstance(c, dict) and c.get("id") == rid), None)


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
    bases = own_bases(artifacts)
    deps = DependencyIndex.load({**guide_dependencies(artifacts), **options.dependencies}, options.package_cache)
    declared = _declared_by_libraries(artifacts)
    code_systems: set[str] | None = None  # computed on first need
    for a in artifacts:
        res = a.resource
        ref = ref_of(res)
        for fp, canonical, expected in canonicals(res):
            if canonical.startswith("#"):
                target = _contained(res, canonical)
                if target is None:
                    diags.append(diag("reference.unresolved", f"{canonical}: no contained resource has id {canonical[1:]!r}",
                                      resource=ref, path=fp))
                elif expected is not None and target.get("resourceType") not in expected:
                    diags.append(diag("reference.wrong-type", f"{canonical} is a contained {target.get('resourceType')}, "
                                      f"expected {' or '.join(expected)}", resource=ref, path=fp))
                continue
            url, version = split_canonical(canonical)
            targets = by_url.get(url)
            if not targets:
                if options.is_external(url) or url in deps.urls:
                    continue
                if expected is None:  # a depends-on may name a code system: nothing to resolve
                    if code_systems is None:
                        code_systems = _code_systems(artifacts)
                    if url in code_systems:
                        continue
                diags.extend(_outside(canonical, url, ref, fp, bases, deps, declared, options))
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


def guide_dependencies(artifacts: list[Artifact]) -> dict[str, str]:
    """`ImplementationGuide.dependsOn` packages (an IG source folder declares them there)."""
    out: dict[str, str] = {}
    for a in artifacts:
        if a.resource["resourceType"] == "ImplementationGuide":
            for dep in items(a.resource.get("dependsOn")):
                if isinstance(dep, dict) and isinstance(dep.get("packageId"), str) and isinstance(dep.get("version"), str):
                    out[dep["packageId"]] = dep["version"]
    return out


def _declared_by_libraries(artifacts: list[Artifact]) -> dict[str, str]:
    """Canonical url -> the Library whose relatedArtifact declares it depends-on."""
    out: dict[str, str] = {}
    for a in artifacts:
        if a.resource["resourceType"] != "Library":
            continue
        for ra in items(a.resource.get("relatedArtifact")):
            if isinstance(ra, dict) and ra.get("type") == "depends-on" and isinstance(ra.get("resource"), str):
                out.setdefault(split_canonical(ra["resource"])[0], ref_of(a.resource))
    return out


def _outside(canonical: str, url: str, ref: str, fp: str, bases: set[str], deps: DependencyIndex,
             declared: dict[str, str], options: ValidationOptions) -> list[Diagnostic]:
    """A canonical the set does not hold: broken when it should be here (the set's own canonical base,
    or a dependency present in the cache), otherwise published elsewhere."""
    package = deps.package_of_base(url)
    if package is not None:
        return [diag("reference.unresolved", f"{canonical} is under the canonical base of dependency {package}, "
                     "which does not define it", resource=ref, path=fp)]
    if any(url.startswith(base) for base in bases):
        return [diag("reference.unresolved", f"{canonical} is under the set's own canonical base but not in the set",
                     resource=ref, path=fp)]
    notes = []
    if url in declared and declared[url] != ref:
        notes.append(f"declared as a dependency by {declared[url]}")
    if deps.missing:
        notes.append(f"dependencies not in the package cache: {', '.join(deps.missing)}")
    extra = f" ({'; '.join(notes)})" if notes else ""
    severity = Severity.ERROR if options.closed else Severity.WARNING
    return [diag("reference.outside-set", f"{canonical} is outside the validated set{extra}; not checked",
                 resource=ref, path=fp, severity=severity)]
