"""What a CQL library declares about itself, read from its text (no translation needed).

Why: callers need a library's name before translating it (`cpg cql` names results by it, the
validator compares it with `Library.name`), and the translator keeps every library of one
request in memory, so callers with many libraries (`cpg cql`, the validator's CQL layer) send
each library with only what it includes, directly or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from generator.graphs import reachable

#: `library Name` or `library "Name"`, optionally followed by `version '…'`.
LIBRARY = re.compile(r"^\s*library\s+(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*)(?:\s+version\s+'([^']*)')?", re.MULTILINE)

#: `include Name`, `include "Name"` or `include Namespace.Name`, at the start of a line or after a
#: block comment that ends on the same line.
INCLUDE = re.compile(r"(?:^|\*/)[ \t]*include\s+(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)


def declared_name(text: str) -> str | None:
    """The name in the library's `library` declaration, if it has one."""
    match = LIBRARY.search(text)
    return match.group(1).strip('"') if match else None


def declared_version(text: str) -> str | None:
    """The version in the library's `library` declaration, if it has one."""
    match = LIBRARY.search(text)
    return match.group(2) if match else None


def included_names(text: str) -> list[str]:
    """Library names `text` includes (the last part of a qualified name), in order."""
    return [match.group(1).strip('"').split(".")[-1] for match in INCLUDE.finditer(text)]


def include_closure(name: str, sources: Mapping[str, str]) -> dict[str, str]:
    """`name` and the libraries it includes, directly or not, among `sources` (name -> CQL)."""
    wanted = reachable(name, lambda library: [n for n in included_names(sources[library]) if n in sources])
    return {n: text for n, text in sources.items() if n in wanted}

#: `codesystem "Name": 'uri'` (optionally followed by `version '…'`).
CODESYSTEM = re.compile(r"^\s*(?:public\s+|private\s+)?codesystem\s+(?:\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*)\s*:\s*'([^']+)'", re.MULTILINE)


def declared_code_systems(text: str) -> list[str]:
    """Code system URIs the library declares (so a depends-on naming one is not a broken reference)."""
    return [match.group(1) for match in CODESYSTEM.finditer(text)]

#: The whole include statement: name, optional `version '…'`, optional `called Alias`.
INCLUDE_STATEMENT = re.compile(
    r"(?:^|\*/)[ \t]*include\s+(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_.]*)(?:\s+version\s+'([^']*)')?(?:\s+called\s+(\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_]*))?",
    re.MULTILINE,
)
#: `using FHIR version '4.0.0'`.
USING_FHIR = re.compile(r"^\s*using\s+FHIR(?:\s+version\s+'([^']*)')?", re.MULTILINE)


@dataclass(frozen=True)
class Include:
    name: str  # last part of a qualified name
    version: str | None
    alias: str  # the `called` name, else the name


def includes(text: str) -> list[Include]:
    """The include statements of a library, in order."""
    out = []
    for match in INCLUDE_STATEMENT.finditer(text):
        name = match.group(1).strip('"').split(".")[-1]
        out.append(Include(name, match.group(2), (match.group(3) or name).strip('"')))
    return out


def fhir_version(text: str) -> str | None:
    """The FHIR model version the library uses (`using FHIR version '…'`), if it uses FHIR."""
    match = USING_FHIR.search(text)
    return (match.group(1) or "4.0.1") if match else None
