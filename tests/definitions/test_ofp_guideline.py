"""The second guideline (definitions/osteoporotic_fracture_prevention, issue 12 "Done when").

It must keep using every builder the issue asks of it - look-backs, administrative sex, medication
use that a MedicationStatement satisfies, a rule-based value set with its checked-in expansion, a
choice group, priority and timing, a "no recommendation" item - and no raw CQL; `missing_features`
says which are gone, and is shown to fail on a guideline without them. The content checks: cited
passages are verbatim in the seeds, every code carries a verification note, the expansion file
lists exactly the codes whose evidence terminology.py records, the scenarios are R4 Bundles that
cover every recommendation. The built artifacts carry the same features.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from generator import (Choice, Citation, Code, Feature, Guideline, Medication, NoRecommendation, Recommendation,
                       Source, Strategy, ValueSet, conditions, SNOMED)
from generator.compile import compile_definitions
from generator.model.logic import MedicationUse, Records, SexIs, RawCql
from generator.resolve import walk_logic

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "definitions" / "osteoporotic_fracture_prevention"


def _load():  # type: ignore[no-untyped-def]
    name = "_test_ofp_definitions"
    spec = importlib.util.spec_from_file_location(name, PACKAGE_DIR / "__init__.py",
                                                  submodule_search_locations=[str(PACKAGE_DIR)])
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


MODULE = _load()
GUIDELINE: Guideline = MODULE.guideline
RECS = {rec.id: rec for rec in GUIDELINE.recommendations}
SEEDS_DIR = (PACKAGE_DIR / GUIDELINE.sources_dir).resolve()


def _nodes(guideline: Guideline):  # type: ignore[no-untyped-def]
    for feature in guideline.features:
        if feature.cql is not None:
            yield RawCql(feature.cql)  # type: ignore[call-arg]
        if feature.logic is not None:
            yield from walk_logic(feature.logic)
    for rec in guideline.recommendations:
        if rec.when is not None:
            yield from walk_logic(rec.when)


def _statement_bundles(guideline: Guideline, package_dir: Path) -> list[str]:
    found = []
    for scenario in guideline.scenarios:
        path = package_dir / scenario.bundle
        if path.is_file() and '"MedicationStatement"' in path.read_text(encoding="utf-8"):
            found.append(scenario.id)
    return found


def missing_features(guideline: Guideline, package_dir: Path) -> list[str]:
    """The issue's required features this guideline no longer uses (empty when all are there)."""
    nodes = list(_nodes(guideline))
    activities = [a for rec in guideline.recommendations for a in rec.activities]
    actions = [item for rec in guideline.recommendations for item in rec.actions]
    checks = {
        ">= 8 recommendations": len(guideline.recommendations) >= 8,
        ">= 6 scenarios": len(guideline.scenarios) >= 6,
        "look-back on records (.within)": any(isinstance(n, Records) and n.window is not None for n in nodes),
        "look-back on medication use": any(isinstance(n, MedicationUse) and n.kind in ("taking_for", "stopped_within")
                                           for n in nodes),
        "administrative sex": any(isinstance(n, SexIs) for n in nodes),
        "medications() met by a MedicationStatement scenario": any(isinstance(n, MedicationUse) for n in nodes)
        and bool(_statement_bundles(guideline, package_dir)),
        "rule-based value set with expansion": any(vs.rules and vs.expansion for vs in guideline.value_sets),
        "choice group": any(isinstance(item, Choice) for item in actions),
        "priority": any(a.priority is not None for a in activities),
        "timing": any(a.timing is not None for a in activities),
        "no recommendation": any(isinstance(a, NoRecommendation) for a in activities),
        "no raw CQL": not any(isinstance(n, RawCql) for n in nodes),
    }
    return [name for name, ok in checks.items() if not ok]


def test_guideline_uses_every_required_feature() -> None:
    assert missing_features(GUIDELINE, PACKAGE_DIR) == []


