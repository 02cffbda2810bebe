"""Fixture for the analysis data shapes: one feature per builder node and records filter of the
authoring model v2, so a test can check, for every data combination the shapes call realisable,
that the CQL engine gives each feature the value the shapes predict.

Each kind of records has its own codes, so the record sets stay small enough to enumerate.
`Fracture Before Scan` (an event bound) and `Clearances Three Months Apart` are not modelled: the
analysis must say so (ANALYZE012), never guess.
"""

from generator import (LOINC, RXNORM, SNOMED, Citation, ClinicalStatus, Direction, Feature, Guideline, Medication,
                       Quantity, Recommendation, Source, Strategy, ValueSet, administrative_sex, age_in_months,
                       age_in_years, conditions, medications, months, observations, procedures, time_since, weeks,
                       years)

L3 = SNOMED("36470004", "L3 vertebra")
L4 = SNOMED("11994002", "L4 vertebra")
L3_OR_L4 = ValueSet("l3-or-l4", title="L3 Or L4", codes=[L3, L4])
FRACTURE = SNOMED("207957008", "Fracture of vertebral column without spinal cord injury")
LUMBAR = SNOMED("203450003", "Osteoporotic fracture of lumbar vertebra")
THORACIC = SNOMED("203451004", "Osteoporotic fracture of thoracic vertebra")
SCAN = SNOMED("392010000", "Vertebroplasty")
CRCL = LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum")
PAIN = LOINC("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
BISPHOSPHONATES = ValueSet("bisphosphonates", title="Bisphosphonates",
                           codes=[RXNORM("46041", "alendronate"), RXNORM("73056", "risedronate")])

fracture = conditions(FRACTURE)
ever = conditions(FRACTURE, status=ClinicalStatus.HISTORY)
lumbar = conditions(LUMBAR)
thoracic_ever = conditions(THORACIC, status=ClinicalStatus.HISTORY)
clearance = observations(CRCL)
bisphosphonate = medications(BISPHOSPHONATES)

FEATURES = [
    # conditions: clinical-status policy, onset windows, counts, event dates
    Feature("Active Fracture", fracture.exists()),
    Feature("Fracture Ever", ever.exists()),
    Feature("Fracture Onset Within Four Weeks", fracture.onset_within(weeks(4))),
    Feature("Fracture Ever Onset Before Three Months", ever.onset_before(months(3))),
    Feature("Fracture Ever Within Six Weeks", ever.within(weeks(6)).exists()),
    Feature("Two Fractures Ever", ever.at_least(2)),
    Feature("Exactly One Active Fracture", fracture.count() == 1),
    Feature("First Fracture Over Six Months Ago", time_since(ever.earliest()) >= months(6)),
    Feature("Latest Fracture Under One Month Ago", time_since(ever.latest()) < months(1)),
    # conditions: body site, recorded date
    Feature("Lumbar Fracture At L3 Or L4", lumbar.with_body_site(L3_OR_L4).exists()),
    Feature("Lumbar Fracture At L4", lumbar.with_body_site(L4).exists()),
    Feature("Lumbar Fracture Recorded Within Two Weeks", lumbar.recorded_within(weeks(2))),
    Feature("Lumbar Fracture Onset Within Two Weeks", lumbar.onset_within(weeks(2))),
    # conditions: category
    Feature("Thoracic Fracture On Problem List", conditions(THORACIC, category="problem-list-item").exists()),
    Feature("Thoracic Fracture Diagnosed Ever", conditions(THORACIC, status=ClinicalStatus.HISTORY,
                                                           category="encounter-diagnosis").exists()),
    Feature("Thoracic Fracture Ever", thoracic_ever.exists()),
    # procedures
    Feature("Scan Within Three Months", procedures(SCAN).performed_within(months(3))),
    Feature("Scan At L3 Or L4 Within A Year", procedures(SCAN).with_body_site(L3_OR_L4).within(years(1)).exists()),
    # observations: latest value, window, value filter, count
    Feature("Low Clearance", clearance.latest_value() < Quantity(30, "mL/min")),
    Feature("Recent Clearance At Most 30", clearance.within(weeks(2)).latest_value() <= Quantity(30, "mL/min")),
    Feature("Two Low Clearances", clearance.with_value("<", Quantity(30, "mL/min")).at_least(2)),
    Feature("Pain Recorded", observations(PAIN).exists()),
    # medication use (MedicationRequest and MedicationStatement)
    Feature("Taking A Bisphosphonate", bisphosphonate.taking()),
    Feature("Bisphosphonate For A Year", bisphosphonate.taking_for_at_least(years(1))),
    Feature("Bisphosphonate Started Within A Month", bisphosphonate.started_within(months(1))),
    Feature("Bisphosphonate Stopped Within Three Months", bisphosphonate.stopped_within(months(3))),
    # demographics
    Feature("Aged 65 Or Over", age_in_years() >= 65),
    Feature("Under 18 Months", age_in_months() < 18),
    Feature("Female", administrative_sex() == "female"),
]
UNMODELLED = [
    Feature("Fracture Before Scan", fracture.before(procedures(SCAN).earliest()).exists()),
    Feature("Clearances Three Months Apart", clearance.at_least(2, apart=months(3))),
]
SOURCE = [Source("guide", "Creatinine clearance below 30 mL/min contraindicates risedronate")]

give = Recommendation("give", title="Give", statement="Give.", when=FEATURES[0],
                      then=Medication(title="Alendronate", code=RXNORM("46041", "alendronate")),
                      direction=Direction.FOR, sources=SOURCE)
unmodelled = Recommendation("unmodelled", title="Unmodelled", statement="Unmodelled.",
                            when=UNMODELLED[0] | UNMODELLED[1],
                            then=Medication(title="Risedronate", code=RXNORM("73056", "risedronate"),
                                            do_not_perform=True),
                            direction=Direction.AGAINST, sources=SOURCE)

guideline = Guideline(
    id="shapes", name="Shapes", title="Analysis data shapes", canonical="http://example.org/fhir/shapes",
    version="1.0.0", date="2026-03-31", description="Fixture for the cpg analyze data shapes.",
    publisher="Test Publisher",
    sources={"guide": Citation(file="guide.txt", title="Test guide", updated="2026-01-01")},
    sources_dir="../../../golden/minimal/sources",
    strategies=[Strategy("care", title="Care", description="Care", recommendations=[give, unmodelled])],
    features=FEATURES + UNMODELLED, value_sets=[L3_OR_L4, BISPHOSPHONATES],
)
