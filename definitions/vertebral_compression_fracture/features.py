"""Case features: what the recommendations ask of the patient record.

Time is measured from the fracture Condition's onset (or recorded date when onset is absent).
The pain thresholds on the 0-10 numeric rating scale (mild <= 3, clinically significant >= 4,
severe >= 7) and "elderly" = 65 or over are implementation conventions for mapping the sources'
words ("mild", "severe", "persistent", "elderly") onto data; the sources give no numbers for them.
"""

from __future__ import annotations

from generator import (ClinicalStatus, Feature, Quantity, age_in_years, conditions, medications, observations,
                       procedures)
from generator import months, weeks

from . import terminology as t

#: HISTORY status policy: a fracture sent without clinicalStatus (an encounter diagnosis usually is) counts; the
#: default ACTIVE policy would silently skip it (README "Clinical status"). A fracture recorded as inactive or
#: resolved counts too: bone health and follow-up apply after any vertebral fragility fracture, and pain months
#: later goes to new imaging first (new-mri-if-symptoms-change-or-imaging-old). REVIEW.md section 4.
fracture = conditions(t.VERTEBRAL_FRACTURE, status=ClinicalStatus.HISTORY)
pain = observations(t.PAIN_SEVERITY).latest_value()

# --- the fracture and its timeline ---------------------------------------------------------------

HAS_FRACTURE = Feature(
    "Has Vertebral Compression Fracture", fracture.exists(),
    description="A vertebral compression fracture is recorded (any clinicalStatus, or none; not refuted).",
)
ACUTE = Feature(
    "Acute Fracture", fracture.onset_within(weeks(4)),
    description="Fracture identified within the last 4 weeks (acute phase).",
)
WITHIN_THREE_MONTHS = Feature(
    "Fracture Within Three Months", fracture.onset_within(months(3)),
    description="Fracture identified within the last 3 months (initial conservative management period).",
)
SUBACUTE = Feature(
    "Subacute Fracture", fracture.onset_before(weeks(4)) & fracture.onset_within(months(3)),
    description="Fracture 1-3 months old (subacute phase).",
)
OLDER_THAN_EIGHT_WEEKS = Feature(
    "Fracture Older Than Eight Weeks", fracture.onset_before(weeks(8)),
    description="Fracture identified more than 8 weeks ago.",
)
OLDER_THAN_THREE_MONTHS = Feature(
    "Fracture Older Than Three Months", fracture.onset_before(months(3)),
    description="Fracture identified more than 3 months ago.",
)
AT_L3_OR_L4 = Feature(
    "Fracture At L3 Or L4", fracture.with_body_site(t.L3_OR_L4_VERTEBRA).exists(),
    description="A vertebral compression fracture whose body site is L3 or L4.",
)

# --- pain ------------------------------------------------------------------------------------------

MILD_PAIN = Feature("Mild Pain", pain <= Quantity(3, t.PAIN_SCORE_UNIT),
                    description="Latest 0-10 pain score is 3 or less.")
SIGNIFICANT_PAIN = Feature("Clinically Significant Pain", pain >= Quantity(4, t.PAIN_SCORE_UNIT),
                           description="Latest 0-10 pain score is 4 or more (pain not adequately relieved).")
SEVERE_PAIN = Feature("Severe Pain", pain >= Quantity(7, t.PAIN_SCORE_UNIT),
                      description="Latest 0-10 pain score is 7 or more.")
ON_ANALGESICS = Feature("Taking Analgesics", medications(t.ANALGESICS).exists(),
                        description="An active order for acetaminophen, an NSAID or an opioid.")
WORSENING_DESPITE_MEDICATION = Feature(
    "Worsening Symptoms Despite Medication", SEVERE_PAIN & ON_ANALGESICS,
    description="Severe pain while taking analgesics (data proxy for 'worsening symptoms despite medications').",
)

# --- red flags -------------------------------------------------------------------------------------

NEURO_DEFICIT = Feature("Neurological Deficit", conditions(t.NEUROLOGICAL_DEFICIT).exists(),
                        description="A neurological deficit is recorded (weakness, paraplegia/paraparesis, saddle "
                        "sensory loss, cauda equina syndrome, neurogenic bowel or bladder).")
