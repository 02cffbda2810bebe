"""A minimal guideline used by the golden tests: one of each construct."""

from generator import (
    LOINC, RXNORM, SNOMED, Certainty, Citation, Communication, Direction, Dosage, Feature, Guideline,
    Medication, Process, Quantity, Recommendation, Service, Source, Strategy, Strength, ValueSet,
    age_in_years, conditions, days, observations, weeks,
)

FRACTURE = ValueSet(
    "vertebral-fracture",
    title="Vertebral Fracture",
    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")],
)
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")

acute = Feature("Acute Fracture", conditions(FRACTURE).onset_within(weeks(4)))
low_crcl = Feature("Low Creatinine Clearance", observations(CRCL).latest_value() < Quantity(30, "mL/min"))
adult = Feature("Adult", age_in_years() >= 18)

calcitonin = Recommendation(
    "calcitonin",
    title="Calcitonin for acute fracture pain",
    statement="Give calcitonin for 4 weeks.",
    when=acute & adult & ~low_crcl,
    then=Medication(
        title="Calcitonin nasal spray",
        code=RXNORM("1000", "calcitonin"),
        dosage=Dosage(text="200 IU nasal daily", dose=Quantity(200, "[iU]"), frequency=1, period=days(1), duration=weeks(4)),
    ),
    strength=Strength.STRONG,
    direction=Direction.FOR,
    certainty=Certainty.MODERATE,
    sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)
no_vertebroplasty = Recommendation(
    "no-vertebroplasty",
    title="No vertebroplasty",
    statement="Do not perform vertebroplasty.",
    when="Acute Fracture",
    then=[
        Service(title="Vertebroplasty", code=SNOMED("392010000", "Vertebroplasty"), do_not_perform=True),
        Communication(title="Explain", code=SNOMED("409073007", "Education"), message="Vertebroplasty is not recommended."),
    ],
    strength=Strength.STRONG,
    direction=Direction.AGAINST,
    sources=[Source("guide", "Do not perform vertebroplasty")],
)

guideline = Guideline(
    id="minimal",
    name="Minimal",
    title="Minimal Guideline",
    canonical="http://example.org/fhir/minimal",
    version="1.0.0",
    date="2026-01-01",
    description="A minimal guideline for tests.",
    publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../sources",
    strategies=[Strategy("acute", title="Acute", description="Acute care", process=Process.GUIDELINE_BASED_CARE,
                         recommendations=[calcitonin, no_vertebroplasty])],
)
