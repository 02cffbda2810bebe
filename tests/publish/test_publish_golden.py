"""Golden tests of what PUBLISH writes for the minimal guideline (bundles, package metadata).

Compared as parsed JSON with a unified diff; `pytest --update-golden` rewrites `expected/`.
The large Library content (base64 CQL/ELM) is covered by the build golden tests, so here it
is replaced by its length to keep the expected files reviewable.
"""

from __future__ import annotations

import difflib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

EXPECTED = Path(__file__).resolve().parent / "expected"


def _shrink(node: Any) -> Any:
    """Library attachments -> a placeholder with their size; everything else as is."""
    if isinstance(node, dict):
        if "contentType" in node and "data" in node:
            return {**node, "data": f"<{len(node['data'])} base64 characters>"}
        return {k: _shrink(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shrink(v) for v in node]
    return node


def _package_member(tgz: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile(f"package/{name}")
        assert member is not None
        return member.read()


def _actual(files: dict[str, bytes]) -> dict[str, Any]:
    tgz = files["package.tgz"]
    return {
        "bundle-transaction.json": _shrink(json.loads(files["bundle-transaction.json"])),
        "bundle-collection.json": _shrink(json.loads(files["bundle-collection.json"])),
        "package.json": json.loads(_package_member(tgz, "package.json")),
        ".index.json": json.loads(_package_member(tgz, ".index.json")),
        "ImplementationGuide-cpg.minimal.json": json.loads(_package_member(tgz, "ImplementationGuide-cpg.minimal.json")),
    }


def test_publish_golden(minimal_files: dict[str, bytes], update_golden: bool) -> None:
    actual = _actual(minimal_files)
    if update_golden:
        EXPECTED.mkdir(exist_ok=True)
        for name, data in actual.items():
            (EXPECTED / name).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    for name, data in actual.items():
        path = EXPECTED / name
        assert path.is_file(), f"missing {path} (run pytest --update-golden and review)"
        expected = json.loads(path.read_text(encoding="utf-8"))
        if expected != data:
            diff = difflib.unified_diff(
                json.dumps(expected, indent=2, ensure_ascii=False).splitlines(),
                json.dumps(data, indent=2, ensure_ascii=False).splitlines(),
                f"expected/{name}", f"actual/{name}", lineterm="", n=2,
            )
            pytest.fail("\n".join(list(diff)[:120]))
