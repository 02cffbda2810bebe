"""Fixtures for the PUBLISH tests: the minimal guideline compiled once, in memory.

`--update-golden` is the suite-wide option from tests/conftest.py (fixture `update_golden`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from generator.compile import BuiltGuideline, compile_definitions
from generator.cql.translator import Translator
from generator.publish import publication_files

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "golden" / "minimal" / "definitions"

#: Author text that would break markup if it were ever printed unescaped.
HOSTILE = '<script>alert("x&y")</script> O\'Brien & "Co" <b>bold</b> ]]> &amp;'


def compile_one(definitions: Path, translator: Translator) -> BuiltGuideline:
    result = compile_definitions(definitions, translator=translator, validate=False)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    assert len(result.guidelines) == 1
    return result.guidelines[0]


@pytest.fixture(scope="session")
def minimal_built(session_translator: Translator) -> BuiltGuideline:
    return compile_one(MINIMAL, session_translator)


@pytest.fixture(scope="session")
def minimal_files(minimal_built: BuiltGuideline) -> dict[str, bytes]:
    return publication_files(minimal_built)


HOSTILE_DEFINITION = '''
from generator import (
    SNOMED, Communication, Direction, Feature, Guideline, Recommendation, Service, Source, Strategy,
    Strength, Citation, ValueSet, conditions, weeks,
)

H = {hostile!r}
VS = ValueSet("hostile-vs", title="Hostile " + H, codes=[SNOMED("207957008", "Fracture " + H)])
acute = Feature("Acute Fracture", conditions(VS).onset_within(weeks(4)), description=H)

rec = Recommendation(
    "hostile-rec",
    title="Title " + H,
    statement="Statement " + H,
    when=acute,
    then=[
        Service(title="Service " + H, code=SNOMED("392010000", "Vertebroplasty " + H), do_not_perform=True),
        Communication(title="Tell " + H, code=SNOMED("409073007", "Education"), message="Message " + H),
    ],
    strength=Strength.STRONG,
    direction=Direction.AGAINST,
    rationale="Rationale " + H,
    sources=[Source("doc", "Passage " + H)],
)

guideline = Guideline(
    id="hostile",
    name="Hostile",
    title="Guideline " + H,
    canonical="http://example.org/fhir/hostile",
    version="1.0.0",
    date="2026-02-03",
    description="Description " + H,
    publisher="Publisher " + H,
    copyright="Copyright " + H,
    sources={{"doc": Citation(file="doc.txt", title="Doc " + H, url="http://example.org/doc?a=1&b=\\"2\\"")}},
    strategies=[Strategy("hostile-strategy", title="Strategy " + H, description=H, recommendations=[rec])],
)
'''


@pytest.fixture(scope="session")
def hostile_built(session_translator: Translator, tmp_path_factory: pytest.TempPathFactory) -> BuiltGuideline:
    definitions = tmp_path_factory.mktemp("hostile") / "definitions"
    package = definitions / "hostile"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(HOSTILE_DEFINITION.format(hostile=HOSTILE)), encoding="utf-8")
    return compile_one(definitions, session_translator)
