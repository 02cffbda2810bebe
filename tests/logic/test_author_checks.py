"""Section-2 checks: every silent mistake becomes a stable code at the author's file:line, before the translator."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.compile import CompileResult, compile_definitions
from generator.cql.translator import Translator
from generator.model.errors import AUTHOR_ERRORS

TRANSLATOR: Translator | None = None

HEADER = '''\
from generator import *
FRACTURE = SNOMED("207957008", "Closed fracture of lumbar vertebra")
MRI = SNOMED("113091000", "Magnetic resonance imaging")
fracture = Feature("Fracture", conditions(FRACTURE).exists())
'''

REC = '''\
rec = Recommendation(
    "mri", title="MRI", statement="Image the spine.", when=fracture,
    then=Service(title="MRI", code=MRI),
    sources=[Source("doc", "Obtain MRI of the spine")],
)
'''

FOOTER = '''\
guideline = Guideline(
    id="g", name="G", title="G", canonical="http://example.org/g", version="1.0.0", date="2026-01-01",
    description="d", publisher="p", sources={{"doc": Citation(file="doc.txt", title="Doc")}}, sources_dir={sources!r},
    strategies={strategies}, scenarios={scenarios},
)
'''


def write(tmp_path: Path, body: str, *, strategies: str = '[Strategy("s", title="S", recommendations=[rec])]',
          scenarios: str = "[]", sources: str = "..") -> Path:
    package = tmp_path / "definitions" / "g"
    package.mkdir(parents=True)
    (tmp_path / "definitions" / "doc.txt").write_text("Obtain MRI of the spine without contrast.\n")
    (package / "p.json").write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}')
    (package / "__init__.py").write_text(HEADER + textwrap.dedent(body)
                                         + FOOTER.format(strategies=strategies, scenarios=scenarios, sources=sources))
    return package / "__init__.py"


def line_of(path: Path, needle: str) -> str:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return f"definitions/g/__init__.py:{number}"
    raise AssertionError(needle)


@pytest.fixture(autouse=True)
def _translator(session_translator: Translator) -> None:
    global TRANSLATOR
    TRANSLATOR = session_translator  # one running translator for every compile here (no Node start per test)


def compile_here() -> CompileResult:
    return compile_definitions(Path("definitions"), validate=False, translator=TRANSLATOR)


def found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, errors_only: bool = True) -> list[tuple[str, str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CPG_SOURCES_DIR", raising=False)
    result = compile_here()
    return [(d.code, str(d.location)) for d in result.diagnostics if d.is_error or not errors_only]


def test_the_fixture_itself_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, REC)
    assert found(tmp_path, monkeypatch, errors_only=False) == []


@pytest.mark.parametrize("code, line", [
    ("LOGIC001", 'bad = Feature("Bad", fracture and fracture)'),
    ("LOGIC001", 'bad = Feature("Bad", not fracture)'),
    ("LOGIC001", 'bad = Feature("Bad", 18 <= age_in_years() < 50)'),
    ("LOGIC002", 'bad = Feature("Bad", age_in_years() >= years(18))'),
    ("LOGIC002", 'bad = Feature("Bad", observations(LOINC("2160-0", "Creatinine")).latest_value() > 1)'),
    ("ARG001", 'bad = Feature("Bad", conditions("Diabetes").exists())'),
    ("LOGIC004", 'bad = Feature("Bad", administrative_sex() == "F")'),
    ("LOGIC004", 'bad = Feature("Bad", conditions(FRACTURE, status="resolved").exists())'),
    ("LOGIC004", 'bad = Feature("Bad", conditions(FRACTURE, category="problem-list").exists())'),
    ("LOGIC002", 'bad = Feature("Bad", conditions(FRACTURE).within(3))'),
    ("LOGIC001", 'bad = Feature("Bad", fracture if fracture else fracture)'),
    ("UNIT001", 'bad = Quantity(30, "ml/minute")'),
    ("UNIT001", 'bad = Quantity(60, "mL/min/1.73m2")'),
    ("TERM001", 'bad = SNOMED("2160-0", "Creatinine")'),
    ("TERM001", 'bad = LOINC("2160-1", "Creatinine")'),
    ("TERM001", 'bad = SNOMED("207957009", "Bad check digit")'),
    ("TERM002", 'bad = ValueSet("empty", title="Empty", codes=[])'),
    ("TERM003", 'bad = code_range(ICD10CM, "N18.3", "N19")'),
])
def test_mistake_raises_at_the_line_that_wrote_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str,
                                                  line: str) -> None:
    path = write(tmp_path, line + "\n" + REC)
    assert found(tmp_path, monkeypatch) == [(code, line_of(path, line))]


@pytest.mark.parametrize("argument", ['strength="weak"', 'direction="for"'])
def test_recommendation_argument_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argument: str) -> None:
    """A look-alike string where an enum belongs stops at LOAD (ARG001, main's argcheck) at the line that wrote it."""
    path = write(tmp_path, REC.replace("when=fracture,", f"when=fracture, {argument},", 1))
    assert found(tmp_path, monkeypatch) == [("ARG001", line_of(path, "rec = "))]


def test_enum_of_the_wrong_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, REC.replace("when=fracture,", "when=fracture, direction=Direction.FOR, certainty=Strength.WEAK,", 1))
    assert found(tmp_path, monkeypatch) == [("RULE014", line_of(path, "rec = "))]


