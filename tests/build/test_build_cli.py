"""`cpg build`: determinism, --check, atomic writes, located errors and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

MINIMAL = Path(__file__).resolve().parent.parent / "golden" / "minimal"


@pytest.fixture()
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the minimal case (definitions + sources) to build and mutate."""
    shutil.copytree(MINIMAL / "definitions", tmp_path / "definitions")
    shutil.copytree(MINIMAL / "sources", tmp_path / "sources")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_two_builds_are_byte_identical(workspace: Path) -> None:
    assert run("build", "--no-validate").exit_code == 0
    first = _tree(workspace / "output")
    assert run("build", "--no-validate").exit_code == 0
    assert _tree(workspace / "output") == first
    assert "minimal/resources/PlanDefinition-calcitonin.json" in first


def test_check_passes_when_current_and_fails_after_a_definition_changes(workspace: Path) -> None:
    assert run("build", "--no-validate").exit_code == 0
    assert run("build", "--check", "--no-validate").exit_code == 0
    init = workspace / "definitions" / "minimal" / "__init__.py"
    init.write_text(init.read_text().replace("Give calcitonin for 4 weeks.", "Give calcitonin for four weeks."))
    result = run("build", "--check", "--no-validate")
    assert result.exit_code == 1
    assert "stale: output/minimal/resources/PlanDefinition-calcitonin.json" in result.output


def test_check_fails_when_output_was_edited_by_hand(workspace: Path) -> None:
    assert run("build", "--no-validate").exit_code == 0
    (workspace / "output" / "minimal" / "cql" / "Minimal.cql").write_text("edited")
    assert run("build", "--check", "--no-validate").exit_code == 1


def test_errors_leave_output_untouched(workspace: Path) -> None:
    assert run("build", "--no-validate").exit_code == 0
    before = _tree(workspace / "output")
    init = workspace / "definitions" / "minimal" / "__init__.py"
    init.write_text(init.read_text().replace('version="1.0.0"', 'version="1.0"'))
    result = run("build", "--no-validate")
    assert result.exit_code == 1
    assert "error[RULE002] definitions/minimal/__init__.py:" in result.output
    assert _tree(workspace / "output") == before
    assert not [p for p in (workspace / "output").iterdir() if p.name.startswith(".")]


def test_missing_definitions_folder_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("build")
    assert result.exit_code == 1
    assert "error[LOAD001]" in result.output
    assert "Traceback" not in result.output


def test_a_mistyped_command_gets_a_suggestion() -> None:
    """Sub-commands load lazily; click's "did you mean" must still know them."""
    result = CliRunner().invoke(main, ["bild"])
    assert result.exit_code == 2
    assert "No such command 'bild'" in result.output and "build" in result.output.split("No such command")[1]
