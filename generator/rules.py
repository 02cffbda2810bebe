"""RULES phase: author-level checks, each reported at the definition's file:line.

These catch what the type system cannot: missing titles, malformed versions, activities
without codes, recommendations that do not trace to a source passage. Every rule has a
stable code so tests and users can rely on it.
"""

from __future__ import annotations

import re

from generator.diagnostics import DiagnosticBag
from generator.readers import InputError, read_json, read_text
from generator.resolve import ResolvedGuideline

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
)
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATUSES = {"draft", "active", "retired", "unknown"}

#: code -> what it checks (documentation and tests enumerate this).
RULES: dict[str, str] = {
    "RULE001": "recommendations, strategies and the guideline have a title",
    "RULE002": "the guideline version is semantic (major.minor.patch)",
    "RULE003": "every activity has a code (or value set)",
    "RULE004": "ids are kebab-case and at most 64 characters; names are PascalCase",
    "RULE005": "every recommendation cites at least one source passage",
    "RULE006": "a cited source document is declared in Guideline.sources",
    "RULE007": "a cited passage occurs verbatim in its source document",
    "RULE008": "a feature has exactly one of builder logic or raw CQL",
    "RULE009": "status is draft, active, retired or unknown; date is YYYY-MM-DD; canonical is an http(s) URL",
    "RULE010": "a strategy has recommendations and a recommendation has activities",
    "RULE011": "a recommendation against an activity marks the activity do_not_perform",
    "RULE012": "a recommendation has applicability logic (warning: otherwise it always applies)",
    "RULE013": "scenarios point to an existing bundle and to known recommendation ids",
}


def check(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    g = rg.guideline
    if not g.title:
        bag.error("RULE001", "the guideline has no title", location=g.location)
    if not SEMVER.match(g.version or ""):
        bag.error("RULE002", f"version '{g.version}' is not semantic (major.minor.patch)", location=g.location)
    if not ID.match(g.id) or len(g.id) > 64:
        bag.error("RULE004", f"guideline id '{g.id}' must be kebab-case, at most 64 characters", location=g.location)
    if not NAME.match(g.name):
        bag.error("RULE004", f"guideline name '{g.name}' must be PascalCase letters and digits", location=g.location)
    if g.status not in STATUSES:
        bag.error("RULE009", f"status '{g.status}' is not one of {sorted(STATUSES)}", location=g.location)
    if not DATE.match(g.date or ""):
        bag.error("RULE009", f"date '{g.date}' is not YYYY-MM-DD", location=g.location)
    if not re.match(r"^https?://[^\s|]+$", g.canonical or ""):
        bag.error("RULE009", f"canonical '{g.canonical}' is not an http(s) URL", location=g.location)

    for rs in rg.strategies:
        s = rs.strategy
        if not ID.match(s.id) or len(s.id) > 64:
            bag.error("RULE004", f"strategy id '{s.id}' must be kebab-case, at most 64 characters", location=s.location)
        if not s.title:
            bag.error("RULE001", f"strategy '{s.id}' has no title", location=s.location)
        if not s.recommendations:
            bag.error("RULE010", f"strategy '{s.id}' has no recommendations", location=s.location)

    for rr in rg.recommendations:
        _check_recommendation(rg, rr, bag)
    for feature in rg.features:
        if (feature.logic is None) == (feature.cql is None):
            bag.error("RULE008", f"feature '{feature.name}' needs exactly one of logic or cql=", location=feature.location)
    _check_scenarios(rg, bag)


def _check_recommendation(rg: ResolvedGuideline, rr, bag: DiagnosticBag) -> None:  # type: ignore[no-untyped-def]
    rec = rr.recommendation
    where = {"location": rec.location}
    if not ID.match(rec.id) or len(rec.id) > 64:
        bag.error("RULE004", f"recommendation id '{rec.id}' must be kebab-case, at most 64 characters", **where)
    if not rec.title:
        bag.error("RULE001", f"recommendation '{rec.id}' has no title", **where)
    if not rec.activities:
        bag.error("RULE010", f"recommendation '{rec.id}' proposes no activity", **where)
    if rec.applicability is None:
        bag.warning("RULE012", f"recommendation '{rec.id}' has no applicability (`when=`); it always applies", **where)
    if not rec.sources:
        bag.error("RULE005", f"recommendation '{rec.id}' cites no source passage", **where)
    for source in rec.sources:
        _check_source(rg, rec.id, source, bag)
    for ra in rr.activities:
        activity = ra.activity
        if activity.code is None:
            bag.error("RULE003", f"activity '{ra.id}' of '{rec.id}' has no code", location=activity.location)
        if len(ra.id) > 64 or not ID.match(ra.id):
            bag.error("RULE004", f"activity id '{ra.id}' must be kebab-case, at most 64 characters", location=activity.location)
        if rec.direction is not None and rec.direction.name == "AGAINST" and not activity.do_not_perform:
            bag.warning(
                "RULE011",
                f"'{rec.id}' recommends against '{ra.id}' but the activity is not do_not_perform=True",
                location=activity.location,
            )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _source_text(rg: ResolvedGuideline, file: str) -> str | None:
    folder = rg.guideline.sources_dir
    if folder is None:
        return None
    path = (rg.package_dir / folder / file).resolve()
    try:
        return read_text(path) if path.is_file() else None
    except InputError:
        return None  # reported as a passage that cannot be checked (RULE007)


def _check_source(rg: ResolvedGuideline, rec_id: str, source, bag: DiagnosticBag) -> None:  # type: ignore[no-untyped-def]
    citation = rg.guideline.sources.get(source.document)
    if citation is None:
        bag.error("RULE006", f"'{rec_id}' cites unknown source document '{source.document}'", location=source.location)
        return
    text = _source_text(rg, citation.file)
    if text is None:
        bag.warning(
            "RULE007",
            f"source file '{citation.file}' not found under sources_dir; passage of '{rec_id}' not checked",
            location=source.location,
        )
        return
    if _normalise(source.passage) not in _normalise(text):
        bag.error(
            "RULE007",
            f"'{rec_id}' cites a passage that does not occur in {citation.file}: \"{source.passage[:80]}\"",
            location=source.location,
        )


def _check_scenarios(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    known = {rr.id for rr in rg.recommendations}
    for scenario in rg.scenarios:
        path = rg.package_dir / scenario.bundle
        if not path.is_file():
            bag.error("RULE013", f"scenario '{scenario.id}': bundle {scenario.bundle} not found", location=scenario.location)
        else:
            try:
                read_json(path)
            except InputError as exc:
                bag.error("RULE013", f"scenario '{scenario.id}': {exc.message}", location=scenario.location)
        for rec_id in [*scenario.present, *scenario.absent]:
            if rec_id not in known:
                bag.error("RULE013", f"scenario '{scenario.id}' expects unknown recommendation '{rec_id}'", location=scenario.location)


__all__ = ["RULES", "check"]
