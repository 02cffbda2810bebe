"""Assessment, imaging and urgent referral at presentation."""

from __future__ import annotations

from generator import (Communication, Direction, Priority, Process, Recommendation, Service, Source, Strategy, Strength,
                       immediately)

from . import features as f
from . import terminology as t

mri_spine = Recommendation(
    "mri-spine-without-contrast",
    title="MRI of the spine without IV contrast at presentation",
    statement="Obtain MRI of the spine without IV contrast to characterise the fracture and exclude pathologic "
    "causes such as malignancy.",
    when=f.ACUTE & ~f.MRI_CONTRAINDICATED & ~f.MALIGNANCY,
    then=Service(title="MRI of the spine without IV contrast", code=t.MRI, category="imaging", body_site=t.SPINE),
    direction=Direction.FOR,
    sources=[
        Source("001", "MRI of the spine without IV contrast should be obtained to assess fracture characteristics "
                      "and rule out pathologic causes"),
        Source("004", "Obtain MRI of the spine without IV contrast (or CT if MRI contraindicated) to characterize "
                      "the fracture and exclude pathologic causes such as malignancy"),
    ],
    rationale="With risk factors for malignancy the complete spine MRI without and with contrast "
    "(malignancy-workup-complete-spine-mri) is proposed instead, so that no two MRIs are proposed at once.",
)

ct_spine = Recommendation(
    "ct-spine-if-mri-contraindicated",
    title="CT of the spine without contrast when MRI is contraindicated",
    statement="If MRI is contraindicated, obtain CT of the spine without contrast instead - at every point where "
    "spine imaging is indicated (presentation, suspected pathologic fracture, symptoms beyond 8 weeks).",
    when=f.IMAGING_DUE & f.MRI_CONTRAINDICATED,
    then=Service(title="CT of the spine without contrast", code=t.CT, category="imaging", body_site=t.SPINE),
    direction=Direction.FOR,
    sources=[
        Source("001", "If MRI is contraindicated, CT spine without contrast is an alternative"),
        Source("004", "Obtain MRI of the spine without IV contrast (or CT if MRI contraindicated)"),
    ],
    rationale="001 states the CT alternative generally (\"If MRI is contraindicated, CT spine without contrast is an "
    "alternative\"), so it replaces every MRI the pathway proposes: at presentation, in the work-up of a suspected "
    "pathologic fracture and for symptoms persisting beyond 8 weeks (the MRI recommendations exclude patients "
    "with an MRI contraindication).",
)

red_flag_assessment = Recommendation(
    "assess-neurology-and-red-flags",
    title="Examine for neurological deficit and red flags",
    statement="Rule out neurological deficits through careful examination and assess for red flags: spinal "
    "instability, significant deformity or progressive kyphosis. Any deficit requires immediate surgical referral.",
    when=f.ACUTE | f.CONSERVATIVE_CANDIDATE,
    then=Communication(
        title="Neurological examination and red-flag assessment", code=t.CLINICIAN_ADVICE,
        message="Examine carefully for neurological deficit; assess for spinal instability, significant deformity "
        "or progressive kyphosis.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("004", "Rule out neurological deficits through careful examination—any deficits require immediate "
                      "surgical referral"),
        Source("004", "Assess for \"red flags\" including spinal instability, significant deformity, or progressive "
                      "kyphosis"),
    ],
    rationale="\"Neurologically intact\" is computed as no deficit recorded; a missing record is not an "
    "examination. The examination is therefore proposed at presentation and whenever conservative care is "
    "proposed (the first 3 months without a recorded deficit, cord compression or instability).",
)

