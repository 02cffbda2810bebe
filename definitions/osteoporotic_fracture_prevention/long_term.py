"""Long-term care: continuing, re-evaluating and stopping therapy, falls, follow-up, exercise."""

from __future__ import annotations

from generator import (Communication, Direction, NoRecommendation, Process, Recommendation, Service, Source,
                       Strategy)

from . import features as f
from . import terminology as t

continue_therapy = Recommendation(
    "continue-osteoporosis-therapy",
    title="Continue osteoporosis medication after the fracture pain is controlled",
    statement="Continuous medication for osteoporosis is still required even after successful pain management of "
    "the compression fracture.",
    when=f.HAS_FRACTURE & f.ON_OSTEOPOROSIS_THERAPY,
    then=Communication(title="Continue osteoporosis medication", code=t.CLINICIAN_ADVICE,
                       message="Continue the osteoporosis medication; it is still required after the fracture pain "
                       "is controlled."),
    direction=Direction.FOR,
    sources=[Source("000", "Continuous medication for osteoporosis is still required even after successful pain "
                           "management of compression fractures")],
)

separate_dosing = Recommendation(
    "separate-supplements-from-bisphosphonate",
    title="Take calcium, antacids, magnesium and iron at a different time from the bisphosphonate",
    statement="Take calcium supplements, antacids, magnesium-based supplements and iron preparations at different "
    "times of day from the bisphosphonate to avoid interfering with its absorption.",
    when=f.HAS_FRACTURE & f.ON_BISPHOSPHONATE,
    then=Communication(title="Separate supplements from the bisphosphonate dose", code=t.EDUCATION,
                       message="Take calcium, antacids, magnesium-based supplements and iron at a different time of "
                       "day from your bisphosphonate."),
    direction=Direction.FOR,
    sources=[Source("001", "Take calcium supplements, antacids, magnesium-based supplements, and iron preparations at "
                           "different times of day to avoid interference with bisphosphonate absorption if "
                           "prescribed")],
    rationale="Applies to current bisphosphonate use (ordered or reported); when a bisphosphonate is only being "
    "proposed the advice belongs with the prescription.",
)

reevaluate_after_three_years = Recommendation(
    "reevaluate-bisphosphonate-after-3-years",
    title="Bisphosphonate for 3 years or more: re-evaluate, consider stopping if fracture risk is low",
    statement="Re-evaluate continued bisphosphonate therapy; patients at low risk for fracture should be considered "
    "for drug discontinuation after 3 to 5 years.",
    when=f.HAS_FRACTURE & f.BISPHOSPHONATE_THREE_YEARS,
    then=Communication(title="Re-evaluate bisphosphonate therapy", code=t.CLINICIAN_ADVICE,
                       message="Bisphosphonate for 3 years or more: re-evaluate continued therapy and, if fracture "
                       "risk is low, consider discontinuation."),
    direction=Direction.FOR,
    sources=[Source("001", "All patients on bisphosphonate therapy should have continued therapy re-evaluated "
                           "periodically; patients at low-risk for fracture should be considered for drug "
                           "discontinuation after 3 to 5 years")],
    rationale="'Periodically' has no interval in the sources; the computable point is the start of the 3-5 year "
    "window (use started 3 or more years ago). Whether the fracture risk is low is the clinician's judgement: no "
    "risk score is named by the sources. This sits beside continue-osteoporosis-therapy (000): both hold, since "
    "000 concerns stopping because pain is controlled, 001 a planned review of long-term use.",
)

after_discontinuation = Recommendation(
    "fracture-risk-after-discontinuation",
    title="After stopping a bisphosphonate: re-evaluate fracture risk periodically",
    statement="Patients who discontinue bisphosphonate therapy should have their fracture risk re-evaluated "
    "periodically.",
    when=f.HAS_FRACTURE & f.DISCONTINUED_BISPHOSPHONATE,
    then=Communication(title="Re-evaluate fracture risk", code=t.CLINICIAN_ADVICE,
                       message="The bisphosphonate was discontinued: re-evaluate the patient's fracture risk "
                       "periodically."),
    direction=Direction.FOR,
    sources=[Source("001", "Patients who discontinue bisphosphonate therapy should have their fracture risk "
                           "re-evaluated periodically")],
    rationale="While this applies, starting treatment anew is not proposed (feature 'Untreated Vertebral Fragility "
    "Fracture'): the source asks for re-evaluation, and the decision to restart follows from it.",
)

