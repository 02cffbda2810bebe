"""Environment faults (Node missing, too old, hung, killed; disk full) end with a stable ENV code,
the fix and exit code 2 - never "internal error"."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator._node import JsonLinesProcess
from generator.cql.translator import TranslatorError
from generator.environment import environment_fault

ROOT = Path(__file__).resolve().parents[1]
CPG = str(Path(sys.executable).parent / "cpg")
BUILT = ROOT / "output" / "vertebral-compression-fracture"
PATIENT = ROOT / "definitions" / "vertebral_compression_fracture" / "scenarios" / "crcl-25.json"


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _cpg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CPG, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("kind, code", [("missing", "ENV001"), ("old", "ENV002"), ("killed", "ENV005")])
def test_node_faults_in_build_and_apply(tmp_path: Path, kind: str, code: str) -> None:
    node = {
        "missing": str(tmp_path / "no-node"),
        "old": str(_script(tmp_path, "old", "echo v16.20.0\n")),
        "killed": str(_script(tmp_path, "killed", 'if [ "$1" = "--version" ]; then echo v20.0.0; exit 0; fi\nkill -9 $$\n')),
    }[kind]
    for args in (("build", "--check"),
                 ("apply", str(BUILT), "--patient", str(PATIENT), "--date", "2026-01-01")):
        done = _cpg(*args, env={"CPG_NODE": node})
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error[{code}]") and "fix:" in done.stderr, done.stderr
        assert "internal error" not in done.stderr


def test_hung_node_process_is_env004() -> None:
    process = JsonLinesProcess(env=dict(os.environ), error=TranslatorError, name="the translator", label="translator")
    process.start(["sleep", "30"])
    try:
        with pytest.raises(TranslatorError) as err:
            process.request({"op": "ping"}, timeout=0.3)
    finally:
        process.kill()
    fault = environment_fault(err.value)
    assert fault is not None and fault.code == "ENV004"


def test_disk_full_is_env006(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    done = _cpg("apply", str(BUILT), "--patient", str(PATIENT), "--date", "2026-01-01", "--out", "/dev/full")
    assert done.returncode == 2 and done.stderr.startswith("error[ENV006]"), done.stderr


@pytest.mark.parametrize("exc, code", [
    (OSError(errno.ENOSPC, "No space left on device", "output/x"), "ENV006"),
    (PermissionError(errno.EACCES, "Permission denied", "output/x"), "ENV007"),
    (MemoryError(), "ENV008"),
    (TranslatorError("the translator process exited unexpectedly (exit code -9)"), "ENV005"),
])
def test_classifier(exc: BaseException, code: str) -> None:
    fault = environment_fault(exc)
    assert fault is not None and fault.code == code and fault.exit_code == 2


def test_other_errors_are_not_environment_faults() -> None:
    assert environment_fault(ValueError("x")) is None
    assert environment_fault(TranslatorError("translator error: syntax error at 3:4")) is None
