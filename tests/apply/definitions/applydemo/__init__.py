"""A small guideline for the apply tests: three recommendations, one of them with two activities.

Scenarios pin down every recommendation for each patient (evaluated on 2026-03-01).
"""

from generator import (
    LOINC, RXNORM, SNOMED, Certainty, Citation, Communication, Direction, Dosage, Feature, Guideline,
    Medication, Process, Quantity, Recommendation, Scenario, Service, Source, Strategy, Strength, ValueSet,
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
        dosage=Dosage(text="200 IU nasal daily", dose=Quantity(200, "[iU]"), frequency=1, period=days(1),
                      duration=weeks(4)),
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
        Communication(title="Explain", code=SNOMED("409073007", "Education"), do_not_perform=False,
                      message="Vertebroplasty is not recommended."),
    ],
    strength=Strength.STRONG,
    direction=Direction.AGAINST,
    sources=[Source("guide", "Do not perform vertebroplasty")],
)
education = Recommendation(
    "adult-education",
    title="Fall prevention education",
    statement="Teach fall prevention.",
    when=adult,
    then=Communication(title="Fall prevention", code=SNOMED("409073007", "Education"),
                       message="Remove trip hazards at home."),
    strength=Strength.WEAK,
    direction=Direction.FOR,
    certainty=Certainty.LOW,
    sources=[Source("guide", "should receive calcitonin for 4 weeks")],
)

DATE = "2026-03-01"

guideline = Guideline(
    id="applydemo",
    name="ApplyDemo",
    title="Apply Demo Guideline",
    canonical="http://example.org/fhir/applydemo",
    version="1.0.0",
    date="2026-01-01",
    description="A small guideline for the apply tests.",
    publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[
        Strategy("acute", title="Acute", description="Acute care", process=Process.GUIDELINE_BASED_CARE,
                 recommendations=[calcitonin, no_vertebroplasty]),
        Strategy("prevention", title="Prevention", description="Preventing falls",
                 process=Process.ALERTS_REMINDERS_EDUCATION, recommendations=[education]),
    ],
    scenarios=[
        Scenario("acute-adult", bundle="patients/acute-adult.json", date=DATE,
                 title="Adult, fracture 9 days ago, normal creatinine clearance",
                 present=["calcitonin", "no-vertebroplasty", "adult-education"]),
        Scenario("acute-adult-low-crcl", bundle="patients/acute-adult-low-crcl.json", date=DATE,
                 title="Adult, fracture 9 days ago, creatinine clearance 20 mL/min",
                 present=["no-vertebroplasty", "adult-education"], absent=["calcitonin"]),
        Scenario("acute-adult-no-crcl", bundle="patients/acute-adult-no-crcl.json", date=DATE,
                 title="Adult, fracture 9 days ago, creatinine clearance never measured (not known to be low)",
                 present=["calcitonin", "no-vertebroplasty", "adult-education"]),
        Scenario("old-fracture", bundle="patients/old-fracture.json", date=DATE,
                 title="Adult, fracture 10 weeks ago",
                 present=["adult-education"], absent=["calcitonin", "no-vertebroplasty"]),
        Scenario("acute-child", bundle="patients/acute-child.json", date=DATE,
                 title="Child of 10, fracture 9 days ago",
                 present=["no-vertebroplasty"], absent=["calcitonin", "adult-education"]),
    ],
)
