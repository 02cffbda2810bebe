"""Malformed and hostile inputs give located diagnostics and the right exit code, never a traceback."""

from __future__ import annotations

import json
import tarfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.validate import ValidationOptions, load_artifacts, validate
from tests.validate.conftest import CONFORMANT, conformant_resources
from tests.validate.rule_cases import conformant_package, member, tgz


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def codes(path: Path) -> set[str]:
    artifacts, diags = load_artifacts(path)
    return {d.code for d in diags + validate(artifacts, ValidationOptions(cql=False))}


def test_truncated_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pd.json"
    path.write_text('{\n  "resourceType": "PlanDefinition",\n  "id": \n', "utf-8")
    _, diags = load_artifacts(path)
    (d,) = diags
    assert d.code == "input.invalid-json" and d.location is not None and d.location.line == 4
    assert "column" in d.message
    code, out = run_cli(str(path), "--no-cql")
    assert code == 1 and "input.invalid-json" in out and "Traceback" not in out


def test_wrong_types_are_structure_errors(tmp_path: Path) -> None:
    pd = json.loads((CONFORMANT / "PlanDefinition-order-hba1c.json").read_text())
    pd["action"] = {"title": ["not", "a", "string"]}
    pd["experimental"] = "yes"
    (tmp_path / "pd.json").write_text(json.dumps(pd))
    found = codes(tmp_path)
    assert "structure.invalid-value" in found


def test_json_array_and_scalars_are_not_fhir(tmp_path: Path) -> None:
    for i, text in enumerate(["[1, 2]", "42", "null", '"x"']):
        (tmp_path / f"{i}.json").write_text(text)
    _, diags = load_artifacts(tmp_path)
    assert [d.code for d in diags] == ["input.not-fhir"] * 4


def test_fifty_megabyte_json_file_is_rejected_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    chunk = b'"' + b"x" * (2**20 - 3) + b'",'
    with path.open("wb") as f:
        f.write(b'{"resourceType": "Basic", "padding": [')
        for _ in range(50):
            f.write(chunk)
        f.write(b'""]}')
    assert path.stat().st_size > 50 * 2**20
    started = time.perf_counter()
    code, out = run_cli(str(path), "--no-cql")
    assert code == 1 and "input.too-large" in out
    assert time.perf_counter() - started < 2.0


def test_package_with_parent_traversal_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "evil.tgz"
    path.write_bytes(tgz([member("package/../../outside.json", b'{"resourceType": "Basic"}'),
                          member("/etc/abs.json", b'{"resourceType": "Basic"}')]))
    _, diags = load_artifacts(path)
    assert [d.code for d in diags] == ["input.package-unsafe", "input.package-unsafe", "input.package-manifest"]
    assert not (tmp_path.parent / "outside.json").exists()
    code, out = run_cli(str(path), "--no-cql")
    assert code == 1 and "path traversal" in out and "absolute path" in out


def test_package_with_links_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "links.tgz"
    path.write_bytes(tgz([member("package/link.json", type=tarfile.SYMTYPE, linkname="/etc/passwd"),
                          member("package/hard.json", type=tarfile.LNKTYPE, linkname="package/x.json")]))
    _, diags = load_artifacts(path)
    assert [d.code for d in diags] == ["input.package-unsafe", "input.package-unsafe", "input.package-manifest"]
    assert all("link" in d.message for d in diags[:2])


def test_unreadable_package_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.tgz"
    path.write_bytes(conformant_package()[:100])
    code, out = run_cli(str(path), "--no-cql")
    assert code == 2 and "input.package-invalid" in out


def test_missing_path_exits_2(tmp_path: Path) -> None:
    code, out = run_cli(str(tmp_path / "nope"))
    assert code == 2 and "input.missing" in out


def test_package_loads_like_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "ok.tgz"
    path.write_bytes(conformant_package())
    artifacts, diags = load_artifacts(path)
    assert diags == [] and len(artifacts) == len(conformant_resources())
    assert all(a.source and "!package/" in a.source for a in artifacts)


def test_bundle_entries_are_unpacked(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in conformant_resources()]}
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    artifacts, diags = load_artifacts(path)
    assert diags == [] and len(artifacts) == len(bundle["entry"])
    assert validate(artifacts, ValidationOptions(cql=False)) == []


@pytest.mark.parametrize("name", ["package.json", ".index.json"])
def test_package_metadata_files_are_not_resources(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text('{"name": "x"}')
    (tmp_path / "r.json").write_text((CONFORMANT / "ValueSet-type-2-diabetes.json").read_text())
    artifacts, diags = load_artifacts(tmp_path)
    assert len(artifacts) == 1 and diags == []


BUILT = Path(__file__).resolve().parents[2] / "output" / "vertebral-compression-fracture"


def test_built_guideline_folder_validates_with_zero_errors() -> None:
    """resources/, both bundles, package.tgz, tests/ and elm/ together: copies count once, ELM is skipped."""
    status, out = run_cli(str(BUILT), "--no-cql")
    assert status == 0, out
    assert out.strip().splitlines()[-1].startswith("0 errors")


def test_identical_copies_count_once_but_conflicting_ones_are_errors(tmp_path: Path) -> None:
    resource = json.loads(next((BUILT / "resources").glob("ActivityDefinition-*.json")).read_text())
    (tmp_path / "a.json").write_text(json.dumps(resource))
    (tmp_path / "b.json").write_text(json.dumps(resource))
    assert "input.duplicate-id" not in codes(tmp_path)
    resource["title"] = "changed"
    (tmp_path / "b.json").write_text(json.dumps(resource))
    assert "input.duplicate-id" in codes(tmp_path)
