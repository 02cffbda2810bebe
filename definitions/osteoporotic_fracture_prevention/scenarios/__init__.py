"""Test patients: one FHIR R4 Bundle per scenario, evaluated on 2026-11-21.

The bundles are written the way an EHR sends data: specific SNOMED CT concepts, ICD-10-CM codes with
7th characters, encounter diagnoses without clinicalStatus or onset, a postmenopausal state on the
problem list, medication use reported as MedicationStatement (dateTime or Period, active or
completed) next to a MedicationRequest. `absent=ALL_OTHERS`: no other recommendation may apply.
"""

from __future__ import annotations

from generator import ALL_OTHERS, Scenario

EVALUATION_DATE = "2026-11-21"

#: Apply to every patient with a vertebral fragility fracture.
EVERY_FRACTURE = [
    "calcium-vitamin-d",
    "fall-prevention",
    "follow-up-monitor-new-fractures",
    "exercise-programmes-no-recommendation",
]

#: Current bisphosphonate use.
ON_BISPHOSPHONATE = ["continue-osteoporosis-therapy", "separate-supplements-from-bisphosphonate"]


def _scenario(sid: str, title: str, present: list[str]) -> Scenario:
    return Scenario(sid, title=title, bundle=f"scenarios/{sid}.json", date=EVALUATION_DATE, present=present,
                    absent=ALL_OTHERS)


SCENARIOS = [
    _scenario("postmenopausal-woman-recent-lumbar-collapse",
              "75-year-old postmenopausal woman, osteoporotic lumbar collapse 7 weeks ago (SNOMED), untreated",
              [*EVERY_FRACTURE, "start-pharmacotherapy-recent-fracture", "risedronate-postmenopausal-women"]),
    # Counter-case of the first: a man (risedronate is stated for postmenopausal women only); the fracture is
    # an ICD-10-CM encounter diagnosis with no clinicalStatus and no onset (dated by recordedDate).
    _scenario("man-recent-fracture-icd10-no-onset",
              "76-year-old man, M80.08XA encounter diagnosis 2 months ago, no onset, untreated",
              [*EVERY_FRACTURE, "start-pharmacotherapy-recent-fracture"]),
    # Already on therapy (MedicationStatement, open Period): no new agent is proposed.
    _scenario("woman-on-alendronate-statement",
              "80-year-old postmenopausal woman, resolved thoracic fracture 2024, reports alendronate since 2024-07",
              [*EVERY_FRACTURE, *ON_BISPHOSPHONATE]),
    # Look-back: alendronate for more than 3 years (MedicationStatement with effectiveDateTime only); an
    # oxycodone order at 84.
    _scenario("man-alendronate-four-years-opioid",
              "84-year-old man, M80.88XS (sequela), alendronate since 2022-06, oxycodone ordered",
              [*EVERY_FRACTURE, *ON_BISPHOSPHONATE, "reevaluate-bisphosphonate-after-3-years",
               "opioid-caution-fall-risk-elderly"]),
    # Stopped (MedicationStatement completed, Period ended 2025-03): re-evaluate risk, no fresh start.
    _scenario("woman-discontinued-alendronate",
              "77-year-old woman, lumbar fracture 2019, alendronate 2019-2025 completed",
              [*EVERY_FRACTURE, "fracture-risk-after-discontinuation"]),
    # Contraindications: hypocalcaemia (no bisphosphonate, a non-bisphosphonate agent instead) and creatinine
    # clearance 25 mL/min (no risedronate, so no risedronate proposal though she is postmenopausal).
    _scenario("hypocalcaemia-low-crcl",
              "86-year-old postmenopausal woman, recent vertebral fracture, hypocalcaemia, creatinine clearance 25",
              [*EVERY_FRACTURE, "pharmacotherapy-bisphosphonate-contraindicated", "bisphosphonate-contraindicated",
               "risedronate-not-in-severe-renal-impairment"]),
    # Renal limit alone: the agent choice stands (the sources restrict only risedronate), risedronate is not
    # proposed to this postmenopausal woman and is advised against.
    _scenario("postmenopausal-woman-crcl-25",
              "81-year-old postmenopausal woman, M80.08XA 3 weeks ago, creatinine clearance 25 mL/min (24 h urine)",
              [*EVERY_FRACTURE, "start-pharmacotherapy-recent-fracture", "risedronate-not-in-severe-renal-impairment"]),
    # Look-back: fracture older than 12 months, never treated: treatment without urgency; a woman with no
    # recorded menopause gets no risedronate proposal (it is not inferred from age).
    _scenario("woman-old-fracture-untreated",
              "58-year-old woman, osteoporotic vertebral collapse 2023, untreated, menopause not recorded",
              [*EVERY_FRACTURE, "treat-underlying-osteoporosis"]),
    # A refuted fracture is no fracture: nothing applies, even on alendronate.
    _scenario("no-fracture-refuted-on-alendronate",
              "74-year-old postmenopausal woman on alendronate; the vertebral fracture diagnosis was refuted",
              []),
]
