"""Golden tests: the synthesized files of each case under tests/golden/ match `expected/`.

Run `pytest --update-golden` to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from generator.compile import compile_definitions
from generator.write import artifact_files

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "definitions").is_dir())


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, session_translator, update_golden: bool) -> None:  # type: ignore[no-untyped-def]
    result = compile_definitions(GOLDEN / case / "definitions", translator=session_translator)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    expected_dir = GOLDEN / case / "expected"
    actual: dict[str, bytes] = {}
    for built in result.guidelines:
        actual.update({f"{built.id}/{path}": data for path, data in artifact_files(built).items()})
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in actual.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
        return
    expected = {p.relative_to(expected_dir).as_posix(): p.read_bytes() for p in expected_dir.rglob("*") if p.is_file()}
    assert sorted(actual) == sorted(expected), "file set differs (run pytest --update-golden and review)"
    for rel in sorted(actual):
        if actual[rel] != expected[rel]:
            if rel.endswith((".tgz", ".gz")):
                pytest.fail(f"{rel} differs from the golden file")
            diff = difflib.unified_diff(
                expected[rel].decode().splitlines(), actual[rel].decode().splitlines(),
                f"expected/{rel}", f"actual/{rel}", lineterm="", n=2,
            )
            pytest.fail("\n".join(list(diff)[:80]))
