"""Terminology for secondary prevention after a vertebral fragility fracture: codes and value sets.

Every code carries a `note` saying where its meaning was confirmed, or "UNCONFIRMED: ...". No
terminology server was reachable; meanings were checked against public copies of published value
sets and code tables (REVIEW.md, "Codes"). Abbreviations in the notes:

* VSAC: NLM VSAC expansions published as FHIR ValueSets in cqframework/ecqm-content-qicore-2024 or
  cqframework/ecqm-content-r4-2021 (value set name and OID given);
* FHIR R4: value sets of hl7.fhir.r4.core 4.0.1;
* GitHub id N: a public file found with the code-search index (id N), secondary evidence only.

Many codes are the ones the vertebral compression fracture guideline confirmed (its REVIEW.md,
section 5); the note repeats the evidence rather than importing that package, so each guideline
stands alone.
"""

from __future__ import annotations

from generator import ICD10CM, LOINC, RXNORM, SNOMED, CodeSystem, ValueSet, code_prefix, is_a

#: A local code system for activities with no standard code we could confirm.
LOCAL = CodeSystem("OFPLocal", "http://example.org/fhir/cpg/osteoporotic-fracture-prevention/CodeSystem/ofp-local")

_QI = "cqframework/ecqm-content-qicore-2024"
_R4 = "cqframework/ecqm-content-r4-2021"


def _vsac(name: str, oid: str, repo: str = _QI) -> str:
    return f"Confirmed: VSAC '{name}' ({oid}) expansion, {repo}."


def _github(what: str, *ids: str) -> str:
    return f"Confirmed (secondary): {what}; public GitHub files, index id {', '.join(ids)}."


_LOCAL_NOTE = "UNCONFIRMED: no standard code could be confirmed; local code, to be replaced by a terminologist."
_OSTEOPOROTIC_FRACTURES = ("Osteoporotic Fractures", "2.16.840.1.113883.3.464.1003.113.12.1050")
_OSTEOPOROSIS_NO_FRACTURE = ("Osteoporosis Without Current Fracture", "2.16.840.1.113883.3.464.1003.113.12.1038")
_US_CORE_SUBSTANCE = ("Confirmed: RxNorm ingredient in US Core 'Common substances for allergy and intolerance' "
                      f"(us-core-allergy-substance) expansion, {_QI}.")

# --- the fracture (rule-based value set) -----------------------------------------------------------

#: The is-a root of the fracture value set.
OSTEOPOROTIC_VERTEBRAL_COLLAPSE = SNOMED("240198002", "Osteoporotic vertebral collapse",
                                         note=_vsac("Osteoporosis", "2.16.840.1.113883.3.464.1003.113.12.1038", _R4))

