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

import functools
from collections.abc import Callable
from typing import Any

from generator.diagnostics import Diagnostic, Severity
from generator.validate._definitions import Definitions, DefinitionsUnavailable, ElementDef, load_definitions
from generator.validate._model import Artifact, items, ref_of
from generator.validate._rules import diag

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
    def __init__(self, defs: Definitions, resource: dict[str, Any]):
        self.defs = defs
        self.root = resource
        self.ref = ref_of(resource)
        self.diags: list[Diagnostic] = []
        self.unsupported: set[str] = set()

    def report(self, rule: str, message: str, path: str, severity: Severity | None = None) -> None:
        self.diags.append(diag(rule, message, resource=self.ref, path=path, severity=severity))

    # -- constraints -------------------------------------------------------
    def constraints(self, el: ElementDef | None, node: Any, model_path: str, fp: str, resource: dict[str, Any]) -> None:
        if el is None:
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
    def resource(self, res: dict[str, Any], fp: str) -> None:
        rtype = res.get("resourceType")
        if not isinstance(rtype, str) or rtype not in self.defs.resource_types:
            return
        self.constraints(self.defs.elements.get(rtype), res, rtype, fp, res)
        self.contained_referenced(res, fp)
        self.complex(res, rtype, rtype, fp, res)

    def contained_referenced(self, res: dict[str, Any], fp: str) -> None:
        contained = [c for c in items(res.get("contained")) if isinstance(c, dict)]
        if not contained:
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

    def complex(self, node: dict[str, Any], el_path: str, type_name: str, fp: str, resource: dict[str, Any]) -> None:
        defs = self.defs
        el = defs.elements.get(el_path)
        if el is not None and el.content_ref and not defs.has_children(el_path):
            base = el.content_ref.lstrip("#")
        elif defs.has_children(el_path):
            base = el_path
        else:
            base = type_name
            if type_name in defs.complex_types and base != el_path:
                self.constraints(defs.elements.get(type_name), node, type_name, fp, resource)
        if type_name == "Coding" or base == "Coding":
            self.coding(node, fp)
        if (type_name == "Narrative" or base == "Narrative") and isinstance(node.get("div"), str):
            for key, problem, severity in narrative_problems(node["div"]):
                self.report("base.invariant", f"{key}: {problem}", f"{fp}.div", severity)
        if type_name == "Extension" or base == "Extension":
            has_value = any(k.startswith("value") for k in node)
            if has_value == bool(node.get("extension")):
                self.report("base.invariant", "ext-1: Must have either extensions or value[x], not both", fp)
        if not any(k != "id" for k in node) and node is not resource:
            self.report("base.invariant", "ele-1: All FHIR elements must have a @value or children", fp)
        children = defs.children(base)
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
            cel, ctype = child
            repeats = cel.max != "1"
            if isinstance(value, list) and not value:
                self.report("base.invariant", "ele-1: arrays must not be empty", f"{fp}.{key}")
                continue
            for i, v in enumerate(items(value)):
                cfp = f"{fp}.{key}[{i}]" if repeats else f"{fp}.{key}"
                if isinstance(v, dict):
                    if ctype == "Resource" or "resourceType" in v:
                        self.resource(v, cfp)
                        continue
                    self.constraints(cel, v, cel.path, cfp, resource)
                    self.complex(v, cel.path, ctype, cfp, resource)
                    if cel.binding:
                        self.binding_complex(cel, ctype, v, cfp)
                else:
                    if isinstance(v, str) and v == "" or v is None:
                        self.report("base.invariant", "ele-1: primitive values must not be empty", cfp)
                    elif cel.binding and ctype == "code" and isinstance(v, str):
                        self.binding_code(cel, v, cfp)

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
        codes = self.defs.codesystems.get(system) if isinstance(system, str) else None
        if codes is not None and isinstance(code, str) and code not in codes:
            self.report("base.code-unknown", f"{code!r} is not defined in code system {system}", fp)


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
            elif attribute in ("href", "src") and value.strip().lower().startswith("javascript:"):
                problems.append(("txt-1", f"<{name} {attribute}> must not point at javascript:", error))
            elif attribute not in NARRATIVE_ATTRIBUTES:
                problems.append(("txt-1", f"attribute {attribute!r} on <{name}> is not among the HTML 4.0 "
                                          "attributes the narrative rules list", warning))
    if not "".join(root.itertext()).strip() and not any(e.tag == f"{{{XHTML_NS}}}img" for e in root.iter()):
        problems.append(("txt-2", "The narrative SHALL have some non-whitespace content", error))
    return problems


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    try:
        defs = load_definitions()
    except DefinitionsUnavailable as exc:
        return [diag("base.unavailable", f"base R4 layer skipped: {exc}")]
    diags: list[Diagnostic] = []
    unsupported: set[str] = set()
    for a in artifacts:
        walker = _Walker(defs, a.resource)
        walker.resource(a.resource, a.resource["resourceType"])
        diags.extend(walker.diags)
        unsupported |= walker.unsupported
    if unsupported:
        diags.append(
            diag("base.unavailable", "constraints fhirpathpy cannot evaluate were skipped: " + ", ".join(sorted(unsupported)))
        )
    return diags
