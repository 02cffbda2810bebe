"""Layer 1, input: turn a path into resources, or into located diagnostics, never a traceback.

Accepts a folder (recursive *.json), a single JSON file (a resource, or a Bundle whose
entries are unpacked) or a FHIR NPM package (.tgz). Packages are read in memory and never
extracted to disk: members with absolute paths, `..` segments, links or device nodes are
reported, and size limits stop decompression bombs.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

from generator.diagnostics import Diagnostic, SourceLocation
from generator.validate._definitions import resource_types
from generator.validate._model import Artifact, ref_of
from generator.validate._rules import diag

MAX_JSON_BYTES = 50 * 1024 * 1024
MAX_MEMBER_BYTES = 20 * 1024 * 1024
MAX_PACKAGE_BYTES = 200 * 1024 * 1024
NOT_RESOURCES = frozenset({"package.json", "package-lock.json", ".index.json", "ig.ini"})

# Diagnostics after which there is nothing meaningful to validate (CLI exit code 2).
UNUSABLE = frozenset({"input.missing", "input.package-invalid"})


def load_artifacts(path: str | Path) -> tuple[list[Artifact], list[Diagnostic]]:
    """Read every FHIR resource under `path`; problems come back as diagnostics."""
    root = Path(path)
    out: list[Artifact] = []
    diags: list[Diagnostic] = []
    if not root.exists():
        diags.append(diag("input.missing", f"path not found: {root}"))
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
        size = file.stat().st_size
        if size > MAX_JSON_BYTES:
            diags.append(
                diag("input.too-large", f"{size} bytes exceeds the {MAX_JSON_BYTES // 2**20} MB limit for one JSON file",
                     location=SourceLocation(shown, 0))
            )
            return
        data = file.read_bytes()
    except OSError as exc:
        diags.append(diag("input.unreadable", f"cannot read file: {exc.strerror or exc}", location=SourceLocation(shown, 0)))
        return
    _parse(data, shown, out, diags)


def _parse(data: bytes, shown: str, out: list[Artifact], diags: list[Diagnostic]) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        diags.append(diag("input.unreadable", f"not UTF-8 text (byte {exc.start})", location=SourceLocation(shown, 0)))
        return
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        diags.append(
            diag("input.invalid-json", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                 location=SourceLocation(shown, exc.lineno))
        )
        return
    except RecursionError:
        diags.append(diag("input.invalid-json", "JSON nested too deeply", location=SourceLocation(shown, 0)))
        return
    _accept(value, shown, out, diags)


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
        for i, entry in enumerate(value["entry"]):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if res is None:
                continue
            _accept(res, f"{shown}#entry[{i}]", out, diags)
        return
    out.append(Artifact(value, shown))


def _load_package(file: Path, out: list[Artifact], diags: list[Diagnostic]) -> None:
    shown = str(file)
    try:
        if file.stat().st_size > MAX_PACKAGE_BYTES:
            diags.append(diag("input.package-limit", f"package file exceeds {MAX_PACKAGE_BYTES // 2**20} MB",
                              location=SourceLocation(shown, 0)))
            return
        blob = file.read_bytes()
    except OSError as exc:
        diags.append(diag("input.package-invalid", f"cannot read package: {exc.strerror or exc}", location=SourceLocation(shown, 0)))
        return
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            for member in tar:
                where = SourceLocation(f"{shown}!{member.name}", 0)
                total += max(member.size, 0)
                if total > MAX_PACKAGE_BYTES:
                    diags.append(diag("input.package-limit", f"package unpacks to more than {MAX_PACKAGE_BYTES // 2**20} MB; stopped reading",
                                      location=where))
                    return
                problem = _unsafe(member)
                if problem:
                    diags.append(diag("input.package-unsafe", f"rejected package member {member.name!r}: {problem}", location=where))
                    continue
                if not member.isfile() or not member.name.endswith(".json"):
                    continue
                if PurePosixPath(member.name).name in NOT_RESOURCES:
                    continue
                if member.size > MAX_MEMBER_BYTES:
                    diags.append(diag("input.package-limit", f"member is {member.size} bytes, over the {MAX_MEMBER_BYTES // 2**20} MB limit",
                                      location=where))
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                data = handle.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    diags.append(diag("input.package-limit", "member larger than its header claims", location=where))
                    continue
                _parse(data, f"{shown}!{member.name}", out, diags)
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        diags.append(diag("input.package-invalid", f"not a readable .tgz package: {exc}", location=SourceLocation(shown, 0)))


def _unsafe(member: tarfile.TarInfo) -> str | None:
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "path traversal ('..')"
    if member.issym() or member.islnk():
        return "link entries are not allowed"
    if member.isdev() or member.isfifo():
        return "device or fifo entry"
    return None


def check_set(artifacts: list[Artifact]) -> tuple[list[Artifact], list[Diagnostic]]:
    """The input checks that also apply to in-memory resources: known type, unique ids.

    Returns the artifacts the later layers can work on (unknown types dropped).
    """
    known = resource_types()
    usable: list[Artifact] = []
    diags: list[Diagnostic] = []
    for a in artifacts:
        rtype = a.resource.get("resourceType")
        if not isinstance(rtype, str):
            diags.append(diag("input.not-fhir", "not a FHIR resource: no resourceType",
                              location=SourceLocation(a.source, 1) if a.source else None))
        elif known is not None and rtype not in known:
            diags.append(diag("input.unknown-type", f"unknown FHIR R4 resourceType {rtype!r}", resource=ref_of(a.resource),
                              location=SourceLocation(a.source, 1) if a.source else None))
        else:
            usable.append(a)
    unique, duplicate_diags = _deduplicate(usable)
    return unique, diags + duplicate_diags


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
