"""`cpg analyze`: conflicts proven on the real engine, unreachable / always-on recommendations, coverage."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.analyze import Analysis, analyze_built
from generator.analyze.analysis import GuidelineModel, analyse_statically
from generator.analyze.formula import And, FormulaBuilder, Search
from generator.analyze.shapes import Opaque, build_subjects, leaf_for
from generator.apply import Applier, Artifacts, Engine
from generator.cli import main
from generator.cli._analyze import exit_code_for
from generator.compile import BuiltGuideline, compile_definitions
from generator.cql.translator import Translator
from generator.model import logic as L
from generator.model import months, weeks
from generator.model.terminology import SNOMED, Code, Quantity

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PLANTED = HERE / "definitions_planted"
CLEAN = HERE / "definitions_clean"
VCF_ID = "vertebral-compression-fracture"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with Engine() as running:
        yield running


def _built(folder: Path, translator: Translator) -> BuiltGuideline:
    result = compile_definitions(folder, translator=translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.guidelines[0]


@pytest.fixture(scope="module")
def planted(session_translator: Translator) -> BuiltGuideline:
    return _built(PLANTED, session_translator)


@pytest.fixture(scope="module")
def planted_analysis(planted: BuiltGuideline, engine: Engine) -> Analysis:
    return analyze_built(planted, engine)


def _codes(analysis: Analysis, code: str) -> list:
    return [f for f in analysis.findings if f.code == code]


def test_vcf_is_analysable_and_reports_no_conflict(session_translator: Translator, engine: Engine) -> None:
    """Today's VCF: every builder node it uses is modelled (no ANALYZE012) and no conflict is proven
    (the renal variant proposes only alendronate/ibandronate). Every reported overlap has a witness."""
    result = compile_definitions(ROOT / "definitions", translator=session_translator, validate=False)
    assert result.ok
    built = next(g for g in result.guidelines if g.id == VCF_ID)
    analysis = analyze_built(built, engine, with_coverage=False)
    assert not _codes(analysis, "ANALYZE012"), [f.message for f in _codes(analysis, "ANALYZE012")]
    assert analysis.conflicts == [], [f.message for f in analysis.conflicts]
    assert _codes(analysis, "ANALYZE002")  # the analysis did run: overlapping proposals were proven
    for f in analysis.findings:
        if f.code in ("ANALYZE001", "ANALYZE002"):
            assert f.witness is not None and set(f.recommendations) <= set(f.witness.applicable)


def test_former_vcf_risedronate_conflict_is_found_and_cpg_apply_confirms_it(tmp_path: Path) -> None:
    """Regression: the old VCF pair (oral bisphosphonates incl. risedronate with a fracture; no risedronate
    when creatinine clearance < 30) is ANALYZE001, and the real `cpg apply` on the built package confirms."""
    fixture = HERE / "definitions_risedronate"
    runner = CliRunner()
    analysed = runner.invoke(main, ["analyze", "--definitions", str(fixture), "--no-coverage", "--format", "json",
                                    "--output", str(tmp_path / "witnesses")], catch_exceptions=False)
    assert analysed.exit_code == 1, analysed.output
    findings = json.loads(analysed.stdout)["guidelines"][0]["findings"]
    [conflict] = [f for f in findings if f["code"] == "ANALYZE001"]
    pair = ["oral-bisphosphonate", "no-risedronate-renal"]
    assert conflict["recommendations"] == pair
    witness = conflict["witness"]
    values = [e["resource"].get("valueQuantity", {}).get("value") for e in witness["bundle"]["entry"]]
    assert any(v is not None and v < 30 for v in values)
    built = runner.invoke(main, ["build", "--definitions", str(fixture), "--output", str(tmp_path / "out"),
                                 "--no-validate", "--jobs", "1"], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    applied = runner.invoke(main, ["apply", "risedronate", "--output", str(tmp_path / "out"), "--patient",
                                   witness["file"], "--date", witness["date"]], catch_exceptions=False)
    assert applied.exit_code == 0, applied.output
    assert all(rec in applied.stderr for rec in pair), applied.stderr
    # The same patient without the low creatinine clearance: only the proposal applies (the witness matters).
    bundle = json.loads(Path(witness["file"]).read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Observation"]
    (tmp_path / "no-crcl.json").write_text(json.dumps(bundle))
    applied = runner.invoke(main, ["apply", "risedronate", "--output", str(tmp_path / "out"), "--patient",
                                   str(tmp_path / "no-crcl.json"), "--date", witness["date"]], catch_exceptions=False)
    assert applied.exit_code == 0 and "oral-bisphosphonate" in applied.stderr
    assert "no-risedronate-renal" not in applied.stderr, applied.stderr


def test_planted_conflict_unreachable_and_always_on_are_found(planted_analysis: Analysis) -> None:
    conflicts = planted_analysis.conflicts
    assert [f.recommendations for f in conflicts] == [["bisphosphonate", "no-risedronate"]]
    bundle = conflicts[0].witness.bundle  # type: ignore[union-attr]
    values = [e["resource"].get("valueQuantity", {}).get("value") for e in bundle["entry"]]
    assert any(v is not None and v < 30 for v in values)  # low creatinine clearance was generated
    unreachable = _codes(planted_analysis, "ANALYZE010")
    assert [f.recommendations for f in unreachable] == [["impossible"]]
    assert unreachable[0].features == ["Acute Fracture", "not Fracture Within Three Months"]
    always = _codes(planted_analysis, "ANALYZE011")
    assert [f.recommendations for f in always] == [["calcium"]]
    uncovered = {f.recommendations[0] for f in _codes(planted_analysis, "ANALYZE020")}
    assert uncovered == {"no-risedronate", "impossible"}
    assert {f.features[0] for f in _codes(planted_analysis, "ANALYZE022")} == {"Low Creatinine Clearance"}
    assert exit_code_for(planted_analysis.findings, "conflict") == 1
    assert exit_code_for(planted_analysis.findings, "never") == 0


def test_conflict_free_guideline_reports_no_conflict(session_translator: Translator, engine: Engine) -> None:
    analysis = analyze_built(_built(CLEAN, session_translator), engine)
    assert [f.code for f in analysis.findings] == ["ANALYZE024"]  # only: it has no scenarios
    assert exit_code_for(analysis.findings, "warning") == 0


def test_time_ordering_is_respected() -> None:
    """No realisable choice has a fracture within 4 weeks that is not within 3 months."""
    fracture = L.conditions(Code(SNOMED.uri, "1", "fracture"))
    within_4w, within_3m, before_3m = (leaf_for(fracture.onset_within(weeks(4))), leaf_for(fracture.onset_within(months(3))),
                                       leaf_for(fracture.onset_before(months(3))))
    now = dt.datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
    subject = build_subjects([within_4w, within_3m, before_3m], now)[("Condition", ("code", SNOMED.uri, "1"))]
    combos = {choice.values for choice in subject.choices}
    assert not any(v[0] and not v[1] for v in combos)
    assert (True, True, True) in combos  # two fractures: one recent, one old
    assert (False, True, False) in combos  # 1-3 months old
    # A month back from 31 March is 28/29 February (CQL calendar arithmetic), not 3 March.
    from generator.analyze.shapes import subtract

    assert subtract(now, months(1)).date() == dt.date(2026, 2, 28)
    assert subtract(now, weeks(4)).date() == dt.date(2026, 3, 3)


def test_unknown_node_kind_is_not_analysable(planted: BuiltGuideline) -> None:
    class FutureNode(L.BooleanLogic):  # a kind another engineer might add
        pass

    assert isinstance(leaf_for(FutureNode()), Opaque)
    model = GuidelineModel.of(planted.resolved)
    model.formulas["calcium"] = And((model.formulas["calcium"], FormulaBuilder([]).build(FutureNode())))
    assert model.search.satisfiable(model.formulas["calcium"]) is None
    findings = analyse_statically(model)
    assert [f.recommendations for f in findings if f.code == "ANALYZE012"] == [["calcium"]]
    assert "FutureNode" in next(f.message for f in findings if f.code == "ANALYZE012")
    # Unanalysable logic is never called unreachable or always on.
    assert not [f for f in findings if f.code in ("ANALYZE011",)]


def test_search_budget_leaves_the_question_open(planted: BuiltGuideline) -> None:
    model = GuidelineModel.of(planted.resolved)
    tiny = Search(model.subjects, budget=1)
    assert tiny.satisfiable(model.formulas["impossible"]) is None


def test_cli_json_output_and_witness_files(tmp_path: Path) -> None:
    out = tmp_path / "witnesses"
    result = CliRunner().invoke(main, ["analyze", "--definitions", str(PLANTED), "--format", "json",
                                       "--output", str(out)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    findings = document["guidelines"][0]["findings"]
    conflict = next(f for f in findings if f["code"] == "ANALYZE001")
    assert conflict["location"].endswith("__init__.py:35")
    written = Path(conflict["witness"]["file"])
    assert written.parent == out / "planted" and json.loads(written.read_text())["resourceType"] == "Bundle"
    assert document["summary"]["conflicts"] == 1
    assert conflict["witness"]["bundle"]["resourceType"] == "Bundle"
    assert conflict["witness"]["scenario"] in (out / "planted" / "scenarios.txt").read_text()
    assert document["guidelines"][0]["coverage"]["uncoveredRecommendations"] == [
        "bisphosphonate", "no-risedronate", "impossible", "calcium"]


def test_written_witness_is_confirmed_by_apply(planted: BuiltGuideline, planted_analysis: Analysis,
                                               tmp_path: Path, engine: Engine) -> None:
    """What `cpg apply` does (load artifacts, read the patient file, $apply) confirms the written witness."""
    from generator.analyze import write_witnesses
    from generator.apply import read_patient_bundle

    write_witnesses(planted_analysis, tmp_path)
    witness = planted_analysis.conflicts[0].witness
    assert witness is not None and witness.file is not None
    bundle = read_patient_bundle(Path(witness.file))
    applied = Applier(Artifacts.from_resources(planted.resources), engine).apply(bundle, witness.date)
    assert {"bisphosphonate", "no-risedronate"} <= set(applied.applicable)


def test_cli_unknown_guideline_is_unusable_input() -> None:
    result = CliRunner().invoke(main, ["analyze", "nope", "--definitions", str(CLEAN)])
    assert result.exit_code == 2 and "ANALYZE030" in result.output


def test_cpg_test_coverage(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["test", "--fresh", "--coverage", "--definitions", str(PLANTED)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "recommendations 0/4 covered" in result.stdout
    assert "recommendation impossible: never applicable" in result.stdout


def test_build_runs_the_engine_free_part(planted: BuiltGuideline, session_translator: Translator) -> None:
    from generator.analyze.analysis import build_warnings

    warnings = build_warnings(planted.resolved)
    assert [(d.code, d.severity.value) for d in warnings] == [("ANALYZE010", "warning")]
    assert build_warnings(_built(CLEAN, session_translator).resolved) == []


def test_records_with_a_filter_the_shapes_do_not_model_are_not_analysable() -> None:
    """A records filter added to the builder (a window, say) must not be read as the unfiltered records."""
    from dataclasses import dataclass

    @dataclass(frozen=True, eq=False)
    class WindowedConditionRecords(L.ConditionRecords):
        window: object = weeks(2)

    plain = L.conditions(Code(SNOMED.uri, "1", "fracture"))
    assert not isinstance(leaf_for(plain.exists()), Opaque)
    windowed = WindowedConditionRecords("Condition", plain.terminology)
    assert isinstance(leaf_for(L.Exists(windowed)), Opaque)
    assert isinstance(leaf_for(L.OnsetWithin(windowed, weeks(4))), Opaque)


def test_undated_records_and_valueless_observations_are_patients_too() -> None:
    """A Condition without onset exists but is neither within nor before: never claim that impossible."""
    fracture = L.conditions(Code(SNOMED.uri, "1", "fracture"))
    leaves = [leaf_for(fracture.exists()), leaf_for(fracture.onset_within(weeks(4))),
              leaf_for(fracture.onset_before(weeks(4)))]
    now = dt.datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
    subjects = build_subjects(leaves, now)
    search = Search(subjects)
    exists, within, before = leaves
    from generator.analyze.formula import Not

    assert search.satisfiable(And((exists, Not(within), Not(before)))) is True  # type: ignore[arg-type]
    assert search.satisfiable(And((Not(exists), within))) is False  # type: ignore[arg-type]
    crcl = L.observations(Code(SNOMED.uri, "2", "crcl"))
    obs = [leaf_for(crcl.exists()), leaf_for(crcl.latest_value() < Quantity(30, "mL/min")),
           leaf_for(crcl.latest_value() >= Quantity(30, "mL/min"))]
    search = Search(build_subjects(obs, now))
    assert search.satisfiable(And((obs[0], Not(obs[1]), Not(obs[2])))) is True  # type: ignore[arg-type]
    assert search.satisfiable(And((obs[1], obs[2]))) is False  # type: ignore[arg-type]


def test_scenario_line_is_adopted_by_cpg_test(planted: BuiltGuideline, planted_analysis: Analysis,
                                              tmp_path: Path, engine: Engine) -> None:
    """The printed `Scenario(...)` line, pasted next to the copied bundle, passes `cpg test`'s check."""
    from generator.analyze import write_witnesses
    from generator.apply._scenarios import run_scenarios
    from generator.model import ALL_OTHERS, Scenario

    write_witnesses(planted_analysis, tmp_path / "w")
    witness = planted_analysis.conflicts[0].witness
    assert witness is not None and witness.file is not None
    (tmp_path / "scenarios").mkdir()
    Path(witness.file).replace(tmp_path / "scenarios" / Path(witness.file).name)
    scenario = eval(witness.scenario, {"Scenario": Scenario, "ALL_OTHERS": ALL_OTHERS})  # noqa: S307 - our own line
    scenario.expand([rr.id for rr in planted.resolved.recommendations])
    applier = Applier(Artifacts.from_resources(planted.resources), engine)
    [outcome] = run_scenarios("planted", [scenario], tmp_path, applier)
    assert outcome.passed, outcome.detail


