"""The real guideline's scenarios through `cpg test` (skipped only while the guideline is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
VCF = ROOT / "definitions" / "vertebral_compression_fracture"
GUIDELINE = "vertebral-compression-fracture"

pytestmark = pytest.mark.skipif(not (VCF / "__init__.py").is_file(),
                                reason="definitions/vertebral_compression_fracture is not written yet")


def _run(*extra: str) -> str:
    result = CliRunner().invoke(main, ["test", GUIDELINE, "--definitions", str(ROOT / "definitions"),
                                       "--output", str(ROOT / "output"), *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_vcf_scenarios_pass_on_fresh_build() -> None:
    out = _run("--fresh")
    assert out.splitlines()[-1].endswith("passed, 0 failed")
    assert " FAIL " not in out


@pytest.mark.skipif(not (ROOT / "output" / GUIDELINE).is_dir(), reason="output/vertebral-compression-fracture not built")
def test_vcf_scenarios_pass_on_committed_output() -> None:
    out = _run()
    assert " FAIL " not in out
