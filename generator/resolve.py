"""RESOLVE phase: give every construct its id, name and canonical URL, and link references.

Identity comes from the construct tree (CDK habit): a recommendation's id is the one the
author wrote; its PlanDefinition URL, name and CQL define names derive from it and are
never typed twice. Problems with references (duplicates, unknown feature names) are
reported here with the author's file:line.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.diagnostics import DiagnosticBag
from generator.load import LoadedGuideline
from generator.model.activities import Activity
from generator.model.guideline import Guideline, Scenario, Strategy
from generator.model.logic import BooleanLogic, EventDate, Feature, FeatureName, Records, _Comparable, raw_cql_names
from generator.model.recommendation import Recommendation
from generator.model.terminology import Code, ValueSet


_LOGIC_NODES = (BooleanLogic, Records, EventDate, _Comparable)


def pascal_case(text: str) -> str:
    """`calcitonin-acute-pain` -> `CalcitoninAcutePain` (FHIR `name`, CQL library names)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def title_words(text: str) -> str:
    """`calcitonin-acute-pain` -> `Calcitonin Acute Pain` (CQL identifiers in Initial Case)."""
    return " ".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


@dataclass(eq=False)
class ResolvedActivity:
    activity: Activity
    id: str
    url: str
    name: str
    title: str
    recommendation: "ResolvedRecommendation"
    message_define: str | None = None  # CQL define carrying a communication's text


@dataclass(eq=False)
class ResolvedRecommendation:
    recommendation: Recommendation
    id: str
    url: str
    name: str
    strategy: "ResolvedStrategy"
    applicability_define: str
    activities: list[ResolvedActivity] = field(default_factory=list)


@dataclass(eq=False)
class ResolvedStrategy:
    strategy: Strategy
    id: str
    url: str
    name: str
    recommendations: list[ResolvedRecommendation] = field(default_factory=list)


@dataclass(eq=False)
class ResolvedGuideline:
    """The guideline with every identity decided: the input of the CQL and SYNTH phases."""

    guideline: Guideline
    package_dir: Path
    pathway_id: str
    pathway_url: str
    library_name: str
    library_url: str
    strategies: list[ResolvedStrategy]
    features: list[Feature]
    value_sets: list[ValueSet]
    codes: list[Code]
    logic_terms: list[Code | ValueSet]  # what the features ask of patient data, in first-use order
    scenarios: list[Scenario]
    defined_recommendations: list[Recommendation] = field(default_factory=list)  # built by the package (RULE015)

    @property
    def recommendations(self) -> list[ResolvedRecommendation]:
        return [rec for strategy in self.strategies for rec in strategy.recommendations]

    @property
    def activities(self) -> list[ResolvedActivity]:
        return [act for rec in self.recommendations for act in rec.activities]

    def url(self, resource_type: str, resource_id: str) -> str:
        return f"{self.guideline.canonical.rstrip('/')}/{resource_type}/{resource_id}"

    def versioned(self, url: str) -> str:
        return f"{url}|{self.guideline.version}"

    def value_set_url(self, value_set: ValueSet) -> str:
        return self.url("ValueSet", value_set.id)


def resolve(loaded: LoadedGuideline, bag: DiagnosticBag) -> ResolvedGuideline:
    g = loaded.guideline
    base = g.canonical.rstrip("/")

    def url(resource_type: str, resource_id: str) -> str:
        return f"{base}/{resource_type}/{resource_id}"

    plan_ids: dict[str, object] = {g.id: g}
    activity_ids: dict[str, object] = {}

    def claim(table: dict[str, object], kind: str, ident: str, owner: object) -> None:
        if ident in table and table[ident] is not owner:
            bag.error("REF001", f"duplicate {kind} id '{ident}'", location=getattr(owner, "location", None))
        table[ident] = owner

    strategies: list[ResolvedStrategy] = []
    for strategy in g.strategies:
        claim(plan_ids, "PlanDefinition", strategy.id, strategy)
        rs = ResolvedStrategy(strategy, strategy.id, url("PlanDefinition", strategy.id), pascal_case(strategy.id))
        strategies.append(rs)
        for rec in strategy.recommendations:
            claim(plan_ids, "PlanDefinition", rec.id, rec)
            rr = ResolvedRecommendation(
                rec, rec.id, url("PlanDefinition", rec.id), pascal_case(rec.id), rs,
                applicability_define=f"Is {title_words(rec.id)} Applicable",
            )
            rs.recommendations.append(rr)
            _resolve_activities(rr, url, activity_ids, claim)

    features = _collect_features(g, bag, loaded.defined_features)
    logic_terms = _logic_terms(features)
    value_sets, codes = _collect_terminology(g, logic_terms, bag)
    return ResolvedGuideline(
        guideline=g,
        package_dir=loaded.package_dir,
        pathway_id=g.id,
        pathway_url=url("PlanDefinition", g.id),
        library_name=g.name,
        library_url=url("Library", g.name),
        strategies=strategies,
        features=features,
        value_sets=value_sets,
        codes=codes,
        logic_terms=logic_terms,
        scenarios=list(g.scenarios),
        defined_recommendations=loaded.defined_recommendations,
    )


