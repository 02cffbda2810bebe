"""Terminology for the vertebral compression fracture guideline: code systems, codes, value sets.

Every code carries a `note` saying where its meaning was confirmed, or "UNCONFIRMED: ..." when it
could not be. There is no terminology server here: meanings were checked against public copies of
published value sets and code tables (see REVIEW.md, "Code verification"). The sources abbreviated
in the notes are:

* VSAC: NLM VSAC value set expansions published as FHIR ValueSets in cqframework/ecqm-content-qicore-2024
  or cqframework/ecqm-content-r4-2021 (value set name and OID given);
* DICOM: DICOM PS3.16 context groups as FHIR ValueSets in bvdh/dicom-terminology-in-fhir;
* FHIR R4: example value sets of hl7.fhir.r4.core 4.0.1 (as generated in fhir-typescript/fhir-typescript);
* BE imaging VS: Belgian eHealth ValueSet be-vs-diagnostic-imaging-procedure (eReferral IG 1.0.0);
* GitHub id N: a public file found with the code-search index (id N), secondary evidence only.

Value sets are explicit code lists (the builders offer no rule-based "descendants of" value sets yet);
where a list cannot cover a concept's descendants, the value set description says so.
"""

from __future__ import annotations

from generator import LOINC, RXNORM, SNOMED, Code, CodeSystem, ValueSet

ICD10CM = CodeSystem("ICD10CM", "http://hl7.org/fhir/sid/icd-10-cm")

#: A local code system for facts and activities with no standard code we could confirm.
LOCAL = CodeSystem("VCFLocal", "http://example.org/fhir/cpg/vertebral-compression-fracture/CodeSystem/vcf-local")

_QI = "cqframework/ecqm-content-qicore-2024"
_R4 = "cqframework/ecqm-content-r4-2021"


def _vsac(name: str, oid: str, repo: str = _QI) -> str:
    return f"Confirmed: VSAC '{name}' ({oid}) expansion, {repo}."


def _dicom(cid: str) -> str:
    return f"Confirmed: DICOM {cid}, bvdh/dicom-terminology-in-fhir."


def _github(what: str, *ids: str) -> str:
    return f"Confirmed (secondary): {what}; public GitHub files, index id {', '.join(ids)}."


_LOCAL_NOTE = "UNCONFIRMED: no standard code could be confirmed; local code, to be replaced by a terminologist."
_NEUROLOGIC_IMPAIRMENT = ("Neurologic impairment", "2.16.840.1.113883.3.464.1003.114.12.1012")
_OSTEOPOROTIC_FRACTURES = ("Osteoporotic Fractures", "2.16.840.1.113883.3.464.1003.113.12.1050")
_OSTEOPOROSIS_1248 = ("Osteoporosis", "2.16.840.1.113762.1.4.1248.256")
_ALL_CANCER = ("All Primary and Secondary Cancer", "2.16.840.1.113762.1.4.1111.161")
_BE_IMAGING = "Confirmed: BE imaging VS (be-vs-diagnostic-imaging-procedure), GitHub id 67155228738."
_US_CORE_SUBSTANCE = "Confirmed: RxNorm ingredient in US Core 'Common substances for allergy and intolerance' " \
    "(us-core-allergy-substance) expansion, " + _QI + "."

# --- the fracture --------------------------------------------------------------------------------

#: Guideline topic only (not in the recognition value set: it also covers hip and wrist fractures).
OSTEOPOROTIC_FRACTURE = SNOMED("443165006", "Osteoporotic fracture of bone",
                               note=_vsac("Osteoporosis With Current Fracture",
                                          "2.16.840.1.113883.3.464.1003.113.12.1050")
                               + " Newer display: 'Pathological fracture due to osteoporosis'.")
COMPRESSION_FRACTURE_OF_VERTEBRAL_COLUMN = SNOMED(
    "42942008", "Compression fracture of vertebral column",
    note=_github("'Compression fracture of vertebral column (disorder)' in a FHIR Shorthand ValueSet and in a "
                 "disease index", "62207685742", "53775057844"))

_M80_CHARS = {
    "A": "initial encounter for fracture",
    "D": "subsequent encounter for fracture with routine healing",
    "G": "subsequent encounter for fracture with delayed healing",
    "K": "subsequent encounter for fracture with nonunion",
    "P": "subsequent encounter for fracture with malunion",
}


