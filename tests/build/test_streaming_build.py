"""Streaming build: `compile_each` yields guidelines one at a time, `StagedOutput` keeps output/ atomic.

Each guideline is compiled, checked and handed over before the next one is synthesized, and
`cpg build` writes it to a hidden staging folder at once; only when every guideline passed
are the staged folders swapped in. Any error leaves output/ exactly as it was.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import generator.compile as compile_module
from generator.cli import main
from generator.compile import BuiltGuideline, compile_definitions, compile_each
from generator.cql.phase import FHIRHELPERS
from generator.cql.render import RenderedLibrary
from generator.cql.session import TranslationSession
from generator.cql.translator import Translation, Translator
from generator.diagnostics import DiagnosticBag
from generator.synth.library import SHARED_LIBRARIES
from generator.write import StagedOutput, artifact_files

MINIMAL = Path(__file__).resolve().parent.parent / "golden" / "minimal"
SOURCE = (MINIMAL / "definitions" / "minimal" / "__init__.py").read_text(encoding="utf-8")
BROKEN_FEATURE = 'broken = Feature("Broken", cql="exists [Condition] C where C.nonsense = 1")'


def variant(guideline_id: str, name: str, *, broken: bool = False) -> str:
    """The minimal guideline under another id, name and canonical (optionally with CQL that fails)."""
    text = (SOURCE.replace('id="minimal"', f'id="{guideline_id}"')
            .replace('name="Minimal"', f'name="{name}"')
            .replace('canonical="http://example.org/fhir/minimal"', f'canonical="http://example.org/fhir/{guideline_id}"'))
    assert f'id="{guideline_id}"' in text and f'name="{name}"' in text
    if broken:
        text = re.sub(r"^adult = .*$", lambda m: m.group(0) + "\n" + BROKEN_FEATURE, text, count=1, flags=re.M)
        text = text.replace("when=acute & adult & ~low_crcl,", "when=acute & adult & ~low_crcl & broken,")
        assert "& broken," in text and BROKEN_FEATURE in text
    return text


def make_workspace(root: Path, packages: Mapping[str, str]) -> Path:
    """root/definitions/<package>/__init__.py for each package, and the sources they cite."""
    definitions = root / "definitions"
    for package, source in packages.items():
        (definitions / package).mkdir(parents=True)
        (definitions / package / "__init__.py").write_text(source, encoding="utf-8")
    shutil.copytree(MINIMAL / "sources", root / "sources")
    return definitions


def two_valid() -> dict[str, str]:
    return {"minimal": SOURCE, "minimal_two": variant("minimal-two", "MinimalTwo")}


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `folder`, hidden ones included."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.is_dir() else []


class CountingTranslator:
    """The session translator, with every call's targets recorded."""

    def __init__(self, inner: Translator) -> None:
        self.inner = inner
        self.targets: list[list[str]] = []

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None) -> dict[str, Translation]:
        self.targets.append(list(libraries if targets is None else targets))
        return self.inner.translate(libraries, targets, timeout=timeout)


# -- compile_each ---------------------------------------------------------------------------------