CORD_COMPRESSION = Feature("Spinal Cord Compression", conditions(t.SPINAL_CORD_COMPRESSION).exists())
INSTABILITY = Feature("Spinal Instability", conditions(t.SPINAL_INSTABILITY).exists())
DEFORMITY = Feature("Spinal Deformity Or Progressive Kyphosis", conditions(t.SPINAL_DEFORMITY).exists())
PULMONARY_DYSFUNCTION = Feature("Pulmonary Dysfunction", conditions(t.PULMONARY_DYSFUNCTION).exists(),
                                description="Respiratory insufficiency or respiratory failure is recorded.")

NEUROLOGICALLY_INTACT = Feature(
    "Neurologically Intact", HAS_FRACTURE & ~NEURO_DEFICIT & ~CORD_COMPRESSION,
    description="A fracture with no neurological deficit or spinal cord compression *recorded*. Absence of a "
    "record is not proof of an intact examination: every recommendation that relies on this also comes with "
    "assess-neurology-and-red-flags (examination) while conservative care is proposed.",
)
CONSERVATIVE_CANDIDATE = Feature(
    "Conservative Management Candidate", WITHIN_THREE_MONTHS & NEUROLOGICALLY_INTACT & ~INSTABILITY,
    description="Within the first 3 months, neurologically intact and without spinal instability.",
)

# --- malignancy and special populations ------------------------------------------------------------

MALIGNANCY = Feature(
    "Malignancy Or Malignancy Risk", conditions(t.MALIGNANCY, status=ClinicalStatus.HISTORY).exists(),
    description="A cancer recorded with any clinicalStatus (active, recurrence, relapse, remission, resolved, "
    "inactive) or none: a history of cancer is a risk factor for malignancy (sources 001/003/004).",
)
SPINAL_METASTASES = Feature("Spinal Metastases", conditions(t.SPINAL_METASTASES).exists())
MASTOCYTOSIS = Feature("Systemic Mastocytosis", conditions(t.SYSTEMIC_MASTOCYTOSIS).exists())
SPINAL_METASTASES_WITH_PAIN_OR_NEURO = Feature(
    "Spinal Metastases With Pain Or Neurological Compromise",
    SPINAL_METASTASES & (SIGNIFICANT_PAIN | NEURO_DEFICIT | CORD_COMPRESSION),
    description="Spinal metastases causing pain (score 4 or more) or neurological compromise (deficit or cord "
    "compression). The sources' 'risk of neurologic compromise' has no computable form and is left to the "
    "clinician.",
)

# --- medication safety -----------------------------------------------------------------------------

CRCL_BELOW_30 = Feature(
    "Creatinine Clearance Below 30",
    observations(t.CREATININE_CLEARANCE).latest_value() < Quantity(30, "mL/min"),
    description="Latest creatinine clearance below 30 mL/min (source 001: risedronate not recommended).",
)
HYPOCALCAEMIA = Feature("Hypocalcaemia", conditions(t.HYPOCALCAEMIA).exists())
OESOPHAGEAL_ABNORMALITY = Feature("Oesophageal Abnormality", conditions(t.OESOPHAGEAL_ABNORMALITY).exists())
CANNOT_REMAIN_UPRIGHT = Feature(
    "Unable To Sit Or Stand Upright For 30 Minutes", conditions(t.UNABLE_TO_SIT_OR_STAND_UPRIGHT).exists(),
)
BISPHOSPHONATE_CONTRAINDICATED = Feature(
    "Bisphosphonate Contraindicated", OESOPHAGEAL_ABNORMALITY | CANNOT_REMAIN_UPRIGHT | HYPOCALCAEMIA,
    description="Oesophageal abnormality, inability to sit/stand upright for 30 minutes, or hypocalcaemia.",
)
ON_BISPHOSPHONATE = Feature("Taking A Bisphosphonate", medications(t.BISPHOSPHONATES).exists())

# --- other -----------------------------------------------------------------------------------------

