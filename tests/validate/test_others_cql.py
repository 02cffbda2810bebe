"""CQL in artifacts other tools made: expressions in every CQL language spelling, IG source
folders (input/cql, IG loader placeholders), FHIR 4.0.0 content, missing includes, included
libraries' messages, file names on findings. Artifacts are minimal and written for the tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.cql.translator import Translator
from generator.diagnostics import Diagnostic
from generator.validate import ValidationOptions, load_artifacts, validate

BASE = "http://example.org/fhir/others"
LOGIC_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]}

ANAEMIA = """library Anaemia version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1'
context Patient
define "Has Anaemia": exists [Condition]
define "Haemoglobin": [Observation] O return O.value as Quantity
"""


def _library(name: str, cql: str | None, **extra: Any) -> dict[str, Any]:
    lib: dict[str, Any] = {"resourceType": "Library", "id": name, "url": f"{BASE}/Library/{name}", "name": name,
                           "version": "1.0.0", "status": "active", "type": LOGIC_TYPE, **extra}
    if cql is not None:
        lib["content"] = [{"contentType": "text/cql", "data": base64.b64encode(cql.encode()).decode()}]
    return lib


def _plan(language: str, expression: str, kind: str = "condition") -> dict[str, Any]:
    action: dict[str, Any] = {"title": "Treat"}
    if kind == "condition":
        action["condition"] = [{"kind": "applicability", "expression": {"language": language, "expression": expression}}]
    else:
        action["dynamicValue"] = [{"path": "description", "expression": {"language": language, "expression": expression}}]
    return {"resourceType": "PlanDefinition", "id": "plan", "url": f"{BASE}/PlanDefinition/plan", "name": "Plan",
            "version": "1.0.0", "status": "active", "library": [f"{BASE}/Library/Anaemia|1.0.0"], "action": [action]}


def _cql(resources: list[dict[str, Any]], translator: Translator, **options: Any) -> list[Diagnostic]:
    return validate(resources, ValidationOptions(translator=translator, layers=frozenset({"cql"}), **options))


def _codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


@pytest.mark.parametrize("language", ["text/cql", "text/cql-identifier", "text/cql.identifier"])
def test_a_misspelt_define_is_found_in_every_language(language: str, session_translator: Translator) -> None:
    diags = _cql([_library("Anaemia", ANAEMIA), _plan(language, "Has Anemia")], session_translator)
    (hit,) = [d for d in diags if d.code == "cql.missing-define"]
    assert 'did you mean "Has Anaemia"' in hit.message and hit.path == "PlanDefinition.action[0].condition[0].expression.expression"
    good = _cql([_library("Anaemia", ANAEMIA), _plan(language, '"Has Anaemia"' if language == "text/cql" else "Has Anaemia")],
                session_translator)
    assert good == [], good


def test_a_text_cql_expression_is_compiled_against_its_library(session_translator: Translator) -> None:
    lib = _library("Anaemia", ANAEMIA)
    diags = _cql([lib, _plan("text/cql", '"Has Anemia" and AgeInYears() > 18')], session_translator)
    (hit,) = diags
    assert hit.code == "cql.expression-error" and 'did you mean "Has Anaemia"' in hit.message
    assert _cql([lib, _plan("text/cql", '"Has Anaemia" and AgeInYears() > 18')], session_translator) == []
    assert _cql([lib, _plan("text/cql", 'Anaemia."Has Anaemia"')], session_translator) == []  # its own name
    (own,) = _cql([lib, _plan("text/cql", 'Anaemia."Has Anemia"')], session_translator)
    assert own.code == "cql.missing-define" and 'did you mean "Has Anaemia"' in own.message
    (typed,) = _cql([lib, _plan("text/cql", 'Count("Haemoglobin")')], session_translator)
    assert typed.code == "cql.not-boolean"  # a condition must be Boolean
    assert _cql([lib, _plan("text/cql", 'Count("Haemoglobin")', kind="dynamicValue")], session_translator) == []


def test_activity_definition_dynamic_values_are_checked(session_translator: Translator) -> None:
    activity = {"resourceType": "ActivityDefinition", "id": "a", "url": f"{BASE}/ActivityDefinition/a", "name": "A",
                "status": "active", "library": [f"{BASE}/Library/Anaemia"],
                "dynamicValue": [{"path": "note", "expression": {"language": "text/cql-identifier", "expression": "Haemoglobn"}}]}
    (hit,) = _cql([_library("Anaemia", ANAEMIA), activity], session_translator)
    assert hit.code == "cql.missing-define" and hit.path == "ActivityDefinition.dynamicValue[0].expression.expression"


def test_a_missing_include_is_one_error_naming_it(session_translator: Translator) -> None:
    cql = ("library Uses version '1'\ninclude Absent version '2' called A\n"
           "define X: A.One\ndefine Y: A.Two + 1\ndefine Z: exists A.Three\n")
    diags = _cql([_library("Uses", cql)], session_translator)
    assert [(d.code, d.message.split(" (line")[0]) for d in diags] == [
        ("cql.compile-error", "included library Absent version '2' is not available; 3 uses of A not checked")]


def test_fhir_without_fhirhelpers_is_one_error(session_translator: Translator) -> None:
    cql = ("library NoHelpers version '1'\nusing FHIR version '4.0.1'\ncontext Patient\n"
           "define A: [Observation] O where O.status = 'final'\ndefine B: [Condition] C where C.onset as dateTime > Now()\n")
    (hit,) = _cql([_library("NoHelpers", cql)], session_translator)
    assert "does not include FHIRHelpers (2 places)" in hit.message


def test_an_unknown_fhirhelpers_version_is_named_once(session_translator: Translator) -> None:
    cql = ("library Old version '1'\nusing FHIR version '4.0.1'\ninclude FHIRHelpers version '3.0.0'\n"
           "define A: FHIRHelpers.ToString(null)\n")
    (hit,) = _cql([_library("Old", cql)], session_translator)
    assert "FHIRHelpers version '3.0.0' is not available" in hit.message and "4.0.0 and 4.0.1 only" in hit.message


def test_included_library_messages_stay_with_the_included_library(session_translator: Translator) -> None:
    shared = "library Shared version '1'\ndefine Broken: 1 + 'a'\n"
    user = "library User version '1'\ninclude Shared version '1'\ndefine Fine: 2\n"
    diags = _cql([_library("Shared", shared), _library("User", user)], session_translator)
    assert {d.resource for d in diags if d.code == "cql.compile-error"} == {"Library/Shared"}, diags


def test_fhir_400_content_with_fhirhelpers_400_compiles(session_translator: Translator) -> None:
    old = ANAEMIA.replace("'4.0.1'", "'4.0.0'")
    assert _cql([_library("Anaemia", old), _plan("text/cql-identifier", "Has Anaemia")], session_translator) == []


# -- an IG source folder, as the IG Publisher and cqf-tooling lay it out ------------------------------

COMMON = "library Common version '1.0.0'\ndefine \"Always\": true\n"
LOGIC = ("library Logic version '1.0.0'\ninclude Common version '1.0.0'\n"
         "define \"Applies\": Common.\"Always\"\n")


def _ig(root: Path) -> Path:
    def put(rel: str, value: Any) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value if isinstance(value, str) else json.dumps(value), "utf-8")

    put("ig.ini", "[IG]\nig = input/others.xml\n")
    put("input/cql/Logic.cql", LOGIC)
    put("input/cql/Common.cql", COMMON)
    put("input/resources/library/Library-Logic.json", _library("Logic", None, content=[{"id": "ig-loader-Logic.cql"}]))
    put("input/resources/library/Library-Common.json", _library("Common", None))  # paired by name
    plan = _plan("text/cql-identifier", "Apply")
    plan["library"] = [f"{BASE}/Library/Logic"]
    put("input/resources/plandefinition/PlanDefinition-plan.json", plan)
    put("input/vocabulary/valueset/ValueSet-vs.json", {
        "resourceType": "ValueSet", "id": "vs", "url": f"{BASE}/ValueSet/vs", "name": "VS", "status": "active",
        "compose": {"include": [{"system": "http://snomed.info/sct", "concept": [{"code": "271737000"}]}]}})
    put("input/tests/Logic/p1/Patient-p1.json", {"resourceType": "Patient", "id": "p1"})
    return root


def test_ig_source_folder_is_validated_as_laid_out(tmp_path: Path, session_translator: Translator) -> None:
    root = _ig(tmp_path / "ig")
    artifacts, load_diags = load_artifacts(root)
    assert load_diags == [] and len(artifacts) == 5
    diags = validate(artifacts, ValidationOptions(translator=session_translator, source_root=root,
                                                  layers=frozenset({"cql"})))
    sources = sorted((d.code, d.message.split(" (")[0]) for d in diags if d.code == "cql.source-file")
    assert sources == [("cql.source-file", f"CQL read from {root}/input/cql/Logic.cql"),
                       ("cql.source-file", f"Library has no CQL content; CQL read from {root}/input/cql/Common.cql")]
    (missing,) = [d for d in diags if d.code == "cql.missing-define"]
    assert 'did you mean "Applies"' in missing.message
    assert missing.location is not None and missing.location.file.endswith("PlanDefinition-plan.json")


def test_cql_errors_in_an_ig_folder_name_the_cql_file_and_line(tmp_path: Path, session_translator: Translator) -> None:
    root = _ig(tmp_path / "ig")
    (root / "input/cql/Common.cql").write_text(COMMON + "define Bad: 1 + 'a'\n", "utf-8")
    artifacts, _ = load_artifacts(root)
    diags = validate(artifacts, ValidationOptions(translator=session_translator, source_root=root, layers=frozenset({"cql"})))
    (error,) = [d for d in diags if d.code == "cql.compile-error"]
    assert error.location is not None and (error.location.file, error.location.line) == (f"{root}/input/cql/Common.cql", 3)
    assert error.resource == "Library/Common"


def test_a_missing_placeholder_file_is_reported(tmp_path: Path, session_translator: Translator) -> None:
    root = _ig(tmp_path / "ig")
    (root / "input/cql/Logic.cql").unlink()
    artifacts, _ = load_artifacts(root)
    diags = validate(artifacts, ValidationOptions(translator=session_translator, source_root=root, layers=frozenset({"cql"})))
    (hit,) = [d for d in diags if d.code == "cql.source-missing"]
    assert "ig-loader-Logic.cql" in hit.message and hit.resource == "Library/Logic"


# -- every finding names its file --------------------------------------------------------------------

def test_a_100_file_folder_names_each_findings_file(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(100):
        vs = {"resourceType": "ValueSet", "id": f"vs{i}", "url": f"{BASE}/ValueSet/vs{i}", "name": f"Vs{i}",
              "version": "1.0.0", "status": "active" if i % 10 else "bogus"}
        (root / f"ValueSet-vs{i}.json").write_text(json.dumps(vs), "utf-8")
    (root / "bundle.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "ValueSet", "id": "in-bundle", "status": "bogus"}}]}), "utf-8")
    result = CliRunner().invoke(main, ["validate", str(root), "--no-cql", "--format", "json"])
    outcome = json.loads(result.output)
    bad = [i for i in outcome["issue"] if i["diagnostics"] == "base.binding"]
    files = sorted(e["valueString"] for i in bad for e in i["extension"]
                   if e["url"] == "http://hl7.org/fhir/StructureDefinition/operationoutcome-file")
    expected = sorted([f"{root}/ValueSet-vs{i}.json" for i in range(0, 100, 10)] + [f"{root}/bundle.json#entry[0]"])
    assert files == expected and len(bad) == 11
    assert all("extension" in i for i in outcome["issue"] if i.get("expression")), "every located finding names its file"
    table = CliRunner().invoke(main, ["validate", str(root), "--no-cql"]).output
    assert f"{root}/ValueSet-vs10.json" in table and "FILE" in table.splitlines()[0]


def test_ids_repeat_across_test_cases_of_an_ig(tmp_path: Path) -> None:
    root = _ig(tmp_path / "ig")
    for case, gender in (("p2", "male"), ("p3", "female")):
        folder = root / "input/tests/Logic" / case
        folder.mkdir(parents=True)
        (folder / "Encounter-e1.json").write_text(json.dumps(
            {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": gender}}))
    artifacts, diags = load_artifacts(root)
    assert not [d for d in validate(artifacts, ValidationOptions(cql=False, layers=frozenset({"input"})))
                if d.code == "input.duplicate-id"]
    (root / "input/resources/library/Library-Copy.json").write_text(json.dumps(_library("Logic", None, title="other")))
    artifacts, diags = load_artifacts(root)
    assert [d.code for d in validate(artifacts, ValidationOptions(cql=False, layers=frozenset({"input"})))] == [
        "input.duplicate-id"]