def test_missing_features_can_fail() -> None:
    """A guideline with one plain recommendation lacks every feature; one raw CQL feature is reported."""
    fracture = ValueSet("f", title="F", codes=[SNOMED("240198002", "Osteoporotic vertebral collapse")])
    raw = Feature("Raw", cql="true")
    rec = Recommendation("r", title="R", statement="S", when=conditions(fracture).exists() & raw,
                         then=Medication(title="M", code=SNOMED("240198002", "x")),
                         sources=[Source("s", "passage")])
    bare = Guideline(id="bare", name="Bare", title="Bare", canonical="http://example.org/bare", version="0.1.0",
                     date="2026-01-01", description="d", publisher="p", sources={"s": Citation(file="s.txt", title="s")},
                     strategies=[Strategy("main", title="Main", recommendations=[rec])], features=[raw],
                     value_sets=[fracture])
    assert missing_features(bare, PACKAGE_DIR) == [
        ">= 8 recommendations", ">= 6 scenarios", "look-back on records (.within)", "look-back on medication use",
        "administrative sex", "medications() met by a MedicationStatement scenario",
        "rule-based value set with expansion", "choice group", "priority", "timing", "no recommendation",
        "no raw CQL"]


# --- content -------------------------------------------------------------------------------------------

def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


PASSAGES = [(rec.id, i, s.document, s.passage) for rec in GUIDELINE.recommendations for i, s in enumerate(rec.sources)]


@pytest.mark.parametrize("rec_id, index, document, passage", PASSAGES, ids=[f"{p[0]}-{p[1]}" for p in PASSAGES])
def test_source_passage_occurs_in_its_seed(rec_id: str, index: int, document: str, passage: str) -> None:
    path = SEEDS_DIR / GUIDELINE.sources[document].file
    if not path.is_file():
        pytest.skip(f"seed file not available: {path}")
    assert _normalise(passage) in _normalise(path.read_text(encoding="utf-8")), (rec_id, index)


def test_source_disagreements_are_in_the_rationale() -> None:
    assert "001" in RECS["calcium-vitamin-d"].rationale and "004" in RECS["calcium-vitamin-d"].rationale
    assert "003" in RECS["exercise-programmes-no-recommendation"].rationale
    no_rec = RECS["exercise-programmes-no-recommendation"]
    assert no_rec.direction is None and no_rec.strength is None


def _codes() -> list[Code]:
    t = MODULE.terminology
    found: list[Code] = [*GUIDELINE.jurisdiction, *GUIDELINE.topic, *t.ICD10CM_VERTEBRAL_FRAGILITY_FRACTURES]
    for value in vars(t).values():
        if isinstance(value, Code):
            found.append(value)
        elif isinstance(value, ValueSet):
            found.extend(value.codes)
    for activity in (a for rec in GUIDELINE.recommendations for a in rec.activities):
        if isinstance(activity.code, Code) and not isinstance(activity, NoRecommendation):  # framework's own code
            found.append(activity.code)
        dosages = getattr(activity, "dosage", None)
        for dosage in dosages if isinstance(dosages, list) else [dosages] if dosages else []:
            if dosage.route is not None:
                found.append(dosage.route)
    return found


def test_every_code_has_a_verification_note() -> None:
    codes = _codes()
    assert len(codes) > 30
    bad = [f"{c.system}|{c.code}" for c in codes
           if not c.note or not c.note.startswith(("Confirmed", "UNCONFIRMED", "Local by design"))]
    assert bad == []


def test_expansion_lists_exactly_the_codes_with_recorded_evidence() -> None:
    t = MODULE.terminology
    vs = t.VERTEBRAL_FRAGILITY_FRACTURE
    data = json.loads((PACKAGE_DIR / vs.expansion).read_text(encoding="utf-8"))
    listed = {(c["system"], c["code"], c["display"]) for c in data["contains"]}
    evidenced = [t.OSTEOPOROTIC_VERTEBRAL_COLLAPSE, *vs.codes, *t.ICD10CM_VERTEBRAL_FRAGILITY_FRACTURES]
    assert listed == {(c.system, c.code, c.display) for c in evidenced}
    assert all(c.note for c in evidenced)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date"])
    assert "not exported from a terminology server" in data["source"]


