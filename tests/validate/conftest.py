"""Fixtures for the validator tests: the conformant set, mutation helpers, one translator."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.diagnostics import Diagnostic
from generator.validate import ValidationOptions, load_artifacts, validate

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFORMANT = FIXTURES / "conformant"
BASE = "http://example.org/fhir/cpg-test"


def conformant_resources() -> list[dict[str, Any]]:
    return [json.loads(p.read_text("utf-8")) for p in sorted(CONFORMANT.glob("*.json"))]


def find(resources: list[dict[str, Any]], ref: str) -> dict[str, Any]:
    rtype, rid = ref.split("/")
    return next(r for r in resources if r["resourceType"] == rtype and r["id"] == rid)


@dataclass
class Env:
    """What a rule case may use: temp files, monkeypatching, the session translator."""

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest

    @property
    def translator(self) -> Any:
        return self.request.getfixturevalue("session_translator")

    def resources(self) -> list[dict[str, Any]]:
        return copy.deepcopy(_CONFORMANT)

    def run(self, resources: list[dict[str, Any]], *, cql: bool = False, translator: Any = None) -> list[Diagnostic]:
        opts = ValidationOptions(cql=cql, translator=translator or (self.translator if cql else None))
        return validate(resources, opts)

    def mutate(self, change: Callable[[list[dict[str, Any]]], None], *, cql: bool = False) -> list[Diagnostic]:
        res = self.resources()
        change(res)
        return self.run(res, cql=cql)

    def load(self, path: Path) -> list[Diagnostic]:
        artifacts, diags = load_artifacts(path)
        return diags + (validate(artifacts, ValidationOptions(cql=False)) if artifacts else [])

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")
        return path


_CONFORMANT = conformant_resources()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Env:
    return Env(tmp_path, monkeypatch, request)


@pytest.fixture(scope="session")
def baseline(session_translator: Any) -> list[Diagnostic]:
    """The conformant set validated with every layer, CQL included."""
    artifacts, diags = load_artifacts(CONFORMANT)
    return diags + validate(artifacts, ValidationOptions(translator=session_translator))
