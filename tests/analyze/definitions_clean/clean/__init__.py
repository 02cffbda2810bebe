"""Fixture for `cpg analyze`: no conflict. The bisphosphonate and the advice against risedronate
overlap in what they name, but their applicability is disjoint (low creatinine clearance or not),
so no patient gets both; neither is unreachable nor always on."""

from generator import (RXNORM, SNOMED, LOINC, Citation, Direction, Feature, Guideline, Medication, Quantity,
                       Recommendation, Source, Strategy, ValueSet, conditions, observations, weeks)

FRACTURE = ValueSet("vertebral-fracture", title="Vertebral Fracture",
                    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")])
RISEDRONATE = RXNORM("73056", "risedronate")
BISPHOSPHONATES = ValueSet("bisphosphonates", title="Bisphosphonates",
                           codes=[RXNORM("46041", "alendronate"), RISEDRONATE])
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")

ACUTE = Feature("Acute Fracture", conditions(FRACTURE).onset_within(weeks(4)))
LOW_CRCL = Feature("Low Creatinine Clearance", observations(CRCL).latest_value() < Quantity(30, "mL/min"))

bisphosphonate = Recommendation(
    "bisphosphonate", title="Oral bisphosphonate", statement="Start a bisphosphonate.",
    when=ACUTE & ~LOW_CRCL, then=Medication(title="Bisphosphonate", code=BISPHOSPHONATES),
    direction=Direction.FOR, sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)
no_risedronate = Recommendation(
    "no-risedronate", title="No risedronate with low creatinine clearance", statement="Do not give risedronate.",
    when=ACUTE & LOW_CRCL, then=Medication(title="Risedronate", code=RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[Source("guide", "Creatinine clearance below 30 mL/min contraindicates risedronate")],
)

guideline = Guideline(
    id="clean", name="Clean", title="No defects", canonical="http://example.org/fhir/clean",
    version="1.0.0", date="2026-03-01", description="Fixture for cpg analyze.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("care", title="Care", description="Care", recommendations=[bisphosphonate, no_risedronate])],
    features=[ACUTE, LOW_CRCL],
    value_sets=[FRACTURE, BISPHOSPHONATES],
)
