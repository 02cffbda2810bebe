"""site/: the guideline for a clinical reviewer, one static page that needs no network.

What a reviewer signs off, in their words: the pathway (a wrapping grid of link cards,
coloured by direction, do-not-perform marked), each recommendation's conditions spelled out
with thresholds, units, windows and the data they read (`_describe`), what it proposes with
priority, timing, dose and "choose one of" groups read from the published FHIR (`_actions`),
its grade and verbatim sources; the scenarios as patients in clinical words with what the
pathway proposed for each, run on the real engine (`_scenario_results`); every value set in
full. The CQL is there too, every define linked. Rendered with autoescaping templates; prints
as a review document.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from generator.publish._actions import SELECTION_WORDS, action_views
from generator.publish._cql import LogicIndex, Token, index_logic, slug, tokens
from generator.publish._describe import describe
from generator.publish._patients import patient_summary
from generator.publish.narrative import template_environment
from generator.model.terminology import Code, ValueSet
from generator.publish.package import package_id

if TYPE_CHECKING:
    from generator.apply._scenarios import ScenarioOutcome
    from generator.publish.narrative import HasLogic
    from generator.resolve import ResolvedGuideline, ResolvedRecommendation

_STYLE = Path(__file__).parent / "templates" / "site" / "style.css"



@functools.cache
def environment() -> jinja2.Environment:
    """One environment per process over this folder's templates (`generator.publish.load_templates` loads them ahead)."""
    env = template_environment("site")
    env.filters["slug"] = slug
    return env


def _direction(rr: ResolvedRecommendation) -> str:
    direction = rr.recommendation.direction
    return direction.value[0] if direction is not None else "none"


def _do_not(rr: ResolvedRecommendation) -> bool:
    return any(ra.activity.do_not_perform for ra in rr.activities)


def rec_anchor(rec_id: str) -> str:
    return "rec-" + slug(rec_id)


def pathway_view(rg: ResolvedGuideline) -> list[dict[str, Any]]:
    """The pathway as the page draws it: strategies in order, each with its recommendations.

    Drawn in HTML (a wrapping grid of link cards), not a fixed-width SVG: it reflows from a
    phone to a wide screen, shows every title in full, and every box is a keyboard-reachable link.
    """
    return [
        {"anchor": f"strategy-{slug(rs.id)}", "title": rs.strategy.title or rs.id,
         "recommendations": [{"anchor": rec_anchor(rr.id), "title": rr.recommendation.title or rr.id,
                              "direction": _direction(rr), "do_not": _do_not(rr)}
                             for rr in rs.recommendations]}
        for rs in rg.strategies
    ]


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


def _recommendation_view(rg: ResolvedGuideline, rr: ResolvedRecommendation, index: LogicIndex,
                         by_url: dict[str, dict[str, Any]], notes: dict[tuple[str, str], str]) -> dict[str, Any]:
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
    plan = by_url.get(rr.url, {})
    top = plan.get("action", [{}])[0] if plan.get("action") else {}
    features = {f.name: f for f in rg.features}
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
        "applies_when": describe(rec.applicability, features) if rec.applicability is not None else None,
        "cql": tuple(tokens(define.cql, known)) if define else (),
        "uses": [{"name": d.name, "anchor": index.anchor(d.name)} for d in uses],
        "choice": SELECTION_WORDS.get(str(top.get("selectionBehavior"))) if top.get("selectionBehavior") != "all" else None,
        "actions": action_views(_proposals(top), by_url, notes=notes),
        "sources": sources,
        "file": f"../resources/PlanDefinition-{rr.id}.json",
        "strategy": rr.strategy.strategy.title or rr.strategy.id,
    }


def _proposals(top: dict[str, Any]) -> list[dict[str, Any]]:
    """The actions a recommendation's top action proposes: its sub-actions, or itself when it
    carries the one activity (then titled by the activity, not by the recommendation)."""
    if top.get("action"):
        return list(top["action"])
    if top.get("definitionCanonical"):
        return [{k: v for k, v in top.items() if k not in ("title", "description")}]
    return []


