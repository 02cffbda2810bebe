"""A small guideline for the activity tests: priority, timing, a choice group, a "no recommendation".

Not clinical content: the test source (../sources/guide.txt) was written for these tests.
"""

from generator import (
    LOINC, RXNORM, SNOMED, Choice, Citation, Communication, Direction, Dosage, Feature, Guideline, Medication,
    NoRecommendation, Priority, Quantity, Recommendation, Scenario, Selection, Service, Source, Strategy, Strength,
    ValueSet, at, conditions, days, immediately, lasting, observations, weeks,
)

FRACTURE = ValueSet("vertebral-fracture", title="Vertebral Fracture",
                    codes=[SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")])
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")
REFERRAL = SNOMED("3457005", "Patient referral")
FOLLOW_UP = SNOMED("390906007", "Follow-up encounter")
REMINDER = SNOMED("409073007", "Education")

acute = Feature("Acute Fracture", conditions(FRACTURE).onset_within(weeks(4)))
low_crcl = Feature("Low Creatinine Clearance", observations(CRCL).latest_value() < Quantity(30, "mL/min"))

referral = Recommendation(
    "urgent-referral", title="Urgent surgical referral", statement="Refer urgently, immediately.",
    when=acute & ~low_crcl,
    then=Service(title="Surgical referral", code=REFERRAL, category="referral", priority=Priority.URGENT,
                 timing=immediately()),
    strength=Strength.STRONG, direction=Direction.FOR,
    sources=[Source("guide", "need an urgent surgical referral immediately")],
)
calcitonin = Recommendation(
    "calcitonin-course", title="Calcitonin for 4 weeks", statement="Calcitonin for 4 weeks.",
    when=acute & ~low_crcl,
    then=Medication(title="Calcitonin nasal spray", code=RXNORM("1000", "calcitonin"), priority=Priority.ROUTINE,
                    timing=lasting(weeks(4), starting="fracture identification"),
                    dosage=Dosage(text="200 IU nasal daily", dose=Quantity(200, "[iU]"), frequency=1, period=days(1))),
    strength=Strength.STRONG, direction=Direction.FOR,
    sources=[Source("guide", "Calcitonin is recommended for 4 weeks from fracture identification.")],
)
visit = Service(title="Reassessment visit", code=FOLLOW_UP, category="procedure",
                timing=at(weeks(4), weeks(6), after="fracture identification"))
follow_up = Recommendation(
    "follow-up", title="Reassess at 4-6 weeks", statement="Reassess at 4-6 weeks; remind 2 days later.",
    when=acute,
    then=[visit, Communication(title="Reminder", code=REMINDER, message="Your reassessment is booked.",
                               timing=at(days(2), after=visit))],
    strength=Strength.WEAK, direction=Direction.FOR,
    sources=[Source("guide", "Reassess the patient at 4-6 weeks after fracture identification")],
)
analgesia = Recommendation(
    "analgesic-choice", title="One analgesic", statement="Either acetaminophen or ibuprofen, not both.",
    when=acute,
    then=Choice(Medication(title="Acetaminophen", code=RXNORM("161", "Acetaminophen")),
                Medication(title="Ibuprofen", code=RXNORM("5640", "Ibuprofen")),
                select=Selection.EXACTLY_ONE, title="Acetaminophen or ibuprofen"),
    strength=Strength.WEAK, direction=Direction.FOR,
    sources=[Source("guide", "Give either acetaminophen or ibuprofen for pain, not both.")],
)
NSAIDS = ValueSet("nsaids", title="NSAIDs", codes=[RXNORM("5640", "Ibuprofen"), RXNORM("7258", "Naproxen")])
nsaid_class = Recommendation(
    "nsaid-class", title="An NSAID", statement="Any NSAID.", when=acute & ~low_crcl,
    then=Medication(title="NSAID", code=NSAIDS),
    strength=Strength.WEAK, direction=Direction.FOR,
    sources=[Source("guide", "Give either acetaminophen or ibuprofen for pain")],
)
bracing = Recommendation(
    "bracing-no-recommendation", title="Spinal bracing: no recommendation",
    statement="There is no recommendation for or against spinal bracing.",
    when=acute,
    then=NoRecommendation(about="spinal bracing", reason="The evidence is inconclusive."),
    sources=[Source("guide", "There is no recommendation for or against spinal bracing")],
)

DATE = "2026-03-01"
ALL = ["urgent-referral", "calcitonin-course", "follow-up", "analgesic-choice", "nsaid-class",
       "bracing-no-recommendation"]

guideline = Guideline(
    id="actionsdemo", name="ActionsDemo", title="Activities Demo Guideline",
    canonical="http://example.org/fhir/actionsdemo", version="1.0.0", date="2026-01-01",
    description="Priority, timing, choices and a no-recommendation statement.", publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../sources",
    strategies=[Strategy("acute", title="Acute", description="Acute care",
                         recommendations=[referral, calcitonin, follow_up, analgesia, nsaid_class, bracing])],
    scenarios=[
        Scenario("acute-adult", bundle="patients/acute-adult.json", date=DATE, present=ALL),
        Scenario("acute-adult-low-crcl", bundle="patients/acute-adult-low-crcl.json", date=DATE,
                 present=["follow-up", "analgesic-choice", "bracing-no-recommendation"],
                 absent=["urgent-referral", "calcitonin-course", "nsaid-class"]),
        Scenario("old-fracture", bundle="patients/old-fracture.json", date=DATE, present=[], absent=ALL),
    ],
)
