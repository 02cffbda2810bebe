"""Layer 1, input: turn a path into resources, or into located diagnostics, never a traceback.

Accepts a folder (recursive *.json), a single JSON file (a resource, or a Bundle whose
entries are unpacked) or a FHIR NPM package (.tgz). Packages are read in memory and never
extracted to disk: members with absolute paths, `..` segments, links or device nodes are
reported, and size limits stop decompression bombs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from generator.diagnostics import Diagnostic, SourceLocation
from generator.jsonfmt import dump_compact
from generator.readers import MAX_JSON_BYTES, MAX_RESOURCE_DEPTH, InputError, json_depth, check_regular_file, parse_json, read_json, read_package, unsafe_member
from generator.validate._definitions import resource_types
from generator.validate._model import Artifact, ref_of
from generator.validate._rules import diag

MAX_RESOURCE_BYTES = 1024 * 1024  # one resource as compact JSON; above it, `input.resource-size` warns
NOT_RESOURCES = frozenset({"package.json", "package-lock.json", ".index.json", "ig.ini"})

# Diagnostics after which there is nothing meaningful to validate (CLI exit code 2).
UNUSABLE = frozenset({"input.missing", "input.package-invalid", "input.not-regular"})


def load_artifacts(path: str | Path) -> tuple[list[Artifact], list[Diagnostic]]:
    """Read every FHIR resource under `path`; problems come back as diagnostics."""
    root = Path(path)
    out: list[Artifact] = []
    diags: list[Diagnostic] = []
    if not root.exists():
        diags.append(diag("input.missing", f"path not found: {root}"))
        return out, diags
    if not root.is_dir():
        try:
            check_regular_file(root)
        except InputError as exc:
            diags.append(_input_diag(exc, str(root)))
            return out, diags
    if root.is_dir():
        for file in sorted(root.rglob("*.json")):
            rel = file.relative_to(root)
            if file.name in NOT_RESOURCES or any(p.startswith(".") or p == "node_modules" for p in rel.parts[:-1]):
                continue
            _load_file(file, str(file), out, diags)
    elif root.name.endswith((".tgz", ".tar.gz")):
        _load_package(root, out, diags)
    else:
        _load_file(root, str(root), out, diags)
    if not out and not any(d.is_error for d in diags):
        diags.append(diag("input.no-resources", f"no FHIR resources found in {root}"))
    return out, diags


def _load_file(file: Path, shown: str, out: list[Artifact], diags: list[Diagnostic]) -> None:
    try:
        value = read_json(file, MAX_JSON_BYTES)
    except InputError as exc:
        diags.append(_input_diag(exc, shown))
        return
    _accept(value, shown, out, diags)


def _parse(data: bytes, shown: str, out: list[Artifact], diags: list[Diagnostic]) -> None:
    try:
        value = parse_json(data, shown)
    except InputError as exc:
        diags.append(_input_diag(exc, shown))
        return
    _accept(value, shown, out, diags)


#: readers.InputError kind -> input rule
_RULE_OF_KIND = {
    "missing": "input.missing", "not-regular": "input.not-regular", "unreadable": "input.unreadable",
    "not-utf8": "input.unreadable", "too-large": "input.too-large", "invalid-json": "input.invalid-json",
    "too-deep": "input.too-deep", "package-invalid": "input.package-invalid", "package-limit": "input.package-limit",
}


def _input_diag(exc: InputError, shown: str) -> Diagnostic:
    return diag(_RULE_OF_KIND.get(exc.kind, "input.unreadable"), exc.message, location=SourceLocation(shown, exc.line))


def _is_elm(value: Any) -> bool:
    """ELM JSON (a built folder's elm/) travels beside FHIR resources; it is not one."""
    return isinstance(value, dict) and "resourceType" not in value and isinstance(value.get("library"), dict) \
        and "identifier" in value["library"]


def _accept(value: Any, shown: str, out: list[Artifact], diags: list[Diagnostic]) -> None:
    if _is_elm(value):
        return
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        what = "a JSON object without resourceType" if isinstance(value, dict) else f"a JSON {type(value).__name__}"
        diags.append(diag("input.not-fhir", f"not a FHIR resource: {what}", location=SourceLocation(shown, 1)))
        return
    rtype = value["resourceType"]
    if rtype == "Bundle" and isinstance(value.get("entry"), list):
        from generator.validate import _base, _structure  # the Bundle itself; its entries follow as resources

        if json_depth(value, MAX_RESOURCE_DEPTH + 1) <= MAX_RESOURCE_DEPTH + 1:
            found = _structure.check_bundle(value) + _base.check_bundle(value)
            diags.extend(replace(d, location=SourceLocation(shown, 1)) for d in found)
        for i, entry in enumerate(value["entry"]):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if res is None:
                continue
            _accept(res, f"{shown}#entry[{i}]", out, diags)
        return
    out.append(Artifact(value, shown))


def _load_package(file: Path, out: list[Artifact], diags: list[Diagnostic]) -> None:
    shown = str(file)
    manifest: bytes | None = None

    def wanted(name: str) -> bool:
        return name.endswith(".json")

    try:
        for member in read_package(file, wanted):
            where = SourceLocation(f"{shown}!{member.name}", 0)
            problem = unsafe_member(member)
            if problem:
                diags.append(diag("input.package-unsafe", f"rejected package member {member.name!r}: {problem}", location=where))
                continue
            if member.problem:
                diags.append(diag("input.package-limit", member.problem, location=where))
                continue
            if member.data is None:
                continue
            base = PurePosixPath(member.name).name
            if member.name == "package/package.json":
                manifest = member.data
            if base in NOT_RESOURCES:
                continue
            _parse(member.data, f"{shown}!{member.name}", out, diags)
    except InputError as exc:
        diags.append(_input_diag(exc, shown))
        return
    _check_manifest(manifest, shown, diags)


def _check_manifest(manifest: bytes | None, shown: str, diags: list[Diagnostic]) -> None:
    """A FHIR NPM package is described by package/package.json (name and version at least)."""
    where = SourceLocation(f"{shown}!package/package.json", 0)
    if manifest is None:
        diags.append(diag("input.package-manifest", "the package has no package/package.json", location=where))
        return
    try:
        value = parse_json(manifest, f"{shown}!package/package.json")
    except InputError as exc:
        diags.append(diag("input.package-manifest", f"package.json is not valid JSON: {exc.message}",
                          location=SourceLocation(where.file, exc.line)))
        return
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) and value[k].strip() for k in ("name", "version")):
        diags.append(diag("input.package-manifest", "package.json must be an object with a name and a version",
                          location=where))


