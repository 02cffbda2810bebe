"""Bone health: calcium and vitamin D, osteoporosis pharmacotherapy and its safety."""

from __future__ import annotations

from generator import (Communication, Direction, Dosage, Medication, Process, Recommendation, Source,
                             Strategy, days)

from . import features as f
from . import terminology as t

calcium_vitamin_d = Recommendation(
    "calcium-vitamin-d",
    title="Calcium and vitamin D supplementation",
    statement="Prescribe at least 1000 mg elemental calcium and at least 800 IU vitamin D daily, starting "
    "immediately.",
    when=f.HAS_FRACTURE,
    then=[
        Medication(title="Calcium: at least 1000 mg elemental calcium daily", code=t.CALCIUM_CARBONATE,
                   dosage=Dosage(text="At least 1000 mg elemental calcium daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
        Medication(title="Vitamin D at least 800 IU daily", code=t.CHOLECALCIFEROL,
                   dosage=Dosage(text="At least 800 IU vitamin D daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
    ],
    direction=Direction.FOR,
    sources=[
        Source("004", "Prescribe at least 1000 mg elemental calcium daily and at least 800 IU vitamin D daily "
                      "immediately."),
        Source("001", "Ensure adequate calcium and vitamin D supplementation if dietary intake is inadequate"),
        Source("002", "Supplemental calcium and vitamin D should be provided"),
    ],
    rationale="001 (latest) conditions supplementation on inadequate dietary intake; 004 prescribes it for every "
    "patient immediately. The unconditional 004 dosing is encoded; the clinician can omit it where dietary intake "
    "is already adequate, per 001. The doses are minimums (\"at least\") and the calcium dose is *elemental* "
    "calcium: a structured dose of 1000 mg would state an exact amount, and for calcium carbonate the weight of the "
    "salt, not of elemental calcium, so the doses are given in the dosage text only until the builders can express "
    "a minimum (a dose range with no upper bound). Calcium carbonate is one salt that provides elemental calcium; "
    "the sources name none.",
)

bisphosphonate = Recommendation(
    "osteoporosis-pharmacotherapy-bisphosphonate",
    title="Start osteoporosis pharmacotherapy immediately: a bisphosphonate",
    statement="Initiate osteoporosis pharmacotherapy immediately - patients with a compression fracture have a 20 % "
    "risk of another vertebral fracture within 12 months. Bisphosphonates (alendronate, risedronate, ibandronate) "
    "are first-line; continue treatment even after the fracture pain is controlled.",
    when=f.HAS_FRACTURE & ~f.BISPHOSPHONATE_CONTRAINDICATED & ~f.CRCL_BELOW_30,
    then=Medication(title="Oral bisphosphonate (alendronate, risedronate or ibandronate)", code=t.BISPHOSPHONATES),
    direction=Direction.FOR,
    sources=[
        Source("004", "Initiate osteoporosis pharmacotherapy immediately—patients with compression fractures have a "
                      "20% risk of another vertebral fracture within 12 months."),
        Source("004", "Do not delay osteoporosis pharmacotherapy given the 20% risk of recurrent fracture within one "
                      "year"),
        Source("002", "Bisphosphonates (such as alendronate) are first-line treatment for osteoporosis and have "
                      "demonstrated significant reduction in vertebral fracture incidence (48% relative risk "
                      "reduction)"),
        Source("003", "Bisphosphonates such as alendronate have shown significant reduction in the risk of new "
                      "vertebral fractures (48% relative risk reduction)"),
        Source("001", "Bisphosphonates like risedronate are indicated for treatment of osteoporosis in postmenopausal "
                      "women to reduce vertebral fracture incidence"),
        Source("001", "Ibandronate and strontium ranelate are options to prevent additional symptomatic fractures in "
                      "patients with existing osteoporotic compression fractures"),
        Source("000", "Continuous medication for osteoporosis is still required even after successful pain "
                      "management of compression fractures"),
        Source("002", "Do not ignore underlying osteoporosis treatment - fracture management alone without "
                      "addressing bone health leads to future fractures"),
        Source("003", "Failure to treat the underlying osteopenia can result in future fractures"),
    ],
    rationale="With creatinine clearance below 30 mL/min the proposal without risedronate applies instead "
    "(osteoporosis-pharmacotherapy-bisphosphonate-renal), so that no plan proposes and forbids risedronate.",
)

bisphosphonate_renal = Recommendation(
    "osteoporosis-pharmacotherapy-bisphosphonate-renal",
    title="Creatinine clearance below 30 mL/min: a bisphosphonate other than risedronate",
    statement="Initiate osteoporosis pharmacotherapy immediately; with severe renal impairment (creatinine clearance "
    "< 30 mL/min) risedronate is not recommended, so the bisphosphonate is alendronate or ibandronate.",
    when=f.HAS_FRACTURE & ~f.BISPHOSPHONATE_CONTRAINDICATED & f.CRCL_BELOW_30,
    then=Medication(title="Oral bisphosphonate other than risedronate (alendronate or ibandronate)",
                    code=t.BISPHOSPHONATES_WITHOUT_RISEDRONATE),
    direction=Direction.FOR,
    sources=[
        Source("004", "Initiate osteoporosis pharmacotherapy immediately—patients with compression fractures have a "
                      "20% risk of another vertebral fracture within 12 months."),
        Source("002", "Bisphosphonates (such as alendronate) are first-line treatment for osteoporosis and have "
                      "demonstrated significant reduction in vertebral fracture incidence (48% relative risk "
                      "reduction)"),
        Source("001", "Ibandronate and strontium ranelate are options to prevent additional symptomatic fractures in "
                      "patients with existing osteoporotic compression fractures"),
        Source("001", "Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
                      "<30 mL/min)"),
    ],
    rationale="The sources restrict only risedronate in severe renal impairment; no renal restriction of "
    "alendronate or ibandronate is stated in them, and none from drug labelling is added here.",
)

strontium = Recommendation(
    "strontium-ranelate-option",
    title="Strontium ranelate as an option to prevent further fractures",
    statement="Ibandronate and strontium ranelate are options to prevent additional symptomatic fractures in patients "
    "with existing osteoporotic compression fractures.",
    when=f.HAS_FRACTURE,
    then=Medication(title="Strontium ranelate", code=t.STRONTIUM_RANELATE),
    direction=Direction.FOR,
    sources=[
        Source("001", "Ibandronate and strontium ranelate are options to prevent additional symptomatic fractures in "
                      "patients with existing osteoporotic compression fractures"),
        Source("004", "Ibandronate and strontium ranelate are specific options to prevent additional symptomatic "
                      "fractures in patients with existing osteoporotic compression fractures"),
    ],
    rationale="Ibandronate is offered through osteoporosis-pharmacotherapy-bisphosphonate (so that the bisphosphonate "
    "contraindications apply to it); strontium ranelate is not a bisphosphonate.",
)

denosumab = Recommendation(
    "denosumab-alternative",
    title="Denosumab as an alternative first-line agent",
    statement="Denosumab is an alternative first-line agent for the underlying osteoporosis.",
    when=f.HAS_FRACTURE,
    then=Medication(title="Denosumab", code=t.DENOSUMAB),
    direction=Direction.FOR,
    sources=[Source("002", "Denosumab is an alternative first-line agent")],
)

bisphosphonate_contraindicated = Recommendation(
    "bisphosphonate-contraindicated",
    title="Do not give bisphosphonates with oesophageal abnormality, inability to stay upright 30 minutes or "
    "hypocalcaemia",
    statement="Bisphosphonates are contraindicated in patients with oesophageal abnormalities, inability to stand or "
    "sit upright for 30 minutes, or hypocalcaemia.",
    when=f.HAS_FRACTURE & f.BISPHOSPHONATE_CONTRAINDICATED,
    then=Medication(title="Bisphosphonate", code=t.BISPHOSPHONATES, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[
        Source("001", "Bisphosphonates are contraindicated in patients with esophageal abnormalities, inability to "
                      "stand/sit upright for 30 minutes, or hypocalcemia"),
    ],
)

risedronate_renal = Recommendation(
    "risedronate-not-in-severe-renal-impairment",
    title="Do not use risedronate when creatinine clearance is below 30 mL/min",
    statement="Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
    "< 30 mL/min).",
    when=f.HAS_FRACTURE & f.CRCL_BELOW_30,
    then=Medication(title="Risedronate", code=t.RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[
        Source("001", "Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
                      "<30 mL/min)"),
    ],
)

separate_dosing = Recommendation(
    "separate-supplements-from-bisphosphonate",
    title="Take calcium, antacids, magnesium and iron at a different time from the bisphosphonate",
    statement="Take calcium supplements, antacids, magnesium-based supplements and iron preparations at different "
    "times of day from the bisphosphonate to avoid interfering with its absorption.",
    when=f.HAS_FRACTURE & (f.ON_BISPHOSPHONATE | ~f.BISPHOSPHONATE_CONTRAINDICATED),
    then=Communication(
        title="Separate supplements from the bisphosphonate dose", code=t.EDUCATION,
        message="Take calcium, antacids, magnesium-based supplements and iron at a different time of day from "
        "your bisphosphonate.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("001", "Take calcium supplements, antacids, magnesium-based supplements, and iron preparations at "
                      "different times of day to avoid interference with bisphosphonate absorption if prescribed"),
    ],
)

periodic_reevaluation = Recommendation(
    "bisphosphonate-periodic-reevaluation",
    title="Re-evaluate bisphosphonate therapy periodically",
    statement="Re-evaluate continued bisphosphonate therapy periodically; consider stopping after 3 to 5 years in "
    "patients at low risk of fracture, and re-evaluate fracture risk periodically after stopping.",
    when=f.ON_BISPHOSPHONATE,
    then=Communication(
        title="Periodic re-evaluation of bisphosphonate therapy", code=t.CLINICIAN_ADVICE,
        message="Re-evaluate the need for continued bisphosphonate therapy; consider a drug holiday after 3-5 years "
        "if fracture risk is low, and keep re-evaluating fracture risk after stopping.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("001", "All patients on bisphosphonate therapy should have continued therapy re-evaluated "
                      "periodically; patients at low-risk for fracture should be considered for drug discontinuation "
                      "after 3 to 5 years"),
        Source("001", "Patients who discontinue bisphosphonate therapy should have their fracture risk re-evaluated "
                      "periodically"),
    ],
)

bone_health = Strategy(
    "bone-health",
    title="Bone health (start immediately)",
    description="Treat the underlying osteoporosis from the start: calcium and vitamin D, osteoporosis "
    "pharmacotherapy, and safe bisphosphonate use.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[calcium_vitamin_d, bisphosphonate, bisphosphonate_renal, strontium, denosumab,
                     bisphosphonate_contraindicated,
                     risedronate_renal, separate_dosing, periodic_reevaluation],
)
