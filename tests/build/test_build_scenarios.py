"""`cpg build` runs each guideline's scenarios on the real engine for the site, and says when one fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from tests.build.test_author_errors import line_of, write_guideline

PATIENT = {"resourceType": "Bundle", "type": "collection", "entry": [
    {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "id": "p", "gender": "male",
                                           "birthDate": "1950-01-01"}},
    {"fullUrl": "urn:uuid:c", "resource": {
        "resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/p"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "207957008",
                             "display": "Fracture of vertebral column without spinal cord injury"}]},
        "onsetDateTime": "2026-01-01"}},
]}

SCENARIOS = '''\
from generator import Scenario
SCENARIOS = [
    Scenario("fracture", bundle="fracture.json", date="2026-02-01", title="Man with a fracture", present=["mri"]),
    Scenario("wrong-expectation", bundle="fracture.json", date="2026-02-01", absent=["mri"]),
]
'''


def test_failing_scenario_is_a_located_warning_and_shown_on_the_site(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    init = write_guideline(tmp_path, SCENARIOS + GOOD_REC_WITH_SCENARIOS)
    (init.parent / "fracture.json").write_text(json.dumps(PATIENT))
    text = init.read_text().replace("strategies=[", "scenarios=SCENARIOS, strategies=[")
    init.write_text(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--output", "out", "--no-validate"])
    assert result.exit_code == 0, result.output
    line = line_of(init, 'Scenario("wrong-expectation"')
    assert f"warning[TEST020] definitions/g/__init__.py:{line}" in result.output
    assert "scenario 'wrong-expectation' does not give what it expects" in result.output
    site = (tmp_path / "out" / "g" / "site" / "index.html").read_text()
    good = site[site.index('id="scenario-fracture"'):site.index("</article>", site.index('id="scenario-fracture"'))]
    assert "Man with a fracture" in good and "as expected" in good and "NOT as expected" not in good
    assert "76-year-old male" in good
    assert "Fracture of vertebral column without spinal cord injury" in good
    bad = site[site.index('id="scenario-wrong-expectation"'):]
    assert "NOT as expected" in bad[:bad.index("</article>")]
    assert "expected NOT to apply" in bad[:bad.index("</article>")]


GOOD_REC_WITH_SCENARIOS = '''\
rec = Recommendation(
    "mri", title="MRI", statement="Image the spine.", when=fracture,
    then=Service(title="MRI", code=SNOMED("113091000", "Magnetic resonance imaging")),
    sources=[Source("doc", "Obtain MRI of the spine")],
)
'''