MRI_CONTRAINDICATED = Feature("MRI Contraindicated", conditions(t.MRI_CONTRAINDICATION).exists())
RECENT_SPINE_MRI = Feature("Spine MRI Within Three Months", procedures(t.SPINE_MRI).performed_within(months(3)),
                           description="A completed MRI of the spine (not of another body part) in the last 3 "
                           "months.")
RECENT_SPINE_IMAGING = Feature(
    "Spine Imaging Within Three Months",
    RECENT_SPINE_MRI | procedures(t.SPINE_CT).performed_within(months(3)),
    description="A completed MRI or CT of the spine in the last 3 months (CT: when MRI is contraindicated).",
)
PRIOR_AUGMENTATION = Feature("Prior Vertebral Augmentation", procedures(t.VERTEBRAL_AUGMENTATION).exists())
NOT_SURGICAL_CANDIDATE = Feature("Not A Surgical Candidate", conditions(t.NOT_SURGICAL_CANDIDATE).exists())
ELDERLY = Feature("Aged 65 Or Over", age_in_years() >= 65)

FAILED_CONSERVATIVE_MANAGEMENT = Feature(
    "Failed Conservative Management", OLDER_THAN_THREE_MONTHS & SIGNIFICANT_PAIN,
    description="Pain not adequately relieved after 3 months of conservative management.",
)
NEW_SPINE_MRI_DUE = Feature(
    "New Spine MRI Due", FAILED_CONSERVATIVE_MANAGEMENT & ~RECENT_SPINE_MRI & ~MALIGNANCY & ~MRI_CONTRAINDICATED,
    description="Pain 3 months or more after the fracture with no spine MRI in the last 3 months (source 004: "
    "new MRI when imaging is more than 3 months old); malignancy has its own complete-spine MRI.",
)
IMAGING_DUE = Feature(
    "Spine Imaging Due",
    ACUTE | (MALIGNANCY & HAS_FRACTURE) | (OLDER_THAN_EIGHT_WEEKS & SIGNIFICANT_PAIN),
    description="A point of the pathway where the sources ask for spine imaging: presentation (acute fracture), "
    "suspected pathologic fracture, or symptoms persisting beyond 8 weeks.",
)
URGENT_SURGICAL_REFERRAL = Feature(
    "Urgent Surgical Referral", HAS_FRACTURE & (NEURO_DEFICIT | CORD_COMPRESSION | INSTABILITY),
    description="Neurological deficit, cord compression or instability: immediate referral or surgical "
    "consultation (no conservative-only advice next to it).",
)
RESIDUAL_PAIN_AFTER_AUGMENTATION = Feature(
    "Residual Pain After Vertebral Augmentation", PRIOR_AUGMENTATION & SIGNIFICANT_PAIN,
)

ALL_FEATURES = [
    HAS_FRACTURE, ACUTE, WITHIN_THREE_MONTHS, SUBACUTE, OLDER_THAN_EIGHT_WEEKS, OLDER_THAN_THREE_MONTHS,
    AT_L3_OR_L4, MILD_PAIN, SIGNIFICANT_PAIN, SEVERE_PAIN, ON_ANALGESICS, WORSENING_DESPITE_MEDICATION,
    NEURO_DEFICIT, CORD_COMPRESSION, INSTABILITY, DEFORMITY, PULMONARY_DYSFUNCTION, NEUROLOGICALLY_INTACT,
    CONSERVATIVE_CANDIDATE, MALIGNANCY, SPINAL_METASTASES, MASTOCYTOSIS, SPINAL_METASTASES_WITH_PAIN_OR_NEURO,
    CRCL_BELOW_30, HYPOCALCAEMIA,
    OESOPHAGEAL_ABNORMALITY, CANNOT_REMAIN_UPRIGHT, BISPHOSPHONATE_CONTRAINDICATED, ON_BISPHOSPHONATE,
    MRI_CONTRAINDICATED, RECENT_SPINE_MRI, RECENT_SPINE_IMAGING, PRIOR_AUGMENTATION, NOT_SURGICAL_CANDIDATE, ELDERLY,
    FAILED_CONSERVATIVE_MANAGEMENT, NEW_SPINE_MRI_DUE, IMAGING_DUE, URGENT_SURGICAL_REFERRAL,
    RESIDUAL_PAIN_AFTER_AUGMENTATION,
]
