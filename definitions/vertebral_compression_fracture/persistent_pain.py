"""Persistent pain (> 3 months of failed conservative care) and interventional options."""

from __future__ import annotations

from generator import (Certainty, Choice, Direction, Process, Recommendation, Selection, Service, Source, Strategy,
                       Strength)

from . import features as f
from . import terminology as t

vertebroplasty = Recommendation(
    "vertebroplasty-not-recommended",
    title="Do not perform vertebroplasty for osteoporotic compression fractures",
    statement="Vertebroplasty is strongly not recommended for osteoporotic compression fractures: two Level I "
    "sham-controlled trials showed no statistically significant difference in pain or function.",
    when=f.HAS_FRACTURE & ~f.MALIGNANCY & ~f.MASTOCYTOSIS,
    then=Service(title="Percutaneous vertebroplasty", code=t.VERTEBROPLASTY, category="procedure",
                 do_not_perform=True),
    strength=Strength.STRONG,
    direction=Direction.AGAINST,
    certainty=Certainty.HIGH,
    sources=[
        Source("000", "Vertebroplasty: Strongly NOT recommended based on high-quality evidence"),
        Source("001", "Vertebroplasty has a strong recommendation AGAINST its use for treating osteoporotic "
                      "compression fractures"),
        Source("002", "The American Academy of Orthopaedic Surgeons recommends against vertebroplasty for "
                      "osteoporotic compression fractures based on two Level I sham-controlled trials showing no "
                      "statistically significant difference in pain or function"),
        Source("000", "Vertebroplasty: Despite widespread use, high-quality evidence does not support its efficacy"),
    ],
    rationale="Conflict: 003 (2025-10-26) and 004 (undated) present vertebroplasty alongside balloon kyphoplasty as "
    "an augmentation option (\"Consider vertebral augmentation (vertebroplasty or kyphoplasty)\"), and 002 notes "
    "that the strong recommendation \"conflicts with other evidence showing benefit\" and lists "
    "\"Vertebroplasty/kyphoplasty for refractory pain in selected patients\". The latest source, 001 (2026-01-21), "
    "and 000 state a strong recommendation against, based on high-quality evidence: that stronger, later position "
    "is encoded. Pathologic (malignancy) fractures and systemic mastocytosis are excluded from applicability because "
    "000 and 002 recommend augmentation there (see special-situations).",
)

kyphoplasty = Recommendation(
    "kyphoplasty-after-failed-conservative-management",
    title="Kyphoplasty after 3 months of failed medical management",
    statement="Kyphoplasty is weakly recommended for symptomatic fractures in neurologically intact patients whose "
    "pain is not adequately relieved after 3 months of conservative management. It gives more immediate pain relief "
    "than continued conservative care and may improve vertebral height and kyphotic deformity.",
    when=f.FAILED_CONSERVATIVE_MANAGEMENT & f.NEUROLOGICALLY_INTACT & ~f.NOT_SURGICAL_CANDIDATE & ~f.MALIGNANCY
    & ~f.PRIOR_AUGMENTATION & f.RECENT_SPINE_IMAGING,
    then=Service(title="Balloon kyphoplasty", code=t.KYPHOPLASTY, category="procedure"),
    strength=Strength.WEAK,
    direction=Direction.FOR,
    sources=[
        Source("000", "Kyphoplasty: Weakly recommended for symptomatic fractures in neurologically intact patients"),
        Source("001", "Kyphoplasty is a weak recommendation for treating symptomatic fractures in neurologically "
                      "intact patients who fail conservative management"),
        Source("001", "If medical management fails with worsening symptoms after 3 months, vertebral augmentation "
                      "procedures should be considered"),
        Source("003", "If there is failure of medical management with worsening symptoms after 3 months, vertebral "
                      "augmentation (VA) procedures should be considered"),
        Source("004", "Consider vertebral augmentation (vertebroplasty or kyphoplasty) if conservative management "
                      "fails after 3 months with persistent severe pain."),
        Source("002", "Consider vertebral augmentation if adequate pain relief is not achieved by 3 months of "
                      "conservative management"),
        Source("001", "Balloon kyphoplasty may provide better improvement in spinal deformity with extension of the "
                      "kyphotic angle and increased vertebral body height compared to vertebroplasty"),
        Source("001", "The age of the fracture does not independently affect outcomes of vertebral augmentation, with "
                      "evidence supporting treatment of subacute and chronic painful compression fractures"),
        Source("004", "Do not assume all pain is from the known fracture—obtain new MRI if symptoms change or if "
                      "imaging is more than 3 months old to identify new fractures."),
    ],
    rationale="Imaging first: kyphoplasty is proposed only when spine imaging from the last 3 months is recorded "
    "(MRI, or CT - the sources' alternative when MRI is contraindicated). "
    "An old fracture (months or years ago) with pain today gets the new MRI first "
    "(new-mri-if-symptoms-change-or-imaging-old, source 004: do not assume all pain is from the known fracture). "
    "Of the augmentation procedures only kyphoplasty is recommended for (vertebroplasty: see "
    "vertebroplasty-not-recommended). \"Failed conservative management\" is computed as a fracture older than 3 "
    "months with a latest pain score of 4 or more. Patients recorded as not candidates for surgery or augmentation "
    "are excluded (000: dorsal root ganglion block instead), and so are patients who already had vertebral "
    "augmentation: for residual pain after augmentation 000 advises a dorsal root ganglion block and considering a "
    "facet joint source (an encoding choice; the sources do not discuss repeat augmentation).",
)