def test_sources_must_be_source_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, REC.replace('sources=[Source("doc", "Obtain MRI of the spine")]', 'sources=["Obtain MRI"]'))
    assert found(tmp_path, monkeypatch) == [("ARG001", line_of(path, "rec = "))]


def test_hint_names_the_operators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, 'bad = Feature("Bad", fracture or fracture)\n' + REC)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--no-validate"])
    assert result.exit_code == 1 and "error[LOGIC001]" in result.output and "& | ~" in result.output
    assert "Traceback" not in result.output


def test_unplaced_and_twice_placed_recommendations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, REC + 'spare = Recommendation("spare", title="Spare", when=fracture, then=Service(code=MRI),'
                 ' sources=[Source("doc", "Obtain MRI")])\n',
                 strategies='[Strategy("s", title="S", recommendations=[rec]),\n'
                            '                Strategy("t", title="T", recommendations=[rec])]')
    got = found(tmp_path, monkeypatch)
    assert ("RULE015", line_of(path, "spare = ")) in got
    assert ("RULE016", line_of(path, 'Strategy("t"')) in got


def test_direction_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = REC.replace("when=fracture,", "when=fracture, direction=Direction.FOR,").replace(
        "code=MRI)", "code=MRI, do_not_perform=True)")
    body += ('graded = Recommendation("graded", title="G", when=fracture, then=Service(code=MRI), strength=Strength.STRONG,'
             ' sources=[Source("doc", "Obtain MRI")])\n')
    path = write(tmp_path, body, strategies='[Strategy("s", title="S", recommendations=[rec, graded])]')
    got = found(tmp_path, monkeypatch)
    assert ("RULE019", line_of(path, "then=Service(title=")) in got
    assert ("RULE020", line_of(path, "graded = ")) in got


def test_feature_cycle_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = 'a = Feature("A", "B" & fracture)\nb = Feature("B", a | fracture)\n' + REC.replace("when=fracture", "when=b")
    path = write(tmp_path, body)
    monkeypatch.chdir(tmp_path)
    result = compile_here()
    cycles = [d for d in result.diagnostics if d.code == "RULE021"]
    assert len(cycles) == 1
    assert cycles[0].message.endswith("B -> A -> B") or cycles[0].message.endswith("A -> B -> A")
    assert str(cycles[0].location) in (line_of(path, "a = "), line_of(path, "b = "))


def test_scenario_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenarios = ('[Scenario("one", bundle="p.json", date="2026-01-01", present=["mri"], absent=["mri"]),\n'
                 '               Scenario("one", bundle="p.json", date="2026-02-30", present=["mri"])]')
    path = write(tmp_path, REC, scenarios=scenarios)
    got = found(tmp_path, monkeypatch)
    assert ("RULE018", line_of(path, 'Scenario("one", bundle="p.json", date="2026-01-01"')) in got
    second = line_of(path, 'date="2026-02-30"')
    assert ("RULE017", second) in got and ("RULE022", second) in got


