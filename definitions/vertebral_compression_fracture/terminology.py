"""Terminology for the vertebral compression fracture guideline: code systems, codes, value sets.

Every SNOMED CT identifier below passes the Verhoeff check digit and every LOINC code passes the
LOINC mod-10 check digit (checked while authoring). A check digit only proves that an identifier is
well formed, not that it means what the display says: there is no terminology server in this
environment, so the status of each code's *meaning* is recorded in `TERMINOLOGY_NOTES`.
"""

from __future__ import annotations

from generator import LOINC, RXNORM, SNOMED, CodeSystem, ValueSet

ICD10CM = CodeSystem("ICD10CM", "http://hl7.org/fhir/sid/icd-10-cm")

#: A local code system for case facts that have no code we could confidently name in a standard
#: terminology (see TERMINOLOGY_NOTES). Replace with standard codes once verified.
LOCAL = CodeSystem("VCFLocal", "http://example.org/fhir/cpg/vertebral-compression-fracture/CodeSystem/vcf-local")

# --- the fracture --------------------------------------------------------------------------------

OSTEOPOROTIC_FRACTURE = SNOMED("443165006", "Osteoporotic fracture of bone")
CLOSED_FRACTURE_LUMBAR_VERTEBRA = SNOMED("207957008", "Closed fracture of lumbar vertebra")
CLOSED_FRACTURE_THORACIC_VERTEBRA = SNOMED("207938004", "Closed fracture of thoracic vertebra")

VERTEBRAL_FRACTURE = ValueSet(
    "vertebral-compression-fracture",
    title="Vertebral compression fracture",
    description="Conditions recording an (osteoporotic or atraumatic) thoracic or lumbar vertebral compression "
    "fracture. The vertebral level is carried in Condition.bodySite.",
    codes=[OSTEOPOROTIC_FRACTURE, CLOSED_FRACTURE_LUMBAR_VERTEBRA, CLOSED_FRACTURE_THORACIC_VERTEBRA],
)

# Vertebral levels (body sites), from DICOM CID 7603 "Vertebra".
T12_VERTEBRA = SNOMED("23215003", "T12 vertebra")
L1_VERTEBRA = SNOMED("66794005", "L1 vertebra")
L2_VERTEBRA = SNOMED("14293000", "L2 vertebra")
L3_VERTEBRA = SNOMED("36470004", "L3 vertebra")
L4_VERTEBRA = SNOMED("11994002", "L4 vertebra")
L5_VERTEBRA = SNOMED("49668003", "L5 vertebra")

L3_OR_L4_VERTEBRA = ValueSet(
    "l3-or-l4-vertebra",
    title="L3 or L4 vertebra",
    description="Body sites for fractures at L3 or L4, where an L2 nerve root block is an option.",
    codes=[L3_VERTEBRA, L4_VERTEBRA],
)

SPINE = SNOMED("421060004", "Spine")

# --- red flags and complications -----------------------------------------------------------------

NEUROLOGICAL_DEFICIT = ValueSet(
    "neurological-deficit",
    title="Neurological deficit",
    description="Neurological deficits attributable to the spinal lesion.",
    codes=[SNOMED("60389000", "Paraplegia"), SNOMED("192970008", "Cauda equina syndrome")],
)

SPINAL_CORD_COMPRESSION = SNOMED("71286001", "Spinal cord compression")

SPINAL_INSTABILITY = ValueSet(
    "spinal-instability",
    title="Spinal instability",
    description="Spinal instability of the thoracic, thoracolumbar or lumbar region.",
    codes=[
        ICD10CM("M53.2X4", "Spinal instabilities, thoracic region"),
        ICD10CM("M53.2X5", "Spinal instabilities, thoracolumbar region"),
        ICD10CM("M53.2X6", "Spinal instabilities, lumbar region"),
    ],
)

