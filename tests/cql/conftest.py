"""Fixtures for the CQL toolchain tests: one real translator process for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.translator import Translator


@pytest.fixture(scope="session")
def translator() -> Iterator[Translator]:
    with Translator() as t:
        yield t


@pytest.fixture(scope="session")
def fhirhelpers() -> str:
    return fhirhelpers_cql()
