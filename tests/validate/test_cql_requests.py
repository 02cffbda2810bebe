"""The CQL layer asks the translator one library at a time, with only what that library includes.

Why it matters: the translator holds every library of a request in memory; validating a folder
of hundreds of guidelines in one request exhausted its heap (and then nothing was checked).
"""

from __future__ import annotations

import base64
from typing import Any

from generator.cql.translator import Translation
from generator.validate import ValidationOptions, validate


def _library(name: str, cql: str) -> dict[str, Any]:
    return {
        "resourceType": "Library", "id": name, "url": f"http://example.org/Library/{name}", "name": name,
        "status": "draft",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
        "content": [{"contentType": "text/cql", "data": base64.b64encode(cql.encode()).decode()}],
    }


class _Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str]]] = []

    def translate(self, libraries: dict[str, str], targets: list[str] | None = None) -> dict[str, Translation]:
        names = list(targets or libraries)
        self.calls.append((sorted(libraries), names))
        return {n: Translation(name=n, version="1", elm={"library": {}}, elm_json="{}") for n in names}


def test_each_library_is_sent_alone_with_its_include_closure() -> None:
    resources = [
        _library("Common", "library Common version '1'\ndefine X: true\n"),
        _library("Middle", "library Middle version '1'\ninclude Common version '1'\ndefine Y: Common.X\n"),
        _library("Top", "library Top version '1'\ninclude \"Middle\" version '1' called M\ndefine Z: M.Y\n"),
        _library("Alone", "library Alone version '1'\ndefine W: false\n"),
    ]
    fake = _Recording()
    validate(resources, ValidationOptions(translator=fake, layers=["cql"]))
    assert sorted(fake.calls) == [
        (["Alone"], ["Alone"]),
        (["Common"], ["Common"]),
        (["Common", "Middle"], ["Middle"]),
        (["Common", "Middle", "Top"], ["Top"]),
    ]
