"""The raw CQL escape hatch: declares its own codes/value sets, sees documented names only, and its
translator errors point at the line inside the author's `cql=` string."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.apply import Artifacts, Engine
from generator.compile import compile_definitions
from generator.cql.translator import Translator

from .test_author_checks import REC, line_of, write

RAW = '''\
HBA1C = LOINC("4548-4", "Hemoglobin A1c")
raw = Feature(
    "Recent HbA1c",
    codes=[HBA1C],
    cql="""
        exists ([Observation: "Hemoglobin A1c"] O
          where O.status.value = 'final')
        and "Fracture"
    """,
)
'''


def compile_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, translator: Translator) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CPG_SOURCES_DIR", raising=False)
    return compile_definitions(Path("definitions"), validate=False, translator=translator)


def test_raw_cql_declares_its_codes_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             session_translator: Translator) -> None:
    write(tmp_path, RAW + REC.replace("when=fracture", "when=raw"))
    result = compile_here(tmp_path, monkeypatch, session_translator)
    assert result.ok, [str(d) for d in result.diagnostics]
    artifacts = Artifacts.from_resources(result.guidelines[0].resources)
    def patient(status: str) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p"}},
            {"resource": {"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"},
                          "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                         "code": "active"}]},
                          "code": {"coding": [{"system": "http://snomed.info/sct", "code": "207957008"}]}}},
            {"resource": {"resourceType": "Observation", "id": "o", "status": status, "subject": {"reference": "Patient/p"},
                          "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}}}]}
    with Engine() as engine:
        logic = engine.load(artifacts.elm_libraries(), artifacts.value_set_codes())
        batch = logic.evaluate({"G": ["Recent HbA1c"]}, [patient("final"), patient("preliminary")], "2026-06-01T00:00:00.000Z")
    assert [p.get("G", "Recent HbA1c") for p in batch.patients] == [True, False]


def test_undocumented_name_is_logic005_at_its_line_in_the_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 session_translator: Translator) -> None:
    path = write(tmp_path, RAW.replace('and "Fracture"', 'and exists "Fracture Conditions"')
                 + REC.replace("when=fracture", "when=raw"))
    result = compile_here(tmp_path, monkeypatch, session_translator)
    assert [(d.code, str(d.location)) for d in result.diagnostics if d.is_error] == [
        ("LOGIC005", line_of(path, 'and exists "Fracture Conditions"'))]


def test_translator_error_points_inside_the_cql_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       session_translator: Translator) -> None:
    path = write(tmp_path, RAW.replace("O.status.value = 'final'", "O.nonsense = 'final'")
                 + REC.replace("when=fracture", "when=raw"))
    result = compile_here(tmp_path, monkeypatch, session_translator)
    errors = [(d.code, str(d.location)) for d in result.diagnostics if d.is_error]
    assert errors and set(errors) == {("CQL001", line_of(path, "O.nonsense"))}


def test_single_line_cql_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_translator: Translator) -> None:
    path = write(tmp_path, 'bad = Feature("Bad",\n    cql="exists [Condition] C where C.nonsense = 1")\n'
                 + REC.replace("when=fracture", "when=fracture & bad"))
    result = compile_here(tmp_path, monkeypatch, session_translator)
    assert ("CQL001", line_of(path, "C.nonsense")) in [(d.code, str(d.location)) for d in result.diagnostics]
