"""Built artifacts as `apply` sees them: resources indexed by canonical, ELM and value set codes.

Why a separate loader: `apply` must run on what was *published* (a built folder, a Bundle, an
NPM package), not on the author model, so that what we test is what other engines receive.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.canonicals import PLAN_DEFINITION_TYPE as PLAN_TYPE_SYSTEM
from generator.diagnostics import Diagnostic, GeneratorError
from generator.jsonfmt import load_json
from generator.readers import MAX_RESOURCE_DEPTH, InputError, json_depth, parse_json, read_json, read_package, unsafe_member

__all__ = ["Artifacts", "ApplyError", "load_artifacts", "PLAN_TYPE_SYSTEM"]

ELM_JSON = "application/elm+json"


class ApplyError(GeneratorError):
    """Unusable apply input (guideline, patient, artifacts): one located line, exit code 2."""

    def __init__(self, code: str, message: str, *, resource: str | None = None, path: str | None = None,
                 exit_code: int = 2) -> None:
        super().__init__([Diagnostic(code, message, resource=resource, path=path)], exit_code=exit_code)


def _key(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


@dataclass
class Artifacts:
    """An immutable-by-convention view over one guideline's built resources."""

    resources: list[dict[str, Any]]
    source: str = "<memory>"
    _by_canonical: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _elm: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)  # id(library) -> decoded ELM
    #: Library url -> ELM already in memory (a build's translations), used instead of decoding the attachment
    known_elm: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for resource in self.resources:
            url = resource.get("url")
            if isinstance(url, str):
                self._by_canonical.setdefault(url, resource)
                if resource.get("version"):
                    self._by_canonical[f"{url}|{resource['version']}"] = resource

    @classmethod
    def from_resources(cls, resources: Iterable[Mapping[str, Any]], source: str = "<memory>", *,
                       known_elm: Mapping[str, dict[str, Any]] | None = None) -> "Artifacts":
        """`known_elm` (Library url -> ELM): the same ELM the Libraries carry, already decoded (a build
        has it from the translator; decoding FHIRHelpers' ELM again costs more than planning)."""
        return cls([dict(r) for r in resources if isinstance(r, Mapping) and r.get("resourceType")], source,
                   known_elm=dict(known_elm or {}))

    def resolve(self, canonical: str) -> dict[str, Any] | None:
        """Find a resource by `url` or `url|version` (an unknown version falls back to the url)."""
        found = self._by_canonical.get(canonical)
        if found is None and "|" in canonical:
            found = self._by_canonical.get(canonical.split("|", 1)[0])
        return found

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r.get("resourceType") == resource_type]

    @property
    def pathways(self) -> list[dict[str, Any]]:
        return [pd for pd in self.of_type("PlanDefinition") if plan_type(pd) == "clinical-protocol"]

    def elm_of(self, library: Mapping[str, Any]) -> dict[str, Any]:
        """Decode the ELM JSON attachment of a Library (CQL and ELM travel together in content).

        Decoded once per Library: planning asks for a library's ELM many times.
        """
        cached = self._elm.get(id(library))
        if cached is None:
            known = self.known_elm.get(str(library.get("url")))
            cached = self._elm[id(library)] = known if known is not None else self._decode_elm(library)
        return cached

    def _decode_elm(self, library: Mapping[str, Any]) -> dict[str, Any]:
        for attachment in library.get("content", []) or []:
            if str(attachment.get("contentType", "")).split(";")[0].strip() == ELM_JSON and attachment.get("data"):
                try:
                    elm = load_json(base64.b64decode(attachment["data"], validate=True))
                except (binascii.Error, ValueError) as exc:
                    raise ApplyError("APPLY010", f"ELM content is not valid base64 JSON: {exc}",
                                     resource=_key(library)) from exc
                if not isinstance(elm, dict) or "library" not in elm:
                    raise ApplyError("APPLY010", "ELM content is not an ELM library", resource=_key(library))
                return elm
        raise ApplyError("APPLY011", "Library has no application/elm+json content to execute", resource=_key(library))

    def elm_libraries(self) -> list[dict[str, Any]]:
        """ELM of every Library with logic (FHIRHelpers included); libraries without ELM are skipped."""
        out = []
        for library in self.of_type("Library"):
            if any(str(a.get("contentType", "")).startswith(ELM_JSON) for a in library.get("content", []) or []):
                out.append(self.elm_of(library))
        return out

    def library_name(self, canonical: str, *, where: str) -> str:
        """The ELM library name behind a Library canonical (Library.name may differ, cqf-ruler#602)."""
        library = self.resolve(canonical)
        if library is None or library.get("resourceType") != "Library":
            raise ApplyError("APPLY012", f"library {canonical} is not among the artifacts", resource=where)
        return str(self.elm_of(library)["library"]["identifier"]["id"])

    def value_set_codes(self) -> dict[str, dict[str, list[dict[str, str]]]]:
        """Code-service input: url -> version -> codes, from each ValueSet's expansion or compose."""
        out: dict[str, dict[str, list[dict[str, str]]]] = {}
        for vs in self.of_type("ValueSet"):
            url = vs.get("url")
            if not isinstance(url, str):
                continue
            out.setdefault(url, {})[str(vs.get("version") or "")] = self._expand(vs, ())
        return out

    def _expand(self, vs: Mapping[str, Any], seen: tuple[str, ...]) -> list[dict[str, str]]:
        where = _key(vs)
        if vs.get("url") in seen:
            raise ApplyError("APPLY013", "value set includes itself (cycle)", resource=where)
        expansion = vs.get("expansion")
        if isinstance(expansion, Mapping) and expansion.get("contains"):
            return _flatten_contains(expansion["contains"])
        compose = vs.get("compose") or {}

        def codes_of(parts: Iterable[Mapping[str, Any]], kind: str) -> list[dict[str, str]]:
            codes: list[dict[str, str]] = []
            for part in parts:
                if part.get("filter"):
                    raise ApplyError("APPLY014", f"compose.{kind} uses a filter, which apply cannot expand "
                                     "without a terminology server; add an expansion", resource=where)
                system = part.get("system")
                for concept in part.get("concept", []) or []:
                    code = {"code": str(concept.get("code")), "system": str(system)}
                    if part.get("version"):
                        code["version"] = str(part["version"])
                    codes.append(code)
                for ref in part.get("valueSet", []) or []:
                    inner = self.resolve(ref)
                    if inner is None:
                        raise ApplyError("APPLY015", f"included value set {ref} is not among the artifacts",
                                         resource=where)
                    inner_codes = self._expand(inner, (*seen, str(vs.get("url"))))
                    codes.extend(c for c in inner_codes if system is None or c["system"] == system)
            return codes

        included = codes_of(compose.get("include", []) or [], "include")
        excluded = {(c["system"], c["code"]) for c in codes_of(compose.get("exclude", []) or [], "exclude")}
        return [c for c in included if (c["system"], c["code"]) not in excluded]


