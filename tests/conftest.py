"""Suite-wide fixtures: one real translator per test session, golden-file updating."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cql.translator import Translator

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="Rewrite golden files instead of comparing.")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def session_translator() -> Iterator[Translator]:
    """The real, pinned translator, started once for the whole run (as a build does)."""
    with Translator() as translator:
        yield translator
