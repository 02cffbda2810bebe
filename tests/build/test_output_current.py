"""The committed output/ is the golden file of the real guidelines: it must be current."""

from __future__ import annotations

from pathlib import Path

from generator.compile import compile_definitions
from generator.write import stale_files

ROOT = Path(__file__).resolve().parents[2]


def test_committed_output_is_what_the_definitions_produce(session_translator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    result = compile_definitions(Path("definitions"), translator=session_translator)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert result.guidelines, "no guideline under definitions/"
    for built in result.guidelines:
        assert stale_files(built, Path("output")) == [], "output/ is stale: run `make build` and commit"
