"""Case features: what the recommendations ask of the patient record.

Conventions of this encoding (the sources give no numbers for them, REVIEW.md lists them):
* a fracture is any recorded vertebral fragility fracture whatever its clinical status (a healed or
  resolved fracture still calls for secondary prevention); "recent" = dated in the last 12 months,
  the period of the 20 % recurrence risk that source 004 gives as the reason to start at once;
* "discontinued a bisphosphonate" = use that ended in the last 5 years and is not current; the
  sources give no length of a drug holiday, 5 years is the encoding's look-back;
* "elderly" = aged 65 or over.
"""

from __future__ import annotations

from generator import (ClinicalStatus, Feature, Quantity, administrative_sex, age_in_years, conditions,
                       medications, months, observations, years)

from . import terminology as t

fracture = conditions(t.VERTEBRAL_FRAGILITY_FRACTURE, status=ClinicalStatus.HISTORY)
bisphosphonates = medications(t.BISPHOSPHONATES)

# --- the fracture -----------------------------------------------------------------------------------

HAS_FRACTURE = Feature(
    "Has Vertebral Fragility Fracture", fracture.exists(),
    description="A vertebral fragility fracture is recorded, current or past (any clinical status; not refuted).",
)
RECENT_FRACTURE = Feature(
    "Vertebral Fragility Fracture In Last 12 Months", fracture.within(months(12)).exists(),
    description="A vertebral fragility fracture dated (onset, else recorded date) in the last 12 months.",
)

# --- sex -----------------------------------------------------------------------------------------------

FEMALE = Feature("Administrative Sex Female", administrative_sex() == "female",
                 description="Patient.gender is female (administrative sex, the only sex the record carries).")
POSTMENOPAUSAL_WOMAN = Feature(
    "Postmenopausal Woman",
    FEMALE & conditions(t.POSTMENOPAUSAL_STATE, status=ClinicalStatus.HISTORY).exists(),
    description="A woman with a recorded postmenopausal state (source 001 names risedronate for postmenopausal "
    "women; the menopause is not inferred from age).",
)

# --- medication use (MedicationRequest or MedicationStatement) -----------------------------------------

ON_OSTEOPOROSIS_THERAPY = Feature(
    "Taking Osteoporosis Pharmacotherapy", medications(t.OSTEOPOROSIS_DRUGS).taking(),
    description="Current use of a bisphosphonate, denosumab or strontium ranelate, ordered or reported.",
)
ON_BISPHOSPHONATE = Feature("Taking A Bisphosphonate", bisphosphonates.taking())
BISPHOSPHONATE_THREE_YEARS = Feature(
    "Taking A Bisphosphonate For At Least 3 Years", bisphosphonates.taking_for_at_least(years(3)),
    description="Current bisphosphonate use that started 3 or more years ago (source 001: consider stopping after "
    "3 to 5 years in patients at low risk).",
)
DISCONTINUED_BISPHOSPHONATE = Feature(
    "Discontinued A Bisphosphonate",
    bisphosphonates.stopped_within(years(5)) & ~ON_BISPHOSPHONATE,
    description="Bisphosphonate use that ended in the last 5 years (encoding's look-back) and is not current.",
)
ON_OPIOID = Feature("Taking An Opioid", medications(t.OPIOIDS).taking())

# --- safety ---------------------------------------------------------------------------------------------

CRCL_BELOW_30 = Feature(
    "Creatinine Clearance Below 30",
    observations(t.CREATININE_CLEARANCE).latest_value() < Quantity(30, "mL/min"),
    description="Latest creatinine clearance below 30 mL/min (severe renal impairment, source 001).",
)
BISPHOSPHONATE_CONTRAINDICATED = Feature(
    "Bisphosphonate Contraindicated",
    conditions(t.OESOPHAGEAL_ABNORMALITY).exists() | conditions(t.UNABLE_TO_REMAIN_UPRIGHT).exists()
    | conditions(t.HYPOCALCAEMIA).exists(),
    description="Oesophageal abnormality, inability to sit/stand upright for 30 minutes, or hypocalcaemia.",
)
ELDERLY = Feature("Aged 65 Or Over", age_in_years() >= 65)

# --- where the pathway stands ----------------------------------------------------------------------------

UNTREATED = Feature(
    "Untreated Vertebral Fragility Fracture",
    HAS_FRACTURE & ~ON_OSTEOPOROSIS_THERAPY & ~DISCONTINUED_BISPHOSPHONATE,
    description="A fracture with no current osteoporosis therapy and no recently discontinued bisphosphonate "
    "(after a discontinuation the sources ask to re-evaluate fracture risk, not to start anew).",
)

ALL_FEATURES = [
    HAS_FRACTURE, RECENT_FRACTURE, FEMALE, POSTMENOPAUSAL_WOMAN, ON_OSTEOPOROSIS_THERAPY, ON_BISPHOSPHONATE,
    BISPHOSPHONATE_THREE_YEARS, DISCONTINUED_BISPHOSPHONATE, ON_OPIOID, CRCL_BELOW_30,
    BISPHOSPHONATE_CONTRAINDICATED, ELDERLY, UNTREATED,
]
