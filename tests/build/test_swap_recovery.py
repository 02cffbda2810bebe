"""The output/ swap is crash-safe: a build killed between (or after) the two renames of `commit`
leaves a state the next build repairs, with the guideline folder whole (old or new)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.write import StagedOutput

ROOT = Path(__file__).resolve().parents[2]

_KILLED_COMMIT = """
import os, signal, sys
from pathlib import Path
from generator import write
out, step = Path(sys.argv[1]), int(sys.argv[2])
staged = write.StagedOutput(out)
tmp = out / ".g.abcd1234"
tmp.mkdir()
(tmp / "f.txt").write_text("new")
staged._staged.append((tmp, out / "g"))
real, calls = os.replace, [0]
def replace(src, dst):
    real(src, dst)
    calls[0] += 1
    if calls[0] == step:
        os.kill(os.getpid(), signal.SIGKILL)
write.os.replace = replace
staged.commit()
"""


@pytest.mark.parametrize("step, expected", [(1, "old"), (2, "new")])
def test_kill_during_swap_is_repaired_at_next_start(tmp_path: Path, step: int, expected: str) -> None:
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "f.txt").write_text("old")
    done = subprocess.run([sys.executable, "-c", _KILLED_COMMIT, str(tmp_path), str(step)], cwd=ROOT, timeout=60)
    assert done.returncode == -9
    if step == 1:
        assert not (tmp_path / "g").exists() and (tmp_path / ".g.old").is_dir()  # the broken state, proven
    StagedOutput(tmp_path)  # the next build starts
    assert (tmp_path / "g" / "f.txt").read_text() == expected
    assert not (tmp_path / ".g.old").exists()
