"""Read what a Library needs to declare from translated ELM JSON (pure functions, no I/O).

The Library resource of a CQL library SHALL state its parameters (CQL IG 4.4), data requirements
(4.4) and dependencies (4.5). All three are facts of the ELM, so they are computed here from the
translator's output rather than re-derived from author definitions. Requires ELM translated with
EnableResultTypes (the `Translator` default) so that every define carries its type.

Scope: one library's own ELM. Requirements of included libraries come from their own ELM; the
caller unions them when it wants the effective requirements of a whole tree.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.canonicals import FHIR_MODEL, MODEL_INFO_LIBRARY_BASE

__all__ = [
    "CodeInfo",
    "CodeSystemInfo",
    "ConceptInfo",
    "FunctionInfo",
    "IncludeInfo",
    "LibrarySummary",
    "ParameterInfo",
    "UsingInfo",
    "ValueSetInfo",
    "condition_check",
    "data_requirements",
    "fhir_type",
    "library_parameters",
    "related_artifacts",
    "summarize",
]

SYSTEM_URI = "urn:hl7-org:elm-types:r1"
_KNOWN_MODELS = {SYSTEM_URI: "System", FHIR_MODEL: "FHIR"}

ElmNode = Mapping[str, Any]


@dataclass(frozen=True)
class UsingInfo:
    alias: str
    uri: str
    version: str | None


@dataclass(frozen=True)
class IncludeInfo:
    name: str  # the included library's name (ELM `path`)
    version: str | None
    alias: str  # the `called` identifier


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    has_default: bool
    access: str = "Public"
    default: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # ELM expression


@dataclass(frozen=True)
class CodeSystemInfo:
    name: str
    uri: str
    version: str | None = None


@dataclass(frozen=True)
class ValueSetInfo:
    name: str
    uri: str
    version: str | None = None

    @property
    def canonical(self) -> str:
        return f"{self.uri}|{self.version}" if self.version else self.uri


@dataclass(frozen=True)
class CodeInfo:
    name: str
    code: str
    system: str  # code system name in this library
    system_uri: str | None
    system_version: str | None = None
    display: str | None = None

    def coding(self) -> dict[str, str]:
        """FHIR Coding JSON for this code (element order as in the FHIR spec)."""
        out: dict[str, str] = {}
        if self.system_uri:
            out["system"] = self.system_uri
        if self.system_version:
            out["version"] = self.system_version
        out["code"] = self.code
        if self.display:
            out["display"] = self.display
        return out


@dataclass(frozen=True)
class ConceptInfo:
    name: str
    codes: tuple[str, ...]  # code names
    display: str | None = None


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    operands: tuple[tuple[str, str], ...]  # (operand name, type)
    result_type: str
    access: str = "Public"
    fluent: bool = False


@dataclass(frozen=True)
class LibrarySummary:
    """The declarations of one translated library, types rendered as CQL type strings."""

    name: str
    version: str | None
    defines: dict[str, str]  # define name -> type ("System.Boolean", "List<FHIR.Condition>")
    private_defines: frozenset[str]
    functions: tuple[FunctionInfo, ...]
    parameters: tuple[ParameterInfo, ...]
    includes: tuple[IncludeInfo, ...]
    usings: tuple[UsingInfo, ...]
    code_systems: tuple[CodeSystemInfo, ...]
    value_sets: tuple[ValueSetInfo, ...]
    codes: tuple[CodeInfo, ...]
    concepts: tuple[ConceptInfo, ...]
    contexts: tuple[str, ...]

    def code_system(self, name: str) -> CodeSystemInfo | None:
        return next((c for c in self.code_systems if c.name == name), None)

    def value_set(self, name: str) -> ValueSetInfo | None:
        return next((v for v in self.value_sets if v.name == name), None)

    def code(self, name: str) -> CodeInfo | None:
        return next((c for c in self.codes if c.name == name), None)

    def concept(self, name: str) -> ConceptInfo | None:
        return next((c for c in self.concepts if c.name == name), None)


# ---- types -------------------------------------------------------------------------------------


class _Types:
    """Renders ELM qualified names ("{http://hl7.org/fhir}Condition") as "FHIR.Condition"."""

    def __init__(self, usings: Mapping[str, str]) -> None:
        self.models = {**_KNOWN_MODELS, **usings}

    def name(self, qualified: str) -> str:
        if qualified.startswith("{") and "}" in qualified:
            uri, _, local = qualified[1:].partition("}")
            return f"{self.models.get(uri, uri)}.{local}"
        return qualified

    def spec(self, spec: ElmNode) -> str:
        kind = spec.get("type")
        if kind == "NamedTypeSpecifier":
            return self.name(str(spec["name"]))
        if kind == "ListTypeSpecifier":
            return f"List<{self.spec(spec['elementType'])}>"
        if kind == "IntervalTypeSpecifier":
            return f"Interval<{self.spec(spec['pointType'])}>"
        if kind == "TupleTypeSpecifier":
            parts = ", ".join(f"{e['name']} {self._element(e)}" for e in spec.get("element", []))
            return f"Tuple {{ {parts} }}" if parts else "Tuple { }"
        if kind == "ChoiceTypeSpecifier":
            return f"Choice<{', '.join(self.spec(c) for c in spec.get('choice', []))}>"
        raise ValueError(f"unsupported ELM type specifier {kind!r}")

    def _element(self, element: ElmNode) -> str:
        if "elementType" in element:
            return self.spec(element["elementType"])
        if "type" in element and isinstance(element["type"], Mapping):
            return self.spec(element["type"])
        return self.of(element) or "System.Any"

    def of(self, node: ElmNode) -> str | None:
        """The result type of a typed ELM node, None when the ELM carries none."""
        if "resultTypeSpecifier" in node:
            return self.spec(node["resultTypeSpecifier"])
        if "resultTypeName" in node:
            return self.name(str(node["resultTypeName"]))
        return None


def _defs(library: ElmNode, section: str) -> list[ElmNode]:
    return list(library.get(section, {}).get("def", []))


def _library(elm: ElmNode) -> ElmNode:
    if "library" not in elm:
        raise ValueError("not an ELM document: no top-level 'library'")
    return elm["library"]


def _types(library: ElmNode) -> _Types:
    return _Types({u["uri"]: u["localIdentifier"] for u in _defs(library, "usings") if "uri" in u})


def summarize(elm: Mapping[str, Any]) -> LibrarySummary:
    """Summarise an ELM library's declarations; raises ValueError without result types."""
    library = _library(elm)
    types = _types(library)
    identifier = library.get("identifier", {})
    code_systems = tuple(
        CodeSystemInfo(d["name"], d["id"], d.get("version")) for d in _defs(library, "codeSystems")
    )
    by_system = {c.name: c for c in code_systems}
    codes = []
    for d in _defs(library, "codes"):
        system_ref = d.get("codeSystem", {})
        system = by_system.get(system_ref.get("name", "")) if "libraryName" not in system_ref else None
        codes.append(
            CodeInfo(
                name=d["name"],
                code=d["id"],
                system=system_ref.get("name", ""),
                system_uri=system.uri if system else None,
                system_version=system.version if system else None,
                display=d.get("display"),
            )
        )
    defines: dict[str, str] = {}
    private: set[str] = set()
    functions: list[FunctionInfo] = []
    for d in _defs(library, "statements"):
        result = types.of(d) or (types.of(d["expression"]) if isinstance(d.get("expression"), Mapping) else None)
        if result is None:
            raise ValueError(
                f"ELM of {identifier.get('id')} has no result type for {d.get('name')!r}: "
                "translate with the EnableResultTypes option"
            )
        access = d.get("accessLevel", "Public")
        if d.get("type") == "FunctionDef":
            operands = tuple(
                (o["name"], types.spec(o["operandTypeSpecifier"]) if "operandTypeSpecifier" in o
                 else types.name(o.get("operandType", "{urn:hl7-org:elm-types:r1}Any")))
                for o in d.get("operand", [])
            )
            functions.append(FunctionInfo(d["name"], operands, result, access, bool(d.get("fluent"))))
            continue
        defines[d["name"]] = result
        if access == "Private":
            private.add(d["name"])
    parameters = []
    for d in _defs(library, "parameters"):
        if "parameterTypeSpecifier" in d:
            ptype = types.spec(d["parameterTypeSpecifier"])
        else:
            ptype = types.of(d) or (types.of(d["default"]) if "default" in d else None) or "System.Any"
        parameters.append(
            ParameterInfo(d["name"], ptype, "default" in d, d.get("accessLevel", "Public"), d.get("default"))
        )
    return LibrarySummary(
        name=str(identifier.get("id", "")),
        version=identifier.get("version"),
        defines=defines,
        private_defines=frozenset(private),
        functions=tuple(functions),
        parameters=tuple(parameters),
        includes=tuple(
            IncludeInfo(d["path"], d.get("version"), d.get("localIdentifier", d["path"]))
            for d in _defs(library, "includes")
        ),
        usings=tuple(
            UsingInfo(d["localIdentifier"], d["uri"], d.get("version")) for d in _defs(library, "usings")
        ),
        code_systems=code_systems,
        value_sets=tuple(ValueSetInfo(d["name"], d["id"], d.get("version")) for d in _defs(library, "valueSets")),
        codes=tuple(codes),
        concepts=tuple(
            ConceptInfo(d["name"], tuple(c["name"] for c in d.get("code", [])), d.get("display"))
            for d in _defs(library, "concepts")
        ),
        contexts=tuple(d["name"] for d in _defs(library, "contexts")),
    )


