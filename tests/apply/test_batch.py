"""`cpg apply --patients`: a stream of patients through one or more engines; bad patients counted, not fatal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.apply import Engine, load_artifacts
from generator.apply._applier import Applier
from generator.apply.batch import BatchApplier, read_patients
from generator.cli import main

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "output" / "vertebral-compression-fracture"
SCENARIOS = ROOT / "definitions" / "vertebral_compression_fracture" / "scenarios"
DATE = "2026-11-21"

pytestmark = pytest.mark.skipif(not BUILT.is_dir(), reason="output/ is not built")


def _bundles() -> list[Path]:
    return sorted(SCENARIOS.glob("*.json"))[:6]


def test_folder_in_folder_out_with_bad_patients_counted(tmp_path: Path) -> None:
    patients = tmp_path / "patients"
    patients.mkdir()
    for path in _bundles():
        shutil.copy(path, patients / path.name)
    (patients / "zz-broken.json").write_text("{not json")
    (patients / "zz-no-patient.json").write_text(json.dumps({"resourceType": "Bundle", "type": "collection"}))
    out = tmp_path / "results"
    result = CliRunner().invoke(main, ["apply", str(BUILT), "--patients", str(patients), "--out", str(out),
                                       "--date", DATE, "--jobs", "2"])
    assert result.exit_code == 1, result.output
    assert "error: patient zz-broken: patient bundle" in result.output and "is not valid JSON" in result.output
    assert "error: patient zz-no-patient: patient bundle" in result.output
    assert f"{len(_bundles()) + 2} patient(s): {len(_bundles())} applied, 2 failed" in result.output
    written = sorted(p.stem for p in out.glob("*.json"))
    assert written == [p.stem for p in _bundles()]
    # Each result is what the one-patient path gives for that patient.
    with Engine() as engine:
        applier = Applier(load_artifacts(BUILT), engine)
        for path in _bundles():
            single = applier.apply(json.loads(path.read_text()), DATE).bundle
            assert json.loads((out / path.name).read_text()) == single


def test_ndjson_in_ndjson_out_in_input_order(tmp_path: Path) -> None:
    source = tmp_path / "patients.ndjson"
    bundles = [json.loads(p.read_text()) for p in _bundles()]
    lines = [json.dumps(b) for b in bundles * 3]  # 18 patients, several chunks with batch_size 4
    lines.insert(5, "[]")  # not a Bundle: reported with its line number
    source.write_text("\n".join(lines) + "\n\n")
    artifacts = load_artifacts(BUILT)
    with BatchApplier(artifacts, jobs=2, batch_size=4) as batch:
        outcomes = list(batch.run(read_patients(source), DATE))
    assert [o.label for o in outcomes] == [f"patients.ndjson:{n}" for n in range(1, len(lines) + 1)]
    assert outcomes[5].error is not None and "is not a FHIR Bundle" in outcomes[5].error
    ids = [o.result.patient_id for o in outcomes if o.result is not None]
    assert ids == [b["entry"][0]["resource"]["id"] for b in bundles * 3]

    out = tmp_path / "results.ndjson"
    result = CliRunner().invoke(main, ["apply", str(BUILT), "--patients", str(source), "--out", str(out),
                                       "--date", DATE, "--jobs", "1"])
    assert result.exit_code == 1
    assert len(out.read_text().splitlines()) == len(bundles) * 3


def test_batch_needs_a_folder_or_ndjson(tmp_path: Path) -> None:
    other = tmp_path / "patients.csv"
    other.write_text("x")
    result = CliRunner().invoke(main, ["apply", str(BUILT), "--patients", str(other), "--date", DATE])
    assert result.exit_code == 2 and "APPLY070" in result.output
    both = CliRunner().invoke(main, ["apply", str(BUILT), "--date", DATE])
    assert both.exit_code == 2 and "exactly one of --patient" in both.output
