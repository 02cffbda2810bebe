"""Fixture for `cpg analyze`: a planted conflict, an unreachable and an always-on recommendation.

* `bisphosphonate` (an oral bisphosphonate value set that includes risedronate) and
  `no-risedronate` (do not give risedronate when creatinine clearance < 30) both apply to an acute
  fracture with low creatinine clearance: the conflict the analysis must prove with a witness.
* `impossible` asks for a fracture within 4 weeks that is NOT within 3 months: unreachable (time
  ordering).
* `calcium` asks only for a fracture, which every other reachable recommendation implies: always on.
"""

from generator import (RXNORM, SNOMED, LOINC, Citation, Direction, Feature, Guideline, Medication, Quantity,
                       Recommendation, Scenario, Service, Source, Strategy, ValueSet, conditions, months,
                       observations, weeks)

FRACTURE = ValueSet("vertebral-fracture", title="Vertebral Fracture",
                    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")])
RISEDRONATE = RXNORM("73056", "risedronate")
BISPHOSPHONATES = ValueSet("bisphosphonates", title="Bisphosphonates",
                           codes=[RXNORM("46041", "alendronate"), RISEDRONATE])
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")

fracture = conditions(FRACTURE)
HAS_FRACTURE = Feature("Has Fracture", fracture.exists())
ACUTE = Feature("Acute Fracture", fracture.onset_within(weeks(4)))
WITHIN_THREE_MONTHS = Feature("Fracture Within Three Months", fracture.onset_within(months(3)))
LOW_CRCL = Feature("Low Creatinine Clearance", observations(CRCL).latest_value() < Quantity(30, "mL/min"))

PASSAGE_RISEDRONATE = "Creatinine clearance below 30 mL/min contraindicates risedronate"

bisphosphonate = Recommendation(
    "bisphosphonate", title="Oral bisphosphonate including risedronate", statement="Start a bisphosphonate.",
    when=ACUTE, then=Medication(title="Bisphosphonate (alendronate or risedronate)", code=BISPHOSPHONATES),
    direction=Direction.FOR, sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)
no_risedronate = Recommendation(
    "no-risedronate", title="No risedronate with low creatinine clearance", statement="Do not give risedronate.",
    when=ACUTE & LOW_CRCL, then=Medication(title="Risedronate", code=RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST, sources=[Source("guide", PASSAGE_RISEDRONATE)],
)
impossible = Recommendation(
    "impossible", title="Acute but older than three months", statement="Cannot happen.",
    when=ACUTE & ~WITHIN_THREE_MONTHS,
    then=Service(title="Vertebroplasty", code=SNOMED("392010000", "Vertebroplasty"), do_not_perform=True),
    direction=Direction.AGAINST, sources=[Source("guide", "Do not perform vertebroplasty for osteoporotic fractures")],
)
calcium = Recommendation(
    "calcium", title="Calcium for every fracture", statement="Give calcium.",
    when=HAS_FRACTURE, then=Medication(title="Calcium", code=RXNORM("1897", "calcium carbonate")),
    direction=Direction.FOR, sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)

guideline = Guideline(
    id="planted", name="Planted", title="Planted defects", canonical="http://example.org/fhir/planted",
    version="1.0.0", date="2026-03-01", description="Fixture for cpg analyze.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("care", title="Care", description="Care",
                         recommendations=[bisphosphonate, no_risedronate, impossible, calcium])],
    features=[HAS_FRACTURE, ACUTE, WITHIN_THREE_MONTHS, LOW_CRCL],
    value_sets=[FRACTURE, BISPHOSPHONATES],
    scenarios=[Scenario("acute", bundle="scenarios/acute.json", date="2026-03-01", title="Fracture 9 days ago",
                        present=["bisphosphonate", "calcium"], absent=["no-risedronate", "impossible"])],
)
