"""The `cpg` command line: a thin click shell over the library calls.

Each sub-command lives in its own module; this module only assembles the group and
turns `GeneratorError` into printed diagnostics and an exit code (no traceback unless
`--debug`).
"""

from __future__ import annotations

import click

from generator.cli._common import main

# Sub-commands register themselves on `main` when imported.
from generator.cli import _build  # noqa: F401,E402
from generator.cli import _validate  # noqa: F401,E402
from generator.cli import _cql  # noqa: F401,E402
from generator.cli import _apply  # noqa: F401,E402

__all__ = ["main"]
