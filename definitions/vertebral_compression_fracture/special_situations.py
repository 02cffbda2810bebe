"""Pathologic (malignancy-related) fractures and other special populations."""

from __future__ import annotations

from generator import (Choice, Direction, Medication, Priority, Process, Recommendation, Selection, Service, Source,
                       Strategy, immediately)

from . import features as f
from . import terminology as t

multidisciplinary = Recommendation(
    "pathologic-fracture-multidisciplinary-management",
    title="Pathologic fracture: immediate multidisciplinary management",
    statement="Known malignancy or a suspected pathologic fracture requires immediate multidisciplinary management "
    "involving interventional radiology, surgery and radiation oncology.",
    when=f.HAS_FRACTURE & f.MALIGNANCY,
    then=[
        Service(title="Referral to interventional radiology", code=t.REFERRAL, category="referral",
                priority=Priority.URGENT, timing=immediately()),
        Service(title="Referral to spine surgery", code=t.REFERRAL, category="referral",
                priority=Priority.URGENT, timing=immediately()),
        Service(title="Referral to radiation oncology", code=t.REFERRAL, category="referral",
                priority=Priority.URGENT, timing=immediately()),
    ],
    direction=Direction.FOR,
    sources=[
        Source("001", "Known malignancy or suspected pathologic fracture requires immediate multidisciplinary "
                      "management including interventional radiology, surgery, and radiation oncology"),
        Source("000", "Multidisciplinary approach involving interventional radiology, surgery, and radiation oncology"),
    ],
    rationale="001 \"requires immediate multidisciplinary management\", listed under \"Immediate Referral Criteria (Do "
    "Not Delay)\": each referral has priority urgent and timing immediately.",
)

thermal_ablation = Recommendation(
    "thermal-ablation-with-augmentation",
    title="Thermal ablation with vertebral augmentation for severe, worsening pain",
    statement="For pathologic fractures due to malignancy with severe and worsening pain, consider percutaneous "
    "thermal ablation (radiofrequency ablation or cryoablation) with vertebral augmentation.",
    when=f.HAS_FRACTURE & f.MALIGNANCY & f.SEVERE_PAIN,
    then=Service(title="Percutaneous thermal ablation (radiofrequency or cryoablation) with vertebral augmentation",
                 code=t.THERMAL_ABLATION, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("000", "Percutaneous thermal ablation (radiofrequency ablation or cryoablation) with vertebral "
                      "augmentation for severe and worsening pain"),
    ],
)

radiation = Recommendation(
    "radiation-therapy-spinal-metastases",
    title="Radiation therapy for pain from spinal metastases",
    statement="Radiation therapy is reserved for spinal metastatic disease causing pain, neurological compromise or "
    "risk of neurological compromise.",
    when=f.HAS_FRACTURE & f.SPINAL_METASTASES_WITH_PAIN_OR_NEURO,
    then=Service(title="Radiation therapy to spinal metastases", code=t.RADIOTHERAPY, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("000", "Radiation therapy for pain related to spinal metastases"),
        Source("002", "Radiation therapy is reserved for spinal metastatic disease causing pain, neurologic "
                      "compromise, or risk of neurologic compromise"),
    ],
    rationale="Restricted as 002 says: pain (latest score 4 or more, the guideline's convention for clinically "
    "significant pain) or neurological compromise (recorded deficit or cord compression). 'Risk of neurologic "
    "compromise' has no computable form and is left to the multidisciplinary team.",
)