def _flatten_contains(contains: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    codes: list[dict[str, str]] = []
    for item in contains:
        if item.get("code") and item.get("system") and not item.get("abstract"):
            code = {"code": str(item["code"]), "system": str(item["system"])}
            if item.get("version"):
                code["version"] = str(item["version"])
            codes.append(code)
        codes.extend(_flatten_contains(item.get("contains", []) or []))
    return codes


def plan_type(pd: Mapping[str, Any]) -> str | None:
    for coding in (pd.get("type") or {}).get("coding", []) or []:
        if coding.get("system") == PLAN_TYPE_SYSTEM:
            return str(coding.get("code"))
    return None


# -- loading from disk -----------------------------------------------------------------------------

def _resources_in(document: Any) -> list[dict[str, Any]]:
    """A resource, or the entries of a Bundle (nested Bundles of artifacts unpacked too)."""
    if not isinstance(document, dict) or "resourceType" not in document:
        return []
    if document["resourceType"] == "Bundle":
        found: list[dict[str, Any]] = []
        for entry in document.get("entry", []) or []:
            found.extend(_resources_in((entry or {}).get("resource")))
        return found
    return [document]


def _read_json(path: Path) -> Any:
    try:
        document = read_json(path)
    except InputError as exc:
        raise ApplyError("APPLY002", f"cannot read artifact {exc}") from exc
    return _shallow_enough(document, str(path))


def _shallow_enough(document: Any, where: str) -> Any:
    """The planner and the engine walk resources recursively: refuse absurd nesting up front."""
    if json_depth(document, MAX_RESOURCE_DEPTH + 1) > MAX_RESOURCE_DEPTH + 1:  # +1: a Bundle wraps the resources
        raise ApplyError("APPLY002", f"cannot read artifact {where}: nested deeper than {MAX_RESOURCE_DEPTH} levels")
    return document


def _from_folder(folder: Path) -> list[dict[str, Any]]:
    resources_dir = folder / "resources"
    if resources_dir.is_dir():
        files = sorted(resources_dir.glob("*.json"))
    elif (folder / "package").is_dir():
        files = sorted((folder / "package").glob("*.json"))
    else:
        files = sorted(folder.glob("*.json"))
    found: list[dict[str, Any]] = []
    for file in files:
        if file.name in ("package.json", ".index.json"):
            continue
        found.extend(_resources_in(_read_json(file)))
    return found


def _from_package(tgz: Path) -> list[dict[str, Any]]:
    """The resources at the top of package/ (tests/ and other folders are not artifacts)."""
    found: list[dict[str, Any]] = []
    manifest: bytes | None = None

    def wanted(name: str) -> bool:
        parts = name.split("/")
        return len(parts) == 2 and parts[0] == "package" and parts[1].endswith(".json")

    members: list[tuple[str, bytes]] = []
    try:
        for member in read_package(tgz, wanted):
            if member.problem or unsafe_member(member) or member.data is None:
                continue  # never used: apply reads only regular top-level package/*.json files
            if member.name == "package/package.json":
                manifest = member.data
            elif member.name != "package/.index.json":
                members.append((member.name, member.data))
    except InputError as exc:
        raise ApplyError("APPLY002", f"cannot read package {exc}") from exc
    try:
        if not isinstance(parse_json(manifest or b"", f"{tgz}!package/package.json"), dict):
            raise InputError("invalid-json", tgz, "package.json is not a JSON object")
    except InputError as exc:
        what = "has no package/package.json" if manifest is None else f"has an invalid package.json ({exc.message})"
        raise ApplyError("APPLY050", f"package {tgz} {what}: not a FHIR NPM package") from exc
    for name, data in sorted(members):
        try:
            document = parse_json(data, f"{tgz}!{name}")
        except InputError as exc:
            raise ApplyError("APPLY002", f"cannot read {exc}") from exc
        found.extend(_resources_in(_shallow_enough(document, f"{tgz}!{name}")))
    return found


def load_artifacts(guideline: str | Path, output_dir: Path = Path("output")) -> Artifacts:
    """GUIDELINE is a built folder, a Bundle .json, a package .tgz, or a guideline id under output_dir."""
    path = Path(guideline)
    if path.is_dir():
        resources = _from_folder(path)
    elif path.is_file() and path.name.endswith((".tgz", ".tar.gz")):
        resources = _from_package(path)
    elif path.is_file():
        resources = _resources_in(_read_json(path))
    elif (output_dir / str(guideline)).is_dir():
        path = output_dir / str(guideline)
        resources = _from_folder(path)
    else:
        known = sorted(p.name for p in output_dir.iterdir() if p.is_dir()) if output_dir.is_dir() else []
        hint = f" (built guidelines in {output_dir}/: {', '.join(known)})" if known else f" (nothing built in {output_dir}/; run `cpg build`)"
        raise ApplyError("APPLY001", f"unknown guideline '{guideline}': not a path and not a folder in {output_dir}/{hint}")
    artifacts = Artifacts.from_resources(resources, source=str(path))
    if not artifacts.pathways:
        raise ApplyError("APPLY003", f"{path} holds no pathway PlanDefinition (type clinical-protocol)")
    return artifacts
