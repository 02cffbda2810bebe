"""`cpg` skips the interpreter's final collection at exit, and only at exit."""

from __future__ import annotations

import gc
import subprocess
import sys

from click.testing import CliRunner

from generator.cli import main


def test_running_commands_in_process_leaves_the_collector_alone() -> None:
    before = gc.get_freeze_count()
    for _ in range(2):
        assert CliRunner().invoke(main, ["cache", "info"]).exit_code == 0
    assert gc.get_freeze_count() == before  # a host program (or this test run) still collects


def test_the_objects_are_frozen_when_the_process_exits() -> None:
    # The exit handler is gc.freeze itself: after it, a handler registered earlier (so run later)
    # sees a frozen heap.
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: sys.stdout.write(f'frozen={gc.get_freeze_count() > 0}\\n'))\n"
        "from generator.cli import main\n"
        "main(['cache', 'info'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("frozen=True")