# ---- Library.parameter -------------------------------------------------------------------------

_SYSTEM_TO_FHIR = {
    "System.Boolean": "boolean",
    "System.String": "string",
    "System.Integer": "integer",
    "System.Decimal": "decimal",
    "System.DateTime": "dateTime",
    "System.Date": "date",
    "System.Time": "time",
    "System.Quantity": "Quantity",
    "System.Ratio": "Ratio",
    "System.Code": "Coding",
    "System.Concept": "CodeableConcept",
}
_INTERVAL_TO_FHIR = {
    "System.DateTime": "Period",
    "System.Date": "Period",
    "System.Quantity": "Range",
    "System.Integer": "Range",
    "System.Decimal": "Range",
}


def _split_list(cql_type: str) -> tuple[str, bool]:
    if cql_type.startswith("List<") and cql_type.endswith(">"):
        return cql_type[5:-1], True
    return cql_type, False


def fhir_type(cql_type: str) -> tuple[str, bool]:
    """(FHIR type code, is_list) for a CQL type string; unmappable types (tuples, choices, Any)
    become the abstract FHIR type `Any`. Lists of lists flatten to one list."""
    inner, many = _split_list(cql_type)
    while True:
        nested, again = _split_list(inner)
        if not again:
            break
        inner = nested
    if inner in _SYSTEM_TO_FHIR:
        return _SYSTEM_TO_FHIR[inner], many
    if inner.startswith("Interval<") and inner.endswith(">"):
        return _INTERVAL_TO_FHIR.get(inner[9:-1], "Any"), many
    if inner.startswith("FHIR.") and "<" not in inner and "{" not in inner:
        local = inner[5:]
        return ("BackboneElement" if "." in local else local), many
    return "Any", many