def test_compile_each_yields_each_guideline_before_compiling_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_translator: Translator) -> None:
    definitions = make_workspace(tmp_path, two_valid())
    monkeypatch.chdir(tmp_path)
    synthesized: list[str] = []
    released: list[str] = []
    real_synthesize = compile_module.synthesize

    def recording_synthesize(rg: Any, logic: Any, **kwargs: Any) -> list[dict[str, Any]]:
        synthesized.append(rg.guideline.id)
        return real_synthesize(rg, logic, **kwargs)

    class RecordingSession(TranslationSession):
        def release(self, library: RenderedLibrary | None) -> None:
            released.append(library.name if library else "<none>")
            super().release(library)

    monkeypatch.setattr(compile_module, "synthesize", recording_synthesize)
    monkeypatch.setattr(compile_module, "TranslationSession", RecordingSession)

    bag = DiagnosticBag()
    stream = compile_each(Path("definitions"), bag, translator=session_translator, validate=True)
    assert isinstance(stream, Iterator)
    assert synthesized == []  # nothing happens until the first guideline is pulled

    first = next(stream)
    assert isinstance(first, BuiltGuideline)
    assert first.id == "minimal"
    assert synthesized == ["minimal"], "the second guideline was synthesized before the first was handed over"
    assert released == []
    assert not bag.has_errors

    second = next(stream)
    assert isinstance(second, BuiltGuideline)
    assert second.id == "minimal-two"
    assert synthesized == ["minimal", "minimal-two"]
    assert released == ["Minimal"]  # the first guideline's translation was let go once it was handed over

    with pytest.raises(StopIteration):
        next(stream)
    assert released == ["Minimal", "MinimalTwo"]
    assert not bag.has_errors, [str(d) for d in bag.items]
    assert first.resources is not second.resources
    # each guideline owns its canonicals; only the shared libraries (FHIRHelpers) are the same resource
    shared = {r["url"] for r in first.resources if r.get("name") in SHARED_LIBRARIES}
    assert shared and all(r in second.resources for r in first.resources if r.get("url") in shared)
    assert {r["url"] for r in first.resources if "url" in r}.isdisjoint(
        {r["url"] for r in second.resources if "url" in r} - shared)
    assert definitions.is_dir()


def test_compile_each_asks_the_translator_once_per_library_and_fhirhelpers_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_translator: Translator) -> None:
    make_workspace(tmp_path, two_valid())
    monkeypatch.chdir(tmp_path)
    counting = CountingTranslator(session_translator)
    bag = DiagnosticBag()
    # validate=True: the validator's CQL layer asks for the same libraries again (answered by the session).
    built = list(compile_each(Path("definitions"), bag, translator=counting, validate=True))  # type: ignore[arg-type]
    assert [b.id for b in built] == ["minimal", "minimal-two"]
    assert not bag.has_errors, [str(d) for d in bag.items]
    assert counting.targets == [["Minimal", FHIRHELPERS], ["MinimalTwo"]]
    # Both guidelines carry the one FHIRHelpers translation.
    assert built[0].logic.translations[FHIRHELPERS] is built[1].logic.translations[FHIRHELPERS]


def test_compile_definitions_still_collects_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       session_translator: Translator) -> None:
    make_workspace(tmp_path, two_valid())
    monkeypatch.chdir(tmp_path)
    result = compile_definitions(Path("definitions"), translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert [b.id for b in result.guidelines] == ["minimal", "minimal-two"]


def test_nothing_is_yielded_after_an_error_but_every_cql_error_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_translator: Translator) -> None:
    make_workspace(tmp_path, {
        "a_broken": variant("a-broken", "ABroken", broken=True),
        "minimal": SOURCE,
        "z_broken": variant("z-broken", "ZBroken", broken=True),
    })
    monkeypatch.chdir(tmp_path)
    bag = DiagnosticBag()
    built = list(compile_each(Path("definitions"), bag, translator=session_translator, validate=False))
    assert built == []  # the valid guideline after the failing one is not handed over
    errors = [(d.code, str(d.location)) for d in bag.items if d.is_error]
    assert [code for code, _ in errors] == ["CQL001", "CQL001"]
    assert errors[0][1].startswith("definitions/a_broken/__init__.py:")
    assert errors[1][1].startswith("definitions/z_broken/__init__.py:")
    result = compile_definitions(Path("definitions"), translator=session_translator, validate=False)
    assert not result.ok and result.guidelines == []


