"""`cpg cql` through click's CliRunner, with the real translator."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main

GOOD = """library Good version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
include Shared version '1.0.0' called Shared
context Patient
define "High": exists ([Observation] O where O.value > 5 'mg')
define "Both": "High" and Shared."Yes"
"""
SHARED = "library Shared version '1.0.0'\ndefine \"Yes\": true\n"
BAD = """library Bad version '1.0.0'
using FHIR version '4.0.1'
context Patient
define "X": 1 + 'a'
define "Y": Missing
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_compiles_and_writes_elm(tmp_path: Path) -> None:
    good = write(tmp_path, "Good.cql", GOOD)
    write(tmp_path, "Shared.cql", SHARED)  # resolved from the same folder
    out = tmp_path / "elm"
    result = CliRunner().invoke(main, ["cql", str(good), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 library: 0 errors, 0 warnings" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["Good.json"]
    elm = json.loads((out / "Good.json").read_text(encoding="utf-8"))
    assert elm["library"]["identifier"] == {"id": "Good", "version": "1.0.0"}


def test_bad_file_reports_located_errors_and_exits_1(tmp_path: Path) -> None:
    bad = write(tmp_path, "Bad.cql", BAD)
    out = tmp_path / "elm"
    result = CliRunner().invoke(main, ["cql", str(bad), "--out", str(out)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines == [
        f"{bad}:4:13: error: Could not resolve call to operator Add with signature (System.Integer, System.String).",
        f"{bad}:5:13: error: Could not resolve identifier Missing in the current library.",
        "1 library: 2 errors, 0 warnings",
    ]
    assert not out.exists() or not any(out.iterdir())


def test_missing_include_is_reported_against_the_including_file(tmp_path: Path) -> None:
    good = write(tmp_path, "Good.cql", GOOD)  # no Shared.cql next to it
    result = CliRunner().invoke(main, ["cql", str(good)])
    assert result.exit_code == 1
    # one error naming the missing library, not one per use of it
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{good}:4:1: error: included library Shared version '1.0.0' "
                                                     "is not available"), result.stderr


def test_unavailable_translator_is_a_clean_error(tmp_path: Path, monkeypatch) -> None:
    good = write(tmp_path, "Shared.cql", SHARED)
    monkeypatch.setenv("CPG_NODE", str(tmp_path / "no-node"))
    result = CliRunner().invoke(main, ["cql", str(good)])
    assert result.exit_code == 1
    assert "CPG_NODE=" in result.stderr and "Traceback" not in result.output


def test_fhir_400_and_401_files_in_one_run_get_their_own_fhirhelpers(tmp_path: Path) -> None:
    old = write(tmp_path, "Old.cql", GOOD.replace("Good", "Old").replace("'4.0.1'", "'4.0.0'"))
    new = write(tmp_path, "Good.cql", GOOD)
    write(tmp_path, "Shared.cql", SHARED)
    result = CliRunner().invoke(main, ["cql", str(old), str(new), "--out", str(tmp_path / "elm")])
    assert result.exit_code == 0, result.stderr
    elm = json.loads((tmp_path / "elm" / "Old.json").read_text())
    helpers = [i for i in elm["library"]["includes"]["def"] if i["path"] == "FHIRHelpers"]
    assert helpers[0]["version"] == "4.0.0" and elm["library"]["usings"]["def"][-1]["version"] == "4.0.0"
