"""Narratives: every resource gets a generated, human-readable `text` (restricted XHTML).

A reader of a single resource file (or a FHIR server's UI) should understand it without
our site: a recommendation shows its statement, when it applies (the define, in words and
in CQL), its grading and sources; an activity shows whether it must NOT be done. The
view is built from the resource itself plus the compiled logic, rendered by jinja2
templates with autoescaping, so author text can never become markup.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import jinja2

from generator.links import unsafe_link
import markupsafe

from generator.canonicals import CPG_DIRECTION_OF_RECOMMENDATION as DIRECTION
from generator.canonicals import CPG_RATIONALE as RATIONALE
from generator.canonicals import CQF_QUALITY_OF_EVIDENCE as QUALITY
from generator.canonicals import CQF_STRENGTH_OF_RECOMMENDATION as STRENGTH
from generator.canonicals import PLAN_DEFINITION_TYPE as PLAN_TYPE
from generator.publish._cql import LogicIndex, index_logic
from generator import templating

if TYPE_CHECKING:
    from generator.cql.phase import CompiledLogic
    from generator.resolve import ResolvedGuideline

XHTML_NS = "http://www.w3.org/1999/xhtml"

# Characters XML 1.0 forbids; removed from author text so the div stays well-formed.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class HasLogic(Protocol):
    """What narratives need from a build: the resolved guideline and its compiled logic."""

    @property
    def resolved(self) -> ResolvedGuideline: ...

    @property
    def logic(self) -> CompiledLogic: ...


@dataclass(frozen=True)
class LogicContext:
    """A `HasLogic` for callers that have no BuiltGuideline yet (the SYNTH phase)."""

    resolved: ResolvedGuideline
    logic: CompiledLogic


def clean_text(value: Any) -> Any:
    """Drop characters XML cannot carry; applied to every value a template prints."""
    if isinstance(value, markupsafe.Markup) or not isinstance(value, str):
        return value  # already-rendered template output (macros); its parts were cleaned
    return _XML_INVALID.sub("", value)


def template_environment(folder: str) -> jinja2.Environment:
    """An autoescaping environment over templates/<folder> (shared by narratives and the site)."""
    env = templating.environment(
        Path(__file__).parent / "templates" / folder,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=clean_text,
    )
    # `{% if url | safe_link %}`: a javascript:/vbscript:/data: URL is shown as text, never as a link
    # (the validator rejects them as errors; this keeps `--no-validate` output safe as well)
    env.filters["safe_link"] = lambda url: bool(url) and isinstance(url, str) and unsafe_link(url) is None
    return env


@functools.cache
def environment() -> jinja2.Environment:
    """One environment per process over this folder's templates (`generator.publish.load_templates` loads them ahead)."""
    return template_environment("narrative")


# ---- reading FHIR values -------------------------------------------------------------------


def coding_text(coding: dict[str, Any]) -> str:
    display = coding.get("display")
    code = coding.get("code", "")
    return f"{display} ({code})" if display else str(code)


def concept_text(concept: dict[str, Any] | None) -> str | None:
    if not concept:
        return None
    codings = concept.get("coding", [])
    if codings:
        return coding_text(codings[0])
    return concept.get("text")


def concept_display(concept: dict[str, Any] | None) -> str | None:
    """Just the words (grading badges): display, else text, else the code."""
    if not concept:
        return None
    for coding in concept.get("coding", []):
        return str(coding.get("display") or coding.get("code"))
    return concept.get("text")


def extension_value(element: dict[str, Any], url: str) -> Any:
    for ext in element.get("extension", []):
        if ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def library_cql(resource: dict[str, Any]) -> str | None:
    """The CQL source carried in a Library's content, if any."""
    for attachment in resource.get("content", []):
        if str(attachment.get("contentType", "")).startswith("text/cql") and "data" in attachment:
            try:
                return base64.b64decode(attachment["data"]).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


def plan_kind(resource: dict[str, Any]) -> str:
    """pathway | strategy | recommendation | plan, from PlanDefinition.type."""
    for coding in resource.get("type", {}).get("coding", []):
        if coding.get("system") == PLAN_TYPE:
            return {"clinical-protocol": "pathway", "workflow-definition": "strategy",
                    "eca-rule": "recommendation"}.get(coding.get("code", ""), "plan")
    return "plan"


