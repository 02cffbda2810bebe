"""site/: the guideline for humans, one static page that needs no network.

The pathway diagram is an SVG laid out here (pathway -> strategies -> recommendation
boxes, coloured by direction, do-not-perform marked); every box links to its
recommendation, every applicability define links into the CQL listing, and references
inside the CQL link to the defines they name. Rendered with autoescaping templates.
"""

from __future__ import annotations

import functools
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from generator.publish._cql import LogicIndex, Token, index_logic, slug, tokens
from generator.publish.narrative import coding_text, concept_display, template_environment
from generator.publish.package import package_id

if TYPE_CHECKING:
    from generator.publish.narrative import HasLogic
    from generator.resolve import ResolvedGuideline, ResolvedRecommendation

_STYLE = Path(__file__).parent / "templates" / "site" / "style.css"

# Diagram geometry (px).
_COL, _GAP, _MARGIN, _LINE = 250, 24, 20, 16
_TOP_H, _REC_GAP = 54, 16
# Characters per line: 13px text in 210px (bold strategy titles are wider).
_WRAP, _WRAP_BOLD = 26, 24


@functools.cache
def _environment() -> jinja2.Environment:
    env = template_environment("site")
    env.filters["slug"] = slug
    return env


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    lines: tuple[str, ...]
    css: str
    href: str
    note: str | None = None  # an extra, emphasised line (e.g. "DO NOT PERFORM")

    @property
    def cx(self) -> int:
        return self.x + self.w // 2


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[int, int, int, int]] = field(default_factory=list)


def _wrap(text: str, limit: int = 5, width: int = _WRAP) -> tuple[str, ...]:
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > limit:
        lines = lines[:limit]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return tuple(lines)


def _box_height(lines: tuple[str, ...], note: str | None) -> int:
    return 20 + _LINE * (len(lines) + (1 if note else 0))


def _direction(rr: ResolvedRecommendation) -> str:
    direction = rr.recommendation.direction
    return direction.value[0] if direction is not None else "none"


def _do_not(rr: ResolvedRecommendation) -> bool:
    return any(ra.activity.do_not_perform for ra in rr.activities)


def rec_anchor(rec_id: str) -> str:
    return "rec-" + slug(rec_id)


