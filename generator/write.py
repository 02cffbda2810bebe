"""WRITE phase: lay out a built guideline under output/<guideline-id>/, atomically.

Files are produced in memory first (`artifact_files`); `write_output` writes them to a
temporary sibling folder and swaps it in, so an error leaves `output/` untouched.
`check_output` compares instead of writing (`cpg build --check`).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from generator.compile import BuiltGuideline
from generator.jsonfmt import dump_json

if TYPE_CHECKING:
    from generator.publish import Review


def artifact_files(built: BuiltGuideline, *, review: Review | None = None) -> dict[str, bytes]:
    """Relative path -> bytes for everything under output/<guideline-id>/.

    `review`: what the site shows beyond the build, computed by the caller (see `publication_files`)."""
    return dict(sorted(iter_artifact_files(built, review=review)))


def iter_artifact_files(built: BuiltGuideline, *, review: Review | None = None) -> Iterator[tuple[str, bytes]]:
    """`artifact_files` as they are made (a path may come twice: the last one counts), the site last."""
    for resource in built.resources:
        yield f"resources/{resource['resourceType']}-{resource['id']}.json", dump_json(resource)
    for name, translation in built.logic.translations.items():
        yield f"elm/{name}.json", translation.elm_json.encode("utf-8")
    yield f"cql/{built.logic.library.name}.cql", built.logic.library.text.encode("utf-8")
    yield "cql/FHIRHelpers.cql", built.logic.fhirhelpers.encode("utf-8")
    from generator.publish import iter_publication_files  # PUBLISH: bundles, the NPM package, the site

    yield from iter_publication_files(built, review=review)


def _read_tree(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stale_files(built: BuiltGuideline, output_dir: Path, *, review: Review | None = None) -> list[str]:
    """Paths that differ between what the definitions produce and output/<id>/ (sorted)."""
    expected = artifact_files(built, review=review)
    actual = _read_tree(output_dir / built.id)
    return sorted(p for p in expected.keys() | actual.keys() if expected.get(p) != actual.get(p))


#: What follows `.<guideline-id>.` in a staging folder's name: mkdtemp's suffix, or `old` (commit).
_LEFTOVER = re.compile(r"[a-z0-9_]{8}|old")


class StagedOutput:
    """Guideline folders written to temporary siblings as they come, swapped in by `commit`.

    Nothing in `output/` changes until `commit`, which replaces each guideline's folder with one
    rename (a reader sees a folder whole, old or new, never a mix).

    Why: `cpg build` streams guidelines (each is written, then dropped from memory) yet must
    leave `output/` untouched when any guideline fails; leaving the context without `commit`
    (an error, an exception) removes everything staged.
    """

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self._staged: list[tuple[Path, Path]] = []
        recover_interrupted_swaps(output_dir)

    def __enter__(self) -> "StagedOutput":
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()  # after commit nothing is staged any more: a no-op

    def add(self, built: BuiltGuideline, *, review: Review | None = None) -> None:
        """Write one guideline's files into its temporary folder."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers(built.id)
        tmp = Path(tempfile.mkdtemp(prefix=f".{built.id}.", dir=self.output_dir))
        self._staged.append((tmp, self.output_dir / built.id))
        folders: set[Path] = set()
        # Written as they are made: the site comes last, so the rest is stored while scenarios run.
        for rel, data in iter_artifact_files(built, review=review):
            target = tmp / rel
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            target.write_bytes(data)

    def _remove_leftovers(self, guideline_id: str) -> None:
        """Staging folders a killed build left behind for this guideline (hidden; never swapped in)."""
        ours = {tmp for tmp, _ in self._staged}
        for folder in self.output_dir.glob(f".{glob.escape(guideline_id)}.*"):
            if folder.is_dir() and folder not in ours and _LEFTOVER.fullmatch(folder.name[len(guideline_id) + 2:]):
                shutil.rmtree(folder, ignore_errors=True)

    def discard(self) -> None:
        for tmp, _ in self._staged:
            shutil.rmtree(tmp, ignore_errors=True)
        self._staged.clear()

    def commit(self) -> list[Path]:
        """Replace each guideline's folder with its staged one; returns the folders written."""
        written = []
        for tmp, final in self._staged:
            old = None
            if final.exists():
                old = final.with_name(f".{final.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(final, old)
            os.replace(tmp, final)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
            written.append(final)
        self._staged.clear()
        return written


def recover_interrupted_swaps(output_dir: Path) -> list[Path]:
    """Repair what a build killed inside `commit` left: the swap is two renames (folder -> .old,
    staged -> folder). Killed between them, the guideline's folder is missing and `.<id>.old`
    holds the last complete build: it is renamed back. Killed after them, `.old` is garbage.
    Returns the folders restored."""
    restored = []
    if not output_dir.is_dir():
        return restored
    for old in sorted(output_dir.glob(".*.old")):
        final = output_dir / old.name[1:-len(".old")]
        if not old.is_dir() or not final.name:
            continue
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, final)
            restored.append(final)
    return restored


def write_output(builds: list[BuiltGuideline], output_dir: Path) -> list[Path]:
    """Write every guideline's files; each folder is replaced as a whole (temp dir, then swap)."""
    with StagedOutput(output_dir) as staged:
        for built in builds:
            staged.add(built)
        return staged.commit()
