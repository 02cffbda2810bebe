"""A real FHIR server for the `cpg load` tests, and built guidelines to load into it.

The server is Medplum's FHIR router over its in-memory repository with write-time validation
(tests/server/fhir-server.mjs), started once per session on 127.0.0.1 and a free port, reset
before each test through its control endpoint, and stopped at the end.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = Path(__file__).resolve().parent / "fhir-server.mjs"
CPG = [sys.executable, "-c", "from generator.cli import main; main()"]


@dataclass
class FhirTestServer:
    port: int
    process: subprocess.Popen[str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def control(self, **body: Any) -> dict[str, Any]:
        response = httpx.post(f"http://127.0.0.1:{self.port}/$control", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"http://127.0.0.1:{self.port}/$control", timeout=30).json()

    def search(self, path: str) -> list[dict[str, Any]]:
        bundle = httpx.get(f"{self.base}/{path}", timeout=30).json()
        return [e["resource"] for e in bundle.get("entry", [])]


@pytest.fixture(scope="session")
def fhir_server_process() -> Iterator[FhirTestServer]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@medplum" / "fhir-router").is_dir():
        pytest.fail("node and `npm ci` (node_modules/@medplum/fhir-router) are needed for the load tests")
    log = tempfile.TemporaryFile()  # the server's stderr (a pipe nobody reads could fill and block it)
    process = subprocess.Popen([node, str(SERVER_SCRIPT)], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    first_line: list[str] = []
    reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout=60)
    if not first_line or not first_line[0].strip():
        process.kill()
        log.seek(0)
        pytest.fail(f"the test FHIR server did not start: {log.read()[-2000:].decode(errors='replace')}")
    server = FhirTestServer(json.loads(first_line[0])["port"], process)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        log.close()


@pytest.fixture
def fhir_server(fhir_server_process: FhirTestServer) -> FhirTestServer:
    """The session's server, emptied, without credentials or faults."""
    fhir_server_process.control(reset=True)
    return fhir_server_process


def build(definitions: Path, output: Path) -> Path:
    result = subprocess.run([*CPG, "build", "--definitions", str(definitions), "--output", str(output), "--no-validate"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return output


@pytest.fixture(scope="session")
def vcf_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The VCF guideline built from definitions/ (output/ of the branch may be stale)."""
    return build(ROOT / "definitions", tmp_path_factory.mktemp("vcf") / "output")


SYNTHETIC_N = 10


@pytest.fixture(scope="session")
def synthetic_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synthetic_guidelines
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    root = tmp_path_factory.mktemp("synthetic")
    definitions = synthetic_guidelines.generate(SYNTHETIC_N, root)
    return build(definitions, root / "output")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def cpg_load(target: str | Path, server: str, *args: str, env: dict[str, str] | None = None) -> Run:
    """`cpg load` in this process (click's runner; stdout and stderr kept apart)."""
    from click.testing import CliRunner

    from generator.cli import main

    result = CliRunner().invoke(main, ["load", str(target), "--server", server, *args], env=env,
                                catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)
