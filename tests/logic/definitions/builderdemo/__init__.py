"""Every builder of the vocabulary as a feature, for tests/logic/test_builders.py (not clinical content).

The codes are real identifiers reused from the VCF guideline's terminology (see its notes) or, for
eGFR, LOINC 62238-1 (CKD-EPI eGFR; check digit verified, meaning unconfirmed here).
"""

from generator import (
    ICD10CM, LOINC, RXNORM, SNOMED, code_prefix, is_a, Citation, ClinicalStatus, Feature, Guideline, Quantity, Recommendation, Service, Source,
    Strategy, ValueSet, administrative_sex, age_in_months, age_in_years, conditions, days, medications, months,
    observations, procedures, time_since, weeks,
)

FRACTURE = ValueSet("fracture", title="Fracture", codes=[SNOMED("207957008", "Closed fracture of lumbar vertebra")])
SPINE = SNOMED("421060004", "Spine")
MRI = SNOMED("113091000", "Magnetic resonance imaging")
EGFR = LOINC("62238-1", "eGFR CKD-EPI")
PAIN = LOINC("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
ANALGESIC = RXNORM("161", "Acetaminophen")
CKD = ValueSet(
    "chronic-kidney-disease", title="Chronic kidney disease",
    rules=[code_prefix(ICD10CM, "N18"), is_a(SNOMED("709044004", "Chronic kidney disease"))],
    expansion="expansions/ckd.json",
)
EGFR_UNIT = "mL/min/{1.73_m2}"

fracture = conditions(FRACTURE)

FEATURES = [
    Feature("Fracture In Last 12 Weeks", fracture.within(weeks(12)).exists()),
    Feature("Fracture Ever", conditions(FRACTURE, status=ClinicalStatus.HISTORY).exists()),
    Feature("Fracture Recorded Within 30 Days", fracture.recorded_within(days(30))),
    Feature("Spine Fracture", fracture.with_body_site(SPINE).exists()),
    Feature("MRI Within 3 Months", procedures(MRI).performed_within(months(3))),
    Feature("Spine MRI Within 3 Months", procedures(MRI).with_body_site(SPINE).within(months(3)).exists()),
    Feature("Low eGFR In Last 12 Months", observations(EGFR).within(months(12)).latest_value() < Quantity(60, EGFR_UNIT)),
    Feature("Two Low eGFR 90 Days Apart",
            observations(EGFR).with_value("<", Quantity(60, EGFR_UNIT)).at_least(2, apart=days(90))),
    Feature("Three eGFR Results", observations(EGFR).count() >= 3),
    Feature("Severe Pain Before Fracture",
            observations(PAIN).before(fracture.earliest()).latest_value() >= Quantity(7, "{score}")),
    Feature("MRI Within 6 Weeks Of Fracture", (procedures(MRI).earliest() - fracture.earliest()) <= weeks(6)),
    Feature("Fracture Older Than 8 Weeks", time_since(fracture.earliest()) >= weeks(8)),
    Feature("Female", administrative_sex() == "female"),
    Feature("Under 24 Months", age_in_months() < 24),
    Feature("Adult", age_in_years() >= 18),
    Feature("Taking Analgesic", medications(ANALGESIC).taking()),
    Feature("Taking Analgesic 3 Months", medications(ANALGESIC).taking_for_at_least(months(3))),
    Feature("Analgesic Started Within 30 Days", medications(ANALGESIC).started_within(days(30))),
    Feature("Analgesic Stopped Within 30 Days", medications(ANALGESIC).stopped_within(days(30))),
    Feature("Chronic Kidney Disease", conditions(CKD).exists()),
    Feature("Fracture On Problem List", conditions(FRACTURE, category="problem-list-item").exists()),
    Feature("Exactly Three eGFR Results", observations(EGFR).count() == 3),
]

image = Recommendation(
    "image-spine", title="Image the spine", statement="Image the spine.", when=FEATURES[0],
    then=Service(title="MRI", code=MRI), sources=[Source("src", "Image the spine when a fracture is recorded.")],
)

guideline = Guideline(
    id="builder-demo", name="BuilderDemo", title="Builder demo", canonical="http://example.org/fhir/builder-demo",
    version="1.0.0", date="2026-01-01", description="Builder vocabulary test guideline.", publisher="tests",
    sources={"src": Citation(file="source.txt", title="Test source")}, sources_dir="..",
    features=FEATURES, strategies=[Strategy("main", title="Main", recommendations=[image])],
)
