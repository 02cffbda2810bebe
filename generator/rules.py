"""RULES phase: author-level checks, each reported at the definition's file:line.

These catch what the type system cannot: missing titles, malformed versions, activities
without codes, recommendations that do not trace to a source passage. Every rule has a
stable code so tests and users can rely on it.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from pathlib import Path

from generator.compose import ExpansionError, compose_of, disagreements, read_expansion
from generator.diagnostics import DiagnosticBag, SourceLocation
from generator.model.logic import Compare, Feature, FeatureName, LatestValue, ObservationRecords, raw_cql_names
from generator.model.recommendation import Certainty, Direction, Strength
from generator.model.terminology import Quantity
from generator.readers import InputError, read_json, read_text
from generator.resolve import ResolvedGuideline, walk_logic

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
    "RULE014": "strength, direction and certainty are of their own enum (Strength.WEAK as a certainty is refused)",
    "RULE015": "a recommendation the package defines is placed in a strategy",
    "RULE016": "a recommendation is placed at most once",
    "RULE017": "scenario ids are unique",
    "RULE018": "a scenario does not expect one recommendation both present and absent",
    "RULE019": "a recommendation FOR an activity does not mark it do_not_perform",
    "RULE020": "strength or certainty is given only with a direction",
    "RULE021": "features do not depend on themselves (reported once per cycle, A -> B -> A)",
    "RULE022": "a scenario date is a real date (YYYY-MM-DD or an ISO dateTime)",
    "RULE023": "the source documents folder exists (one warning naming the path searched)",
    "TERM004": "a value set with rules has an expansion file, readable, with its source and date",
    "TERM005": "a value set's expansion agrees with its codes and rules (compose)",
}

#: Environment variable pointing the passage checks at the source documents (`cpg build --sources`).
SOURCES_ENV = "CPG_SOURCES_DIR"


def check(rg: ResolvedGuideline, bag: DiagnosticBag, *, sources: Path | None = None) -> None:
    """Every author rule on one guideline; `sources`: the source documents folder (`--sources`)."""
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

    _check_placement(rg, bag)
    sources = _sources_folder(rg, bag, sources)
    for rr in rg.recommendations:
        _check_recommendation(rg, rr, bag, sources)
    for feature in rg.features:
        if (feature.logic is None) == (feature.cql is None):
            bag.error("RULE008", f"feature '{feature.name}' needs exactly one of logic or cql=", location=feature.location)
    _check_feature_cycles(rg, bag)
    _check_raw_cql(rg, bag)
    _check_units(rg, bag)
    _check_value_sets(rg, bag)
    _check_scenarios(rg, bag)


def _check_placement(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    placed: dict[int, object] = {}
    for rs in rg.strategies:
        for rec in rs.strategy.recommendations:
            if id(rec) in placed:
                bag.error("RULE016", f"recommendation '{rec.id}' is placed twice (strategies '{placed[id(rec)]}' and "
                          f"'{rs.id}')", location=rs.strategy.location)
            placed[id(rec)] = rs.id
    for rec in rg.defined_recommendations:
        if id(rec) not in placed:
            bag.error("RULE015", f"recommendation '{rec.id}' is defined but placed in no strategy", location=rec.location)


def _check_recommendation(rg: ResolvedGuideline, rr, bag: DiagnosticBag, sources: Path | None) -> None:  # type: ignore[no-untyped-def]
    rec = rr.recommendation
    where = {"location": rec.location}
    for name, kind in (("strength", Strength), ("direction", Direction), ("certainty", Certainty)):
        value = getattr(rec, name)
        if value is not None and not isinstance(value, kind):  # plain strings are ARG001 at LOAD already
            options = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
            bag.error("RULE014", f"'{rec.id}': {name}={value!r:.40} is not one of {options}", **where)
            return
    if rec.direction is None and (rec.strength is not None or rec.certainty is not None):
        bag.error("RULE020", f"'{rec.id}' grades strength or certainty but gives no direction (Direction.FOR/AGAINST)", **where)
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
        _check_source(rg, rec.id, source, bag, sources)
    for ra in rr.activities:
        activity = ra.activity
        if activity.code is None:
            bag.error("RULE003", f"activity '{ra.id}' of '{rec.id}' has no code", location=activity.location)
        if len(ra.id) > 64 or not ID.match(ra.id):
            bag.error("RULE004", f"activity id '{ra.id}' must be kebab-case, at most 64 characters", location=activity.location)
        if rec.direction is not None and rec.direction.name == "FOR" and activity.do_not_perform:
            bag.error("RULE019", f"'{rec.id}' is a recommendation FOR '{ra.id}', which is marked do_not_perform=True",
                      location=activity.location)
        if rec.direction is not None and rec.direction.name == "AGAINST" and not activity.do_not_perform:
            bag.warning(
                "RULE011",
                f"'{rec.id}' recommends against '{ra.id}' but the activity is not do_not_perform=True",
                location=activity.location,
            )


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _sources_folder(rg: ResolvedGuideline, bag: DiagnosticBag, given: Path | None = None) -> Path | None:
    """Where the source documents are: `given` (`--sources`), else $CPG_SOURCES_DIR, else the guideline's
    sources_dir; one warning if absent."""
    override = given or os.environ.get(SOURCES_ENV)
    g = rg.guideline
    if override:
        folder = Path(override)
    elif g.sources_dir is not None:
        folder = rg.package_dir / g.sources_dir
    else:
        if any(rr.recommendation.sources for rr in rg.recommendations):
            bag.warning("RULE023", "no sources_dir and no --sources/CPG_SOURCES_DIR: cited passages are not checked",
                        location=g.location)
        return None
    if not folder.is_dir():
        bag.warning("RULE023", f"source documents folder not found: {folder.resolve()} (set sources_dir, "
                    f"`cpg build --sources DIR` or {SOURCES_ENV}); cited passages are not checked", location=g.location)
        return None
    return folder


def _read_source(path: Path) -> str | None:
    try:
        return _normalised_file(path, path.stat().st_mtime_ns) if path.is_file() else None
    except (OSError, InputError):
        return None  # reported as a passage that cannot be checked (RULE007)


@functools.lru_cache(maxsize=64)
def _normalised_file(path: Path, mtime: int) -> str:
    """Read (bounded) and normalise a source document once per build (many passages cite one document)."""
    return _normalise(read_text(path))


def _check_source(rg: ResolvedGuideline, rec_id: str, source, bag: DiagnosticBag,  # type: ignore[no-untyped-def]
                  folder: Path | None) -> None:
    citation = rg.guideline.sources.get(source.document)
    if citation is None:
        bag.error("RULE006", f"'{rec_id}' cites unknown source document '{source.document}'", location=source.location)
        return
    if folder is None:
        return  # one RULE023 warning already says why
    text = _read_source((folder / citation.file).resolve())
    if text is None:
        message = f"source file '{citation.file}' not found in {folder}; its passages are not checked"
        if not any(d.code == "RULE007" and d.message == message for d in bag.items):
            bag.warning("RULE007", message, location=source.location)
        return
    if _normalise(source.passage) not in text:
        bag.error(
            "RULE007",
            f"'{rec_id}' cites a passage that does not occur in {citation.file}: \"{source.passage[:80]}\"",
            location=source.location,
        )


def _check_feature_cycles(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    """Each cycle once, as A -> B -> A, at the first feature of the cycle."""
    by_name = {f.name: f for f in rg.features}

    def uses(feature: Feature) -> list[Feature]:
        found: list[Feature] = []
        if feature.expression is not None:
            for node in walk_logic(feature.expression):
                if node is feature:
                    continue
                target = by_name.get(node.name) if isinstance(node, (Feature, FeatureName)) else None
                if target is not None and target not in found:
                    found.append(target)
        return found

    reported: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[Feature] = []

    def visit(feature: Feature) -> None:
        state[feature.name] = 1
        path.append(feature)
        for target in uses(feature):
            if state.get(target.name) == 1:
                cycle = path[path.index(target):]
                key = frozenset(f.name for f in cycle)
                if key not in reported:
                    reported.add(key)
                    names = " -> ".join([*(f.name for f in cycle), target.name])
                    bag.error("RULE021", f"feature cycle: {names}", location=target.location)
            elif target.name not in state:
                visit(target)
        path.pop()
        state[feature.name] = 2

    for feature in rg.features:
        if feature.name not in state:
            visit(feature)


def _check_raw_cql(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    """LOGIC005: raw CQL sees feature names and the codes/value sets it declares, nothing generated."""
    features = {f.name for f in rg.features}
    for feature in rg.features:
        if feature.cql is None:
            continue
        own = {c.display for c in feature.codes} | {vs.title for vs in feature.value_sets}
        for name, offset in raw_cql_names(feature.cql):
            if name in features or name in own:
                continue
            start = feature.cql_location or feature.location
            line = start.line + offset if start else None
            bag.error("LOGIC005", f"raw CQL of '{feature.name}' names \"{name}\", which is neither a feature nor a code/value "
                      "set it declares (codes=, value_sets=); generated names are not part of the vocabulary",
                      location=SourceLocation(start.file, line) if start and line else None)


def _check_units(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    """UNIT002: one observation code compared in two units (values are read in the threshold's unit, never converted)."""
    first: dict[int, tuple[str, Feature]] = {}
    for feature in rg.features:
        if feature.expression is None:
            continue
        for node in walk_logic(feature.expression):
            pairs = []
            if isinstance(node, Compare) and isinstance(node.left, LatestValue) and isinstance(node.right, Quantity):
                pairs.append((node.left.records.terminology, node.right.unit))
            if isinstance(node, ObservationRecords) and node.value_filter is not None:
                pairs.append((node.terminology, node.value_filter[1].unit))
            for term, unit in pairs:
                seen = first.setdefault(id(term), (unit, feature))
                if seen[0] != unit:
                    bag.error("UNIT002", f"feature '{feature.name}' compares {getattr(term, 'title', None) or term.display!r} "
                              f"in {unit!r}, but '{seen[1].name}' compares it in {seen[0]!r}: values are read in the "
                              "threshold's unit and not converted, so use one unit per observation code",
                              location=feature.location)


def _check_value_sets(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    """Rules need an expansion (nothing is fetched at build time), and it must agree with the compose."""
    for vs in rg.value_sets:
        if vs.rules and not vs.expansion:
            bag.error("TERM004", f"value set '{vs.id}' is defined by rules but has no expansion= file "
                      "(export one from a terminology server into the guideline package)", location=vs.location)
            continue
        if not vs.expansion:
            continue
        try:
            expansion = read_expansion(rg.package_dir / vs.expansion)
        except ExpansionError as exc:
            bag.error("TERM004", f"value set '{vs.id}': {exc}", location=vs.location)
            continue
        for problem in disagreements(compose_of(vs.codes, vs.rules), expansion.contains):
            bag.error("TERM005", f"value set '{vs.id}': {problem} ({vs.expansion})", location=vs.location)


def _valid_date(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        if DATE.match(text):
            datetime.date.fromisoformat(text)
        else:
            datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _check_scenarios(rg: ResolvedGuideline, bag: DiagnosticBag) -> None:
    known = {rr.id for rr in rg.recommendations}
    seen: set[str] = set()
    for scenario in rg.scenarios:
        if scenario.id in seen:
            bag.error("RULE017", f"duplicate scenario id '{scenario.id}'", location=scenario.location)
        seen.add(scenario.id)
        if not _valid_date(scenario.date):
            bag.error("RULE022", f"scenario '{scenario.id}': date {scenario.date!r} is not a real date (YYYY-MM-DD)",
                      location=scenario.location)
        both = sorted(set(scenario.present) & set(scenario.absent if isinstance(scenario.absent, list) else []))
        if both:
            bag.error("RULE018", f"scenario '{scenario.id}' expects {', '.join(both)} both present and absent",
                      location=scenario.location)
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