def library_parameters(elm: Mapping[str, Any], summary: LibrarySummary | None = None) -> list[dict[str, Any]]:
    """FHIR R4 Library.parameter: CQL parameters `in`, public non-function defines `out`."""
    summary = summary or summarize(elm)
    out: list[dict[str, Any]] = []
    for p in summary.parameters:
        if p.access == "Private":
            continue
        ftype, many = fhir_type(p.type)
        out.append({"name": p.name, "use": "in", "min": 0, "max": "*" if many else "1", "type": ftype})
    for name, cql_type in summary.defines.items():
        if name in summary.private_defines:
            continue
        ftype, many = fhir_type(cql_type)
        out.append({"name": name, "use": "out", "min": 0, "max": "*" if many else "1", "type": ftype})
    return out


# ---- Library.dataRequirement -------------------------------------------------------------------


def _walk(node: Any) -> Iterator[ElmNode]:
    """Every ELM object below `node` (annotations skipped), depth first in document order.

    Iterative: a recursive generator pays for every level of nesting on every node it yields,
    and ELM nests deeply."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            yield current
            stack.extend(value for key, value in reversed(current.items())
                         if key != "annotation" and isinstance(value, (Mapping, list)))
        elif isinstance(current, list):
            stack.extend(item for item in reversed(current) if isinstance(item, (Mapping, list)))


def _local_name(qualified: str) -> str:
    return qualified.rpartition("}")[2] if qualified.startswith("{") else qualified.rpartition(".")[2]


def _terminology(node: Any, summary: LibrarySummary) -> tuple[list[str], list[dict[str, str]]]:
    """(value set canonicals, codings) that a retrieve's `codes` expression denotes statically."""
    if not isinstance(node, Mapping):
        return [], []
    kind = node.get("type")
    local = "libraryName" not in node  # references into included libraries are resolved there
    if kind == "ValueSetRef" and local:
        vs = summary.value_set(str(node.get("name")))
        return ([vs.canonical] if vs else []), []
    if kind == "CodeRef" and local:
        code = summary.code(str(node.get("name")))
        return [], ([code.coding()] if code else [])
    if kind == "ConceptRef" and local:
        concept = summary.concept(str(node.get("name")))
        codes = [summary.code(n) for n in concept.codes] if concept else []
        return [], [c.coding() for c in codes if c]
    if kind == "Code":
        system_ref = node.get("system", {})
        system = summary.code_system(str(system_ref.get("name"))) if "libraryName" not in system_ref else None
        coding = {k: v for k, v in (("system", system.uri if system else None),
                                    ("version", system.version if system else None),
                                    ("code", node.get("code")), ("display", node.get("display"))) if v}
        return [], [coding]
    if kind in ("ToList", "ToConcept"):
        return _terminology(node.get("operand"), summary)
    if kind in ("List", "Concept"):
        value_sets: list[str] = []
        codings: list[dict[str, str]] = []
        for element in node.get("element", node.get("code", [])):
            vs, cs = _terminology(element, summary)
            value_sets += vs
            codings += cs
        return value_sets, codings
    return [], []


