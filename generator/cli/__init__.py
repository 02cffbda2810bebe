"""The `cpg` command line: a thin click shell over the library calls.

Each sub-command lives in its own module, imported only when that command runs (see
`_common.LazyGroup`); `GeneratorError` becomes printed diagnostics and an exit code (no
traceback unless `--debug`).
"""

from __future__ import annotations

from generator.cli._common import main

__all__ = ["main"]
