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


def test_changes_since_a_previous_build_are_on_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cpg build --changes-since OLD`: the site lists what `cpg diff OLD <this build>` finds, with the bump."""
    first = tmp_path / "v1"
    write_guideline(first, GOOD_REC_WITH_SCENARIOS, version="1.0.0")
    monkeypatch.chdir(first)
    assert CliRunner().invoke(main, ["build", "--output", "out", "--no-validate"]).exit_code == 0
    second = tmp_path / "v2"
    init = write_guideline(second, GOOD_REC_WITH_SCENARIOS.replace('title="MRI",', 'title="MRI",\n    '
                                                                   'direction=Direction.AGAINST,', 1),
                           version="1.0.1")
    monkeypatch.chdir(second)
    result = CliRunner().invoke(main, ["build", "--output", "out", "--no-validate",
                                       "--changes-since", str(first / "out" / "g")])
    assert result.exit_code == 0, result.output
    site = (second / "out" / "g" / "site" / "index.html").read_text()
    section = site[site.index('id="changes"'):site.index("</section>", site.index('id="changes"'))]
    assert "Changes since 1.0.0" in section
    assert "<b>major</b> change" in section  # a recommendation turned against: breaking
    assert "declares a smaller step (patch)" in section
    assert 'href="#rec-mri"' in section and "direction" in section
    assert init.is_file()
    plain = (first / "out" / "g" / "site" / "index.html").read_text()
    assert 'id="changes"' not in plain  # no previous version given, no section
