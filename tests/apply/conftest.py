"""Apply fixtures: one real engine per session, the demo guideline compiled once in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.apply import Applier, Artifacts, Engine
from generator.compile import compile_definitions
from generator.cql.translator import Translator

HERE = Path(__file__).resolve().parent
DEFINITIONS = HERE / "definitions"
DEMO = DEFINITIONS / "applydemo"
DATE = "2026-03-01"


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The real cql-execution engine, started once (as `cpg test` does)."""
    with Engine() as running:
        yield running


@pytest.fixture(scope="session")
def demo_resources(session_translator: Translator) -> list[dict[str, Any]]:
    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.guidelines[0].resources


@pytest.fixture(scope="session")
def demo_applier(demo_resources: list[dict[str, Any]], engine: Engine) -> Applier:
    return Applier(Artifacts.from_resources(demo_resources), engine)


def demo_patient(name: str) -> dict[str, Any]:
    return json.loads((DEMO / "patients" / f"{name}.json").read_text(encoding="utf-8"))
