"""`cpg diff`: each planted change between two fixture versions, the bump it needs, and the inputs."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.apply import Engine
from generator.apply.testcases import test_case_libraries
from generator.cli import main
from generator.compile import compile_definitions
from generator.cql.translator import Translator
from generator.diff import Diff, Version, changes_since, diff_versions
from generator.diff.report import as_markdown

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def versions(session_translator: Translator) -> tuple[Version, Version]:
    out = []
    for name in ("v1", "v2"):
        result = compile_definitions(HERE / name, translator=session_translator, validate=False)
        assert result.ok, [str(d) for d in result.diagnostics]
        built = result.guidelines[0]
        out.append(Version(name, built.resources, test_case_libraries(built)))
    return out[0], out[1]


@pytest.fixture(scope="module")
def diff(versions: tuple[Version, Version]) -> Iterator[Diff]:
    with Engine() as engine:
        yield diff_versions(*versions, engine=engine)


def _kinds(diff: Diff, rid: str) -> dict[str, str]:
    rec = next(r for r in diff.recommendations if r.id == rid)
    return {c.kind: c.bump for c in rec.changes}


def test_each_planted_change_is_reported_with_its_bump(diff: Diff) -> None:
    status = {r.id: r.status for r in diff.recommendations}
    assert status == {"added-rec": "added", "removed-rec": "removed", "calcitonin": "changed",
                      "education": "changed", "brace": "changed"}
    assert _kinds(diff, "added-rec") == {"added": "minor"}
    assert _kinds(diff, "removed-rec") == {"removed": "major"}
    # The fracture value set gained a code: listed under every recommendation whose applicability uses it.
    assert _kinds(diff, "education") == {"strength": "minor", "value-set": "minor"}
    assert _kinds(diff, "calcitonin") == {"dose": "minor", "value-set": "minor"}
    assert _kinds(diff, "brace") == {"applicability": "minor", "value-set": "minor", "behaviour": "major"}
    behaviour = next(c for r in diff.recommendations if r.id == "brace" for c in r.changes if c.kind == "behaviour")
    assert "acute-child (no longer applies)" in behaviour.detail
    assert [c.detail for c in diff.value_sets] == [
        "value set http://example.org/fhir/demo/ValueSet/vertebral-fracture: added http://snomed.info/sct|203450003"]
    assert diff.bump == "major" and diff.breaking
    assert any(r.startswith("removed-rec") for r in diff.reasons)
    markdown = as_markdown(diff)
    assert "Proposed version bump: **major**" in markdown and "### Removed" in markdown


def test_bumps_for_single_changes(versions: tuple[Version, Version]) -> None:
    old, new = versions
    assert diff_versions(old, old).bump == "none"
    # Only the added recommendation and the value set: minor.
    only_added = Version("v1+added", old.resources + [r for r in new.resources if r.get("id") == "added-rec"])
    assert changes_since(old, only_added).bump == "minor"
    # A title change: patch.
    retitled = copy.deepcopy(old.resources)
    pd = next(r for r in retitled if r["resourceType"] == "PlanDefinition" and r["id"] == "education")
    pd["title"] = "Education (reworded)"
    assert diff_versions(old, Version("retitled", retitled)).bump == "patch"
    # The pathway's description: patch, listed with the pathway.
    described = copy.deepcopy(old.resources)
    pathway = next(r for r in described if r["resourceType"] == "PlanDefinition" and r["id"] == "demo")
    pathway["description"] = "Reworded."
    result = diff_versions(old, Version("described", described))
    assert result.bump == "patch" and [c.detail for c in result.plans] == ["plan demo: description changed"]
    # Direction reversed: major.
    reversed_ = copy.deepcopy(old.resources)
    pd = next(r for r in reversed_ if r["resourceType"] == "PlanDefinition" and r["id"] == "education")
    for ext in pd["action"][0]["extension"]:
        for coding in (ext.get("valueCodeableConcept") or {}).get("coding", []):
            if coding.get("code") == "for":
                coding["code"] = "against"
    result = diff_versions(old, Version("reversed", reversed_))
    assert result.bump == "major" and _kinds(result, "education") == {"direction": "major"}
    assert result.declared_bump == "none" and result.declared_enough is False  # both sides say 1.0.0


def _run(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _write_folder(version: Version, folder: Path) -> str:
    """A built folder as `cpg build` lays it out (resources/ and tests/), from the in-memory build."""
    for sub, items in (("resources", version.resources), ("tests", version.test_cases)):
        (folder / sub).mkdir(parents=True)
        for resource in items:
            (folder / sub / f"{resource['resourceType']}-{resource['id']}.json").write_text(json.dumps(resource))
    return str(folder)


def test_cli_built_folders_and_fail_on(versions: tuple[Version, Version], tmp_path: Path) -> None:
    old, new = (_write_folder(v, tmp_path / v.label) for v in versions)
    result = _run("diff", old, new, "--format", "json", "--fail-on", "breaking")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    document = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert document["bump"] == "major" and document["behaviourChecked"] is True
    assert [r["id"] for r in document["recommendations"] if r["status"] == "removed"] == ["removed-rec"]
    assert document["declaredBump"] == "major" and document["declaredEnough"] is True  # 1.0.0 -> 2.0.0
    assert _run("diff", old, new, "--no-behaviour", "--fail-on", "undeclared").exit_code == 0  # type: ignore[attr-defined]
    assert _run("diff", old, old, "--no-behaviour", "--fail-on", "breaking").exit_code == 0  # type: ignore[attr-defined]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_cli_git_revisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / "definitions").mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for name in ("v1", "v2"):
        shutil.rmtree(repo / "definitions" / "demo", ignore_errors=True)
        shutil.copytree(HERE / name / "demo", repo / "definitions" / "demo",
                        ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
        subprocess.run([*git, "-C", str(repo), "commit", "-qm", name], check=True)
    monkeypatch.chdir(repo)
    result = _run("diff", "HEAD~1", "HEAD", "--no-behaviour")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "proposed version bump: major" in result.stdout  # type: ignore[attr-defined]
    assert "removed:\n  removed-rec" in result.stdout  # type: ignore[attr-defined]
    assert subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True, text=True,
                          check=True).stdout.count("\n") == 1  # the temporary worktree is gone
    unknown = _run("diff", "no-such-revision", "HEAD")
    assert unknown.exit_code == 2 and "DIFF001" in unknown.output  # type: ignore[attr-defined]


def test_different_guidelines_are_refused(versions: tuple[Version, Version]) -> None:
    from generator.diagnostics import GeneratorError

    old, _ = versions
    other = copy.deepcopy(old.resources)
    for resource in other:
        if resource.get("url"):
            resource["url"] = resource["url"].replace("/fhir/demo/", "/fhir/other/")
    with pytest.raises(GeneratorError) as caught:
        diff_versions(old, Version("other", other))
    assert caught.value.diagnostics[0].code == "DIFF006" and caught.value.exit_code == 2


def test_a_cql_attachment_that_is_not_base64_is_named_not_an_internal_error(versions: tuple[Version, Version]) -> None:
    from generator.diagnostics import GeneratorError

    old, new = versions
    broken = copy.deepcopy(new.resources)
    library = next(r for r in broken if r.get("resourceType") == "Library"
                   and any(str(c.get("contentType", "")).startswith("text/cql") for c in r.get("content", [])))
    index = next(i for i, c in enumerate(library["content"]) if str(c["contentType"]).startswith("text/cql"))
    library["content"][index]["data"] = "@@ not base64 @@"
    with pytest.raises(GeneratorError) as caught:
        diff_versions(old, Version("broken", broken))
    (finding,) = caught.value.diagnostics
    assert finding.code == "DIFF008" and caught.value.exit_code == 2
    assert finding.resource == f"Library/{library['id']}" and finding.path == f"Library.content[{index}].data"
    assert finding.message.startswith("broken: ")