malignancy_workup = Recommendation(
    "malignancy-workup-complete-spine-mri",
    title="Rule out pathologic fracture: complete spine MRI without and with contrast",
    statement="In patients with risk factors for malignancy, always rule out a pathologic fracture: obtain complete "
    "spine MRI without and with contrast.",
    when=f.HAS_FRACTURE & f.MALIGNANCY & ~f.MRI_CONTRAINDICATED,
    then=Service(title="Complete spine MRI without and with contrast", code=t.MRI, category="imaging",
                 body_site=t.SPINE),
    direction=Direction.FOR,
    sources=[
        Source("001", "Always rule out pathologic fractures in patients with risk factors for malignancy; complete "
                      "spine MRI without and with contrast is indicated, along with potential biopsy"),
        Source("004", "Always rule out pathologic fractures in patients with risk factors for malignancy; if "
                      "suspected, obtain complete spine MRI with and without contrast and consider biopsy"),
        Source("003", "Overlooking the possibility of pathologic fractures in patients with risk factors for "
                      "malignancy"),
    ],
)

biopsy = Recommendation(
    "biopsy-suspected-pathologic-fracture",
    title="Consider biopsy of a suspected pathologic fracture",
    statement="When a pathologic fracture is suspected, consider biopsy; biopsy is required to confirm a cancer "
    "diagnosis before treatment.",
    when=f.HAS_FRACTURE & f.MALIGNANCY,
    then=Service(title="Biopsy of the fractured vertebra", code=t.BIOPSY, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("004", "if suspected, obtain complete spine MRI with and without contrast and consider biopsy"),
        Source("001", "complete spine MRI without and with contrast is indicated, along with potential biopsy"),
        Source("002", "Biopsy is required to confirm cancer diagnosis before treatment"),
    ],
)

neuro_deficit_referral = Recommendation(
    "neurological-deficit-immediate-referral",
    title="Neurological deficit: immediate referral to orthopaedic surgery or neurosurgery",
    statement="Refer patients with neurological deficits immediately to orthopaedic surgery or neurosurgery; do not "
    "delay, as delay can lead to permanent neurological damage.",
    when=f.HAS_FRACTURE & f.NEURO_DEFICIT,
    then=Service(title="Immediate referral to orthopaedic surgery or neurosurgery", code=t.REFERRAL,
                 category="referral", priority=Priority.URGENT, timing=immediately()),
    direction=Direction.FOR,
    sources=[
        Source("001", "Neurological deficits require immediate referral to orthopedic surgery or neurosurgery"),
        Source("001", "Do not delay referral for patients with neurological deficits, as this can lead to permanent "
                      "neurological damage"),
        Source("004", "Refer immediately to orthopedic surgery or neurosurgery if any of the following are present: "
                      "- Neurological deficits"),
        Source("000", "Surgical consultation and possible decompression surgery"),
        Source("002", "Neurologic deficits or neural compression"),
    ],
    rationale="Urgency as the sources word it: \"immediate referral\", \"Do not delay\" (001 \"Immediate Referral "
    "Criteria (Do Not Delay)\") - priority urgent, timing immediately. The sources do not call it an emergency, "
    "so the highest priority (stat) is not used.",
)

instability_referral = Recommendation(
    "spinal-instability-surgical-consultation",
    title="Spinal instability: immediate surgical consultation",
    statement="Evidence of spinal instability on imaging requires immediate surgical consultation "
    "(orthopaedic surgery or neurosurgery).",
    when=f.HAS_FRACTURE & f.INSTABILITY,
    then=Service(title="Immediate surgical consultation", code=t.REFERRAL, category="referral",
                 priority=Priority.URGENT, timing=immediately()),
    direction=Direction.FOR,
    sources=[
        Source("001", "Evidence of spinal instability on imaging requires immediate surgical consultation"),
        Source("004", "Evidence of spinal instability"),
        Source("002", "Spinal instability"),
    ],
)