VERTEBRAL_FRAGILITY_FRACTURE = ValueSet(
    "vertebral-fragility-fracture",
    title="Vertebral fragility fracture",
    description="Conditions recording an osteoporotic (fragility) fracture of a vertebra, current or past: "
    "SNOMED CT osteoporotic vertebral collapse and its descendants, the osteoporotic lumbar/thoracic vertebral "
    "fracture concepts, and the ICD-10-CM families M80.08- (age-related osteoporosis with current pathological "
    "fracture, vertebra) and M80.88- (other osteoporosis, vertebra), every 7th character included (initial, "
    "subsequent and sequela encounters: a sequela still records a past fragility fracture). Not included: "
    "osteoporotic fractures of other sites, traumatic fractures, the generic 'compression fracture of vertebral "
    "column' (42942008: not specific to fragility), and pathologic fractures from malignancy.",
    codes=[
        SNOMED("311890007", "Collapse of lumbar vertebra due to osteoporosis", note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("311891006", "Collapse of thoracic vertebra due to osteoporosis",
               note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("203450003", "Osteoporosis with pathological fracture of lumbar vertebrae", note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("203451004", "Osteoporosis with pathological fracture of thoracic vertebrae", note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("11311601000119109", "Osteoporotic fracture of vertebra", note=_vsac(*_OSTEOPOROSIS_NO_FRACTURE)),
        SNOMED("11311441000119109", "Secondary osteoporotic fracture of lumbar vertebra",
               note=_vsac(*_OSTEOPOROSIS_NO_FRACTURE)),
        SNOMED("11311361000119103", "Secondary osteoporotic fracture of thoracic vertebra",
               note=_vsac(*_OSTEOPOROSIS_NO_FRACTURE)),
    ],
    rules=[is_a(OSTEOPOROTIC_VERTEBRAL_COLLAPSE), code_prefix(ICD10CM, "M80.08"), code_prefix(ICD10CM, "M80.88")],
    expansion="expansions/vertebral-fragility-fracture.json",
)

#: Codes of the expansion file (expansions/vertebral-fragility-fracture.json), with their evidence; the
#: test tests/definitions/test_ofp_guideline.py checks the file lists exactly these plus the codes above.
_M80_CHARS = {
    "A": "initial encounter for fracture",
    "D": "subsequent encounter for fracture with routine healing",
    "G": "subsequent encounter for fracture with delayed healing",
    "K": "subsequent encounter for fracture with nonunion",
    "P": "subsequent encounter for fracture with malunion",
    "S": "sequela",
}
ICD10CM_VERTEBRAL_FRAGILITY_FRACTURES = [
    ICD10CM(f"{prefix}X{char}", f"{kind} osteoporosis with current pathological fracture, vertebra(e), {text}",
            note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4) + " (code and display as listed)")
    for prefix, kind in (("M80.08", "Age-related"), ("M80.88", "Other"))
    for char, text in _M80_CHARS.items()
]

# --- sex and menopause -------------------------------------------------------------------------------

POSTMENOPAUSAL_STATE = ValueSet(
    "postmenopausal-state",
    title="Postmenopausal state",
    description="A recorded postmenopausal state (SNOMED CT finding).",
    codes=[SNOMED("76498008", "Postmenopausal state",
                  note=_github("'76498008 Postmenopausal state (finding)' in a FHIR ValueSet of menopausal states "
                               "and in a FHIR Shorthand ValueSet", "60146979178", "43886146603"))],
)

# --- bisphosphonate contraindications and renal function -----------------------------------------------

HYPOCALCAEMIA = ValueSet(
    "hypocalcaemia-diagnosis",
    title="Hypocalcaemia diagnoses",
    description="Hypocalcaemia recorded as a diagnosis (ICD-10-CM; SNOMED CT 5291005 left out: its meaning "
    "could not be confirmed).",
    codes=[ICD10CM("E83.51", "Hypocalcemia", note=_github("'E83.51 - Hypocalcemia' in ICD-10-CM code lists",
                                                          "56257331909", "56699610487", "52848063865"))],
)

OESOPHAGEAL_ABNORMALITY = ValueSet(
    "oesophageal-abnormality",
    title="Oesophageal abnormality",
    description="Oesophageal abnormalities that contraindicate oral bisphosphonates (examples; not exhaustive).",
    codes=[
        SNOMED("63305008", "Stricture of esophagus",
               note=_github("target 'Stricture of oesophagus' of a FHIR ConceptMap", "59658493804")),
        SNOMED("45564002", "Achalasia of esophagus",
               note=_github("'45564002' mapped to ICD-10 K22.0 (achalasia) in a code map", "70138862765")),
    ],
)

UNABLE_TO_REMAIN_UPRIGHT = ValueSet(
    "unable-to-remain-upright",
    title="Unable to sit or stand upright for 30 minutes",
    description="Findings recording that the patient cannot remain upright (sitting or standing) for 30 minutes.",
    codes=[SNOMED("160685001", "Bed-ridden", note=_vsac("Frailty Symptom", "2.16.840.1.113883.3.464.1003.113.12.1075"))],
)

CREATININE_CLEARANCE = ValueSet(
    "creatinine-clearance",
    title="Creatinine clearance",
    description="Measured or estimated creatinine clearance (mL/min).",
    codes=[
        LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum or Plasma",
              note=_github("'Creatinine renal clearance in 24 hour Urine and Serum or Plasma' in FHIR Shorthand "
                           "examples", "26175053873", "26157153499")),
        LOINC("35591-7", "Creatinine renal clearance predicted by Cockcroft-Gault formula",
              note=_github("'35591-7 Creatinine renal clearance predicted by Cockcroft-Gault formula' in a LOINC "
                           "table", "26986528788")),
    ],
)

# --- medications (RxNorm ingredients) ------------------------------------------------------------------

ALENDRONATE = RXNORM("46041", "alendronate", note=_US_CORE_SUBSTANCE)
#: EHRs record products (RxNorm SCD), not ingredients; the one product code whose meaning could be confirmed.
ALENDRONATE_70_MG_TABLET = RXNORM("904431", "alendronate sodium 70 MG Oral Tablet",
                                  note=_github("'904431' as 'Alendronate Sodium 70 MG Oral Tablet' (SCD) in a pharmacy "
                                               "table, a claims generator and a C-CDA medication list with RxNorm OID "
                                               "2.16.840.1.113883.6.88", "43616691408", "56002413418", "24305375500"))
RISEDRONATE = RXNORM("73056", "risedronate", note=_US_CORE_SUBSTANCE)
IBANDRONATE = RXNORM("115264", "ibandronate", note=_US_CORE_SUBSTANCE)
DENOSUMAB = RXNORM("993449", "denosumab", note="UNCONFIRMED: RxNorm id not found in the public sources searched "
                   "(recalled code).")
STRONTIUM_RANELATE = LOCAL("strontium-ranelate", "Strontium ranelate",
                           note="UNCONFIRMED: not marketed in the US, no RxNorm id confirmed; local code.")
CALCIUM_CARBONATE = RXNORM("1897", "calcium carbonate", note=_US_CORE_SUBSTANCE)
CHOLECALCIFEROL = RXNORM("2418", "cholecalciferol", note=_US_CORE_SUBSTANCE)
MORPHINE = RXNORM("7052", "morphine", note=_US_CORE_SUBSTANCE)
CODEINE = RXNORM("2670", "codeine", note=_US_CORE_SUBSTANCE)
OXYCODONE = RXNORM("7804", "oxycodone", note=_US_CORE_SUBSTANCE)

BISPHOSPHONATES = ValueSet(
    "bisphosphonates",
    title="Bisphosphonates",
    description="Bisphosphonates named by the sources (alendronate, risedronate, ibandronate): the RxNorm "
    "ingredients and the alendronate 70 mg tablet product. Other products (SCD/SBD codes) are not listed: a "
    "rule-based RxNorm value set needs a terminology server (ingredient -> product is not a code hierarchy).",
    codes=[ALENDRONATE, ALENDRONATE_70_MG_TABLET, RISEDRONATE, IBANDRONATE],
)

OSTEOPOROSIS_DRUGS = ValueSet(
    "osteoporosis-pharmacotherapy",
    title="Osteoporosis pharmacotherapy",
    description="The osteoporosis agents named by the sources: the bisphosphonates, denosumab, strontium ranelate "
    "(ingredients, and the one confirmed alendronate product).",
    codes=[ALENDRONATE, ALENDRONATE_70_MG_TABLET, RISEDRONATE, IBANDRONATE, DENOSUMAB, STRONTIUM_RANELATE],
)

OPIOIDS = ValueSet(
    "opioid-analgesics",
    title="Opioid analgesics",
    description="Opioid analgesics (morphine, codeine, oxycodone; examples, not exhaustive).",
    codes=[MORPHINE, CODEINE, OXYCODONE],
)

# --- activities ------------------------------------------------------------------------------------------

ORAL_ROUTE = SNOMED("26643006", "Oral route",
                    note="Confirmed: DICOM CID 11 Route of Administration, bvdh/dicom-terminology-in-fhir.")
EDUCATION = SNOMED("409073007", "Education", note="Confirmed: FHIR R4 servicerequest-category value set.")
FOLLOW_UP = SNOMED("390906007", "Follow-up encounter",
                   note=_vsac("Face-to-Face Interaction", "2.16.840.1.113883.3.464.1003.101.12.1048"))
CLINICIAN_ADVICE = LOCAL("clinician-advice", "Advice to the treating clinician",
                         note="Local by design: the message of a Communication to the clinician.")

VALUE_SETS = [
    VERTEBRAL_FRAGILITY_FRACTURE, POSTMENOPAUSAL_STATE, HYPOCALCAEMIA, OESOPHAGEAL_ABNORMALITY,
    UNABLE_TO_REMAIN_UPRIGHT, CREATININE_CLEARANCE, BISPHOSPHONATES, OSTEOPOROSIS_DRUGS, OPIOIDS,
]
