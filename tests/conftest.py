"""Suite-wide fixtures: one real translator per test session, golden-file updating."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cql.translator import Translator

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """The translation cache of this test run lives in a folder of its own (never the user's)."""
    if "CPG_CACHE_DIR" not in os.environ:
        os.environ["CPG_CACHE_DIR"] = config._cpg_cache = tempfile.mkdtemp(prefix="cpg-test-cache-")  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_cpg_cache", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("CPG_CACHE_DIR", None)


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
