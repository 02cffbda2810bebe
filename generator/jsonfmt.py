"""The one JSON formatting of every file the tool writes (2-space indent, UTF-8, final newline).

A module of its own, importing nothing from the project, so every phase can share it
without import cycles.
"""

from __future__ import annotations

import json
from typing import Any


def dump_json_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def dump_json(data: Any) -> bytes:
    return dump_json_text(data).encode("utf-8")