def layout(rg: ResolvedGuideline) -> Diagram:
    """Place the pathway, one column per strategy, and its recommendations stacked below."""
    columns = max(1, len(rg.strategies))
    width = 2 * _MARGIN + columns * _COL + (columns - 1) * _GAP
    diagram = Diagram(width, 0)
    top_w = min(width - 2 * _MARGIN, 2 * _COL)
    top_lines = _wrap(rg.guideline.title, 3, max(10, (top_w - 20) // 9))
    top = Box((width - top_w) // 2, _MARGIN, top_w, _box_height(top_lines, None), top_lines, "pathway", "#metadata")
    diagram.boxes.append(top)
    bottom = top.y + top.h
    strategy_y = bottom + 40
    for i, rs in enumerate(rg.strategies):
        x = _MARGIN + i * (_COL + _GAP)
        s_lines = _wrap(rs.strategy.title or rs.id, 3, _WRAP_BOLD)
        s_box = Box(x, strategy_y, _COL, _box_height(s_lines, None), s_lines, "strategy", f"#strategy-{slug(rs.id)}")
        diagram.boxes.append(s_box)
        diagram.edges.append((top.cx, top.y + top.h, s_box.cx, s_box.y))
        y = s_box.y + s_box.h + 30
        previous = s_box
        for rr in rs.recommendations:
            note = "⊘ DO NOT PERFORM" if _do_not(rr) else None
            r_lines = _wrap(rr.recommendation.title or rr.id)
            css = f"rec rec-{_direction(rr)}" + (" rec-donot" if note else "")
            box = Box(x + 10, y, _COL - 20, _box_height(r_lines, note), r_lines, css, "#" + rec_anchor(rr.id), note)
            diagram.boxes.append(box)
            diagram.edges.append((previous.cx, previous.y + previous.h, box.cx, box.y))
            previous = box
            y += box.h + _REC_GAP
        bottom = max(bottom, y)
    diagram.height = max(bottom, strategy_y + _TOP_H) + _MARGIN
    return diagram


# ---- views -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    anchor: str | None
    name: str | None
    tokens: tuple[Token, ...]


def cql_segments(index: LogicIndex) -> list[Segment]:
    """The library text cut at define boundaries, references tokenised for linking."""
    lines = index.text.split("\n")
    known = {d.name for d in index.defines}
    segments: list[Segment] = []
    at = 1
    for d in index.defines:
        if d.first_line > at:
            plain = "\n".join(lines[at - 1:d.first_line - 1]) + "\n"
            segments.append(Segment(None, None, tuple(tokens(plain, known))))
        body = "\n".join(lines[d.first_line - 1:d.last_line]) + "\n"
        segments.append(Segment(index.anchor(d.name), d.name, tuple(tokens(body, known))))
        at = d.last_line + 1
    if at <= len(lines):
        rest = "\n".join(lines[at - 1:])
        if rest:
            segments.append(Segment(None, None, tuple(tokens(rest, known))))
    return segments


def _activity_view(resource: dict[str, Any] | None, fallback_title: str) -> dict[str, Any]:
    if resource is None:
        return {"title": fallback_title, "kind": None, "codes": [], "do_not": False, "dosages": [],
                "description": None, "file": None, "product": None}
    return {
        "title": resource.get("title") or fallback_title,
        "kind": resource.get("kind"),
        "codes": [coding_text(c) for c in resource.get("code", {}).get("coding", [])],
        "product": concept_display(resource.get("productCodeableConcept")),
        "do_not": bool(resource.get("doNotPerform")),
        "dosages": [d.get("text") for d in resource.get("dosage", []) if d.get("text")],
        "description": resource.get("description"),
        "file": f"../resources/ActivityDefinition-{resource['id']}.json",
    }


def _recommendation_view(rg: ResolvedGuideline, rr: ResolvedRecommendation, index: LogicIndex,
                         by_url: dict[str, dict[str, Any]]) -> dict[str, Any]:
    rec = rr.recommendation
    define = index.get(rr.applicability_define)
    known = {d.name for d in index.defines}
    uses = [d for d in index.closure(rr.applicability_define) if d.name != rr.applicability_define and not d.is_function]
    sources = []
    for source in rec.sources:
        citation = rg.guideline.sources.get(source.document)
        sources.append({
            "document": source.document,
            "title": citation.title if citation else source.document,
            "updated": citation.updated if citation else None,
            "url": citation.url if citation else None,
            "passage": source.passage,
        })
    return {
        "id": rr.id,
        "anchor": rec_anchor(rr.id),
        "title": rec.title or rr.id,
        "statement": rec.statement,
        "rationale": rec.rationale,
        "direction": rec.direction.value[1] if rec.direction else None,
        "direction_code": _direction(rr),
        "strength": rec.strength.value[1] if rec.strength else None,
        "certainty": rec.certainty.value[1] if rec.certainty else None,
        "do_not": _do_not(rr),
        "define": rr.applicability_define,
        "define_anchor": index.anchor(rr.applicability_define),
        "words": define.words if define else None,
        "cql": tuple(tokens(define.cql, known)) if define else (),
        "uses": [{"name": d.name, "anchor": index.anchor(d.name)} for d in uses],
        "activities": [_activity_view(by_url.get(ra.url), ra.title) for ra in rr.activities],
        "sources": sources,
        "file": f"../resources/PlanDefinition-{rr.id}.json",
        "strategy": rr.strategy.strategy.title or rr.strategy.id,
    }


def site_files(built: HasLogic, resources: list[dict[str, Any]]) -> dict[str, bytes]:
    """site/index.html and site/style.css."""
    rg = built.resolved
    g = rg.guideline
    main = built.logic.translations.get(built.logic.library.name)
    index = index_logic(built.logic.library.text, main.elm if main is not None else None)
    by_url = {str(r["url"]): r for r in resources if r.get("url")}
    value_sets = [r for r in resources if r["resourceType"] == "ValueSet"]
    context = {
        "g": g,
        "package_id": package_id(g.id),
        "library_name": built.logic.library.name,
        "diagram": layout(rg),
        "strategies": [
            {"id": rs.id, "anchor": f"strategy-{slug(rs.id)}", "title": rs.strategy.title or rs.id,
             "description": rs.strategy.description,
             "recommendations": [_recommendation_view(rg, rr, index, by_url) for rr in rs.recommendations]}
            for rs in rg.strategies
        ],
        "sources": [(key, g.sources[key]) for key in sorted(g.sources)],
        "segments": cql_segments(index),
        "anchors": {d.name: index.anchor(d.name) for d in index.defines},
        "defines": [{"name": d.name, "anchor": index.anchor(d.name), "function": d.is_function} for d in index.defines],
        "value_sets": [
            {"title": r.get("title") or r["id"], "url": r.get("url"),
             "codes": [(inc.get("system"), c.get("code"), c.get("display"))
                       for inc in r.get("compose", {}).get("include", []) for c in inc.get("concept", [])]}
            for r in value_sets
        ],
        "resources": [(r["resourceType"], r["id"], r.get("title") or r.get("name") or r["id"]) for r in resources],
    }
    html = _environment().get_template("index.html.j2").render(context)
    return {"site/index.html": html.encode("utf-8"), "site/style.css": _STYLE.read_bytes()}
