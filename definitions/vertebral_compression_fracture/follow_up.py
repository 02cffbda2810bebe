"""Follow-up, monitoring and education."""

from __future__ import annotations

from generator import Communication, Direction, Process, Recommendation, Service, Source, Strategy, at, weeks

from . import features as f
from . import terminology as t

reassess = Recommendation(
    "reassess-at-4-to-6-weeks",
    title="Reassess at 4-6 weeks",
    statement="Reassess the patient at 4-6 weeks to evaluate the response to initial treatment.",
    when=f.ACUTE,
    then=Service(title="Follow-up reassessment", code=t.FOLLOW_UP, category="procedure",
                 timing=at(weeks(4), weeks(6), after="fracture identification")),
    direction=Direction.FOR,
    sources=[
        Source("001", "Reassess patients at 4-6 weeks to evaluate response to initial treatment"),
        Source("004", "Reassess at 4-6 weeks to evaluate treatment response."),
    ],
)

subacute = Recommendation(
    "subacute-continue-medical-management",
    title="Subacute phase (1-3 months): continue medical management and monitor",
    statement="In the subacute phase (1-3 months) continue medical management, return gradually to activities and "
    "monitor for improvement.",
    when=f.SUBACUTE & f.CONSERVATIVE_CANDIDATE,
    then=Communication(title="Continue medical management", code=t.CLINICIAN_ADVICE,
                       message="Continue medical management, gradual return to activities, monitor for improvement."),
    direction=Direction.FOR,
    sources=[
        Source("000", "Subacute phase (1-3 months):"),
        Source("000", "Continue medical management"),
        Source("000", "Monitor for improvement"),
        Source("001", "while monitoring for improvement over 2-12 weeks"),
    ],
    rationale="Restricted to conservative-management candidates: with spinal instability (or a neurological "
    "deficit or cord compression) the sources ask for immediate surgical consultation instead, so 'continue "
    "medical management' is not proposed next to it.",
)

imaging_beyond_8_weeks = Recommendation(
    "repeat-imaging-symptoms-beyond-8-weeks",
    title="Symptoms persisting beyond 8 weeks: additional imaging",
    statement="If symptoms persist beyond 8 weeks, obtain additional imaging to rule out fracture progression or new "
    "fractures.",
    when=f.OLDER_THAN_EIGHT_WEEKS & f.SIGNIFICANT_PAIN & ~f.MALIGNANCY & ~f.MRI_CONTRAINDICATED
    & ~f.NEW_SPINE_MRI_DUE,
    then=Service(title="Additional spine imaging", code=t.MRI, category="imaging", body_site=t.SPINE),
    direction=Direction.FOR,
    sources=[
        Source("004", "If symptoms persist beyond 8 weeks, obtain additional imaging to rule out fracture progression "
                      "or new fractures"),
        Source("001", "If symptoms persist beyond 8 weeks, consider additional imaging to rule out fracture "
                      "progression or new fractures"),
        Source("004", "Natural history shows most fractures improve by 6-8 weeks; persistence beyond this warrants "
                      "further evaluation"),
    ],
    rationale="001 (latest) says \"consider\", 004 says \"obtain\"; the recommendation is left ungraded. One MRI at "
    "a time: when a new MRI is due because imaging is more than 3 months old "
    "(new-mri-if-symptoms-change-or-imaging-old), with malignancy (complete spine MRI) or when MRI is "
    "contraindicated (CT), that recommendation replaces this one.",
)

new_mri = Recommendation(
    "new-mri-if-symptoms-change-or-imaging-old",
    title="New MRI when symptoms change or imaging is more than 3 months old",
    statement="Do not assume all pain is from the known fracture: obtain a new MRI if symptoms change or if imaging "
    "is more than 3 months old, to identify new fractures.",
    when=f.NEW_SPINE_MRI_DUE,
    then=Service(title="New MRI of the spine", code=t.MRI, category="imaging", body_site=t.SPINE),
    direction=Direction.FOR,
    sources=[
        Source("004", "Do not assume all pain is from the known fracture—obtain new MRI if symptoms change or if "
                      "imaging is more than 3 months old to identify new fractures."),
    ],
    rationale="Computable part: ongoing pain, fracture older than 3 months, and no spine MRI (an MRI of the spine, "
    "not of another body part) recorded in the last 3 months. A change in symptoms is not computable from the "
    "record and is left to the clinician. With malignancy the complete spine MRI is proposed instead, and CT "
    "when MRI is contraindicated.",
)

monitor_new_fractures = Recommendation(
    "follow-up-monitor-new-fractures",
    title="Regular follow-up to monitor for new fractures",
    statement="Long-term management includes regular follow-up to monitor for new fractures and treatment of the "
    "underlying osteopenia/osteoporosis.",
    when=f.HAS_FRACTURE,
    then=Service(title="Regular follow-up for new fractures", code=t.FOLLOW_UP, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("003", "Regular follow-up to monitor for new fractures"),
        Source("003", "Treatment of underlying osteopenia/osteoporosis"),
    ],
)

adjacent_level = Recommendation(
    "adjacent-level-fracture-monitoring",
    title="Monitor for adjacent-level fractures after vertebral augmentation",
    statement="Adjacent-level fractures can occur after vertebral augmentation and require ongoing monitoring.",
    when=f.PRIOR_AUGMENTATION,
    then=Service(title="Monitoring for adjacent-level fractures", code=t.FOLLOW_UP, category="procedure"),
    direction=Direction.FOR,
    sources=[
        Source("000", "Adjacent level fractures: Can occur after vertebral augmentation procedures, requiring ongoing "
                      "monitoring"),
    ],
)

residual_pain_facet = Recommendation(
    "residual-pain-after-augmentation-facet-source",
    title="Residual pain after augmentation: consider facet joint pain",
    statement="Residual pain after vertebral augmentation may come from the facet joints rather than the original "
    "fracture, especially with pre-existing degenerative changes.",
    when=f.RESIDUAL_PAIN_AFTER_AUGMENTATION,
    then=Communication(title="Consider a facet joint source of residual pain", code=t.CLINICIAN_ADVICE,
                       message="Residual pain after augmentation may be facet joint pain rather than the fracture."),
    direction=Direction.FOR,
    sources=[
        Source("000", "Residual pain after vertebral augmentation: May be related to facet joint pain rather than the "
                      "original fracture site, especially in patients with pre-existing degenerative changes"),
    ],
)

fall_prevention = Recommendation(
    "fall-prevention-education",
    title="Fall prevention education and measures",
    statement="Provide fall prevention education and measures, and encourage spinal stretching exercises and "
    "walking to improve mobility and prevent deconditioning.",
    when=f.HAS_FRACTURE,
    then=Communication(title="Fall prevention education", code=t.EDUCATION,
                       message="Fall prevention education and measures; spinal stretching exercises and walking."),
    direction=Direction.FOR,
    sources=[
        Source("003", "Fall prevention education and measures"),
        Source("003", "Spinal stretching exercises and walking to improve mobility and prevent deconditioning"),
    ],
)

follow_up = Strategy(
    "follow-up",
    title="Follow-up, monitoring and education",
    description="Reassessment at 4-6 weeks, re-imaging when symptoms persist or change, monitoring for new and "
    "adjacent-level fractures, and fall prevention.",
    process=Process.MONITOR_AND_FOLLOW_UP,
    recommendations=[reassess, subacute, imaging_beyond_8_weeks, new_mri, monitor_new_fractures, adjacent_level,
                     residual_pain_facet, fall_prevention],
)