def value_set_view(resource: dict[str, Any], notes: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Every code of a ValueSet: its listed concepts, its rules (filters, imported sets), its expansion."""
    codes: list[tuple[str | None, str | None, str | None, str | None]] = []
    rules: list[str] = []
    for include in resource.get("compose", {}).get("include", []):
        system = include.get("system")
        for concept in include.get("concept", []):
            codes.append((system, concept.get("code"), concept.get("display"), notes.get((system, concept.get("code")))))
        for f in include.get("filter", []):
            rules.append(f"{system or ''} codes where {f.get('property')} {f.get('op')} {f.get('value')}")
        for imported in include.get("valueSet", []):
            rules.append(f"every code of value set {imported}")
    for exclude in resource.get("compose", {}).get("exclude", []):
        for f in exclude.get("filter", []):
            rules.append(f"excluding {exclude.get('system', '')} codes where {f.get('property')} {f.get('op')} {f.get('value')}")
        for concept in exclude.get("concept", []):
            rules.append(f"excluding {exclude.get('system', '')} {concept.get('code')}")
    expansion = resource.get("expansion")
    expanded: list[tuple[str | None, str | None, str | None, str | None]] = []
    if expansion:
        stack = list(reversed(expansion.get("contains", [])))
        while stack:
            item = stack.pop()
            if item.get("code"):
                expanded.append((item.get("system"), item.get("code"), item.get("display"),
                                 notes.get((item.get("system"), item.get("code")))))
            stack.extend(reversed(item.get("contains", [])))
    return {
        "title": resource.get("title") or resource["id"],
        "url": resource.get("url"),
        "anchor": "vs-" + slug(resource["id"]),
        "description": resource.get("description"),
        "codes": codes,
        "rules": rules,
        "expansion": expanded,
        "expansion_total": (expansion or {}).get("total", len(expanded)) if expansion else None,
        "expansion_source": ((expansion or {}).get("identifier") or (expansion or {}).get("timestamp")) if expansion else None,
    }


def code_notes(rg: ResolvedGuideline) -> dict[tuple[str, str], str]:
    """(system, code) -> the author's note on where the code's meaning was confirmed, if given.

    Every code the guideline names: in its logic, its value sets and its activities."""
    codes: list[Code] = [*rg.codes, *(c for vs in rg.value_sets for c in vs.codes)]
    for ra in rg.activities:
        for value in vars(ra.activity).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Code):
                    codes.append(item)
                elif isinstance(item, ValueSet):
                    codes.extend(item.codes)
    return {(code.system, code.code): str(code.note) for code in codes if getattr(code, "note", None)}


def scenario_view(built: HasLogic, outcome: ScenarioOutcome, titles: dict[str, str]) -> dict[str, Any]:
    """One scenario: the patient in words, what the pathway proposed, and whether it was expected."""
    from generator.apply._patient import read_scenario_bundle
    from generator.apply.testcases import _test_id as test_case_id

    scenario = outcome.scenario
    bundle = read_scenario_bundle(built.resolved.package_dir / scenario.bundle)
    expected_absent = set(scenario.absent) if isinstance(scenario.absent, list) else set()
    proposed = [{"id": rid, "title": titles.get(rid, rid), "anchor": rec_anchor(rid),
                 "expected": rid in scenario.present, "unexpected": rid in expected_absent}
                for rid in outcome.applicable]
    return {
        "id": scenario.id,
        "anchor": "scenario-" + slug(scenario.id),
        "title": scenario.title or scenario.id,
        "date": scenario.date,
        "patient": patient_summary(bundle, scenario.date),
        "passed": outcome.passed,
        "error": outcome.error,
        "proposed": proposed,
        "missing": [{"id": rid, "title": titles.get(rid, rid), "anchor": rec_anchor(rid)} for rid in outcome.missing],
        "file": f"../tests/Library-{test_case_id(scenario.id)}.json",
    }


def changes_view(changes: dict[str, Any] | None, titles: dict[str, str]) -> dict[str, Any] | None:
    """`cpg diff`'s JSON as the "Changes since" section reads it (recommendations titled and linked)."""
    if changes is None:
        return None
    recommendations = [{**r, "title": titles.get(r["id"], r["id"]),
                        "anchor": rec_anchor(r["id"]) if r["status"] != "removed" else None}
                       for r in changes.get("recommendations", [])]
    return {**changes, "recommendations": recommendations}


def site_files(built: HasLogic, resources: list[dict[str, Any]], outcomes: list[ScenarioOutcome], *,
               changes: dict[str, Any] | None = None) -> dict[str, bytes]:
    """site/index.html and site/style.css (`changes`: `cpg diff` JSON of a previous version, if given)."""
    rg = built.resolved
    g = rg.guideline
    main = built.logic.translations.get(built.logic.library.name)
    index = index_logic(built.logic.library.text, main.elm if main is not None else None)
    by_url = {str(r["url"]): r for r in resources if r.get("url")}
    notes = code_notes(rg)
    titles = {rr.id: rr.recommendation.title or rr.id for rr in rg.recommendations}
    context = {
        "g": g,
        "package_id": package_id(g.id),
        "library_name": built.logic.library.name,
        "pathway": pathway_view(rg),
        "strategies": [
            {"id": rs.id, "anchor": f"strategy-{slug(rs.id)}", "title": rs.strategy.title or rs.id,
             "description": rs.strategy.description,
             "recommendations": [_recommendation_view(rg, rr, index, by_url, notes) for rr in rs.recommendations]}
            for rs in rg.strategies
        ],
        "scenarios": [scenario_view(built, o, titles) for o in outcomes],
        "changes": changes_view(changes, titles),
        "sources": [(key, g.sources[key]) for key in sorted(g.sources)],
        "segments": cql_segments(index),
        "anchors": {d.name: index.anchor(d.name) for d in index.defines},
        "defines": [{"name": d.name, "anchor": index.anchor(d.name), "function": d.is_function} for d in index.defines],
        "value_sets": [value_set_view(r, notes) for r in resources if r["resourceType"] == "ValueSet"],
        "resources": [(r["resourceType"], r["id"], r.get("title") or r.get("name") or r["id"]) for r in resources],
    }
    html = environment().get_template("index.html.j2").render(context)
    return {"site/index.html": html.encode("utf-8"), "site/style.css": _STYLE.read_bytes()}
