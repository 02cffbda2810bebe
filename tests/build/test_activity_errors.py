"""Activity vocabulary mistakes stop at the author's line with a stable code (RULE030-RULE035)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.compile import compile_definitions
from generator.model.activities import ACTIVITY_RULES

HEADER = '''\
from generator import (SNOMED, RXNORM, Choice, Citation, Direction, Feature, Guideline, Medication, NoRecommendation,
                       Priority, Recommendation, Selection, Service, Source, Strategy, Strength, at, conditions, days,
                       weeks)
fracture = Feature("Fracture", conditions(SNOMED("207957008", "Fracture of vertebral column")).exists())
MRI = SNOMED("113091000", "Magnetic resonance imaging")
'''

FOOTER = '''
rec = Recommendation("mri", title="MRI", statement="Image the spine.", when=fracture, then=THEN,
                     sources=[Source("doc", "Obtain MRI of the spine")])
guideline = Guideline(
    id="g", name="G", title="G", canonical="http://example.org/g", version="1.0.0", date="2026-01-01",
    description="d", publisher="p", sources={"doc": Citation(file="doc.txt", title="Doc")}, sources_dir="..",
    strategies=[Strategy("s", title="S", recommendations=[rec])],
)
'''


def located_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> tuple[list[tuple[str, str]], list[str]]:
    package = tmp_path / "definitions" / "g"
    package.mkdir(parents=True)
    (tmp_path / "definitions" / "doc.txt").write_text("Obtain MRI of the spine without contrast.\n")
    source = HEADER + body + FOOTER
    (package / "__init__.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    result = compile_definitions(Path("definitions"), validate=False)
    lines = source.splitlines()
    marked = next(i for i, line in enumerate(lines, start=1) if "# <-" in line)
    errors = [d for d in result.diagnostics if d.is_error]
    return [(d.code, str(d.location)) for d in errors], [f"definitions/g/__init__.py:{marked}", *[d.message for d in errors]]


def test_a_valid_use_of_every_builder_has_no_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = '''
visit = Service(title="MRI", code=MRI, category="imaging", priority=Priority.URGENT, timing=at(weeks(4), weeks(6)))
THEN = [visit, Service(title="Recheck", code=MRI, timing=at(days(2), after=visit)),  # <-
        Choice(Medication(title="A", code=RXNORM("161", "Acetaminophen")),
               Medication(title="B", code=RXNORM("5640", "Ibuprofen")), select=Selection.AT_MOST_ONE)]
'''
    found, _ = located_errors(tmp_path, monkeypatch, body)
    assert found == []


CASES = {
    "priority as a string": ('THEN = Service(title="MRI", code=MRI, priority="urgent")  # <-\n', "RULE030",
                             "Priority.URGENT"),
    "unknown service category": ('THEN = Service(title="MRI", code=MRI, category="surgery")  # <-\n', "RULE030",
                                 "unknown service category"),
    "timing of a wrong type": ('THEN = Service(title="MRI", code=MRI, timing=5)  # <-\n', "RULE031", "timing must be"),
    "timing offset not a duration": ('THEN = Service(title="MRI", code=MRI, timing=at("4 weeks"))  # <-\n', "RULE031",
                                     "duration"),
    "timing anchored to a feature": ('THEN = Service(title="MRI", code=MRI, timing=at(weeks(2), after=fracture))  # <-\n',
                                     "RULE031", "event in words"),
    "timing window backwards": ('THEN = Service(title="MRI", code=MRI, timing=at(weeks(6), weeks(4)))  # <-\n',
                                "RULE031", "ends"),
    "choice of one": ('THEN = Choice(Service(title="MRI", code=MRI))  # <-\n', "RULE032", "at least two"),
    "choice selection as a string": ('THEN = Choice(Service(title="A", code=MRI), Service(title="B", code=MRI), '
                                     'select="exactly-one")  # <-\n', "RULE032", "Selection"),
    "choice id not kebab-case": ('THEN = Choice(Service(title="A", code=MRI), Service(title="B", code=MRI), '
                                 'id="Pick_One")  # <-\n', "RULE032", "kebab-case"),
    "then= holds text": ('THEN = ["an MRI"]\nrec0 = Recommendation("x", title="X", then=THEN)  # <-\n', "RULE033",
                         "activities or Choice"),
    "no recommendation about an activity": ('THEN = NoRecommendation(about=Service(title="MRI", code=MRI))  # <-\n',
                                            "RULE034", "order"),
    "no recommendation with a direction": (
        'rec0 = Recommendation("x", title="X", then=NoRecommendation(about="bracing"), direction=Direction.FOR)  # <-\n'
        'THEN = None\n', "RULE034", "no direction"),
    "no recommendation mixed with an order": (
        'rec0 = Recommendation("x", title="X", then=[NoRecommendation(about="bracing"), Service(code=MRI)])  # <-\n'
        'THEN = None\n', "RULE034", "stands alone"),
    "timings waiting on each other": (
        'a = Service(title="A", code=MRI)\nb = Service(title="B", code=MRI, timing=at(days(1), after=a))\n'
        'a.timing = at(days(1), after=b)  # <-\n'
        'THEN = [a, b]\nrec0 = Recommendation("x", title="X", then=THEN)\n', "RULE035", "cycle"),
    "timing after a foreign activity": (
        'other = Service(title="Other", code=MRI)\n'
        'THEN = Service(title="MRI", code=MRI, timing=at(days(2), after=other))  # <-\n'
        'rec0 = Recommendation("x", title="X", then=THEN)\n', "RULE035", "not another activity"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mistake_is_reported_at_the_author_line(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body, code, words = CASES[case]
    found, (where, *messages) = located_errors(tmp_path, monkeypatch, body)
    assert found == [(code, where)], messages
    assert words in messages[0]


def test_every_activity_rule_has_a_case() -> None:
    assert {code for _, code, _ in CASES.values()} == set(ACTIVITY_RULES)