@pytest.mark.parametrize("scenario", GUIDELINE.scenarios, ids=[s.id for s in GUIDELINE.scenarios])
def test_scenario_is_a_valid_bundle_with_real_expectations(scenario) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((PACKAGE_DIR / scenario.bundle).read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    assert [e["resource"]["resourceType"] for e in data["entry"]].count("Patient") == 1
    assert set(scenario.present) | set(scenario.absent) == set(RECS)


def test_scenarios_cover_every_recommendation_and_the_counter_cases() -> None:
    present = {rid for s in GUIDELINE.scenarios for rid in s.present}
    assert present == set(RECS)
    by_id = {s.id: s for s in GUIDELINE.scenarios}
    # sex matters only where the sources say so: risedronate for postmenopausal women
    assert "risedronate-postmenopausal-women" in by_id["postmenopausal-woman-recent-lumbar-collapse"].present
    assert "risedronate-postmenopausal-women" in by_id["man-recent-fracture-icd10-no-onset"].absent
    # already on therapy (MedicationStatement): no new agent
    assert "start-pharmacotherapy-recent-fracture" in by_id["woman-on-alendronate-statement"].absent
    assert by_id["no-fracture-refuted-on-alendronate"].present == []


# --- the built artifacts ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory, session_translator):  # type: ignore[no-untyped-def]
    """The guideline compiled in memory with the real translator (validation is `cpg validate`'s job)."""
    definitions = tmp_path_factory.mktemp("definitions")
    shutil.copytree(PACKAGE_DIR, definitions / PACKAGE_DIR.name, ignore=shutil.ignore_patterns("__pycache__"))
    result = compile_definitions(definitions, translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics if d.is_error]
    [guideline] = result.guidelines
    return guideline


def test_artifacts_carry_the_required_features(built) -> None:  # type: ignore[no-untyped-def]
    resources = {f"{r['resourceType']}/{r['id']}": r for r in built.resources}
    vs = resources["ValueSet/vertebral-fragility-fracture"]
    filters = [f for inc in vs["compose"]["include"] for f in inc.get("filter", [])]
    assert {f["op"] for f in filters} == {"is-a", "regex"}
    assert len(vs["expansion"]["contains"]) == 20 and vs["expansion"]["timestamp"].startswith("2026-12-06")

    group = resources["PlanDefinition/start-pharmacotherapy-recent-fracture"]["action"][0]  # the choice, folded in
    assert group["groupingBehavior"] == "logical-group" and group["selectionBehavior"] == "exactly-one" and len(group["action"]) == 4
    assert {a["priority"] for a in group["action"]} == {"urgent"}
    members = [resources["ActivityDefinition/" + a["definitionCanonical"].split("|")[0].rsplit("/", 1)[-1]]
               for a in group["action"]]
    assert all(m["priority"] == "urgent" and "timingTiming" in m for m in members)

    no_rec = resources["PlanDefinition/exercise-programmes-no-recommendation"]["action"][0]
    assert "No recommendation for or against" in no_rec["textEquivalent"]

    cql = built.logic.library.text
    assert "[MedicationStatement]" in cql and "Patient.gender" in cql and "Now() - 12 months" in cql


def test_review_lists_every_code_with_its_note_and_every_recommendation() -> None:
    review = (PACKAGE_DIR / "REVIEW.md").read_text(encoding="utf-8")
    missing = [c.code for c in _codes() if f"| {c.code} | {c.display} | {c.note} |" not in review]
    assert missing == []
    assert [rid for rid in RECS if f"`{rid}`" not in review] == []
