"""Every author mistake is reported with its stable code at the definition's file:line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.compile import compile_definitions
from generator.rules import RULES

HEADER = '''\
from generator import (SNOMED, Citation, Direction, Feature, Guideline, Recommendation, Service, Source,
                       Strategy, conditions)
FRACTURE = SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")
fracture = Feature("Fracture", conditions(FRACTURE).exists())
'''

GOOD_REC = '''\
rec = Recommendation(
    "mri", title="MRI", statement="Image the spine.", when=fracture,
    then=Service(title="MRI", code=SNOMED("113091000", "Magnetic resonance imaging")),
    sources=[Source("doc", "Obtain MRI of the spine")],
)
'''

FOOTER = '''\
guideline = Guideline(
    id="g", name="G", title="G", canonical="http://example.org/g", version={version!r}, date="2026-01-01",
    description="d", publisher="p", sources={{"doc": Citation(file="doc.txt", title="Doc")}}, sources_dir="..",
    strategies=[Strategy("s", title="S", recommendations={recs})],
)
'''


def write_guideline(tmp_path: Path, body: str, *, recs: str = "[rec]", version: str = "1.0.0") -> Path:
    package = tmp_path / "definitions" / "g"
    package.mkdir(parents=True)
    (tmp_path / "definitions" / "doc.txt").write_text("Obtain MRI of the spine without contrast.\n")
    source = HEADER + textwrap.dedent(body) + FOOTER.format(version=version, recs=recs)
    (package / "__init__.py").write_text(source)
    return package / "__init__.py"


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    monkeypatch.chdir(tmp_path)
    result = compile_definitions(Path("definitions"), validate=False)
    return [(d.code, str(d.location)) for d in result.diagnostics if d.is_error]


def test_valid_definition_has_no_rule_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_guideline(tmp_path, GOOD_REC)
    assert errors(tmp_path, monkeypatch) == []


def test_duplicate_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC + 'twin = Recommendation("mri", title="Again", when=fracture,\n'
                           '    then=Service(code=FRACTURE), sources=[Source("doc", "Obtain MRI")])\n',
                           recs="[rec, twin]")
    assert ("REF001", f"definitions/g/__init__.py:{line_of(path, 'twin = ')}") in errors(tmp_path, monkeypatch)


def test_unknown_feature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace("when=fracture", 'when="Persistent Pain"'))
    assert errors(tmp_path, monkeypatch) == [("REF002", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}")]


def test_missing_title(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace('title="MRI", statement', "statement"))
    assert errors(tmp_path, monkeypatch) == [("RULE001", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}")]


def test_non_semver_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC, version="1.0")
    assert errors(tmp_path, monkeypatch) == [("RULE002", f"definitions/g/__init__.py:{line_of(path, 'guideline = ')}")]


def test_activity_without_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace(', code=SNOMED("113091000", "Magnetic resonance imaging")', ""))
    assert errors(tmp_path, monkeypatch) == [("RULE003", f"definitions/g/__init__.py:{line_of(path, 'then=Service')}")]


def test_passage_not_in_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace("Obtain MRI of the spine", "Obtain a CT scan"))
    assert errors(tmp_path, monkeypatch) == [("RULE007", f"definitions/g/__init__.py:{line_of(path, 'sources=[')}")]


def test_unknown_source_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace('Source("doc"', 'Source("nope"'))
    assert errors(tmp_path, monkeypatch) == [("RULE006", f"definitions/g/__init__.py:{line_of(path, 'sources=[')}")]


def test_no_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace('sources=[Source("doc", "Obtain MRI of the spine")],', ""))
    assert errors(tmp_path, monkeypatch) == [("RULE005", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}")]


def test_bad_ids_and_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace('"mri", title', '"MRI_Scan", title'))
    assert errors(tmp_path, monkeypatch) == [("RULE004", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}"),
                                             ("RULE004", f"definitions/g/__init__.py:{line_of(path, 'then=Service')}")]


def test_feature_without_logic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, 'empty = Feature("Empty")\n' + GOOD_REC.replace("when=fracture", "when=empty"))
    assert errors(tmp_path, monkeypatch) == [("RULE008", f"definitions/g/__init__.py:{line_of(path, 'empty = ')}")]


def test_bad_status_date_canonical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC)
    path.write_text(path.read_text().replace('date="2026-01-01"', 'date="1 Jan 2026", status="final"'))
    line = f"definitions/g/__init__.py:{line_of(path, 'guideline = ')}"
    assert errors(tmp_path, monkeypatch) == [("RULE009", line), ("RULE009", line)]


def test_empty_strategy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC, recs="[]")
    assert sorted(errors(tmp_path, monkeypatch)) == [("RULE010", f"definitions/g/__init__.py:{line_of(path, 'strategies=[')}"),
                                                     ("RULE015", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}")]


def test_against_without_do_not_perform_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace("when=fracture,", "when=fracture, direction=Direction.AGAINST,"))
    monkeypatch.chdir(tmp_path)
    result = compile_definitions(Path("definitions"), validate=False)
    warnings = [(d.code, str(d.location)) for d in result.diagnostics if not d.is_error]
    assert ("RULE011", f"definitions/g/__init__.py:{line_of(path, 'then=Service')}") in warnings


def test_import_error_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC + "oops = undefined_name\n")
    assert errors(tmp_path, monkeypatch) == [("LOAD003", f"definitions/g/__init__.py:{line_of(path, 'oops = ')}")]


def test_cql_error_in_raw_feature_points_at_the_feature(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, 'broken = Feature("Broken", cql="exists [Condition] C where C.nonsense = 1")\n'
                           + GOOD_REC.replace("when=fracture", "when=fracture & broken"))
    found = errors(tmp_path, monkeypatch)
    assert ("CQL001", f"definitions/g/__init__.py:{line_of(path, 'broken = ')}") in found


def test_all_errors_reported_at_once_with_exit_code_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_guideline(tmp_path, GOOD_REC.replace('title="MRI", statement', "statement"), version="one")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert "error[RULE001]" in result.output and "error[RULE002]" in result.output
    assert "2 errors" in result.output
    assert "Traceback" not in result.output


def test_recommendation_without_applicability_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC.replace(" when=fracture,", ""))
    monkeypatch.chdir(tmp_path)
    result = compile_definitions(Path("definitions"), validate=False)
    warnings = [(d.code, str(d.location)) for d in result.diagnostics if not d.is_error]
    assert ("RULE012", f"definitions/g/__init__.py:{line_of(path, 'rec = ')}") in warnings


def test_scenario_with_unknown_recommendation_and_missing_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_guideline(tmp_path, GOOD_REC)
    path.write_text(path.read_text().replace(
        "strategies=[", 'scenarios=[Scenario("x", bundle="nope.json", date="2026-01-01", present=["ghost"])],\n    strategies=['
    ).replace("Strategy,", "Strategy, Scenario,"))
    line = f"definitions/g/__init__.py:{line_of(path, 'scenarios=[')}"
    assert errors(tmp_path, monkeypatch) == [("RULE013", line), ("RULE013", line)]


def test_every_rule_has_a_test() -> None:
    """A new rule without a test here fails the suite."""
    source = Path(__file__).read_text() + (Path(__file__).parent.parent / "logic" / "test_author_checks.py").read_text()
    tested = {code for code in RULES if source.count(f'"{code}"') >= 1}
    assert tested == set(RULES)