def check_set(artifacts: list[Artifact]) -> tuple[list[Artifact], list[Diagnostic]]:
    """The input checks that also apply to in-memory resources: known type, unique ids.

    Returns the artifacts the later layers can work on (unknown types dropped).
    """
    known = resource_types()
    usable: list[Artifact] = []
    diags: list[Diagnostic] = []
    for a in artifacts:
        rtype = a.resource.get("resourceType")
        depth = json_depth(a.resource)
        if depth > MAX_RESOURCE_DEPTH:
            diags.append(diag("input.too-deep", f"resource nested deeper than {MAX_RESOURCE_DEPTH} levels; not validated "
                              "further", resource=ref_of(a.resource),
                              location=SourceLocation(a.source, 1) if a.source else None))
        elif not isinstance(rtype, str):
            diags.append(diag("input.not-fhir", "not a FHIR resource: no resourceType",
                              location=SourceLocation(a.source, 1) if a.source else None))
        elif known is not None and rtype not in known:
            diags.append(diag("input.unknown-type", f"unknown FHIR R4 resourceType {rtype!r}", resource=ref_of(a.resource),
                              location=SourceLocation(a.source, 1) if a.source else None))
        elif known is not None and (inner := _unknown_inner_types(a.resource, known)):
            diags.extend(diag("input.unknown-type", f"unknown FHIR R4 resourceType {inner_type!r} inside the resource; "
                              "not validated further", resource=ref_of(a.resource), path=path,
                              location=SourceLocation(a.source, 1) if a.source else None)
                         for path, inner_type in inner)
        else:
            usable.append(a)
    unique, duplicate_diags = _deduplicate(usable)
    return unique, diags + duplicate_diags + _oversized(unique)


def _oversized(artifacts: list[Artifact]) -> list[Diagnostic]:
    """Resources a FHIR server is likely to refuse for size alone (e.g. a 1 MB request cap)."""
    diags = []
    for a in artifacts:
        size = len(dump_compact(a.resource))
        if size > MAX_RESOURCE_BYTES:
            diags.append(diag("input.resource-size",
                              f"{size} bytes as compact JSON exceeds {MAX_RESOURCE_BYTES} (1 MB); many servers refuse it",
                              resource=ref_of(a.resource),
                              location=SourceLocation(a.source, 0) if a.source else None))
    return diags


def _unknown_inner_types(resource: dict[str, Any], known: frozenset[str]) -> list[tuple[str, str]]:
    """(FHIRPath, type) of resources inside `resource` (contained, Parameters...) of unknown type."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(v, f"{resource['resourceType']}.{k}") for k, v in resource.items()]
    while stack:
        node, path = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, dict):
            inner = node.get("resourceType")
            if inner is not None and (not isinstance(inner, str) or inner not in known):
                found.append((path, str(inner)))
                continue
            stack.extend((v, f"{path}.{k}") for k, v in node.items())
    return sorted(found)


def test_case_scope(source: str | None) -> str:
    """Test data of an IG source folder (`input/tests/<library>/<case>/...`): each case folder is
    a data set of its own, so ids repeat across cases legitimately. '' for everything else."""
    if not source:
        return ""
    path = source.replace("\\", "/")
    marker = path.find("input/tests/")
    return path.rsplit("/", 1)[0] if marker >= 0 else ""


def _deduplicate(artifacts: list[Artifact]) -> tuple[list[Artifact], list[Diagnostic]]:
    """Identical copies of a resource count once (a built folder holds each resource in
    resources/, both bundles and the package); different content under one id is an error."""
    seen: dict[tuple[str, str, str], Artifact] = {}
    unique: list[Artifact] = []
    diags = []
    for a in artifacts:
        rid = a.resource.get("id")
        if not isinstance(rid, str):
            unique.append(a)
            continue
        key = (test_case_scope(a.source), a.resource["resourceType"], rid)
        first = seen.get(key)
        if first is None:
            seen[key] = a
            unique.append(a)
        elif first.resource != a.resource:
            diags.append(diag("input.duplicate-id", f"{key[1]}/{rid} also defined, differently, in {first.source}",
                              resource=f"{key[1]}/{rid}",
                              location=SourceLocation(a.source, 0) if a.source else None))
            unique.append(a)
    return unique, diags
