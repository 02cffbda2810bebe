"""The user's cache directory, shared by every cache the generator keeps (translations, templates).

This module imports nothing from the project, so any phase can use it without cycles.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """$CPG_CACHE_DIR, else $XDG_CACHE_HOME/cpg, else ~/.cache/cpg."""
    env = os.environ if env is None else env
    if env.get("CPG_CACHE_DIR"):
        return Path(env["CPG_CACHE_DIR"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "cpg"
