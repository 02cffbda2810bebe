"""Fixture for `cpg analyze`: a conflict the data shapes allow but no real patient has.

`give` needs a fracture coded in the narrow set and none in the wide set, which contains the
narrow one: no patient qualifies, but the shapes treat the two sets as independent. The engine
refutes every generated witness, so nothing is reported as a conflict (only ANALYZE003).
"""

from generator import (RXNORM, SNOMED, Citation, Direction, Feature, Guideline, Medication, Recommendation, Source,
                       Strategy, ValueSet, conditions)

NARROW = ValueSet("narrow", title="Narrow Fracture", codes=[SNOMED("207957008", "Fracture of vertebral column")])
WIDE = ValueSet("wide", title="Wide Fracture", codes=[SNOMED("207957008", "Fracture of vertebral column"),
                                                      SNOMED("203450003", "Osteoporotic fracture of lumbar vertebra")])
IN_NARROW = Feature("In Narrow Set", conditions(NARROW).exists())
IN_WIDE = Feature("In Wide Set", conditions(WIDE).exists())
DRUG = RXNORM("73056", "risedronate")
SOURCE = [Source("guide", "Creatinine clearance below 30 mL/min contraindicates risedronate")]

give = Recommendation("give", title="Give", statement="Give.", when=IN_NARROW & ~IN_WIDE,
                      then=Medication(title="Risedronate", code=DRUG), direction=Direction.FOR, sources=SOURCE)
withhold = Recommendation("withhold", title="Withhold", statement="Withhold.", when=IN_NARROW,
                          then=Medication(title="Risedronate", code=DRUG, do_not_perform=True),
                          direction=Direction.AGAINST, sources=SOURCE)

guideline = Guideline(
    id="unconfirmed", name="Unconfirmed", title="Unconfirmed", canonical="http://example.org/fhir/unconfirmed",
    version="1.0.0", date="2026-03-01", description="Fixture for cpg analyze.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("care", title="Care", description="Care", recommendations=[give, withhold])],
    features=[IN_NARROW, IN_WIDE], value_sets=[NARROW, WIDE],
)
