"""Layer 3, base R4 rules the pydantic models do not enforce.

Walks each resource against the R4 4.0.1 StructureDefinitions (from `_definitions`) and
checks: elements unknown to R4 (R4B additions slip through the models), required
value-set bindings (fhir.resources accepts `status: "bogus"`), codes claimed from a
complete HL7 code system that the system does not define, and every FHIRPath
constraint of the elements actually present, evaluated with fhirpathpy.

Expressions are compiled once per process. Constraints not evaluated by fhirpathpy:

- `ele-1`, `ext-1`: they apply to every element, so they are checked natively (same
  meaning: no empty elements; an extension has either a value or nested extensions, not
  both) — fhirpathpy also lacks `hasValue()`.
- `dom-3` (contained resources are referenced): fhirpathpy rejects its `as(canonical)` on
  a collection, so it is checked natively: every contained id is referenced as `#id`
  somewhere in the resource, or the contained resource references `#` (its container).
- `txt-1`, `txt-2`: their `htmlChecks()` is not in fhirpathpy, so they are checked natively
  (see `narrative_problems`): the div parses as XHTML, uses only the elements and attributes
  the R4 narrative rules allow, and has some non-whitespace content.
- any other expression fhirpathpy fails to compile or evaluate: listed in
  `unsupported_constraints()` and reported once per run as an info diagnostic, never
  silently dropped.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from generator.diagnostics import Diagnostic, Severity
from generator.validate._definitions import Definitions, DefinitionsUnavailable, ElementDef, load_definitions
from generator.validate._model import Artifact, items, ref_of
from generator.validate._primitives import PRIMITIVES, format_problem, json_name, json_type_problem, primitive_type
from generator.validate._rules import diag
from generator.links import unsafe_link

_TYPE_RULES = frozenset({"base.json-null", "base.json-type", "base.primitive-format"})
NATIVE = frozenset({"ele-1", "ext-1", "dom-3", "txt-1", "txt-2"})
KNOWN_UNSUPPORTED: frozenset[str] = frozenset()
# Invariants that apply to a resource standing on its own, not to one contained in another:
# dom-6 (narrative) - R4 DomainResource.text: "Contained resources do not have narrative".
CONTAINER_ONLY = frozenset({"dom-6"})

XHTML_NS = "http://www.w3.org/1999/xhtml"
# R4 narrative rules (txt-1): "only the basic html formatting elements and attributes described in
# chapters 7-11 (except section 4 of chapter 9) and 15 of the HTML 4.0 standard, <a> elements
# (either name or href), images and internally contained style attributes"; the XHTML "SHALL NOT
# contain a head, a body, external stylesheet references, scripts, forms, base/link/xlink, frames,
# iframes and objects". What the text forbids by name (and event attributes, javascript: links) is
# an error. R4 publishes no machine-readable list of what is allowed: anything outside our reading
# of those HTML 4.0 chapters (below) is a warning, since other validators accept more.
NARRATIVE_FORBIDDEN = frozenset({
    "html", "head", "body", "script", "noscript", "style", "link", "base", "form", "input", "button",
    "select", "textarea", "frame", "frameset", "iframe", "object", "embed", "applet", "param",
})
NARRATIVE_ELEMENTS = frozenset({
    "div", "span", "h1", "h2", "h3", "h4", "h5", "h6", "address", "bdo",  # ch. 7, 8
    "em", "strong", "dfn", "code", "samp", "kbd", "var", "cite", "abbr", "acronym",  # ch. 9.2
    "blockquote", "q", "sub", "sup", "p", "br", "pre",  # ch. 9.2-9.3
    "ul", "ol", "li", "dl", "dt", "dd",  # ch. 10
    "table", "caption", "thead", "tfoot", "tbody", "colgroup", "col", "tr", "th", "td",  # ch. 11
    "tt", "i", "b", "big", "small", "hr",  # ch. 15
    "a", "img", "map", "area",
})
NARRATIVE_ATTRIBUTES = frozenset({
    "id", "class", "style", "title", "lang", "dir", "{http://www.w3.org/XML/1998/namespace}lang",
    "{http://www.w3.org/XML/1998/namespace}space", "accesskey", "tabindex",
    "href", "name", "rel", "rev", "hreflang", "type", "charset", "shape", "coords", "nohref",
    "alt", "src", "height", "width", "usemap", "ismap", "longdesc", "cite",
    "summary", "border", "frame", "rules", "cellspacing", "cellpadding", "span", "align", "char",
    "charoff", "valign", "abbr", "axis", "headers", "scope", "rowspan", "colspan",
})


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    return None


@functools.lru_cache(maxsize=None)
def _compiled(expression: str) -> Callable[..., Any] | None:
    """Per-process cache of compiled constraints; None when fhirpathpy cannot parse one."""
    import fhirpathpy
    from fhirpathpy.models import models

    try:
        # trace() in constraints (ref-1, dom-3) would print to stdout without a callback
        return fhirpathpy.compile(expression, models["r4"], options={"traceFn": _quiet})  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - parser failures come in many exception types
        return None


class _Walker:
    def __init__(self, defs: Definitions, resource: dict[str, Any], *, shell: bool = False,
                 local_codesystems: dict[str, frozenset[str]] | None = None, types_only: bool = False):
        self.defs = defs
        self.root = resource
        self.ref = ref_of(resource)
        self.diags: list[Diagnostic] = []
        self.unsupported: set[str] = set()
        self.shell = shell  # a Bundle whose entries' resources are validated on their own
        self.types_only = types_only  # only JSON types and primitive formats (patient data for apply)
        self.local_codesystems = local_codesystems or {}
        #: JSON paths of values with the wrong JSON type (left out of what the later layers see)
        self.removed: list[tuple[str | int, ...]] = []

    def report(self, rule: str, message: str, path: str, severity: Severity | None = None) -> None:
        if self.types_only and rule not in _TYPE_RULES:
            return
        self.diags.append(diag(rule, message, resource=self.ref, path=path, severity=severity))

    # -- constraints -------------------------------------------------------
    def constraints(self, el: ElementDef | None, node: Any, model_path: str, fp: str, resource: dict[str, Any]) -> None:
        if el is None or self.types_only:
            return
        for c in el.constraints:
            if c.key in NATIVE:
                continue
            if c.key in KNOWN_UNSUPPORTED:
                continue
            if c.expression.startswith("contained.") and not resource.get("contained"):
                continue  # dom-2..5 only constrain contained resources
            if c.key in CONTAINER_ONLY and resource is not self.root:
                continue
            fn = _compiled(c.expression)
            if fn is None:
                self.unsupported.add(c.key)
                continue
            try:
                from fhirpathpy.engine.nodes import ResourceNode

                data = node if node is resource else ResourceNode.create_node(node, model_path)
                result = fn(data, {"resource": resource, "rootResource": self.root})
            except Exception:  # noqa: BLE001 - an engine gap, not a finding
                self.unsupported.add(c.key)
                continue
            if result == [False]:
                sev = Severity.ERROR if c.severity == "error" else Severity.WARNING
                self.report("base.invariant", f"{c.key}: {c.human}", fp, sev)

    # -- walking -----------------------------------------------------------
    def resource(self, res: dict[str, Any], fp: str, jpath: tuple[str | int, ...] = ()) -> None:
        rtype = res.get("resourceType")
        if not isinstance(rtype, str) or rtype not in self.defs.resource_types:
            return
        self.constraints(self.defs.elements.get(rtype), res, rtype, fp, res)
        self.contained_referenced(res, fp)
        self.complex(res, rtype, rtype, fp, res, jpath)

    def contained_referenced(self, res: dict[str, Any], fp: str) -> None:
        contained = [c for c in items(res.get("contained")) if isinstance(c, dict)]
        if not contained or self.types_only:
            return
        strings: set[str] = set()

        def collect(value: Any) -> None:
            if isinstance(value, str):
                strings.add(value)
            elif isinstance(value, dict):
                for v in value.values():
                    collect(v)
            elif isinstance(value, list):
                for v in value:
                    collect(v)

        collect({k: v for k, v in res.items() if k != "contained"})
        for i, c in enumerate(contained):
            inner: set[str] = set()
            strings_before = set(strings)
            strings.clear()
            collect(c)
            inner, strings = set(strings), strings_before
            if f"#{c.get('id')}" not in strings and "#" not in inner:
                self.report(
                    "base.invariant",
                    "dom-3: If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource",
                    f"{fp}.contained[{i}]",
                )

    def complex(self, node: dict[str, Any], el_path: str, type_name: str, fp: str, resource: dict[str, Any],
                jpath: tuple[str | int, ...] = ()) -> None:
        defs = self.defs
        base = defs.base_of(el_path, type_name)
        if base == type_name and base != el_path:
            if type_name in defs.complex_types:
                self.constraints(defs.elements.get(type_name), node, type_name, fp, resource)
        if type_name == "Coding" or base == "Coding":
            self.coding(node, fp)
        if type_name == "Period" or base == "Period":
            self.period(node, fp)
        if type_name == "RelatedArtifact" or base == "RelatedArtifact":
            self.related_artifact(node, fp)
        if (type_name == "Narrative" or base == "Narrative") and isinstance(node.get("div"), str) and not self.types_only:
            for key, problem, severity in narrative_problems(node["div"]):
                self.report("base.invariant", f"{key}: {problem}", f"{fp}.div", severity)
        if type_name == "Extension" or base == "Extension":
            has_value = any(k.startswith("value") for k in node)
            if has_value == bool(node.get("extension")):
                self.report("base.invariant", "ext-1: Must have either extensions or value[x], not both", fp)
            self.extension_binding(node, fp)
        if not any(k != "id" for k in node) and node is not resource:
            self.report("base.invariant", "ele-1: All FHIR elements must have a @value or children", fp)
        children = defs.children(base)
        in_bundle_entry = self.shell and base == "Bundle.entry"
        for key, value in node.items():
            if key == "resourceType" and node is resource:
                continue
            if key.startswith("_"):
                name = key[1:]
                if name not in children:
                    self.report("base.element-unknown", f"'{key}' extends an element not defined on {base} in R4", f"{fp}.{name}")
                    continue
                # the primitive's id and extensions: an Element, where e.g. DSTU2's fhir_comments is unknown
                for i, v in enumerate(items(value)):
                    if isinstance(v, dict):
                        efp = f"{fp}.{name}[{i}]" if isinstance(value, list) else f"{fp}.{name}"
                        self.complex(v, "Element", "Element", efp, resource)
                continue
            child = children.get(key)
            if child is None:
                self.report("base.element-unknown", f"'{key}' is not an element of {base} in FHIR R4 4.0.1", f"{fp}.{key}")
                continue
            if in_bundle_entry and key == "resource":
                continue  # an entry's resource is validated as a resource of its own
            cel, ctype = child
            ctype = primitive_type(cel.path, ctype, defs.resource_types)
            repeats = cel.max != "1"
            if value is None:
                self.bad(jpath + (key,), "base.json-null", "JSON null is not allowed in FHIR (leave the element out)",
                         f"{fp}.{key}")
                continue
            if repeats != isinstance(value, list):
                want = "a JSON array (it repeats)" if repeats else "a single value, not a JSON array"
                self.bad(jpath + (key,), "base.json-type", f"'{key}' must be {want}", f"{fp}.{key}")
                continue
            if isinstance(value, list) and not value:
                self.report("base.invariant", "ele-1: arrays must not be empty", f"{fp}.{key}")
                continue
            aligned = isinstance(node.get("_" + key), list)
            for i, v in enumerate(items(value)):
                cfp = f"{fp}.{key}[{i}]" if repeats else f"{fp}.{key}"
                vpath = jpath + ((key, i) if repeats else (key,))
                if v is None:
                    if not (repeats and aligned and ctype in PRIMITIVES):
                        self.bad(vpath, "base.json-null", "JSON null is not allowed in FHIR (leave the element out)", cfp)
                    continue
                if ctype in PRIMITIVES:
                    problem = json_type_problem(ctype, v)
                    if problem:
                        self.bad(vpath, "base.json-type", problem, cfp)
                        continue
                    if isinstance(v, str) and v == "":
                        self.report("base.invariant", "ele-1: primitive values must not be empty", cfp)
                        continue
                    problem = format_problem(ctype, v)
                    if problem and self.types_only:
                        self.bad(vpath, "base.primitive-format", problem, cfp)
                    elif problem:
                        self.report("base.primitive-format", problem, cfp)
                    elif cel.binding and ctype == "code":
                        self.binding_code(cel, v, cfp)
                    continue
                if not isinstance(v, dict):
                    self.bad(vpath, "base.json-type", f"{ctype} must be a JSON object, not {json_name(v)}", cfp)
                    continue
                if ctype == "Resource" or "resourceType" in v:
                    self.resource(v, cfp, vpath)
                    continue
                self.constraints(cel, v, cel.path, cfp, resource)
                self.complex(v, cel.path, ctype, cfp, resource, vpath)
                if cel.binding:
                    self.binding_complex(cel, ctype, v, cfp)

    def bad(self, jpath: tuple[str | int, ...], rule: str, message: str, fp: str) -> None:
        """A value of the wrong JSON type: reported, and left out of what the later layers see."""
        self.report(rule, message, fp)
        self.removed.append(jpath)

    def period(self, node: dict[str, Any], fp: str) -> None:
        """per-1 natively: fhirpathpy compares the two dateTimes as text."""
        start, end = node.get("start"), node.get("end")
        if isinstance(start, str) and isinstance(end, str):
            low, high = instant_bounds(start), instant_bounds(end)
            if low is not None and high is not None and low[0] > high[1]:
                self.report("base.invariant", "per-1: If present, start SHALL have a lower value than end", fp)

    def related_artifact(self, node: dict[str, Any], fp: str) -> None:
        for where, url in (("url", node.get("url")), ("document.url", (node.get("document") or {}).get("url")
                                                      if isinstance(node.get("document"), dict) else None)):
            scheme = unsafe_link(url) if isinstance(url, str) else None
            if scheme:
                self.report("base.unsafe-link", f"a related artifact's link must not use the {scheme}: scheme",
                            f"{fp}.{where}")

    def extension_binding(self, node: dict[str, Any], fp: str) -> None:
        """Required bindings of the extensions the profiles know, wherever the extension appears."""
        bound = extension_bindings().get(str(node.get("url")))
        if bound is None:
            return
        system, codes = bound
        for key, value in node.items():
            if not key.startswith("value"):
                continue
            if isinstance(value, str):
                found = [(value, None)]
            elif isinstance(value, dict):
                codings = [value] if "code" in value else [c for c in items(value.get("coding")) if isinstance(c, dict)]
                found = [(c.get("code"), c.get("system")) for c in codings]
            else:
                continue
            for code, code_system in found:
                if isinstance(code, str) and code not in codes and (code_system is None or code_system == system):
                    self.report("base.binding", f"{code!r} is not a code the extension {node.get('url')} allows "
                                f"({', '.join(sorted(codes))})", f"{fp}.{key}")

    # -- terminology -------------------------------------------------------
    def binding_code(self, el: ElementDef, code: str, fp: str) -> None:
        vs = self.defs.valuesets.get(el.binding or "")
        if vs is None:
            return
        if not any(code in codes for codes in vs.values()):
            allowed = sorted(set().union(*vs.values()))
            shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
            self.report("base.binding", f"{code!r} is not in required value set {el.binding} ({shown})", fp)

    def binding_complex(self, el: ElementDef, ctype: str, node: dict[str, Any], fp: str) -> None:
        vs = self.defs.valuesets.get(el.binding or "")
        if vs is None:
            return
        codings = [node] if ctype == "Coding" else [c for c in items(node.get("coding")) if isinstance(c, dict)]
        for i, c in enumerate(codings):
            system, code = c.get("system"), c.get("code")
            if system in vs and code not in vs[system]:
                where = fp if ctype == "Coding" else f"{fp}.coding[{i}]"
                self.report("base.binding", f"{code!r} is not in required value set {el.binding}", where)

    def coding(self, node: dict[str, Any], fp: str) -> None:
        system, code = node.get("system"), node.get("code")
        codes = (self.defs.codesystems.get(system) or self.local_codesystems.get(system)) if isinstance(system, str) \
            else None
        if codes is not None and isinstance(code, str) and code not in codes:
            self.report("base.code-unknown", f"{code!r} is not defined in code system {system}", fp)


@functools.lru_cache(maxsize=1)
def extension_bindings() -> dict[str, tuple[str | None, frozenset[str]]]:
    """Extension url -> (system, allowed codes) for the required bindings the profile specs declare
    (an extension's binding holds wherever it is used, not only where a profile is claimed)."""
    from generator.validate._profiles import iter_specs

    out: dict[str, tuple[str | None, frozenset[str]]] = {}
    for spec in iter_specs():
        for eb in spec.extension_bindings:
            out[eb.url] = (eb.system, eb.codes)
    return out


def instant_bounds(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last instant a date/dateTime (of any precision) covers, UTC when no zone."""
    try:
        if "T" in text:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
            return moment, moment
        parts = [int(p) for p in text.split("-")]
        year, month, day = (parts + [0, 0])[:3]
        first = dt.datetime(year, month or 1, day or 1, tzinfo=dt.timezone.utc)
        if day:
            last = first + dt.timedelta(days=1)
        elif month:
            last = (first + dt.timedelta(days=32)).replace(day=1)
        else:
            last = first.replace(year=year + 1)
        return first, last - dt.timedelta(microseconds=1)
    except (ValueError, OverflowError):
        return None


def narrative_problems(div: str) -> list[tuple[str, str, Severity]]:
    """(invariant key, problem, severity) for a Narrative.div that breaks txt-1 or txt-2."""
    from xml.etree import ElementTree

    error, warning = Severity.ERROR, Severity.WARNING
    try:
        root = ElementTree.fromstring(div)
    except (ElementTree.ParseError, ValueError) as exc:  # ValueError: e.g. a lone surrogate
        return [("txt-1", f"the narrative is not well-formed XHTML ({exc})", error)]
    if root.tag != f"{{{XHTML_NS}}}div":
        return [("txt-1", f"the narrative's root must be an XHTML div, not {root.tag}", error)]
    problems: list[tuple[str, str, Severity]] = []
    for element in root.iter():
        namespace, _, name = element.tag.rpartition("}")
        if name in NARRATIVE_FORBIDDEN or namespace != "{" + XHTML_NS:
            problems.append(("txt-1", f"element <{name}> is not allowed in a narrative", error))
            continue
        if name not in NARRATIVE_ELEMENTS:
            problems.append(("txt-1", f"element <{name}> is not among the HTML 4.0 formatting elements "
                                      "the narrative rules list", warning))
        for attribute, value in element.attrib.items():
            if attribute.lower().startswith("on"):
                problems.append(("txt-1", f"event attribute {attribute!r} is not allowed in a narrative", error))
            elif attribute in ("href", "src") and (scheme := unsafe_link(value)) \
                    and not (attribute == "src" and scheme == "data"):  # images may be inline data
                problems.append(("txt-1", f"<{name} {attribute}> must not point at {scheme}:", error))
            elif attribute not in NARRATIVE_ATTRIBUTES:
                problems.append(("txt-1", f"attribute {attribute!r} on <{name}> is not among the HTML 4.0 "
                                          "attributes the narrative rules list", warning))
    if not "".join(root.itertext()).strip() and not any(e.tag == f"{{{XHTML_NS}}}img" for e in root.iter()):
        problems.append(("txt-2", "The narrative SHALL have some non-whitespace content", error))
    return problems


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    return check_and_clean(artifacts)[0]


def check_and_clean(artifacts: list[Artifact]) -> tuple[list[Diagnostic], list[Artifact]]:
    """Findings, and the artifacts the later layers should see: a resource with values of the wrong
    JSON type (reported here) comes back as a copy without those values, so every later layer
    can rely on R4 JSON types instead of each guarding against strings where lists belong."""
    try:
        defs = load_definitions()
    except DefinitionsUnavailable as exc:
        return [diag("base.unavailable", f"base R4 layer skipped: {exc}")], artifacts
    local = local_codesystems(artifacts)
    diags: list[Diagnostic] = []
    unsupported: set[str] = set()
    clean: list[Artifact] = []
    for a in artifacts:
        walker = _Walker(defs, a.resource, local_codesystems=local)
        walker.resource(a.resource, a.resource["resourceType"])
        diags.extend(walker.diags)
        unsupported |= walker.unsupported
        clean.append(Artifact(without(a.resource, walker.removed), a.source) if walker.removed else a)
    if unsupported:
        diags.append(
            diag("base.unavailable", "constraints fhirpathpy cannot evaluate were skipped: " + ", ".join(sorted(unsupported)))
        )
    return diags, clean


def screen_types(resource: dict[str, Any]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """JSON types and primitive formats only (no invariants, no terminology): the findings, and the
    resource without the values they name. For data other tools read leniently (apply's patient
    records), where a wrong-typed value would otherwise vanish without a word."""
    try:
        defs = load_definitions()
    except DefinitionsUnavailable:
        return resource, []
    walker = _Walker(defs, resource, types_only=True)
    walker.resource(resource, str(resource.get("resourceType")))
    return (without(resource, walker.removed) if walker.removed else resource), walker.diags


def check_bundle(bundle: dict[str, Any]) -> list[Diagnostic]:
    """The Bundle itself (type, entries, request, fullUrl, bdl-* invariants, unknown elements);
    its entries' resources are validated as resources of their own."""
    try:
        defs = load_definitions()
    except DefinitionsUnavailable:
        return []  # reported once by the base layer of the run
    walker = _Walker(defs, bundle, shell=True)
    walker.resource(bundle, "Bundle")
    return walker.diags


def local_codesystems(artifacts: list[Artifact]) -> dict[str, frozenset[str]]:
    """Complete CodeSystems of the validated set: url -> every code they define (nested included)."""
    out: dict[str, frozenset[str]] = {}
    for a in artifacts:
        r = a.resource
        if r.get("resourceType") != "CodeSystem" or r.get("content") != "complete" or not isinstance(r.get("url"), str):
            continue
        codes: set[str] = set()
        stack = [c for c in items(r.get("concept")) if isinstance(c, dict)]
        while stack:
            concept = stack.pop()
            if isinstance(concept.get("code"), str):
                codes.add(concept["code"])
            stack.extend(c for c in items(concept.get("concept")) if isinstance(c, dict))
        out[r["url"]] = frozenset(codes)
    return out


def without(resource: dict[str, Any], paths: list[tuple[str | int, ...]]) -> dict[str, Any]:
    """A copy of `resource` with the values at `paths` removed (list items from the highest index)."""
    import copy

    result = copy.deepcopy(resource)

    def order(path: tuple[str | int, ...]) -> tuple[tuple[int, str], ...]:
        return tuple((p, "") if isinstance(p, int) else (-1, p) for p in path)

    for path in sorted(paths, key=order, reverse=True):
        parent: Any = result
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
    return result
