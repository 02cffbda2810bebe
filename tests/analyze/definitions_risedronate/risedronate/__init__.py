"""Regression fixture for `cpg analyze`: the VCF guideline's former risedronate conflict.

Before it was fixed, the VCF guideline proposed an oral bisphosphonate from a value set that
includes risedronate to every patient with a vertebral fracture, and said "do not give
risedronate" when creatinine clearance is below 30 mL/min: one plan proposed and forbade
risedronate. This package keeps that pair, in the authoring model v2 vocabulary (active
conditions, a latest observation value), so analysis must keep finding it (ANALYZE001) with a
witness patient that `cpg apply` confirms.
"""

from generator import (RXNORM, SNOMED, LOINC, Citation, Direction, Feature, Guideline, Medication, Quantity,
                       Recommendation, Source, Strategy, ValueSet, conditions, observations)

FRACTURE = ValueSet("vertebral-fracture", title="Vertebral Fracture",
                    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")])
RISEDRONATE = RXNORM("73056", "risedronate")
ORAL_BISPHOSPHONATES = ValueSet("oral-bisphosphonates", title="Oral Bisphosphonates",
                                codes=[RXNORM("46041", "alendronate"), RISEDRONATE])
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")

HAS_FRACTURE = Feature("Has Vertebral Fracture", conditions(FRACTURE).exists())
LOW_CRCL = Feature("Creatinine Clearance Below 30", observations(CRCL).latest_value() < Quantity(30, "mL/min"))

bisphosphonate = Recommendation(
    "oral-bisphosphonate", title="Oral bisphosphonate after a fracture", statement="Start an oral bisphosphonate.",
    when=HAS_FRACTURE, then=Medication(title="Oral bisphosphonate (alendronate or risedronate)", code=ORAL_BISPHOSPHONATES),
    direction=Direction.FOR, sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)
no_risedronate = Recommendation(
    "no-risedronate-renal", title="No risedronate with creatinine clearance below 30", statement="Do not give risedronate.",
    when=HAS_FRACTURE & LOW_CRCL, then=Medication(title="Risedronate", code=RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST, sources=[Source("guide", "Creatinine clearance below 30 mL/min contraindicates risedronate")],
)

guideline = Guideline(
    id="risedronate", name="Risedronate", title="Former VCF risedronate conflict",
    canonical="http://example.org/fhir/risedronate", version="1.0.0", date="2026-03-01",
    description="Regression fixture for cpg analyze.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("bone", title="Bone health", description="Bone health",
                         recommendations=[bisphosphonate, no_risedronate])],
    features=[HAS_FRACTURE, LOW_CRCL],
    value_sets=[FRACTURE, ORAL_BISPHOSPHONATES],
)