def _resolve_activities(rr: ResolvedRecommendation, url, activity_ids, claim) -> None:  # type: ignore[no-untyped-def]
    activities = rr.recommendation.activities
    for index, activity in enumerate(activities):
        if activity.id:
            ident = activity.id
        elif len(activities) == 1:
            ident = rr.id
        else:
            ident = f"{rr.id}-{index + 1}"
        claim(activity_ids, "ActivityDefinition", ident, activity)
        title = activity.title or (activity.code.display if isinstance(activity.code, Code) else None) or rr.recommendation.title or ident
        resolved = ResolvedActivity(activity, ident, url("ActivityDefinition", ident), pascal_case(ident), title, rr)
        if getattr(activity, "message", None):
            resolved.message_define = f"{title_words(ident)} Message"
        rr.activities.append(resolved)


def walk_logic(node: object):  # type: ignore[no-untyped-def]
    """Yield every logic node below `node`: expressions, records, event dates (features are yielded, not entered)."""
    yield node
    if isinstance(node, Feature) or not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for child in value if isinstance(value, tuple) else (value,):
            if isinstance(child, _LOGIC_NODES):
                yield from walk_logic(child)


def _collect_features(g: Guideline, bag: DiagnosticBag, defined: list[Feature] = ()) -> list[Feature]:  # type: ignore[assignment]
    """Every feature in use, in first-use order; feature names resolved to objects.

    Raw CQL uses features by quoted name: those the package defined are pulled in by that name.
    """
    by_name: dict[str, Feature] = {}
    ordered: list[Feature] = []
    defined_by_name = {f.name: f for f in defined}

    def add(feature: Feature) -> None:
        existing = by_name.get(feature.name)
        if existing is feature:
            return
        if existing is not None:
            bag.error("REF003", f"two different features are named '{feature.name}'", location=feature.location)
            return
        by_name[feature.name] = feature
        if feature.expression is not None:
            visit(feature.expression)
        if feature.cql is not None:
            for name, _ in raw_cql_names(feature.cql):
                if name not in by_name and name in defined_by_name:
                    add(defined_by_name[name])
        ordered.append(feature)

    def visit(node: object) -> None:
        for child in walk_logic(node):
            if isinstance(child, Feature):
                add(child)

    for feature in g.features:
        add(feature)
    for rec in g.recommendations:
        if rec.applicability is not None:
            visit(rec.applicability)

    # Names used as strings must name a known feature.
    def check_names(node: object, fallback) -> None:  # type: ignore[no-untyped-def]
        for child in walk_logic(node):
            if isinstance(child, FeatureName) and child.name not in by_name:
                bag.error("REF002", f"unknown feature '{child.name}'", location=child.location or fallback)

    for rec in g.recommendations:
        if rec.applicability is not None:
            check_names(rec.applicability, rec.location)
    for feature in ordered:
        if feature.expression is not None:
            check_names(feature.expression, feature.location)
    return ordered


def _logic_terms(features: list[Feature]) -> list[Code | ValueSet]:
    """Codes and value sets the features retrieve by (activity codes are not logic)."""
    terms: list[Code | ValueSet] = []
    for feature in features:
        for term in [*feature.codes, *feature.value_sets]:  # declared for raw CQL
            if term not in terms:
                terms.append(term)
        if feature.expression is None:
            continue
        for node in walk_logic(feature.expression):
            if isinstance(node, Records):
                for term in (node.terminology, node.body_site):
                    if term is not None and term not in terms:
                        terms.append(term)
    return terms


def _collect_terminology(g: Guideline, logic_terms: list[Code | ValueSet],
                         bag: DiagnosticBag) -> tuple[list[ValueSet], list[Code]]:
    """Every value set and code the guideline publishes or uses: declared, in logic, in activities."""
    value_sets: list[ValueSet] = []
    codes: list[Code] = []

    def add_term(term: object) -> None:
        if isinstance(term, ValueSet):
            if term not in value_sets:
                clash = next((v for v in value_sets if v.id == term.id), None)
                if clash is not None:
                    bag.error("REF004", f"two different value sets have the id '{term.id}'", location=term.location)
                    return
                value_sets.append(term)
        elif isinstance(term, Code) and term not in codes:
            codes.append(term)

    for vs in g.value_sets:
        add_term(vs)
    for term in logic_terms:
        add_term(term)
    for rec in g.recommendations:
        for activity in rec.activities:
            add_term(activity.code)
    return value_sets, codes
