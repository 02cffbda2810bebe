"""What a CQL library includes, read from its text (no translation needed).

Why: the translator keeps every library of one request in memory, so callers with many
libraries (`cpg cql`, the validator's CQL layer) send each library with only what it
includes, directly or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: `include Name`, `include "Name"` or `include Namespace.Name`, at the start of a line or after a
#: block comment that ends on the same line.
INCLUDE = re.compile(r"(?:^|\*/)[ \t]*include\s+(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)


def included_names(text: str) -> list[str]:
    """Library names `text` includes (the last part of a qualified name), in order."""
    return [match.group(1).strip('"').split(".")[-1] for match in INCLUDE.finditer(text)]


def include_closure(name: str, sources: Mapping[str, str]) -> dict[str, str]:
    """`name` and the libraries it includes, directly or not, among `sources` (name -> CQL)."""
    wanted, todo = {name}, [name]
    while todo:
        for included in included_names(sources[todo.pop()]):
            if included in sources and included not in wanted:
                wanted.add(included)
                todo.append(included)
    return {n: text for n, text in sources.items() if n in wanted}