def _bare(canonical: str | None) -> str:
    return (canonical or "").split("|", 1)[0]


def _dosage_text(dosage: dict[str, Any]) -> str:
    parts = [str(dosage["text"])] if dosage.get("text") else []
    repeat = dosage.get("timing", {}).get("repeat", {})
    for dose in dosage.get("doseAndRate", []):
        quantity = dose.get("doseQuantity")
        if quantity:
            parts.append(f"dose {quantity.get('value')} {quantity.get('unit') or quantity.get('code', '')}".rstrip())
    if repeat.get("frequency") and repeat.get("period"):
        parts.append(f"{repeat['frequency']} time(s) per {repeat['period']} {repeat.get('periodUnit', '')}".rstrip())
    bounds = repeat.get("boundsDuration")
    if bounds:
        parts.append(f"for {bounds.get('value')} {bounds.get('unit') or bounds.get('code', '')}".rstrip())
    route = concept_text(dosage.get("route"))
    if route:
        parts.append(f"route {route}")
    if dosage.get("asNeededBoolean"):
        parts.append("as needed")
    return "; ".join(parts)


# ---- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    logic: LogicIndex
    titles: dict[str, str]  # canonical url (no version) -> title, for readable references


def _condition_view(condition: dict[str, Any], ctx: _Context) -> dict[str, Any]:
    expression = condition.get("expression", {})
    name = str(expression.get("expression", ""))
    define = ctx.logic.get(name) if expression.get("language") in ("text/cql-identifier", "text/cql") else None
    return {
        "kind": condition.get("kind", ""),
        "define": name,
        "language": expression.get("language", ""),
        "words": define.words if define else None,
        "cql": define.cql if define else None,
        "uses": "\n\n".join(d.cql for d in ctx.logic.closure(name) if d.name != name and not d.is_function)
        if define else "",
    }


def _action_view(action: dict[str, Any], ctx: _Context) -> dict[str, Any]:
    target = action.get("definitionCanonical")
    return {
        "title": action.get("title"),
        "description": action.get("description"),
        "strength": concept_display(extension_value(action, STRENGTH)),
        "quality": concept_display(extension_value(action, QUALITY)),
        "direction": concept_display(extension_value(action, DIRECTION)),
        "direction_code": ((extension_value(action, DIRECTION) or {}).get("coding") or [{}])[0].get("code"),
        "rationale": extension_value(action, RATIONALE),
        "conditions": [_condition_view(c, ctx) for c in action.get("condition", [])],
        "citations": [{"display": d.get("display") or d.get("label"), "citation": d.get("citation"),
                       "url": d.get("url")} for d in action.get("documentation", [])],
        "target": target,
        "target_title": ctx.titles.get(_bare(target)),
        "actions": [_action_view(a, ctx) for a in action.get("action", [])],
        "selection": action.get("selectionBehavior") if action.get("action") else None,
        "priority": action.get("priority"),
        "timing": _timing_words(action),
        "text_equivalent": action.get("textEquivalent"),
    }


def _timing_words(action: dict[str, Any]) -> str | None:
    """When the action is due, in words: the Timing's text, or the offset window / relative action."""
    def span(q: dict[str, Any]) -> str:
        return f"{q.get('value')} {q.get('unit')}"
    parts = []
    for related in action.get("relatedAction", []):
        offset = related.get("offsetDuration")
        parts.append(f"{span(offset) + ' ' if offset else ''}{related.get('relationship')} action "
                     f"{related.get('actionId')}")
    if "timingRange" in action:
        low, high = action["timingRange"]["low"], action["timingRange"]["high"]
        window = span(low) if low == high else f"{span(low)} to {span(high)}"
        parts.append(f"{window} after it applies")
    elif (action.get("timingTiming") or {}).get("code") and not parts:
        parts.append(str(action["timingTiming"]["code"].get("text")))
    return "; ".join(parts) or None