fall_prevention = Recommendation(
    "fall-prevention",
    title="Fall prevention education and measures",
    statement="Long-term management should include fall prevention education and measures.",
    when=f.HAS_FRACTURE,
    then=Communication(title="Fall prevention education", code=t.EDUCATION,
                       message="Fall prevention education and measures."),
    direction=Direction.FOR,
    sources=[Source("003", "Fall prevention education and measures")],
)

opioid_falls = Recommendation(
    "opioid-caution-fall-risk-elderly",
    title="Elderly patient taking an opioid: caution, increased fall risk",
    statement="Exercise caution with opioids in elderly patients because of sedation, nausea, deconditioning and "
    "increased fall risk.",
    when=f.HAS_FRACTURE & f.ELDERLY & f.ON_OPIOID,
    then=Communication(title="Opioid caution: fall risk", code=t.CLINICIAN_ADVICE,
                       message="The patient is elderly and taking an opioid: sedation, nausea, deconditioning and "
                       "increased fall risk."),
    direction=Direction.FOR,
    sources=[Source("004", "Use NSAIDs or opioids as needed for breakthrough pain, though exercise caution with "
                           "opioids due to sedation, nausea, deconditioning, and increased fall risk in elderly "
                           "patients")],
    rationale="'Elderly' is 65 or over (encoding convention; the source gives no age).",
)

follow_up = Recommendation(
    "follow-up-monitor-new-fractures",
    title="Regular follow-up to monitor for new fractures",
    statement="Long-term management should include regular follow-up to monitor for new fractures.",
    when=f.HAS_FRACTURE,
    then=Service(title="Regular follow-up for new fractures", code=t.FOLLOW_UP, category="procedure",
                 timing="regular follow-up"),
    direction=Direction.FOR,
    sources=[Source("003", "Regular follow-up to monitor for new fractures")],
    rationale="The sources give no interval for the long-term follow-up (the 4-6 week reassessment of 001/004 is "
    "about the fracture pain); the timing is their word 'regular'.",
)

exercise = Recommendation(
    "exercise-programmes-no-recommendation",
    title="Exercise programmes: no recommendation for or against",
    statement="There is no recommendation for or against supervised or unsupervised exercise programmes: the "
    "evidence is insufficient.",
    when=f.HAS_FRACTURE,
    then=NoRecommendation(about="supervised or unsupervised exercise programmes",
                          reason="The evidence is insufficient or inconclusive, though one study showed some "
                          "benefit in quality of life domains."),
    sources=[
        Source("001", "No recommendation for or against supervised or unsupervised exercise programs due to "
                      "insufficient evidence, though one study showed some benefit in quality of life domains"),
        Source("004", "Evidence for supervised or unsupervised exercise programs is inconclusive, though one study "
                      "showed improvement in symptom and emotion domains at 6 months"),
    ],
    rationale="Sources differ: 001 and 004 find the evidence on exercise programmes insufficient (no "
    "recommendation), while 003 includes \"Spinal stretching exercises and walking to improve mobility and prevent "
    "deconditioning\" in long-term management and 004 adds that \"clinical practice supports early mobilization and "
    "progressive strengthening\". The programmes are encoded as no recommendation; "
    "the stretching and walking of 003 are left to the clinician's discussion, not ordered.",
)

long_term = Strategy(
    "long-term-care",
    title="Long-term care",
    description="Continue and periodically re-evaluate therapy, re-evaluate fracture risk after stopping, prevent "
    "falls, follow up for new fractures.",
    process=Process.MONITOR_AND_FOLLOW_UP,
    recommendations=[continue_therapy, separate_dosing, reevaluate_after_three_years, after_discontinuation,
                     fall_prevention, opioid_falls, follow_up, exercise],
)