def _requirement(retrieve: ElmNode, summary: LibrarySummary) -> dict[str, Any]:
    data_type = _local_name(str(retrieve["dataType"]))
    requirement: dict[str, Any] = {
        "type": data_type,
        "profile": [str(retrieve.get("templateId") or f"http://hl7.org/fhir/StructureDefinition/{data_type}")],
    }
    code_filters: list[dict[str, Any]] = []
    if "codes" in retrieve:
        value_sets, codings = _terminology(retrieve["codes"], summary)
        path = retrieve.get("codeProperty")
        for vs in value_sets:
            code_filters.append({**({"path": path} if path else {}), "valueSet": vs})
        if codings:
            code_filters.append({**({"path": path} if path else {}), "code": codings})
    for cf in retrieve.get("codeFilter", []):
        value_sets, codings = _terminology(cf.get("value"), summary)
        path = cf.get("property")
        for vs in value_sets:
            code_filters.append({**({"path": path} if path else {}), "valueSet": vs})
        if codings:
            code_filters.append({**({"path": path} if path else {}), "code": codings})
    if code_filters:
        requirement["codeFilter"] = code_filters
    date_paths = []
    if retrieve.get("dateProperty") or (retrieve.get("dateRange") and retrieve.get("dateLowProperty")):
        date_paths.append(retrieve.get("dateProperty") or retrieve.get("dateLowProperty"))
    date_paths += [df["property"] for df in retrieve.get("dateFilter", []) if df.get("property")]
    if date_paths:
        requirement["dateFilter"] = [{"path": p} for p in dict.fromkeys(date_paths)]
    return requirement


def data_requirements(elm: Mapping[str, Any], summary: LibrarySummary | None = None) -> list[dict[str, Any]]:
    """FHIR DataRequirement JSON, one per distinct retrieve of this library, sorted by type then
    content. Exact duplicates collapse; differently filtered retrieves of a type stay separate."""
    summary = summary or summarize(elm)
    library = _library(elm)
    unique: dict[str, dict[str, Any]] = {}
    for section in ("parameters", "statements"):
        for node in _walk(library.get(section, {})):
            if node.get("type") == "Retrieve" and "dataType" in node:
                requirement = _requirement(node, summary)
                unique.setdefault(json.dumps(requirement, sort_keys=True), requirement)
    return [unique[k] for k in sorted(unique, key=lambda k: (unique[k]["type"], k))]


# ---- Library.relatedArtifact -------------------------------------------------------------------


def related_artifacts(
    summary: LibrarySummary,
    library_canonical: Callable[[str], str],
    *,
    model_info_base: str = MODEL_INFO_LIBRARY_BASE,
) -> list[dict[str, str]]:
    """`depends-on` RelatedArtifacts (CQL IG 4.5): model info, includes, code systems, value sets.

    `library_canonical(name)` gives an included library's canonical base URL (without version).
    """
    artifacts: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(display: str, resource: str) -> None:
        if resource not in seen:
            seen.add(resource)
            artifacts.append({"type": "depends-on", "display": display, "resource": resource})

    for using in summary.usings:
        if using.uri == SYSTEM_URI:
            continue
        name = _KNOWN_MODELS.get(using.uri, using.alias)
        base = f"{model_info_base}/{name}-ModelInfo"
        add(f"{name} model information", f"{base}|{using.version}" if using.version else base)
    for include in summary.includes:
        base = library_canonical(include.name)
        add(f"Library {include.alias}", f"{base}|{include.version}" if include.version else base)
    for cs in summary.code_systems:
        add(f"Code system {cs.name}", f"{cs.uri}|{cs.version}" if cs.version else cs.uri)
    for vs in summary.value_sets:
        add(f"Value set {vs.name}", vs.canonical)
    return artifacts


# ---- checks ------------------------------------------------------------------------------------


def condition_check(summary: LibrarySummary, name: str) -> str | None:
    """None when `name` is a public Boolean define of the library (usable as a PlanDefinition
    action condition via text/cql-identifier), otherwise why not."""
    where = f"library {summary.name}" + (f" version '{summary.version}'" if summary.version else "")
    cql_type = summary.defines.get(name)
    if cql_type is None:
        if any(f.name == name for f in summary.functions):
            return f'"{name}" in {where} is a function, not a define; a condition must name a Boolean define'
        close = difflib.get_close_matches(name, list(summary.defines), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        return f'{where} has no define named "{name}"{hint}'
    if name in summary.private_defines:
        return f'define "{name}" in {where} is private and cannot be referenced from a PlanDefinition'
    if cql_type != "System.Boolean":
        return f'define "{name}" in {where} is {cql_type}, not System.Boolean'
    return None