def test_missing_sources_folder_is_one_warning_naming_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = REC + 'two = Recommendation("two", title="Two", when=fracture, then=Service(code=MRI),' \
                 ' sources=[Source("doc", "Obtain MRI"), Source("doc", "of the spine")])\n'
    write(tmp_path, body, strategies='[Strategy("s", title="S", recommendations=[rec, two])]', sources="nowhere")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CPG_SOURCES_DIR", raising=False)
    diags = compile_here().diagnostics
    warnings = [d for d in diags if d.code in ("RULE023", "RULE007")]
    assert [d.code for d in warnings] == ["RULE023"]
    assert str((tmp_path / "definitions" / "g" / "nowhere").resolve()) in warnings[0].message


def test_sources_option_and_environment_point_at_the_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, REC.replace("Obtain MRI of the spine", "Obtain a CT"), sources="nowhere")
    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    (elsewhere / "doc.txt").write_text("Obtain MRI of the spine.\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CPG_SOURCES_DIR", "")  # the CLI sets it for its process: restore it after the test
    result = CliRunner().invoke(main, ["build", "--no-validate", "--sources", "docs", "--output", "out"])
    assert "error[RULE007]" in result.output and "RULE023" not in result.output  # the passage was checked there
    monkeypatch.setenv("CPG_SOURCES_DIR", str(tmp_path / "definitions"))
    diags = compile_here().diagnostics
    assert [d.code for d in diags if d.code.startswith("RULE")] == ["RULE007"]


RULE_VS = '''\
CKD = ValueSet("ckd", title="CKD", rules=[code_prefix(ICD10CM, "N18"), is_a(SNOMED("709044004", "Chronic kidney disease"))],
               expansion="ckd.json")
ckd = Feature("Has CKD", conditions(CKD).exists())
'''


@pytest.mark.parametrize("contents, code, needle", [
    (None, "TERM004", "not found"),
    ('{"date": "2026-01-01", "contains": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.4"}]}',
     "TERM004", "source"),
    ('{"source": "tx", "date": "2026-01-01", "contains": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N19"},'
     ' {"system": "http://snomed.info/sct", "code": "709044004"}]}', "TERM005", "N19 is in the expansion"),
    ('{"source": "tx", "date": "2026-01-01", "contains": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.4"}]}',
     "TERM005", "is-a root"),
])
def test_rule_based_value_set_needs_a_matching_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         contents: str | None, code: str, needle: str) -> None:
    path = write(tmp_path, RULE_VS + REC.replace("when=fracture", "when=ckd"))
    if contents is not None:
        (path.parent / "ckd.json").write_text(contents)
    monkeypatch.chdir(tmp_path)
    diags = [d for d in compile_here().diagnostics if d.is_error]
    assert {(d.code, str(d.location)) for d in diags} == {(code, line_of(path, "CKD = ValueSet"))}
    assert any(needle in d.message for d in diags)


def test_rules_without_expansion_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, RULE_VS.replace(',\n               expansion="ckd.json"', "") + REC.replace("when=fracture", "when=ckd"))
    assert found(tmp_path, monkeypatch) == [("TERM004", line_of(path, "CKD = ValueSet"))]


def test_matching_expansion_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, RULE_VS + REC.replace("when=fracture", "when=ckd"))
    (path.parent / "ckd.json").write_text(
        '{"source": "tx", "date": "2026-01-01", "contains": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "N18.4"},'
        ' {"system": "http://snomed.info/sct", "code": "709044004"}, {"system": "http://snomed.info/sct", "code": "433144002"}]}')
    assert found(tmp_path, monkeypatch) == []


def test_one_observation_code_in_two_units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = ('CREAT = LOINC("2160-0", "Creatinine")\n'
            'high = Feature("High", observations(CREAT).latest_value() > Quantity(1.5, "mg/dL"))\n'
            'higher = Feature("Higher", observations(CREAT).latest_value() > Quantity(130, "umol/L"))\n')
    path = write(tmp_path, body + REC.replace("when=fracture", "when=high | higher"))
    assert found(tmp_path, monkeypatch) == [("UNIT002", line_of(path, "higher = "))]


def test_every_author_error_code_has_a_test() -> None:
    source = Path(__file__).read_text()
    assert {code for code in AUTHOR_ERRORS if f'"{code}"' not in source} <= {"LOGIC005"}  # LOGIC005: test_raw_cql.py
