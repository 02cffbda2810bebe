"""The scenarios travel in the NPM package as CRMI test-case Libraries under package/tests/."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from generator.apply.testcases import APPLY_OPERATION
from generator.compile import compile_definitions
from generator.publish import publication_files

DEMO = Path(__file__).resolve().parents[1] / "apply" / "definitions"


def test_package_carries_one_indexed_test_case_per_scenario(session_translator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(DEMO.parent)
    result = compile_definitions(DEMO, translator=session_translator, validate=False)
    assert result.ok, result.diagnostics
    built = result.guidelines[0]
    files = publication_files(built)
    with tarfile.open(fileobj=io.BytesIO(files["package.tgz"]), mode="r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    index = json.loads(members["package/tests/.index.json"])
    listed = sorted(entry["filename"] for entry in index["files"])
    expected = sorted(f"Library-test-{s.id}.json" for s in built.resolved.scenarios)
    assert listed == expected
    for name in expected:
        library = json.loads(members[f"package/tests/{name}"])
        assert members[f"package/tests/{name}"] == files[f"tests/{name}"]
        artifacts = [e["valueCanonical"] for e in library["extension"] if e["url"].endswith("cqf-testArtifact")]
        assert APPLY_OPERATION in artifacts
        assert library["text"]["status"] == "generated"
