"""The two sides of `cpg diff`: a built folder, a package .tgz, or a git revision of the definitions.

Why git revisions are built in a temporary worktree: the definitions of an old revision are
Python; building them with today's generator (in memory, nothing written) gives artifacts that
differ only where the definitions differ, not where the generator changed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.apply import ApplyError, load_artifacts
from generator.diagnostics import Diagnostic, GeneratorError

__all__ = ["Version", "load_version", "is_built", "is_test_case"]


@dataclass
class Version:
    """One side of a diff: the guideline's resources and its scenarios as test-case Libraries."""

    label: str
    resources: list[dict[str, Any]]
    test_cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pathway_url(self) -> str | None:
        for resource in self.resources:
            if resource.get("resourceType") == "PlanDefinition" and _plan_type(resource) == "clinical-protocol":
                return resource.get("url")
        return None

    @property
    def guideline_version(self) -> str | None:
        for resource in self.resources:
            if resource.get("resourceType") == "PlanDefinition" and _plan_type(resource) == "clinical-protocol":
                return resource.get("version")
        return None


def is_test_case(resource: dict[str, Any]) -> bool:
    return resource.get("resourceType") == "Library" and (resource.get("type") or {}).get("text") == "test-case"


def _plan_type(resource: dict[str, Any]) -> str | None:
    codings = (resource.get("type") or {}).get("coding") or []
    return codings[0].get("code") if codings else None


def _split(label: str, resources: list[dict[str, Any]]) -> Version:
    tests = [r for r in resources if is_test_case(r)]
    return Version(label, [r for r in resources if not is_test_case(r)], tests)


def is_built(spec: str, output_dir: Path = Path("output")) -> bool:
    """Whether `spec` names built artifacts (a path, or a guideline id under `output_dir`) rather than a revision."""
    return Path(spec).exists() or (output_dir / spec).is_dir()


def load_version(spec: str, *, guideline: str | None = None, definitions: str = "definitions",
                 output_dir: Path = Path("output"), translator: Any = None) -> Version:
    """A built folder, a package/bundle file, a guideline id under `output_dir`, or a git revision.

    `translator`: a running Translator to build git revisions with (one for both sides of a diff).
    """
    path = Path(spec)
    if is_built(spec, output_dir):
        artifacts = load_artifacts(spec, output_dir)
        resources = list(artifacts.resources)
        folder = path if path.is_dir() else output_dir / spec
        for test in sorted((folder / "tests").glob("*.json")) if folder.is_dir() else []:
            try:
                resources.append(json.loads(test.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise GeneratorError([Diagnostic("DIFF005", f"cannot read test case {test}: {exc}")],
                                     exit_code=2) from exc
        return _split(spec, resources)
    return _from_git(spec, guideline, definitions, translator)


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GeneratorError([Diagnostic("DIFF002", f"git {' '.join(args)} failed: {done.stderr.strip()}")],
                             exit_code=2)
    return done.stdout.strip()


@contextlib.contextmanager
def _worktree(revision: str) -> Iterator[Path]:
    root = Path(_git("rev-parse", "--show-toplevel"))
    commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=root)
    with tempfile.TemporaryDirectory(prefix="cpg-diff-") as tmp:
        where = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(where), commit, cwd=root)
        try:
            yield where
        finally:
            _git("worktree", "remove", "--force", str(where), cwd=root)


def _from_git(revision: str, guideline: str | None, definitions: str, translator: Any) -> Version:
    from generator.apply.testcases import test_case_libraries
    from generator.compile import compile_definitions

    try:
        _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except GeneratorError:
        raise GeneratorError([Diagnostic("DIFF001", f"'{revision}' is neither a built folder, a package, a "
                                         "guideline id under output/ nor a git revision")], exit_code=2) from None
    with _worktree(revision) as tree:
        result = compile_definitions(tree / definitions, translator=translator, validate=False)
        if not result.ok:
            raise GeneratorError([Diagnostic("DIFF003", f"the definitions at {revision} do not build: "
                                             + "; ".join(str(d) for d in result.diagnostics[:3]))], exit_code=2)
        built = [b for b in result.guidelines if guideline is None or b.id == guideline]
        if len(built) != 1:
            found = ", ".join(b.id for b in result.guidelines)
            raise GeneratorError([Diagnostic("DIFF004", f"{revision} defines {found or 'no guideline'}; name one "
                                             "with --guideline")], exit_code=2)
        try:
            tests = test_case_libraries(built[0])
        except ApplyError:
            tests = []
        return Version(revision, list(built[0].resources), tests)