def test_a_check_error_still_lets_every_later_guideline_be_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_translator: Translator) -> None:
    """CHECK findings of every guideline are reported (as before streaming), nothing is yielded."""
    from generator.diagnostics import Diagnostic

    make_workspace(tmp_path, two_valid())
    monkeypatch.chdir(tmp_path)
    checked: list[str] = []

    def failing_check(built: BuiltGuideline, translator: object) -> list[Diagnostic]:
        checked.append(built.id)
        return [Diagnostic("structure.invalid-value", f"planted in {built.id}")]

    monkeypatch.setattr(compile_module, "_validate", failing_check)
    bag = DiagnosticBag()
    assert list(compile_each(Path("definitions"), bag, translator=session_translator)) == []
    assert checked == ["minimal", "minimal-two"]
    assert [d.message for d in bag.items if d.is_error] == ["planted in minimal", "planted in minimal-two"]


# -- cpg build -----------------------------------------------------------------------------------


def test_cli_error_in_a_later_guideline_leaves_output_byte_for_byte_unchanged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_workspace(tmp_path, {**two_valid(), "minimal_zbroken": variant("minimal-zbroken", "MinimalZBroken",
                                                                        broken=True)})
    output = tmp_path / "out"
    (output / "minimal").mkdir(parents=True)
    (output / "minimal" / "sentinel.txt").write_bytes(b"written before the build\n")
    (output / "unrelated").mkdir()
    (output / "unrelated" / "keep.json").write_bytes(b'{"keep": true}\n')
    before = tree(output)

    staged_ids: list[str] = []
    staging_seen: list[str] = []
    real_add = StagedOutput.add

    def spying_add(self: StagedOutput, built: BuiltGuideline, **kwargs: Any) -> None:
        real_add(self, built, **kwargs)
        staged_ids.append(built.id)
        staging_seen.extend(hidden(self.output_dir))

    monkeypatch.setattr(StagedOutput, "add", spying_add)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--definitions", "definitions", "--output", "out"],
                                catch_exceptions=False)

    assert result.exit_code != 0, result.output
    assert "error[CQL001] definitions/minimal_zbroken/__init__.py:" in result.output
    assert "nonsense" in result.output
    assert "Traceback" not in result.output
    assert "wrote" not in result.output
    # The valid guidelines really were streamed into staging before the error ...
    assert staged_ids == ["minimal", "minimal-two"]
    assert any(name.startswith(".minimal.") for name in staging_seen)
    assert any(name.startswith(".minimal-two.") for name in staging_seen)
    # ... and all of it was thrown away: output/ is exactly what it was.
    assert tree(output) == before
    assert (output / "minimal" / "sentinel.txt").read_bytes() == b"written before the build\n"
    assert not (output / "minimal-two").exists()
    assert hidden(output) == []


