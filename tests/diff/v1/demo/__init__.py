"""Fixture for `cpg diff`, version 1.0.0 (v2 plants one change of each kind against it)."""

from generator import (RXNORM, SNOMED, Citation, Direction, Dosage, Feature, Guideline, Medication, Quantity,
                       Recommendation, Scenario, Service, Source, Strategy, Strength, ValueSet, age_in_years,
                       conditions, weeks)

FRACTURE = ValueSet("vertebral-fracture", title="Vertebral Fracture",
                    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")])
ACUTE = Feature("Acute Fracture", conditions(FRACTURE).onset_within(weeks(4)))
ADULT = Feature("Adult", age_in_years() >= 18)
SOURCE = [Source("guide", "should receive calcitonin for 4 weeks")]

dose = Recommendation("calcitonin", title="Calcitonin", statement="Give calcitonin.", when=ACUTE,
                      then=Medication(title="Calcitonin", code=RXNORM("1000", "calcitonin"),
                                      dosage=Dosage(text="200 IU daily", dose=Quantity(200, "[iU]"))),
                      direction=Direction.FOR, sources=SOURCE)
regraded = Recommendation("education", title="Education", statement="Teach.", when=ACUTE,
                          then=Service(title="Education", code=SNOMED("409073007", "Education")),
                          strength=Strength.WEAK, direction=Direction.FOR, sources=SOURCE)
applicability = Recommendation("brace", title="Brace", statement="Brace.", when=ACUTE,
                               then=Service(title="Brace", code=SNOMED("6261006", "Brace", note="UNCONFIRMED: test fixture code, only its check digit is valid")),
                               direction=Direction.FOR, sources=SOURCE)
removed = Recommendation("removed-rec", title="Removed later", statement="Gone in 2.", when=ACUTE,
                         then=Service(title="Heat", code=SNOMED("229583009", "Heat therapy")),
                         direction=Direction.FOR, sources=SOURCE)

guideline = Guideline(
    id="demo", name="Demo", title="Diff demo", canonical="http://example.org/fhir/demo",
    version="1.0.0", date="2026-03-01", description="Fixture for cpg diff.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("care", title="Care", description="Care",
                         recommendations=[dose, regraded, applicability, removed])],
    features=[ACUTE, ADULT], value_sets=[FRACTURE],
    scenarios=[Scenario("acute-child", bundle="scenarios/acute-child.json", date="2026-03-01",
                        title="Child of 10, fracture 9 days ago",
                        present=["calcitonin", "education", "brace", "removed-rec"])],
)