def test_cli_text_output() -> None:
    result = CliRunner().invoke(main, ["analyze", "planted", "--definitions", str(PLANTED), "--no-coverage",
                                       "--fail-on", "never"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warning[ANALYZE010]") and "__init__.py:40" in lines[0]
    assert any(line.startswith("error[ANALYZE001]") for line in lines)
    assert any(line.startswith("  keep it as a scenario: Scenario('analyze-bisphosphonate--no-risedronate'")
               for line in lines)
    assert lines[-1] == "1 conflict(s), 1 error(s), 1 warning(s), 1 note(s)"


def test_a_conflict_the_engine_refutes_is_not_reported(session_translator: Translator, engine: Engine) -> None:
    analysis = analyze_built(_built(HERE / "definitions_unconfirmed", session_translator), engine,
                             with_coverage=False)
    assert analysis.conflicts == []
    [note] = [f for f in analysis.findings if f.code == "ANALYZE003"]
    assert note.recommendations == ["give", "withhold"] and "confirmed none" in note.message


def test_overlapping_body_site_sets_give_every_match_pattern() -> None:
    """Sites {L3, L4} and {L4, L5}: a record at L3 only, L4 (both) and L5 only are all possible."""
    from generator.model.terminology import ValueSet

    l3, l4, l5 = Code(SNOMED.uri, "3", "L3"), Code(SNOMED.uri, "4", "L4"), Code(SNOMED.uri, "5", "L5")
    fracture = L.conditions(Code(SNOMED.uri, "1", "fracture"))
    low = leaf_for(fracture.with_body_site(ValueSet("a", "A", [l3, l4])).exists())
    high = leaf_for(fracture.with_body_site(ValueSet("b", "B", [l4, l5])).exists())
    now = dt.datetime(2026, 3, 31, 23, 59, 59, 999000, tzinfo=dt.timezone.utc)
    [subject] = build_subjects([low, high], now).values()
    assert {c.values for c in subject.choices} == {(False, False), (True, False), (False, True), (True, True)}


# --- data shapes of the authoring model v2, checked against the engine ---------------------------------

SHAPES = HERE / "definitions_shapes"


def _as_statement(resource: dict) -> dict:
    """The same medication use as a MedicationStatement (effectivePeriod instead of the dosage bounds)."""
    statement = {"resourceType": "MedicationStatement", "id": resource["id"], "status": resource["status"],
                 "medicationCodeableConcept": resource["medicationCodeableConcept"], "subject": resource["subject"]}
    bounds = resource.get("dosageInstruction", [{}])[0].get("timing", {}).get("repeat", {}).get("boundsPeriod")
    if bounds:
        statement["effectivePeriod"] = bounds
    return statement


def _as_integer(resource: dict) -> dict:
    """The same observation with its whole-number value as valueInteger (read in the compared unit)."""
    value = resource.get("valueQuantity", {}).get("value")
    changed = {k: v for k, v in resource.items() if k != "valueQuantity"}
    return {**changed, "valueInteger": value}


#: Per resource type, changes that make a record never count (the templates' status filters): the shapes treat
#: such a record as no record at all.
_VOID = {
    "Condition": [{"verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                       "code": "refuted"}]}},
                  {"verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                       "code": "entered-in-error"}]}}],
    "Procedure": [{"status": "not-done"}, {"status": "in-progress"}],
    "Observation": [{"status": "preliminary"}, {"status": "cancelled"}],
    "Medication": [{"doNotPerform": True}, {"status": "cancelled"}, {"status": "draft"}],  # MedicationRequest
}


@pytest.mark.parametrize(("folder", "unmodelled"), [
    (SHAPES, {"Fracture Before Scan", "Clearances Three Months Apart"}),
    # the builder's own demo guideline (rule-based value set with an expansion, another unit, day windows)
    (ROOT / "tests" / "logic" / "definitions",
     {"Two Low eGFR 90 Days Apart", "Severe Pain Before Fracture", "MRI Within 6 Weeks Of Fracture"}),
], ids=["shapes-fixture", "builderdemo"])
def test_every_realisable_shape_is_what_the_engine_computes(folder: Path, unmodelled: set[str],
                                                            session_translator: Translator, engine: Engine) -> None:
    """For each subject of a v2 guideline, every data combination the shapes call realisable is written as a
    witness and evaluated on the real engine: each feature has exactly the predicted value (true AND false
    cases). The same medication use as a MedicationStatement, and whole values as valueInteger, agree too;
    records that never count are no record. Features the shapes do not model are exactly the expected ones."""
    from generator.analyze.shapes import Leaf, single_records
    from generator.analyze.witness import witness_bundle
    from generator.apply import execution_datetime

    built = _built(folder, session_translator)
    rg = built.resolved
    model = GuidelineModel.of(rg)
    builder = FormulaBuilder(list(rg.features))
    leaf_of = {}
    for feature in rg.features:
        formula = builder.feature(feature)
        [part] = formula.parts  # type: ignore[union-attr]
        leaf_of[feature.name] = part
    modelled = {name: leaf for name, leaf in leaf_of.items() if isinstance(leaf, Leaf)}
    assert set(leaf_of) - set(modelled) == unmodelled
    subjects = build_subjects(list(modelled.values()), model.now)
    assert not [s.problem for s in subjects.values() if s.problem]
    cases: list[tuple[dict, dict[str, bool]]] = []
    for key, subject in subjects.items():
        singles = single_records(subject, model.now) if subject.resource_type not in ("Age", "Sex") else []
        for choice in [*subject.choices, *singles]:  # combinations of records, and every single record variant
            bundle = witness_bundle(f"shape-{len(cases)}", subjects, {key: choice}, model.now)
            expected = {name: choice.values[subject.index(leaf)] for name, leaf in modelled.items()
                        if leaf.subject == key}
            cases.append((bundle, expected))
            kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
            if kinds & {"MedicationRequest", "Observation"}:
                variant = json.loads(json.dumps(bundle))
                for entry in variant["entry"]:
                    resource = entry["resource"]
                    if resource["resourceType"] == "MedicationRequest":
                        entry["resource"] = _as_statement(resource)
                    elif isinstance(resource.get("valueQuantity", {}).get("value"), int):
                        entry["resource"] = _as_integer(resource)
                if variant != bundle:
                    cases.append((variant, expected))
        if subject.resource_type in ("Age", "Sex"):
            continue
        empty = next(c for c in subject.choices if not c.state)  # the values with no records
        none_expected = {name: empty.values[subject.index(leaf)] for name, leaf in modelled.items()
                         if leaf.subject == key}
        for choice in singles[:40]:  # a record that never counts is no record
            for change in _VOID[subject.resource_type]:
                bundle = witness_bundle(f"void-{len(cases)}", subjects, {key: choice}, model.now)
                bundle["entry"][1]["resource"].update(change)
                cases.append((bundle, none_expected))
    assert len(cases) > 10 * len(subjects)  # every subject has several realisable combinations and record variants
    logic = engine.load(built_artifacts(built).elm_libraries(), built_artifacts(built).value_set_codes())
    try:
        rows = logic.evaluate({rg.library_name: sorted(modelled)}, [b for b, _ in cases],
                              execution_datetime(rg.guideline.date)).patients
    finally:
        logic.unload()
    wrong = [(bundle["id"], name, want, row.get(rg.library_name, name))
             for (bundle, expected), row in zip(cases, rows) for name, want in expected.items()
             if row.get(rg.library_name, name) is not want]
    assert not wrong, wrong[:10]
    # Both values of every modelled feature occur (each shape has a confirming and a refuting case).
    seen = {(name, value) for _, expected in cases for name, value in expected.items()}
    assert seen == {(name, value) for name in modelled for value in (True, False)}


def built_artifacts(built: BuiltGuideline) -> Artifacts:
    return Artifacts.from_resources(built.resources)


def test_unmodelled_v2_nodes_are_not_analysable(session_translator: Translator) -> None:
    """An event bound (.before) and at_least(apart=) are reported ANALYZE012 with the reason, never guessed."""
    model = GuidelineModel.of(_built(SHAPES, session_translator).resolved)
    findings = analyse_statically(model)
    [note] = [f for f in findings if f.code == "ANALYZE012"]
    assert note.recommendations == ["unmodelled"]
    assert "before_event" in note.message and "apart" in note.message
    assert model.reachable["give"] is True


def test_witness_ids_fit_fhir_ids_with_their_record_suffixes() -> None:
    """Long recommendation ids: the witness id and every record id made from it stay valid FHIR ids
    (a longer Patient id was dropped by the patient check, and the witness then had no patient)."""
    import re

    from generator.analyze.witness import witness_id

    ident = witness_id("osteoporosis-pharmacotherapy-bisphosphonate-renal", "refractory-bone-pain-denosumab")
    assert ident != witness_id("osteoporosis-pharmacotherapy-bisphosphonate-renal", "refractory-bone-pain-denosumaX")
    for suffix in ("-patient", "-medicationstatement-99", "-medicationrequest-12", "-observation-3"):
        assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", ident + suffix), ident + suffix
    assert witness_id("a", "b") == "analyze-a--b"


def test_rule_based_value_set_without_expansion_is_not_analysable() -> None:
    """Its members are what a terminology server says: without the published expansion, no guess."""
    from generator.model.terminology import ICD10CM, ValueSet, code_prefix

    ckd = ValueSet("ckd-unexpanded", title="CKD", rules=[code_prefix(ICD10CM, "N18")])
    leaf = leaf_for(L.conditions(ckd).exists())
    assert isinstance(leaf, Opaque) and "expansion" in leaf.reason
