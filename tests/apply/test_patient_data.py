"""Patient data apply cannot use is named, never dropped silently; records of another patient are
never used (issue #16)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from generator.apply import check_patient_bundle, read_patient_bundle, read_scenario_bundle
from generator.apply._patient import CheckedBundle
from generator.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "definitions" / "vertebral_compression_fracture" / "scenarios" / "acute-l1-intact.json"
BUILT = ROOT / "output" / "vertebral-compression-fracture"
DATE = "2026-11-21"


def _bundle() -> dict[str, Any]:
    return json.loads(SCENARIO.read_text("utf-8"))


def _findings(bundle: dict[str, Any]) -> tuple[dict[str, Any], list[Diagnostic]]:
    found: list[Diagnostic] = []
    return check_patient_bundle(bundle, "p.json", found), found


def test_clean_bundle_is_returned_unchanged() -> None:
    bundle = _bundle()
    checked, found = _findings(bundle)
    # Marked as checked (apply does not check it again), its records shared, not copied.
    assert isinstance(checked, CheckedBundle) and checked == bundle and found == []
    assert checked["entry"] is bundle["entry"]
    assert check_patient_bundle(checked) is checked


def test_a_scenario_bundle_file_is_parsed_once_per_content(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    bundle = _bundle()
    condition = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    condition["onsetDateTime"] = 20261111
    path.write_text(json.dumps(bundle), "utf-8")
    first: list[Diagnostic] = []
    again: list[Diagnostic] = []
    read = read_scenario_bundle(path, first)
    assert read_scenario_bundle(path, again) is read
    assert [d.code for d in again] == [d.code for d in first] == ["APPLY051"]  # warnings each time
    # New content under the same name is read anew, never answered from what the name held before.
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    path.write_text(json.dumps(bundle), "utf-8")
    changed = read_scenario_bundle(path)
    assert changed is not read and len(changed["entry"]) == 1
    # Patient data for `cpg apply` is parsed on every read and never kept.
    assert read_patient_bundle(path) is not read_patient_bundle(path)


def test_wrong_types_and_invalid_dates_are_named_and_left_out() -> None:
    bundle = _bundle()
    condition = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition")
    condition["onsetDateTime"] = 20261111
    observation = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    observation["effectiveDateTime"] = "2026-13-45"
    original = copy.deepcopy(bundle)
    checked, found = _findings(bundle)
    assert bundle == original  # the input is not modified
    assert sorted((d.code, d.resource) for d in found) == [
        ("APPLY051", f"Condition/{condition['id']}"), ("APPLY052", f"Observation/{observation['id']}")]
    assert all(d.severity.value == "warning" and d.path for d in found)
    used = {e["resource"]["resourceType"]: e["resource"] for e in checked["entry"]}
    assert "onsetDateTime" not in used["Condition"] and "effectiveDateTime" not in used["Observation"]


def test_records_of_another_patient_are_not_used(tmp_path: Path) -> None:
    bundle = _bundle()
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] != "Patient":
            entry["resource"]["subject"] = {"reference": "Patient/someone-else"}
    checked, found = _findings(bundle)
    assert [d.code for d in found] == ["APPLY053", "APPLY053"]
    assert [e["resource"]["resourceType"] for e in checked["entry"]] == ["Patient"]

    def applicable(path: Path) -> tuple[str, str]:
        done = subprocess.run([str(Path(sys.executable).parent / "cpg"), "apply", str(BUILT), "--patient", str(path),
                               "--date", DATE], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stderr.splitlines()[-1], done.stderr

    own, _ = applicable(SCENARIO)
    foreign_path = tmp_path / "foreign.json"
    foreign_path.write_text(json.dumps(bundle))
    foreign, stderr = applicable(foreign_path)
    assert own.startswith(tuple("123456789")) and foreign.startswith("0 applicable"), (own, foreign)
    assert "warning[APPLY053]" in stderr and "Patient/someone-else" in stderr