early_augmentation = Recommendation(
    "early-vertebral-augmentation",
    title="Earlier vertebral augmentation for deformity, worsening symptoms or pulmonary dysfunction",
    statement="Consider vertebral augmentation (kyphoplasty) before 3 months - do not withhold treatment for 3 months "
    "- when there is spinal deformity or progressive kyphosis (e.g. >= 15 % kyphosis, >= 10 % scoliosis, >= 10 % "
    "dorsal wall height reduction or >= 20 % vertebral body height loss), worsening symptoms despite medication, "
    "pulmonary dysfunction from vertebral collapse, or a contraindication to pain medications or need for "
    "parenteral narcotics.",
    when=f.WITHIN_THREE_MONTHS & f.NEUROLOGICALLY_INTACT & ~f.NOT_SURGICAL_CANDIDATE & ~f.MALIGNANCY
    & (f.DEFORMITY | f.PULMONARY_DYSFUNCTION | f.WORSENING_DESPITE_MEDICATION),
    then=Service(title="Balloon kyphoplasty (earlier intervention)", code=t.KYPHOPLASTY, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("001", "Earlier intervention is indicated for: 1 • Spinal deformity or progressive kyphosis • "
                      "Worsening symptoms despite medications • Pulmonary dysfunction"),
        Source("003", "Spinal deformity (defined as ≥15% kyphosis, ≥10% scoliosis, ≥10% dorsal wall height "
                      "reduction, or vertebral body height loss ≥20%)"),
        Source("004", "Contraindication to pain medications or requirement for parenteral narcotics"),
        Source("004", "Pulmonary dysfunction from vertebral collapse"),
        Source("002", "Do not withhold treatment for 3 months in patients with severe, disabling pain - earlier "
                      "vertebral augmentation may be appropriate in select cases"),
        Source("000", "percutaneous vertebral augmentation reserved for cases with persistent severe pain, spinal "
                      "deformity, or pulmonary dysfunction"),
        Source("002", "Improves pulmonary function in patients with compression fractures through improved alignment "
                      "and decreased pain"),
    ],
    rationale="Computable triggers: a recorded kyphosis/scoliosis deformity, respiratory insufficiency, or severe "
    "pain (score >= 7) while on analgesics (proxy for worsening symptoms despite medication). A contraindication to "
    "pain medications or a need for parenteral narcotics is in the statement but not computed (no feature for it). "
    "The referral for pulmonary dysfunction is its own recommendation "
    "(pulmonary-dysfunction-augmentation-referral), which also applies after 3 months.",
)

pulmonary_referral = Recommendation(
    "pulmonary-dysfunction-augmentation-referral",
    title="Pulmonary dysfunction: referral for consideration of percutaneous vertebral augmentation",
    statement="Refer compression fractures leading to pulmonary dysfunction for consideration of percutaneous "
    "vertebral augmentation, at any time after the fracture; do not delay intervention.",
    when=f.HAS_FRACTURE & f.PULMONARY_DYSFUNCTION,
    then=Service(title="Referral for consideration of percutaneous vertebral augmentation", code=t.REFERRAL,
                 category="referral"),
    direction=Direction.FOR,
    sources=[
        Source("001", "Compression fractures leading to pulmonary dysfunction should be referred for consideration of "
                      "percutaneous vertebral augmentation"),
        Source("001", "Do not delay intervention in patients with progressive deformity or pulmonary dysfunction"),
        Source("000", "If pain persists with spinal deformity or pulmonary dysfunction: Consider kyphoplasty"),
    ],
    rationale="001 lists this referral under \"Delayed Referral Criteria (After Conservative Management)\" with no "
    "pain condition, and among the reasons for earlier intervention: it applies both before and after 3 months. "
    "Significant deformity has its own referral at any time (deformity-surgical-referral).",
)

