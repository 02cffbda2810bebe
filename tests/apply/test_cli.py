"""`cpg apply` and `cpg test` through click: inputs accepted, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import main

from .conftest import DATE, DEFINITIONS, DEMO

ROOT = Path(__file__).resolve().parents[2]

PATIENT = DEMO / "patients" / "acute-adult.json"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False, env=env)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo guideline built the way users build (`cpg build`), once for this module."""
    output = tmp_path_factory.mktemp("apply-cli") / "output"
    result = run("build", "--definitions", str(DEFINITIONS), "--output", str(output), "--no-validate")
    assert result.exit_code == 0, result.output
    return output


@pytest.mark.parametrize("form", ["id", "folder", "bundle-collection.json", "bundle-transaction.json", "package.tgz"])
def test_apply_accepts_every_built_form(built: Path, tmp_path: Path, form: str) -> None:
    target = {"id": "applydemo", "folder": str(built / "applydemo")}.get(form, str(built / "applydemo" / form))
    out = tmp_path / "result.json"
    result = run("apply", target, "--output", str(built), "--patient", str(PATIENT), "--date", DATE, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 applicable recommendation(s): calcitonin, no-vertebroplasty, adult-education" in result.output
    bundle = json.loads(out.read_text())
    assert bundle["entry"][0]["resource"]["resourceType"] == "RequestGroup"


def test_apply_prints_the_bundle_on_stdout(built: Path) -> None:
    result = CliRunner().invoke(main, ["apply", "applydemo", "--output", str(built), "--patient", str(PATIENT),
                                       "--date", DATE], catch_exceptions=False)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["resourceType"] == "Bundle"
    assert "3 applicable" in result.stderr


@pytest.mark.parametrize(("content", "code"), [
    ("{not json", "APPLY021"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", '
     '"id": "p", "extension": [{"url": "x", "valueDecimal": NaN}]}}]}', "APPLY021"),
    ('{"resourceType": "Patient", "id": "x"}', "APPLY022"),
    ('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition"}}]}',
     "APPLY023"),
])
def test_apply_bad_patient_is_one_line_and_exit_2(built: Path, tmp_path: Path, content: str, code: str) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text(content)
    result = run("apply", "applydemo", "--output", str(built), "--patient", str(patient), "--date", DATE)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"error[{code}]")
    assert "Traceback" not in result.output


def test_apply_unknown_guideline(built: Path) -> None:
    result = run("apply", "nope", "--output", str(built), "--patient", str(PATIENT), "--date", DATE)
    assert result.exit_code == 2
    assert result.stderr.startswith("error[APPLY001]") and "applydemo" in result.stderr


def test_apply_engine_failure(built: Path, tmp_path: Path) -> None:
    result = run("apply", "applydemo", "--output", str(built), "--patient", str(PATIENT), "--date", DATE,
                 env={"CPG_NODE_MODULES": str(tmp_path)})
    assert result.exit_code == 2  # an environment fault (issue #16): ENV003, with the fix
    assert result.stderr.startswith("error[ENV003]") and "npm ci" in result.stderr


def test_apply_bad_date(built: Path) -> None:
    result = run("apply", "applydemo", "--output", str(built), "--patient", str(PATIENT), "--date", "01/03/2026")
    assert result.exit_code == 2 and result.stderr.startswith("error[APPLY026]")


def test_cpg_test_passes_on_the_demo_scenarios(built: Path) -> None:
    result = run("test", "applydemo", "--definitions", str(DEFINITIONS), "--output", str(built))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["scenario", "date", "result"]
    assert sum(" PASS " in line for line in lines) == 5
    assert lines[-1] == "5 passed, 0 failed"


def test_cpg_test_fresh_needs_no_output(tmp_path: Path) -> None:
    result = run("test", "--definitions", str(DEFINITIONS), "--output", str(tmp_path / "none"), "--fresh")
    assert result.exit_code == 0, result.output


@pytest.fixture()
def wrong_expectation(tmp_path: Path) -> Path:
    """A copy of the demo definitions whose first scenario expects the wrong thing."""
    definitions = tmp_path / "definitions"
    shutil.copytree(DEMO, definitions / "applydemo")
    init = definitions / "applydemo" / "__init__.py"
    text = init.read_text()
    text = text.replace('present=["calcitonin", "no-vertebroplasty", "adult-education"])',
                        'present=["no-vertebroplasty", "adult-education"], absent=["calcitonin"])', 1)
    text = text.replace('"../../../golden/minimal/sources"', repr(str(DEFINITIONS.parent.parent / "golden" / "minimal" / "sources")))
    init.write_text(text)
    return definitions


def test_cpg_test_fails_with_exit_1_and_says_why(wrong_expectation: Path, tmp_path: Path) -> None:
    result = run("test", "--definitions", str(wrong_expectation), "--output", str(tmp_path / "none"), "--fresh")
    assert result.exit_code == 1
    failing = [line for line in result.stdout.splitlines() if " FAIL " in line]
    assert len(failing) == 1 and failing[0].startswith("applydemo/acute-adult ")
    assert "applicable but expected absent: calcitonin" in failing[0]
    assert "4 passed, 1 failed" in result.stdout.splitlines()
    # Then what failed, with the features that decided it.
    assert result.stdout.splitlines()[-1] == ("  applicable but expected absent: calcitonin (decided by Acute Fracture = "
                                              "true, Adult = true, Low Creatinine Clearance = false)")


def test_cpg_test_unbuilt_guideline(tmp_path: Path) -> None:
    result = run("test", "applydemo", "--definitions", str(DEFINITIONS), "--output", str(tmp_path))
    assert result.exit_code == 2 and result.stderr.startswith("error[TEST003]")


def test_cpg_test_unknown_guideline() -> None:
    result = run("test", "nope", "--definitions", str(DEFINITIONS))
    assert result.exit_code == 2 and result.stderr.startswith("error[TEST001]")


def test_node_is_not_left_running(built: Path) -> None:
    before = set(os.listdir("/proc")) if os.path.isdir("/proc") else set()
    run("apply", "applydemo", "--output", str(built), "--patient", str(PATIENT), "--date", DATE)
    after = set(os.listdir("/proc")) if os.path.isdir("/proc") else set()
    for pid in after - before:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        # Only engines of this checkout: other checkouts on the machine may run their own meanwhile.
        assert str(ROOT / "generator" / "apply" / "node" / "engine.mjs").encode() not in cmdline