def test_cli_build_of_two_guidelines_replaces_their_folders_only(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    make_workspace(tmp_path, two_valid())
    output = tmp_path / "out"
    (output / "minimal").mkdir(parents=True)
    (output / "minimal" / "sentinel.txt").write_text("old")
    (output / "unrelated").mkdir()
    (output / "unrelated" / "keep.txt").write_text("keep")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--no-validate", "--definitions", "definitions", "--output", "out"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "wrote out/minimal" in result.output and "wrote out/minimal-two" in result.output
    assert not (output / "minimal" / "sentinel.txt").exists()
    assert (output / "unrelated" / "keep.txt").read_text() == "keep"
    assert (output / "minimal" / "resources" / "PlanDefinition-calcitonin.json").is_file()
    assert (output / "minimal-two" / "cql" / "MinimalTwo.cql").is_file()
    assert hidden(output) == []
    assert sorted(p.name for p in output.iterdir()) == ["minimal", "minimal-two", "unrelated"]


# -- StagedOutput ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minimal_built(session_translator: Translator) -> BuiltGuideline:
    result = compile_definitions(MINIMAL / "definitions", translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.guidelines[0]


def expected_tree(built: BuiltGuideline) -> dict[str, bytes]:
    return artifact_files(built)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_staged_output_writes_to_a_hidden_folder_until_commit(tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    output = tmp_path / "out"
    with StagedOutput(output) as staged:
        staged.add(minimal_built)
        (tmp_folder,) = [output / name for name in hidden(output)]
        assert tmp_folder.name.startswith(".minimal.")
        assert files(tmp_folder) == expected_tree(minimal_built)
        assert not (output / "minimal").exists()
        written = staged.commit()
    assert written == [output / "minimal"]
    assert files(output / "minimal") == expected_tree(minimal_built)
    assert hidden(output) == []


def test_leaving_without_commit_removes_what_was_staged(tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    output = tmp_path / "out"
    (output / "minimal").mkdir(parents=True)
    (output / "minimal" / "sentinel.txt").write_text("old")
    before = tree(output)
    with StagedOutput(output) as staged:
        staged.add(minimal_built)
        assert len(hidden(output)) == 1
        assert tree(output / "minimal") == {"sentinel.txt": b"old"}  # the existing folder is untouched while staging
    assert tree(output) == before
    assert hidden(output) == []


def test_leaving_by_an_exception_removes_what_was_staged(tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "keep.txt").write_text("keep")
    with pytest.raises(RuntimeError, match="boom"):
        with StagedOutput(output) as staged:
            staged.add(minimal_built)
            assert hidden(output)
            raise RuntimeError("boom")
    assert tree(output) == {"keep.txt": b"keep"}


def test_discard_removes_staged_folders_and_commit_afterwards_writes_nothing(
        tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    output = tmp_path / "out"
    with StagedOutput(output) as staged:
        staged.add(minimal_built)
        staged.discard()
        assert hidden(output) == []
        assert staged.commit() == []
    assert list(output.iterdir()) == []


def test_commit_replaces_an_existing_folder_and_returns_the_written_paths(
        tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    output = tmp_path / "out"
    (output / "minimal" / "resources").mkdir(parents=True)
    (output / "minimal" / "sentinel.txt").write_text("old")
    (output / "minimal" / "resources" / "Stale-resource.json").write_text("{}")
    (output / "other").mkdir()
    (output / "other" / "keep.txt").write_text("keep")
    with StagedOutput(output) as staged:
        staged.add(minimal_built)
        written = staged.commit()
    assert written == [output / "minimal"]
    assert files(output / "minimal") == expected_tree(minimal_built)  # replaced as a whole, no stale file left
    assert files(output / "other") == {"keep.txt": b"keep"}
    assert hidden(output) == []  # neither the staging folder nor `.minimal.old` is left behind


def test_commit_swaps_in_every_staged_guideline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                session_translator: Translator) -> None:
    make_workspace(tmp_path, two_valid())
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "out"
    bag = DiagnosticBag()
    with StagedOutput(output) as staged:
        expected = {}
        for built in compile_each(Path("definitions"), bag, translator=session_translator, validate=False):
            staged.add(built)
            expected[built.id] = expected_tree(built)
        assert not bag.has_errors
        written = staged.commit()
    assert written == [output / "minimal", output / "minimal-two"]
    assert {gid: files(output / gid) for gid in expected} == expected
    assert hidden(output) == []


def test_staged_output_creates_the_output_folder_only_when_something_is_added(tmp_path: Path) -> None:
    output = tmp_path / "missing" / "out"
    with StagedOutput(output) as staged:
        assert staged.commit() == []
    assert not output.exists()


def test_staging_folders_a_killed_build_left_are_removed(tmp_path: Path, minimal_built: BuiltGuideline) -> None:
    out = tmp_path / "output"
    leftovers = [out / ".minimal.abcd_123", out / ".minimal.old"]
    kept = [out / ".minimal-two.abcd_123", out / ".minimal.not-a-staging-name", out / "minimal-notes"]
    for folder in leftovers + kept:
        (folder / "resources").mkdir(parents=True)
    with StagedOutput(out) as staged:
        staged.add(minimal_built)
        assert not any(folder.exists() for folder in leftovers)
        assert all(folder.exists() for folder in kept)
        staged.commit()
    assert (out / "minimal" / "resources").is_dir()