def _m80(prefix: str, kind: str) -> list:
    note = _vsac(*_OSTEOPOROSIS_1248) + " (initial encounter also in VSAC 'Fracture - Lower Body' " \
        "2.16.840.1.113883.3.464.1003.113.12.1037)."
    return [ICD10CM(f"{prefix}X{c}", f"{kind} osteoporosis with current pathological fracture, vertebra(e), {text}",
                    note=note) for c, text in _M80_CHARS.items()]


VERTEBRAL_FRACTURE = ValueSet(
    "vertebral-compression-fracture",
    title="Vertebral compression fracture",
    description="Conditions recording an osteoporotic (atraumatic) or pathologic vertebral compression fracture, "
    "in SNOMED CT or ICD-10-CM. The vertebral level is carried in Condition.bodySite. Deliberately excluded: "
    "osteoporotic fractures of other sites (hip, wrist: 443165006, M80.05-, M80.03-), traumatic fracture codes "
    "(ICD-10-CM S22.0-/S32.0-, generic 'closed fracture of lumbar/thoracic vertebra'), cervical and sacral "
    "fractures, and ICD-10-CM sequela codes (7th character S). An explicit list: descendants of 42942008 not "
    "listed here need a rule-based value set.",
    codes=[
        COMPRESSION_FRACTURE_OF_VERTEBRAL_COLUMN,
        SNOMED("240198002", "Osteoporotic vertebral collapse",
               note=_vsac("Osteoporosis", "2.16.840.1.113883.3.464.1003.113.12.1038", _R4)),
        SNOMED("311890007", "Collapse of lumbar vertebra due to osteoporosis",
               note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("311891006", "Collapse of thoracic vertebra due to osteoporosis",
               note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("203450003", "Osteoporotic fracture of lumbar vertebra", note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("203451004", "Osteoporotic fracture of thoracic vertebra", note=_vsac(*_OSTEOPOROTIC_FRACTURES, _R4)),
        SNOMED("11311601000119109", "Osteoporotic fracture of vertebra",
               note=_vsac("Osteoporosis Without Current Fracture", "2.16.840.1.113883.3.464.1003.113.12.1038")),
        SNOMED("11311441000119109", "Secondary osteoporotic fracture of lumbar vertebra",
               note=_vsac("Osteoporosis Without Current Fracture", "2.16.840.1.113883.3.464.1003.113.12.1038")),
        SNOMED("11311361000119103", "Secondary osteoporotic fracture of thoracic vertebra",
               note=_vsac("Osteoporosis Without Current Fracture", "2.16.840.1.113883.3.464.1003.113.12.1038")),
        SNOMED("866087009", "Pathologic fracture of vertebra at site of metastatic neoplasm",
               note=_vsac("Comorbid Conditions for Respiratory Conditions",
                          "2.16.840.1.113883.3.464.1003.102.12.1025")),
        *_m80("M80.08", "Age-related"),
        *_m80("M80.88", "Other"),
        ICD10CM("M48.54XA", "Collapsed vertebra, not elsewhere classified, thoracic region, initial encounter for "
                "fracture", note=_github("M48.54XA in VistA encounter-form code lists (display not shown there)",
                                         "47905500951", "18066285118")
                + " Display from the ICD-10-CM M48.5- pattern: UNCONFIRMED wording."),
        ICD10CM("M48.56XA", "Collapsed vertebra, not elsewhere classified, lumbar region, initial encounter for "
                "fracture", note=_github("'M48.56xA Collapsed vertebra, lumbar, initial' in a coding table and a "
                                         "coding exercise", "53486662713", "69434037287")),
    ],
)

# Vertebral levels (body sites), from DICOM CID 7603 "Vertebra".
T12_VERTEBRA = SNOMED("23215003", "T12 vertebra", note=_dicom("CID 7603 Vertebra"))
L1_VERTEBRA = SNOMED("66794005", "L1 vertebra", note=_dicom("CID 7603 Vertebra"))
L2_VERTEBRA = SNOMED("14293000", "L2 vertebra", note=_dicom("CID 7603 Vertebra"))
L3_VERTEBRA = SNOMED("36470004", "L3 vertebra", note=_dicom("CID 7603 Vertebra"))
L4_VERTEBRA = SNOMED("11994002", "L4 vertebra", note=_dicom("CID 7603 Vertebra"))
L5_VERTEBRA = SNOMED("49668003", "L5 vertebra", note=_dicom("CID 7603 Vertebra"))

L3_OR_L4_VERTEBRA = ValueSet(
    "l3-or-l4-vertebra",
    title="L3 or L4 vertebra",
    description="Body sites for fractures at L3 or L4, where an L2 nerve root block is an option.",
    codes=[L3_VERTEBRA, L4_VERTEBRA],
)

SPINE = SNOMED("421060004", "Spine", note=_dicom("CID 4031 Common Anatomic Region"))

# --- red flags and complications -----------------------------------------------------------------

NEUROLOGICAL_DEFICIT = ValueSet(
    "neurological-deficit",
    title="Neurological deficit",
    description="Neurological deficits as commonly recorded: paraplegia/paraparesis, limb weakness, saddle "
    "sensory loss, cauda equina syndrome (with or without bladder involvement), neurogenic bladder or bowel "
    "(which other diseases can also cause: the clinician judges the referral). Radiculopathy "
    "codes are not included (they do not state a motor deficit). Explicit list; descendants need a rule-based "
    "value set.",
    codes=[
        SNOMED("60389000", "Paraplegia", note=_github("'60389000 Paraplegia' in an OMOP Charlson concept list",
                                                      "31527755863")),
        SNOMED("1845001", "Paraparesis", note="Confirmed: FHIR R4 adverse-event-type example value set."),
        SNOMED("713514005", "Muscle weakness of limb",
               note=_vsac("Frailty Symptom", "2.16.840.1.113883.3.464.1003.113.12.1075")),
        SNOMED("449813001", "Numbness of saddle area", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        SNOMED("192970008", "Cauda equina syndrome", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        SNOMED("782388003", "Incomplete cauda equina syndrome", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        SNOMED("12454008", "Cauda equina syndrome with neurogenic bladder", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        SNOMED("16846261000119106", "Compression of cauda equina", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        ICD10CM("G83.4", "Cauda equina syndrome", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        ICD10CM("K59.2", "Neurogenic bowel, not elsewhere classified", note=_vsac(*_NEUROLOGIC_IMPAIRMENT)),
        ICD10CM("G82.20", "Paraplegia, unspecified",
                note=_github("'G82.20 Paraplegia, unspecified' in ICD-10-CM code tables", "54174064999",
                             "52289885253")),
        ICD10CM("N31.9", "Neuromuscular dysfunction of bladder, unspecified",
                note=_github("'N31.9 Neuromuscular dysfunction of bladder, unspecified' (neurogenic bladder) in "
                             "code tables", "696793978", "53195827798")),
    ],
)

SPINAL_CORD_COMPRESSION = ValueSet(
    "spinal-cord-compression",
    title="Spinal cord compression",
    description="Compression of the spinal cord (SNOMED CT or ICD-10-CM).",
    codes=[
        SNOMED("71286001", "Spinal cord compression",
               note=_github("'71286001' paired with ICD-10-CM G95.20 'Spinal Cord Compression'", "9463928113",
                            "54198931236")),
        ICD10CM("G95.20", "Unspecified cord compression",
                note=_github("'G95.20 Unspecified cord compression' in ICD-10-CM code tables", "59532686572",
                             "63362126083")),
    ],
)

SPINAL_INSTABILITY = ValueSet(
    "spinal-instability",
    title="Spinal instability",
    description="Spinal instability of the thoracic, thoracolumbar or lumbar region.",
    codes=[
        ICD10CM("M53.2X4", "Spinal instabilities, thoracic region",
                note="UNCONFIRMED display: the code is listed with M53.2X3-M53.2X9 in a public ICD-10-CM code list "
                "(GitHub id 50242151954); family wording confirmed by VSAC 'Pain Related to Prostate Cancer' "
                "(2.16.840.1.113883.3.526.3.451: M53.2X7, M53.2X8)."),
        ICD10CM("M53.2X5", "Spinal instabilities, thoracolumbar region",
                note="UNCONFIRMED display: listed in a public ICD-10-CM code list (GitHub id 50242151954); family "
                "wording confirmed by VSAC (M53.2X7, M53.2X8)."),
        ICD10CM("M53.2X6", "Spinal instabilities, lumbar region",
                note=_github("'M53.2X6 Spinal instabilities, lumbar region' in a coding checklist", "54058290206",
                             "40795510156")),
    ],
)

SPINAL_DEFORMITY = ValueSet(
    "spinal-deformity",
    title="Spinal deformity or progressive kyphosis",
    description="Spinal deformity as described by the sources (e.g. >= 15 % kyphosis, >= 10 % scoliosis, "
    ">= 10 % dorsal wall height reduction or >= 20 % vertebral body height loss).",
    codes=[
        SNOMED("414564002", "Kyphosis deformity of spine",
               note=_github("'Kyphosis deformity of spine (disorder)' in a FHIR ValueSet and a ConceptMap",
                            "16188546925", "59681264296")),
        SNOMED("298382003", "Scoliosis deformity of spine",
               note=_github("'Scoliosis deformity of spine (disorder)' in terminology-server test data",
                            "27846800545", "27698297790")),
    ],
)

PULMONARY_DYSFUNCTION = ValueSet(
    "pulmonary-dysfunction",
    title="Pulmonary dysfunction",
    description="Respiratory insufficiency or failure (the sources' 'pulmonary dysfunction').",
    codes=[
        SNOMED("409623005", "Respiratory insufficiency",
               note=_github("'Respiratory insufficiency (disorder)' in a German MII ConceptMap and an ECL",
                            "37858247161", "13231718286")),
        SNOMED("409622000", "Respiratory failure",
               note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")),
    ],
)

# --- malignancy ----------------------------------------------------------------------------------

_SPINAL_METASTASIS_CODES = [
    SNOMED("94602001", "Metastatic malignant neoplasm to vertebral column",
           note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")
           + " Replaces 94503003, which is 'Metastatic malignant neoplasm to prostate' (same VSAC source)."),
    SNOMED("866087009", "Pathologic fracture of vertebra at site of metastatic neoplasm",
           note=_vsac("Comorbid Conditions for Respiratory Conditions", "2.16.840.1.113883.3.464.1003.102.12.1025")),
    SNOMED("94222008", "Metastatic malignant neoplasm to bone",
           note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")),
    ICD10CM("C79.51", "Secondary malignant neoplasm of bone",
            note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")),
]

SPINAL_METASTASES = ValueSet(
    "spinal-metastases",
    title="Spinal metastatic disease",
    description="Metastatic malignant disease of the vertebral column. Bone metastasis codes (94222008, C79.51) "
    "are included because ICD-10-CM has no vertebra-specific code and the patient has a vertebral fracture.",
    codes=_SPINAL_METASTASIS_CODES,
)

MALIGNANCY = ValueSet(
    "malignancy",
    title="Malignancy or history of malignancy (risk factors for malignancy)",
    description="Known malignant disease, the primary cancers that most often involve the spine, multiple "
    "myeloma, lymphoma, leukaemia, metastases, and a personal history of cancer. An explicit list: every "
    "descendant of 363346000 'Malignant neoplastic disease' needs a rule-based value set, and a cancer recorded "
    "with clinicalStatus remission/resolved needs the clinical-status policy (both from the 'logic' builders).",
    codes=[
        SNOMED("363346000", "Malignant neoplastic disease", note=_vsac(*_ALL_CANCER)),
        SNOMED("128462008", "Metastatic malignant neoplasm",
               note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")),
        *_SPINAL_METASTASIS_CODES,
        SNOMED("254837009", "Malignant neoplasm of breast", note=_vsac(*_ALL_CANCER)),
        SNOMED("399068003", "Malignant tumor of prostate", note=_vsac(*_ALL_CANCER)),
        SNOMED("363358000", "Malignant tumor of lung", note=_vsac(*_ALL_CANCER)),
        SNOMED("363518003", "Malignant tumor of kidney", note=_vsac(*_ALL_CANCER)),
        SNOMED("702391001", "Renal cell carcinoma", note=_vsac(*_ALL_CANCER)),
        SNOMED("363478007", "Malignant tumor of thyroid gland", note=_vsac(*_ALL_CANCER)),
        SNOMED("109989006", "Multiple myeloma", note=_vsac("Cancer", "2.16.840.1.113883.3.526.2.1079-20190315")),
        SNOMED("118600007", "Malignant lymphoma", note=_vsac(*_ALL_CANCER)),
        SNOMED("93143009", "Leukemia", note=_dicom("CID 639 Tumor Graft Histologic Type")),
        ICD10CM("C50.919", "Malignant neoplasm of unspecified site of unspecified female breast",
                note=_vsac(*_ALL_CANCER)),
        ICD10CM("C61", "Malignant neoplasm of prostate", note=_vsac(*_ALL_CANCER)),
        ICD10CM("C34.90", "Malignant neoplasm of unspecified part of unspecified bronchus or lung",
                note=_vsac(*_ALL_CANCER)),
        ICD10CM("C64.9", "Malignant neoplasm of unspecified kidney, except renal pelvis", note=_vsac(*_ALL_CANCER)),
        ICD10CM("C73", "Malignant neoplasm of thyroid gland", note=_vsac(*_ALL_CANCER)),
        ICD10CM("C90.00", "Multiple myeloma not having achieved remission", note=_vsac(*_ALL_CANCER)),
        ICD10CM("C79.52", "Secondary malignant neoplasm of bone marrow",
                note=_vsac("Advanced Illness", "2.16.840.1.113883.3.464.1003.110.12.1082")),
        SNOMED("415076002", "Personal history of breast cancer", note=_dicom("CID 6051 Breast Procedure Reason")),
        SNOMED("429699009", "History of malignant neoplasm of colon",
               note=_vsac("Malignant Neoplasm of Colon", "2.16.840.1.113883.3.464.1003.108.12.1001")),
        SNOMED("161432005", "History of malignant melanoma", note=_dicom("CID 4402 History of Malignant Melanoma")),
        ICD10CM("Z85.3", "Personal history of malignant neoplasm of breast",
                note=_github("'Z85.3 Personal history of malignant neoplasm of breast' in ICD-10-CM code tables",
                             "66396323996", "55661557572")),
        ICD10CM("Z85.46", "Personal history of malignant neoplasm of prostate",
                note=_github("'Z85.46 Personal history of malignant neoplasm of prostate' in ICD-10-CM code tables",
                             "38745171143", "55585771607")),
        ICD10CM("Z85.038", "Personal history of other malignant neoplasm of large intestine",
                note=_vsac("Malignant Neoplasm of Colon", "2.16.840.1.113883.3.464.1003.108.12.1001")),
        ICD10CM("Z85.048", "Personal history of other malignant neoplasm of rectum, rectosigmoid junction, and anus",
                note=_vsac("Malignant Neoplasm of Colon", "2.16.840.1.113883.3.464.1003.108.12.1001")),
    ],
)

SYSTEMIC_MASTOCYTOSIS = ValueSet(
    "systemic-mastocytosis",
    title="Systemic mastocytosis",
    description="Systemic mastocytosis (indolent or aggressive), SNOMED CT or ICD-10-CM.",
    codes=[
        SNOMED("70910003", "Indolent systemic mastocytosis",
               note=_vsac("Cancer", "2.16.840.1.113883.3.526.2.1079-20190315")),
        SNOMED("716655008", "Aggressive systemic mastocytosis",
               note=_vsac("Cancer", "2.16.840.1.113883.3.526.2.1079-20210218")),
        ICD10CM("D47.02", "Systemic mastocytosis", note=_vsac("Cancer", "2.16.840.1.113883.3.526.2.1078-20210218")),
        ICD10CM("C96.21", "Aggressive systemic mastocytosis", note=_vsac(*_ALL_CANCER)),
    ],
)

# --- bisphosphonate contraindications ------------------------------------------------------------

HYPOCALCAEMIA = ValueSet(
    "hypocalcaemia",
    title="Hypocalcaemia diagnoses",
    description="Hypocalcaemia (SNOMED CT or ICD-10-CM).",
    codes=[
        SNOMED("5291005", "Hypocalcemia", note="UNCONFIRMED: not found in the public value sets searched (recalled "
               "code); kept because ICD-10-CM E83.51 below is confirmed."),
        ICD10CM("E83.51", "Hypocalcemia", note=_github("'E83.51 - Hypocalcemia' in ICD-10-CM code lists",
                                                       "56257331909", "56699610487", "52848063865")),
    ],
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

UNABLE_TO_SIT_OR_STAND_UPRIGHT = ValueSet(
    "unable-to-remain-upright",
    title="Unable to sit or stand upright for 30 minutes",
    description="Findings recording that the patient cannot remain upright (sitting or standing) for 30 minutes.",
    codes=[
        SNOMED("160685001", "Bed-ridden", note=_vsac("Frailty Symptom", "2.16.840.1.113883.3.464.1003.113.12.1075")),
        LOCAL("unable-to-remain-upright-30-min", "Unable to sit or stand upright for at least 30 minutes",
              note=_LOCAL_NOTE),
    ],
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

# --- other case facts ----------------------------------------------------------------------------

PAIN_SEVERITY = LOINC("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                      note=_vsac("Standardized Pain Assessment Tool", "2.16.840.1.113883.3.526.3.1028"))
PAIN_SCORE_UNIT = "{score}"

MRI_CONTRAINDICATION = ValueSet(
    "mri-contraindication",
    title="Contraindication to MRI",
    description="Findings that contraindicate magnetic resonance imaging.",
    codes=[
        SNOMED("441509002", "Cardiac pacemaker in situ",
               note=_vsac("Cardiac Pacer in Situ", "2.16.840.1.113883.3.526.3.368")),
        LOCAL("mri-contraindicated", "Magnetic resonance imaging contraindicated", note=_LOCAL_NOTE),
    ],
)

NOT_SURGICAL_CANDIDATE = ValueSet(
    "not-surgical-candidate",
    title="Not a candidate for surgery or vertebral augmentation",
    description="A recorded judgement that the patient is not a candidate for surgery or vertebral augmentation.",
    codes=[LOCAL("not-surgical-candidate", "Not a candidate for surgery or vertebral augmentation",
                 note=_LOCAL_NOTE)],
)

# --- procedures ----------------------------------------------------------------------------------

# 392010000 (optical coherence tomography) and 429616001 (an aortopulmonary reconstruction, VSAC 'Major
# Surgical Procedure') were wrong; no standard vertebroplasty/kyphoplasty code could be confirmed.
VERTEBROPLASTY = LOCAL("percutaneous-vertebroplasty", "Percutaneous vertebroplasty", note=_LOCAL_NOTE)
KYPHOPLASTY = LOCAL("balloon-kyphoplasty", "Percutaneous balloon kyphoplasty", note=_LOCAL_NOTE)

VERTEBRAL_AUGMENTATION = ValueSet(
    "vertebral-augmentation",
    title="Vertebral augmentation",
    description="Percutaneous vertebral augmentation procedures (vertebroplasty, kyphoplasty).",
    codes=[VERTEBROPLASTY, KYPHOPLASTY],
)

MRI = SNOMED("113091000", "Magnetic resonance imaging",
             note=_github("'Magnetic resonance imaging (procedure)' in FHIR Shorthand value sets", "9873024828",
                          "36897416811"))
CT = SNOMED("77477000", "Computed tomography", note=_dicom("CID 10005 X-Ray Radiation Dose Procedure Type Reported"))
BIOPSY = SNOMED("86273004", "Biopsy", note=_dicom("CID 9 Image Guided Therapeutic Procedure"))
REFERRAL = SNOMED("3457005", "Referral procedure", note="Confirmed: FHIR R4 encounter-reason example value set.")
RADIOTHERAPY = SNOMED("108290001", "Radiation oncology AND/OR radiotherapy",
                      note=_github("'Radiation oncology AND/OR radiotherapy' in FHIR Shorthand profiles",
                                   "70339652990", "37076624809"))
PHYSICAL_THERAPY = SNOMED("91251008", "Physical therapy procedure",
                          note=_github("'Physical therapy procedure' in FHIR Shorthand value sets", "63467010414",
                                       "173899402"))
FOLLOW_UP = SNOMED("390906007", "Follow-up encounter",
                   note=_vsac("Encounter to Document Medications", "2.16.840.1.113883.3.600.1.1834"))
# 5765005 is an infection caused by Leishmania tropica minor (VSAC 'Competing Conditions for Respiratory
# Conditions'), not a decompression.
DECOMPRESSION_AND_STABILISATION = LOCAL("spinal-decompression-stabilisation",
                                        "Surgical decompression and stabilisation of the spine", note=_LOCAL_NOTE)

EDUCATION = SNOMED("409073007", "Education", note="Confirmed: FHIR R4 servicerequest-category value set.")

#: The category of a "no recommendation" statement to the clinician (NoRecommendation), named here so that it
#: carries its verification note.
NOTIFICATION = Code("http://terminology.hl7.org/CodeSystem/communication-category", "notification", "Notification",
                    note=_github("FHIR communication-category 'notification: The communication conveys a "
                                 "notification' in a FHIR model code table", "41548383094"))

# Local codes for activities with no standard code we could confirm.
BED_REST = LOCAL("bed-rest", "Bed rest", note=_LOCAL_NOTE)
L2_NERVE_ROOT_BLOCK = LOCAL("l2-nerve-root-block", "L2 nerve root block", note=_LOCAL_NOTE)
DRG_BLOCK = LOCAL("dorsal-root-ganglion-block", "Dorsal root ganglion block", note=_LOCAL_NOTE)
THERMAL_ABLATION = LOCAL("thermal-ablation-with-augmentation",
                         "Percutaneous thermal ablation with vertebral augmentation", note=_LOCAL_NOTE)
CLINICIAN_ADVICE = LOCAL("clinician-advice", "Advice to the treating clinician",
                         note="Local by design: the message of a Communication to the clinician.")

SPINE_MRI = ValueSet(
    "spine-mri",
    title="MRI of the spine",
    description="MRI procedures of the spine or a spinal region (an MRI of another body part does not count).",
    codes=[SNOMED(code, display, note=_BE_IMAGING) for code, display in [
        ("241645008", "Magnetic resonance imaging of spine"),
        ("431985004", "Magnetic resonance imaging of spine with contrast"),
        ("411611000119102", "Magnetic resonance imaging of cervical, thoracic, and lumbar spine without contrast"),
        ("495741000119105", "Magnetic resonance imaging of cervical, thoracic, and lumbar spine with contrast"),
        ("41333006", "Magnetic resonance imaging of lumbar spine with contrast"),
        ("394451000119106", "Magnetic resonance imaging of lumbar spine without contrast"),
        ("433141005", "Magnetic resonance imaging of lumbar and sacral spine"),
        ("433140006", "Magnetic resonance imaging of lumbar and sacral spine with contrast"),
        ("91333005", "Magnetic resonance imaging of thoracic spine with contrast"),
        ("396171000119100", "Magnetic resonance imaging of thoracic spine without contrast"),
        ("411571000119106", "Magnetic resonance imaging of thoracic spine and lumbar spine without contrast"),
        ("448641007", "Magnetic resonance imaging of thoracic and lumbar spine with contrast"),
    ]],
)

SPINE_CT = ValueSet(
    "spine-ct",
    title="CT of the spine",
    description="CT procedures of the spine or a thoracic/lumbar spinal region.",
    codes=[SNOMED(code, display, note=_BE_IMAGING) for code, display in [
        ("241577003", "Computed tomography of spine"),
        ("429875006", "Computed tomography of whole spine"),
        ("429859008", "Computed tomography of whole spine with contrast"),
        ("572091000119106", "Computed tomography of lumbar spine without contrast"),
        ("90523008", "Computed tomography of lumbar vertebral column with contrast"),
        ("572081000119108", "Computed tomography of thoracic spine without contrast"),
        ("113105001", "Computed tomography of thoracic spine with contrast"),
        ("702487007", "Computed tomography of thoracic and lumbar spine"),
        ("702488002", "Computed tomography of thoracic and lumbar spine with contrast"),
    ]],
)

# --- medications (RxNorm ingredients) ------------------------------------------------------------

ACETAMINOPHEN = RXNORM("161", "acetaminophen", note=_US_CORE_SUBSTANCE)
IBUPROFEN = RXNORM("5640", "ibuprofen", note=_US_CORE_SUBSTANCE)
NAPROXEN = RXNORM("7258", "naproxen", note=_US_CORE_SUBSTANCE)
MORPHINE = RXNORM("7052", "morphine", note=_US_CORE_SUBSTANCE)
CODEINE = RXNORM("2670", "codeine", note=_US_CORE_SUBSTANCE)
OXYCODONE = RXNORM("7804", "oxycodone", note=_US_CORE_SUBSTANCE)
ALENDRONATE = RXNORM("46041", "alendronate", note=_US_CORE_SUBSTANCE)
RISEDRONATE = RXNORM("73056", "risedronate", note=_US_CORE_SUBSTANCE)
IBANDRONATE = RXNORM("115264", "ibandronate", note=_US_CORE_SUBSTANCE)
DENOSUMAB = RXNORM("993449", "denosumab", note="UNCONFIRMED: RxNorm id not found in the public sources searched "
                   "(recalled code).")
CALCIUM_CARBONATE = RXNORM("1897", "calcium carbonate", note=_US_CORE_SUBSTANCE)
CHOLECALCIFEROL = RXNORM("2418", "cholecalciferol", note=_US_CORE_SUBSTANCE)
PEGINTERFERON_ALFA_2A = RXNORM("120608", "peginterferon alfa-2a",
                               note="UNCONFIRMED: RxNorm id not found in the public sources searched (recalled "
                               "code).")

NSAIDS = ValueSet(
    "nsaids",
    title="Non-steroidal anti-inflammatory drugs",
    description="NSAIDs for back pain from a compression fracture (examples; not exhaustive).",
    codes=[IBUPROFEN, NAPROXEN],
)

OPIOIDS = ValueSet(
    "opioid-analgesics",
    title="Opioid analgesics",
    description="Opioid analgesics named by the sources (morphine, codeine, oxycodone).",
    codes=[MORPHINE, CODEINE, OXYCODONE],
)

ANALGESICS = ValueSet(
    "analgesics",
    title="Analgesics",
    description="Acetaminophen, NSAIDs and opioid analgesics.",
    codes=[ACETAMINOPHEN, IBUPROFEN, NAPROXEN, MORPHINE, CODEINE, OXYCODONE],
)

BISPHOSPHONATES = ValueSet(
    "bisphosphonates",
    title="Bisphosphonates",
    description="Bisphosphonates named by the sources (alendronate, risedronate, ibandronate).",
    codes=[ALENDRONATE, RISEDRONATE, IBANDRONATE],
)

CALCITONIN = LOCAL("calcitonin-salmon", "Calcitonin (salmon)",
                   note="UNCONFIRMED: no RxNorm ingredient id for calcitonin could be confirmed; local code.")
STRONTIUM_RANELATE = LOCAL("strontium-ranelate", "Strontium ranelate",
                           note="UNCONFIRMED: not marketed in the US, no RxNorm id confirmed; local code.")

# --- routes --------------------------------------------------------------------------------------

NASAL_ROUTE = SNOMED("46713006", "Nasal route", note=_dicom("CID 11 Route of Administration"))
RECTAL_ROUTE = SNOMED("37161004", "Rectal route", note=_dicom("CID 11 Route of Administration")
                      + " (DICOM term 'Per rectum'; FHIR R4 route-codes 'Rectal use').")
ORAL_ROUTE = SNOMED("26643006", "Oral route", note=_dicom("CID 11 Route of Administration"))


VALUE_SETS = [
    VERTEBRAL_FRACTURE, L3_OR_L4_VERTEBRA, NEUROLOGICAL_DEFICIT, SPINAL_CORD_COMPRESSION, SPINAL_INSTABILITY,
    SPINAL_DEFORMITY, PULMONARY_DYSFUNCTION, MALIGNANCY, SPINAL_METASTASES, SYSTEMIC_MASTOCYTOSIS,
    HYPOCALCAEMIA, OESOPHAGEAL_ABNORMALITY, UNABLE_TO_SIT_OR_STAND_UPRIGHT, CREATININE_CLEARANCE, MRI_CONTRAINDICATION,
    NOT_SURGICAL_CANDIDATE, VERTEBRAL_AUGMENTATION, SPINE_MRI, SPINE_CT, NSAIDS, OPIOIDS, ANALGESICS, BISPHOSPHONATES,
]
