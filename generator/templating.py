"""Jinja environments over the generator's template folders, their compiled form kept on disk.

Why: CQL, FHIRHelpers, narratives and the site are Jinja templates, and Jinja compiles each one
to Python in every process (about 0.1 s of CPU per command). Like Python's own bytecode, the
compiled templates are kept in the user's cache directory (`cache_dir()/templates`), keyed by
each template's source and Jinja's version, written atomically by Jinja; a cache that cannot be
read or written only costs that compilation. Rendered output never depends on it.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any

import jinja2

from generator.user_cache import cache_dir

__all__ = ["clear_cache", "environment"]


def environment(folder: Path, **options: Any) -> jinja2.Environment:
    """An environment loading templates from `folder` (other Jinja options as given)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), bytecode_cache=_bytecode_cache(),
                              **options)


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates; an entry it cannot read or write is compiled again."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - unreadable or damaged: the template is compiled from source
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # read-only or full disk: only the next compile is lost
            super().dump_bytecode(bucket)


def clear_cache() -> int:
    """Remove every compiled template kept in the cache directory; returns how many."""
    removed = 0
    for entry in (cache_dir() / _FOLDER).glob("__jinja2_*"):
        with contextlib.suppress(OSError):
            entry.unlink()
            removed += 1
    return removed


_FOLDER = "templates"


@functools.cache
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    directory = cache_dir() / _FOLDER
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(str(directory))