def _view(resource: dict[str, Any], ctx: _Context) -> dict[str, Any]:
    kind = resource["resourceType"]
    view: dict[str, Any] = {"r": resource, "title": resource.get("title") or resource.get("name") or resource.get("id")}
    if kind == "PlanDefinition":
        view["plan_kind"] = plan_kind(resource)
        view["actions"] = [_action_view(a, ctx) for a in resource.get("action", [])]
        view["library"] = resource.get("library", [])
    elif kind == "ActivityDefinition":
        view["kind"] = resource.get("kind")
        view["codes"] = [coding_text(c) for c in resource.get("code", {}).get("coding", [])]
        view["product"] = concept_text(resource.get("productCodeableConcept"))
        view["dosages"] = [_dosage_text(d) for d in resource.get("dosage", [])]
        view["dynamic"] = [(d.get("path"), d.get("expression", {}).get("expression")) for d in resource.get("dynamicValue", [])]
        view["body_sites"] = [concept_text(b) for b in resource.get("bodySite", [])]
    elif kind == "Library":
        view["type"] = concept_text(resource.get("type"))
        view["media_types"] = [a.get("contentType") for a in resource.get("content", [])]
        view["cql"] = library_cql(resource)
        view["related"] = [(a.get("type"), a.get("display"), a.get("resource")) for a in resource.get("relatedArtifact", [])]
    elif kind == "ValueSet":
        view["includes"] = [
            {"system": inc.get("system"), "version": inc.get("version"),
             "concepts": [(c.get("code"), c.get("display")) for c in inc.get("concept", [])],
             "filters": [(f.get("property"), f.get("op"), f.get("value")) for f in inc.get("filter", [])],
             "value_sets": inc.get("valueSet", [])}
            for inc in resource.get("compose", {}).get("include", [])
        ]
    elif kind == "ImplementationGuide":
        view["depends"] = [(d.get("packageId"), d.get("version")) for d in resource.get("dependsOn", [])]
        view["resources"] = [r.get("reference", {}).get("reference") for r in resource.get("definition", {}).get("resource", [])]
    return view


def _template_name(resource: dict[str, Any]) -> str:
    known = {"PlanDefinition", "ActivityDefinition", "Library", "ValueSet", "ImplementationGuide"}
    kind = resource["resourceType"]
    return f"{kind}.xhtml.j2" if kind in known else "Resource.xhtml.j2"


def render_narrative(resource: dict[str, Any], ctx: _Context) -> str:
    body = environment().get_template(_template_name(resource)).render(_view(resource, ctx))
    return f'<div xmlns="{XHTML_NS}">{body.strip()}</div>'


def _with_text(resource: dict[str, Any], div: str) -> dict[str, Any]:
    """A new resource dict with `text` placed where FHIR JSON puts it (after id/meta/language).

    Element values are shared with `resource`, not copied: resources are treated as immutable
    once synthesized, and deep-copying every resource was a measurable share of a build.
    """
    result: dict[str, Any] = {}
    head = ("resourceType", "id", "meta", "implicitRules", "language")
    for key in head:
        if key in resource:
            result[key] = resource[key]
    result["text"] = {"status": "generated", "div": div}
    for key, value in resource.items():
        if key not in head and key != "text":
            result[key] = value
    return result


def narrative_context(resources: list[dict[str, Any]], built: HasLogic) -> _Context:
    main = built.logic.translations.get(built.logic.library.name)
    logic = index_logic(built.logic.library.text, main.elm if main is not None else None)
    titles = {str(r["url"]): str(r.get("title") or r.get("name") or r.get("id")) for r in resources if r.get("url")}
    return _Context(logic, titles)


def add_narratives(resources: list[dict[str, Any]], built: HasLogic, *,
                   context: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """New resources, each with a generated narrative; author-written (non-generated) text is kept.

    `context` (default: `resources`) is the set whose titles narratives may link to, so a caller
    can narrate one new resource among others already narrated.
    """
    ctx = narrative_context(resources if context is None else context, built)
    result = []
    for resource in resources:
        existing = resource.get("text")
        if existing and existing.get("status") not in (None, "generated"):
            result.append(dict(resource))
        else:
            result.append(_with_text(resource, render_narrative(resource, ctx)))
    return result