radiation_oncology_neuro = Recommendation(
    "radiation-oncology-consultation-neurological-compromise",
    title="Neurological compromise with spinal metastases: radiation oncology consultation",
    statement="For fractures with neurological compromise involving spinal metastases, obtain a radiation oncology "
    "consultation in addition to surgical consultation.",
    when=f.HAS_FRACTURE & f.SPINAL_METASTASES & (f.NEURO_DEFICIT | f.CORD_COMPRESSION),
    then=Service(title="Radiation oncology consultation", code=t.REFERRAL, category="referral",
                 priority=Priority.URGENT, timing=immediately()),
    direction=Direction.FOR,
    sources=[
        Source("000", "Radiation oncology consultation for cases involving spinal metastases"),
        Source("001", "Known malignancy or suspected pathologic fracture requires immediate multidisciplinary "
                      "management including interventional radiology, surgery, and radiation oncology"),
    ],
    rationale="Urgency from 001: spinal metastases are a known malignancy, whose multidisciplinary management "
    "including radiation oncology is immediate (priority urgent, timing immediately); with neurological compromise "
    "001 also asks for immediate surgical referral.",
)

mastocytosis_augmentation = Recommendation(
    "mastocytosis-vertebral-augmentation",
    title="Systemic mastocytosis: vertebroplasty/kyphoplasty for refractory pain",
    statement="In selected patients with systemic mastocytosis, vertebroplasty or kyphoplasty may be used for "
    "refractory pain associated with vertebral compression fractures.",
    when=f.HAS_FRACTURE & f.MASTOCYTOSIS & f.SIGNIFICANT_PAIN,
    then=Choice(
        Service(title="Percutaneous vertebroplasty", code=t.VERTEBROPLASTY, category="procedure"),
        Service(title="Balloon kyphoplasty", code=t.KYPHOPLASTY, category="procedure"),
        select=Selection.EXACTLY_ONE, title="Vertebroplasty or kyphoplasty",
    ),
    direction=Direction.FOR,
    sources=[
        Source("002", "Vertebroplasty/kyphoplasty for refractory pain associated with vertebral compression fractures "
                      "in selected patients with systemic mastocytosis"),
    ],
)

refractory_bone_pain = Recommendation(
    "refractory-bone-pain-denosumab-or-peginterferon",
    title="Systemic mastocytosis, refractory bone pain despite bisphosphonates: denosumab or PEG-interferon-alfa",
    statement="In systemic mastocytosis, for refractory bone pain not responding to bisphosphonates, consider "
    "PEG-interferon-alfa or denosumab (anti-RANKL monoclonal antibody).",
    when=f.HAS_FRACTURE & f.MASTOCYTOSIS & f.ON_BISPHOSPHONATE & f.OLDER_THAN_THREE_MONTHS & f.SIGNIFICANT_PAIN,
    then=Choice(
        Medication(title="Denosumab", code=t.DENOSUMAB),
        Medication(title="PEG-interferon-alfa", code=t.PEGINTERFERON_ALFA_2A),
        select=Selection.EXACTLY_ONE, title="PEG-interferon-alfa or denosumab",
    ),
    direction=Direction.FOR,
    sources=[
        Source("002", "For patients with refractory bone pain not responding to bisphosphonates, consider "
                      "PEG-interferon-alfa or denosumab (anti-RANKL monoclonal antibody)"),
    ],
    rationale="In 002 this statement sits in \"Special Populations\" directly after the systemic mastocytosis "
    "statement; PEG-interferon-alfa is a mastocytosis treatment, so the recommendation is restricted to patients "
    "with systemic mastocytosis (it previously applied to every patient in pain on a bisphosphonate). Denosumab "
    "remains available to all patients as an alternative first-line agent (in the osteoporosis-agent choice, "
    "osteoporosis-pharmacotherapy-*). \"Refractory\" "
    "is computed as a fracture older than 3 months with a pain score of 4 or more while taking a bisphosphonate.",
)

special_situations = Strategy(
    "pathologic-fractures-and-special-situations",
    title="Pathologic (malignancy-related) fractures and special populations",
    description="Malignancy-related fractures (multidisciplinary care, thermal ablation with augmentation, radiation "
    "therapy), systemic mastocytosis and bone pain refractory to bisphosphonates.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[multidisciplinary, thermal_ablation, radiation, radiation_oncology_neuro,
                     mastocytosis_augmentation, refractory_bone_pain],
)