cord_compression_referral = Recommendation(
    "spinal-cord-compression-surgical-referral",
    title="Spinal cord compression: immediate surgical referral",
    statement="Refer immediately to orthopaedic surgery or neurosurgery when there is spinal cord compression.",
    when=f.HAS_FRACTURE & f.CORD_COMPRESSION,
    then=Service(title="Immediate referral to orthopaedic surgery or neurosurgery", code=t.REFERRAL,
                 category="referral", priority=Priority.URGENT, timing=immediately()),
    direction=Direction.FOR,
    sources=[
        Source("004", "Spinal cord compression 3"),
        Source("001", "Surgical intervention is only indicated for vertebral compression fractures complicated by "
                      "spinal instability, neurological deficits, or significant spinal cord compression"),
        Source("003", "Significant spinal cord compression"),
        Source("004", "Refer immediately to orthopedic surgery or neurosurgery if any of the following are present:"),
    ],
    rationale="004 lists spinal cord compression among the criteria for immediate referral: priority urgent, timing "
    "immediately.",
)

deformity_referral = Recommendation(
    "deformity-surgical-referral",
    title="Significant deformity or progressive kyphosis: referral to orthopaedic surgery or neurosurgery",
    statement="Refer patients with significant spinal deformity or progressive kyphosis to orthopaedic surgery or "
    "neurosurgery, and do not delay intervention.",
    when=f.HAS_FRACTURE & f.DEFORMITY,
    then=Service(title="Referral to orthopaedic surgery or neurosurgery", code=t.REFERRAL, category="referral"),
    direction=Direction.FOR,
    sources=[
        Source("004", "Significant spinal deformity or progressive kyphosis 1, 2"),
        Source("001", "Significant spinal deformity or progressive kyphosis requires referral to orthopedic surgery "
                      "or neurosurgery"),
        Source("001", "Do not delay intervention in patients with progressive deformity or pulmonary dysfunction"),
    ],
    rationale="Sources differ on urgency. 004 (undated) lists significant deformity or progressive kyphosis among "
    "the criteria for *immediate* surgical referral; 001 (updated 2026-01-21, the latest source) lists it under "
    "\"Delayed Referral Criteria (After Conservative Management)\" while also saying not to delay intervention for "
    "progressive deformity. Both positions are kept: the referral applies as soon as the deformity is recorded, "
    "and urgency is left to the clinician.",
)

surgery_for_complicated = Recommendation(
    "decompression-stabilisation-surgery",
    title="Surgery only for fractures complicated by instability, neurological deficit or cord compression",
    statement="Surgical intervention (decompression and stabilisation: posterior decompression and fixation or "
    "anterior decompression and reconstruction) is indicated only for fractures complicated by spinal instability, "
    "neurological deficits or significant spinal cord compression.",
    when=f.HAS_FRACTURE & (f.NEURO_DEFICIT | f.CORD_COMPRESSION | f.INSTABILITY),
    then=Service(title="Surgical decompression and stabilisation", code=t.DECOMPRESSION_AND_STABILISATION,
                 category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("003", "Surgical intervention is only indicated for vertebral compression fractures complicated by:"),
        Source("001", "Surgical intervention is only indicated for vertebral compression fractures complicated by "
                      "spinal instability, neurological deficits, or significant spinal cord compression"),
        Source("002", "Open surgical management with decompression and stabilization is reserved for rare patients "
                      "with neural compression and progressive deformity"),
        Source("002", "Posterior decompression and fixation or anterior decompression and reconstruction may be "
                      "required if neurological deficits are present"),
    ],
)

assessment = Strategy(
    "assessment-and-referral",
    title="Assessment, imaging and urgent referral",
    description="At presentation: imaging, red-flag assessment, work-up of a possible pathologic fracture, and "
    "immediate referral when there is neurological deficit, spinal instability, cord compression or significant "
    "deformity.",
    process=Process.DIAGNOSTIC_TESTING,
    recommendations=[mri_spine, ct_spine, red_flag_assessment, malignancy_workup, biopsy, neuro_deficit_referral,
                     instability_referral, cord_compression_referral, deformity_referral, surgery_for_complicated],
)
