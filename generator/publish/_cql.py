"""What narratives and the site need to know about the logic Library's defines.

The ELM (translated with locators) says where each define sits in the CQL text and which
other defines it uses; both are read here once so a recommendation can show the exact CQL
of its applicability define and link to the features it depends on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from generator.graphs import reachable

_LOCATOR = re.compile(r"^(\d+):(\d+)-(\d+):(\d+)$")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Define:
    """One top-level define (or function) of the library, with its CQL and references."""

    name: str
    first_line: int
    last_line: int
    cql: str
    uses: tuple[str, ...]  # names of same-library defines it refers to, in first-use order
    is_function: bool
    words: str | None  # the expression as plain words, when it is a combination of defines


@dataclass(frozen=True)
class LogicIndex:
    """The defines of the guideline's logic Library, by name and in text order."""

    text: str
    defines: tuple[Define, ...]

    def get(self, name: str) -> Define | None:
        return next((d for d in self.defines if d.name == name), None)

    @cached_property
    def _anchor_map(self) -> dict[str, str]:
        return _anchors(self.defines)

    def anchor(self, name: str) -> str:
        """The HTML id of a define: stable, readable, and unique within the library."""
        return self._anchor_map.get(name, "cql-" + slug(name))

    def closure(self, name: str) -> list[Define]:
        """The define and every define it uses, transitively, in text order."""

        def uses(define: str) -> tuple[str, ...]:
            found = self.get(define)
            return found.uses if found is not None else ()

        seen = reachable(name, uses)
        return [d for d in self.defines if d.name in seen]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _anchors(defines: tuple[Define, ...]) -> dict[str, str]:
    result: dict[str, str] = {}
    taken: set[str] = set()
    for d in defines:
        base = "cql-" + slug(d.name)
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        result.setdefault(d.name, candidate)
    return result


#: The last index made, with the very objects it was made from: one build asks for the same
#: library's index four times in a row (SYNTH narratives, PUBLISH narratives and site).
_last: tuple[str, Mapping[str, Any] | None, LogicIndex] | None = None


def index_logic(text: str, elm: Mapping[str, Any] | None) -> LogicIndex:
    """Index the defines of a translated library; an absent ELM gives an empty index."""
    global _last
    last = _last
    if last is not None and last[0] is text and last[1] is elm:
        return last[2]
    index = _index_logic(text, elm)
    _last = (text, elm, index)
    return index


def _index_logic(text: str, elm: Mapping[str, Any] | None) -> LogicIndex:
    if not elm:
        return LogicIndex(text, ())
    lines = text.split("\n")
    statements = elm.get("library", {}).get("statements", {}).get("def", [])
    defines: list[Define] = []
    for statement in statements:
        name = statement.get("name")
        match = _LOCATOR.match(str(statement.get("locator", "")))
        if not name or not match or (name == "Patient" and "accessLevel" not in statement):
            continue
        first, last = int(match.group(1)), int(match.group(3))
        cql = "\n".join(lines[first - 1:last])
        uses = tuple(dict.fromkeys(_references(statement.get("expression"))))
        defines.append(Define(
            name=name, first_line=first, last_line=last, cql=cql, uses=uses,
            is_function=statement.get("type") == "FunctionDef",
            words=_words(statement.get("expression")),
        ))
    defines.sort(key=lambda d: d.first_line)
    return LogicIndex(text, tuple(defines))


def _references(node: Any) -> Iterator[str]:
    """Names of same-library expressions and functions referenced anywhere below `node`."""
    if isinstance(node, dict):
        if node.get("type") in ("ExpressionRef", "FunctionRef") and "libraryName" not in node and "name" in node:
            yield node["name"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _words(node: Any, parent: str | None = None) -> str | None:
    """`"A" and "B" and not "C"` as `A and B and not C`, or None for anything richer."""
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    if kind == "ExpressionRef" and "libraryName" not in node:
        return str(node.get("name"))
    if kind == "Literal" and node.get("valueType", "").endswith("Boolean"):
        return "always" if node.get("value") == "true" else "never"
    if kind in ("And", "Or"):
        parts = [_words(op, kind) for op in node.get("operand", [])]
        if not parts or any(p is None for p in parts):
            return None
        joined = f" {kind.lower()} ".join(p for p in parts if p is not None)
        return f"({joined})" if parent and parent != kind else joined
    if kind == "Not":
        inner = _words(node.get("operand"), kind)
        return None if inner is None else f"not {inner}"
    return None


@dataclass(frozen=True)
class Token:
    """A piece of CQL text; `target` is the define it names when it is a reference."""

    text: str
    target: str | None = None


def tokens(cql: str, known: set[str]) -> list[Token]:
    """Split CQL into plain text and quoted identifiers that name a known define."""
    result: list[Token] = []
    at = 0
    for match in _QUOTED.finditer(cql):
        name = match.group(0)[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if name not in known:
            continue
        if match.start() > at:
            result.append(Token(cql[at:match.start()]))
        result.append(Token(match.group(0), name))
        at = match.end()
    if at < len(cql):
        result.append(Token(cql[at:]))
    return result
