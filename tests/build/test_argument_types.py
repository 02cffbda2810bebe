"""Definition values of the wrong kind are located at the author's line with a stable code, never an
internal error: ARG001 from the annotation check at load, or the constructor's own code where the
model checks the value where it is built (an activity: RULE033)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.diagnostics import DiagnosticBag
from generator.load import load_definitions

ROOT = Path(__file__).resolve().parents[2]
VCF = ROOT / "definitions" / "vertebral_compression_fracture"

CASES = {
    "strength": ("acute_phase.py", "    direction=Direction.FOR,", '    direction=Direction.FOR, strength="strong",',
                 "ARG001", "Recommendation.strength: expected Strength"),
    "sources": ("acute_phase.py", "    sources=[", '    sources="000" if True else [', "ARG001",
                "Recommendation.sources: expected a list"),
    "activity": ("acute_phase.py", "    then=Communication(", '    then="advice" if True else Communication(',
                 "RULE033", "then= takes activities or Choice groups, got str"),
    "value-set": ("features.py", "fracture = conditions(t.VERTEBRAL_FRACTURE,", 'fracture = conditions("vertebral-fracture",',
                  "ARG001", "ConditionRecords.terminology: expected Code or ValueSet"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_kind_of_value_is_located(tmp_path: Path, case: str) -> None:
    file, old, new, code, message = CASES[case]
    package = tmp_path / "vcf"
    shutil.copytree(VCF, package, ignore=shutil.ignore_patterns("__pycache__"))
    text = (package / file).read_text("utf-8")
    assert old in text
    (package / file).write_text(text.replace(old, new, 1), "utf-8")
    bag = DiagnosticBag()
    assert load_definitions(tmp_path, bag) == []
    errors = [d for d in bag.items if d.code == code]
    assert errors and all(message in d.message for d in errors), [str(d) for d in bag.items]
    assert errors[0].location is not None and errors[0].location.file.endswith(file)
    line = errors[0].location.line
    assert re.search(r"\w", (package / file).read_text("utf-8").splitlines()[line - 1])


def test_the_shipped_definitions_pass() -> None:
    bag = DiagnosticBag()
    packages = [p for p in (ROOT / "definitions").iterdir() if (p / "__init__.py").is_file()]
    assert len(load_definitions(ROOT / "definitions", bag)) == len(packages) >= 2 and bag.items == []