persistent_referral = Recommendation(
    "referral-persistent-pain",
    title="Persistent pain after 3 months: referral to interventional radiology, spine surgery or pain management",
    statement="For pain persisting after 3 months of conservative management, refer to interventional radiology "
    "(vertebral augmentation), orthopaedic surgery or neurosurgery (severe and worsening pain), or pain management.",
    when=f.FAILED_CONSERVATIVE_MANAGEMENT,
    then=Choice(
        Service(title="Referral to interventional radiology", code=t.REFERRAL, category="referral"),
        Service(title="Referral to orthopaedic surgery or neurosurgery", code=t.REFERRAL, category="referral"),
        Service(title="Referral to pain management", code=t.REFERRAL, category="referral"),
        select=Selection.ONE_OR_MORE, title="Referral for persistent pain (one or more)",
    ),
    direction=Direction.FOR,
    sources=[
        Source("001", "Consider referral to interventional radiology for patients with persistent pain after 3 "
                      "months of conservative management"),
        Source("001", "Severe and worsening pain despite 3 months of conservative management warrants referral to "
                      "orthopedic surgery or neurosurgery"),
        Source("004", "Interventional radiology referral for vertebral augmentation consideration after 3 months of "
                      "failed conservative management"),
        Source("004", "Pain management referral is appropriate for persistent pain despite initial analgesic therapy"),
        Source("002", "Failure of medical management with worsening symptoms despite medications"),
    ],
    rationale="The sources give each referral its own reason (interventional radiology for augmentation, spine "
    "surgery for severe and worsening pain, pain management for persistent pain despite analgesics): one or more "
    "of them, chosen by the clinician, not three parallel orders.",
)

l2_block_persistent = Recommendation(
    "l2-nerve-root-block-persistent",
    title="L2 nerve root block for persistent pain from L3 or L4 fractures",
    statement="For L3 or L4 fractures with persistent pain, consider L2 nerve root blocks (weak recommendation).",
    when=f.FAILED_CONSERVATIVE_MANAGEMENT & f.AT_L3_OR_L4,
    then=Service(title="L2 nerve root block", code=t.L2_NERVE_ROOT_BLOCK, category="procedure", body_site=t.L2_VERTEBRA),
    strength=Strength.WEAK,
    direction=Direction.FOR,
    sources=[
        Source("000", "L2 Nerve Root Blocks: Weakly recommended for pain associated with L3 or L4 fractures"),
        Source("000", "For L3/L4 fractures with persistent pain: Consider L2 nerve root blocks"),
        Source("004", "Consider L2 nerve root block for fractures at L3 or L4 with acute injury and persistent pain"),
    ],
    rationale="000 places the L2 nerve root block in the persistent-pain (> 3 months) algorithm; 001 (latest) "
    "describes it for acute injury (see l2-nerve-root-block-acute). Both positions are encoded.",
)

drg_block = Recommendation(
    "dorsal-root-ganglion-block",
    title="Dorsal root ganglion block after failed conservative care or residual pain after augmentation",
    statement="Consider a dorsal root ganglion block for patients who fail conservative treatment or have residual "
    "pain after vertebral augmentation; it can be performed at the pathological and adjacent levels and is "
    "particularly useful for elderly or infirm patients who are not surgical candidates.",
    when=f.FAILED_CONSERVATIVE_MANAGEMENT | f.RESIDUAL_PAIN_AFTER_AUGMENTATION,
    then=Service(title="Dorsal root ganglion block", code=t.DRG_BLOCK, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("000", "Dorsal Root Ganglion Block: Consider for patients who fail conservative treatment or have "
                      "residual pain after vertebroplasty"),
        Source("000", "Particularly useful for elderly or infirm patients who are not surgical candidates"),
        Source("000", "If patient is not a candidate for vertebral augmentation: Consider dorsal root ganglion blocks"),
        Source("000", "Can be performed at the pathological level and adjacent levels"),
    ],
    rationale="000 gives both a broad indication (failed conservative treatment or residual pain after "
    "vertebroplasty) and, in its algorithm, patients who are not candidates for vertebral augmentation; the broad "
    "indication is encoded, which includes the non-candidates.",
)

persistent_pain = Strategy(
    "persistent-pain-and-interventions",
    title="Persistent pain (> 3 months) and interventions",
    description="When conservative management fails after 3 months (or earlier for deformity, worsening symptoms or "
    "pulmonary dysfunction): kyphoplasty, not vertebroplasty; referral; nerve blocks.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[vertebroplasty, kyphoplasty, early_augmentation, pulmonary_referral, persistent_referral,
                     l2_block_persistent, drg_block],
)