SPINAL_DEFORMITY = ValueSet(
    "spinal-deformity",
    title="Spinal deformity or progressive kyphosis",
    description="Spinal deformity as described by the sources (e.g. >= 15 % kyphosis, >= 10 % scoliosis, "
    ">= 10 % dorsal wall height reduction or >= 20 % vertebral body height loss).",
    codes=[SNOMED("414564002", "Kyphosis deformity of spine"), SNOMED("298382003", "Scoliosis deformity of spine")],
)

PULMONARY_DYSFUNCTION = SNOMED("409623005", "Respiratory insufficiency")

# --- malignancy ----------------------------------------------------------------------------------

MALIGNANCY = ValueSet(
    "malignancy",
    title="Malignancy (known or risk factor)",
    description="Known malignant disease: a risk factor for a pathologic vertebral fracture.",
    codes=[
        SNOMED("363346000", "Malignant neoplastic disease"),
        SNOMED("128462008", "Secondary malignant neoplastic disease"),
        SNOMED("94222008", "Secondary malignant neoplasm of bone"),
        SNOMED("94503003", "Secondary malignant neoplasm of vertebral column"),
        SNOMED("109989006", "Multiple myeloma"),
    ],
)

SPINAL_METASTASES = ValueSet(
    "spinal-metastases",
    title="Spinal metastatic disease",
    description="Metastatic malignant disease of the spine (bone).",
    codes=[
        SNOMED("94503003", "Secondary malignant neoplasm of vertebral column"),
        SNOMED("94222008", "Secondary malignant neoplasm of bone"),
    ],
)

SYSTEMIC_MASTOCYTOSIS = SNOMED("397016004", "Systemic mast cell disease")

# --- bisphosphonate contraindications ------------------------------------------------------------

HYPOCALCAEMIA = SNOMED("5291005", "Hypocalcemia")

OESOPHAGEAL_ABNORMALITY = ValueSet(
    "oesophageal-abnormality",
    title="Oesophageal abnormality",
    description="Oesophageal abnormalities that contraindicate oral bisphosphonates.",
    codes=[SNOMED("63305008", "Stricture of esophagus"), SNOMED("45564002", "Achalasia of esophagus")],
)

UNABLE_TO_SIT_OR_STAND_UPRIGHT = ValueSet(
    "unable-to-remain-upright",
    title="Unable to sit or stand upright for 30 minutes",
    description="Findings recording that the patient cannot remain upright (sitting or standing) for 30 minutes.",
    codes=[
        SNOMED("160685001", "Bed-ridden"),
        LOCAL("unable-to-remain-upright-30-min", "Unable to sit or stand upright for at least 30 minutes"),
    ],
)

CREATININE_CLEARANCE = ValueSet(
    "creatinine-clearance",
    title="Creatinine clearance",
    description="Measured or estimated creatinine clearance (mL/min).",
    codes=[
        LOINC("2164-2", "Creatinine renal clearance in 24 hour Urine and Serum"),
        LOINC("35591-7", "Creatinine renal clearance predicted by Cockcroft-Gault formula"),
    ],
)

# --- other case facts ----------------------------------------------------------------------------

PAIN_SEVERITY = LOINC("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
PAIN_SCORE_UNIT = "{score}"

MRI_CONTRAINDICATION = ValueSet(
    "mri-contraindication",
    title="Contraindication to MRI",
    description="Findings that contraindicate magnetic resonance imaging.",
    codes=[
        SNOMED("441509002", "Cardiac pacemaker in situ"),
        LOCAL("mri-contraindicated", "Magnetic resonance imaging contraindicated"),
    ],
)

NOT_SURGICAL_CANDIDATE = ValueSet(
    "not-surgical-candidate",
    title="Not a candidate for surgery or vertebral augmentation",
    description="A recorded judgement that the patient is not a candidate for surgery or vertebral augmentation.",
    codes=[LOCAL("not-surgical-candidate", "Not a candidate for surgery or vertebral augmentation")],
)

# --- procedures ----------------------------------------------------------------------------------

VERTEBROPLASTY = SNOMED("392010000", "Percutaneous vertebroplasty")
KYPHOPLASTY = SNOMED("429616001", "Percutaneous kyphoplasty")

VERTEBRAL_AUGMENTATION = ValueSet(
    "vertebral-augmentation",
    title="Vertebral augmentation",
    description="Percutaneous vertebral augmentation procedures (vertebroplasty, kyphoplasty).",
    codes=[VERTEBROPLASTY, KYPHOPLASTY],
)

MRI = SNOMED("113091000", "Magnetic resonance imaging")
CT = SNOMED("77477000", "Computerized axial tomography")
BIOPSY = SNOMED("86273004", "Biopsy")
REFERRAL = SNOMED("3457005", "Patient referral")
RADIOTHERAPY = SNOMED("108290001", "Radiation oncology AND/OR radiotherapy")
PHYSICAL_THERAPY = SNOMED("91251008", "Physical therapy procedure")
FOLLOW_UP = SNOMED("390906007", "Follow-up encounter")
DECOMPRESSION_OF_SPINAL_CORD = SNOMED("5765005", "Decompression of spinal cord")

EDUCATION = SNOMED("409073007", "Education")
EXERCISE_THERAPY = SNOMED("229065009", "Exercise therapy")

# Local codes for activities with no standard code we could name with confidence (TERMINOLOGY_NOTES).
BED_REST = LOCAL("bed-rest", "Bed rest")
SPINAL_BRACE = LOCAL("spinal-brace", "Application of a spinal brace")
ELECTRICAL_STIMULATION = LOCAL("electrical-stimulation", "Electrical stimulation therapy")
L2_NERVE_ROOT_BLOCK = LOCAL("l2-nerve-root-block", "L2 nerve root block")
DRG_BLOCK = LOCAL("dorsal-root-ganglion-block", "Dorsal root ganglion block")
THERMAL_ABLATION = LOCAL("thermal-ablation-with-augmentation",
                         "Percutaneous thermal ablation with vertebral augmentation")
CLINICIAN_ADVICE = LOCAL("clinician-advice", "Advice to the treating clinician")

SPINE_MRI = ValueSet(
    "spine-imaging-mri",
    title="Magnetic resonance imaging",
    description="MRI procedures (the spine is the body site).",
    codes=[MRI],
)

# --- medications (RxNorm ingredients) ------------------------------------------------------------

ACETAMINOPHEN = RXNORM("161", "acetaminophen")
IBUPROFEN = RXNORM("5640", "ibuprofen")
NAPROXEN = RXNORM("7258", "naproxen")
MORPHINE = RXNORM("7052", "morphine")
CODEINE = RXNORM("2670", "codeine")
OXYCODONE = RXNORM("7804", "oxycodone")
ALENDRONATE = RXNORM("46041", "alendronate")
RISEDRONATE = RXNORM("73056", "risedronate")
IBANDRONATE = RXNORM("115264", "ibandronate")
DENOSUMAB = RXNORM("993449", "denosumab")
CALCIUM_CARBONATE = RXNORM("1897", "calcium carbonate")
CHOLECALCIFEROL = RXNORM("2418", "cholecalciferol")
PEGINTERFERON_ALFA_2A = RXNORM("120608", "peginterferon alfa-2a")

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

CALCITONIN = LOCAL("calcitonin-salmon", "Calcitonin (salmon)")
STRONTIUM_RANELATE = LOCAL("strontium-ranelate", "Strontium ranelate")

# --- routes --------------------------------------------------------------------------------------

NASAL_ROUTE = SNOMED("46713006", "Nasal route")
RECTAL_ROUTE = SNOMED("37161004", "Rectal route")
ORAL_ROUTE = SNOMED("26643006", "Oral route")


VALUE_SETS = [
    VERTEBRAL_FRACTURE, L3_OR_L4_VERTEBRA, NEUROLOGICAL_DEFICIT, SPINAL_INSTABILITY, SPINAL_DEFORMITY,
    MALIGNANCY, SPINAL_METASTASES, OESOPHAGEAL_ABNORMALITY, UNABLE_TO_SIT_OR_STAND_UPRIGHT, CREATININE_CLEARANCE,
    MRI_CONTRAINDICATION, NOT_SURGICAL_CANDIDATE, VERTEBRAL_AUGMENTATION, SPINE_MRI, NSAIDS, OPIOIDS, ANALGESICS, BISPHOSPHONATES,
]


TERMINOLOGY_NOTES = """
No terminology server was reachable while authoring, so no code here was checked against an
authoritative release. What was checked:

* Every SNOMED CT id passes its Verhoeff check digit; every LOINC code passes its mod-10 check digit.
* The vertebra body-site codes (T12, L1-L5) and "Spine" (421060004) match DICOM PS3.16 CID 7603 /
  CID 6114 as published in a public FHIR rendering of the DICOM content resources.
* 207957008 / 207938004 (closed fracture of lumbar / thoracic vertebra) and 63305008 (stricture of
  esophagus) were found with these meanings in public value-set listings (NHS ECDS fracture codes,
  a published COVID-19 condition value set) - secondary sources, not the SNOMED release.

Codes recalled from memory, well-formed but NOT verified against an authoritative source
(verify before production use):

* SNOMED: 443165006 Osteoporotic fracture of bone (display varies between releases:
  "Pathological fracture due to osteoporosis"); 60389000 Paraplegia; 192970008 Cauda equina syndrome;
  71286001 Spinal cord compression; 414564002 Kyphosis deformity of spine; 298382003 Scoliosis deformity
  of spine; 409623005 Respiratory insufficiency; 363346000 Malignant neoplastic disease; 128462008 Secondary
  malignant neoplastic disease; 94222008 Secondary malignant neoplasm of bone; 94503003 Secondary malignant
  neoplasm of vertebral column (LOW confidence); 109989006 Multiple myeloma; 397016004 Systemic mast cell
  disease (LOW confidence); 5291005 Hypocalcemia; 45564002 Achalasia of esophagus; 160685001 Bed-ridden
  (LOW confidence); 441509002 Cardiac pacemaker in situ; 392010000 Percutaneous vertebroplasty (LOW
  confidence); 429616001 Percutaneous kyphoplasty (LOW confidence: one public mapping gives this id a
  cardiac meaning); 113091000 Magnetic resonance imaging; 77477000 Computerized axial tomography;
  86273004 Biopsy; 3457005 Patient referral; 108290001 Radiation oncology AND/OR radiotherapy;
  91251008 Physical therapy procedure; 390906007 Follow-up encounter; 5765005 Decompression of spinal
  cord (LOW confidence); 46713006 Nasal route; 37161004 Rectal route; 26643006 Oral route.
* LOINC: 72514-3 Pain severity 0-10 verbal numeric rating; 2164-2 Creatinine renal clearance in 24 hour
  Urine and Serum; 35591-7 Creatinine renal clearance predicted by Cockcroft-Gault formula.
* RxNorm ingredients (no check digit exists): 161 acetaminophen, 5640 ibuprofen, 7258 naproxen,
  7052 morphine, 2670 codeine, 7804 oxycodone, 46041 alendronate, 73056 risedronate, 115264 ibandronate,
  993449 denosumab, 1897 calcium carbonate, 2418 cholecalciferol, 120608 peginterferon alfa-2a.
* ICD-10-CM M53.2X4 / M53.2X5 / M53.2X6 (spinal instabilities by region): used because no SNOMED concept
  for spinal instability could be named with confidence.

Local codes (system .../CodeSystem/vcf-local), used where no standard code could be named with
confidence - each is a gap to close with a terminologist:

* calcitonin-salmon (RxNorm ingredient id for calcitonin not recalled with confidence);
* strontium-ranelate (not marketed in the US; not expected in RxNorm);
* not-surgical-candidate, mri-contraindicated, unable-to-remain-upright-30-min;
* activities: bed-rest, spinal-brace, electrical-stimulation, l2-nerve-root-block, dorsal-root-ganglion-block,
  thermal-ablation-with-augmentation, clinician-advice (the message of a Communication to the clinician).

Also recalled, not verified: SNOMED 409073007 Education, 229065009 Exercise therapy.

UCUM units: mg, [iU] (international unit), mL/min, {score} (annotation for the 0-10 pain score).
"""
