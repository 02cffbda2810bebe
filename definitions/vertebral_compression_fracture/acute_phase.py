"""Initial conservative management: acute phase (0-4 weeks) and the first 3 months, neurologically intact."""

from __future__ import annotations

from dataclasses import replace

from generator import (Choice, Communication, Direction, Dosage, Medication, NoRecommendation, Process, Quantity,
                       Recommendation, Selection, Service, Source, Strategy, Strength, days, lasting, weeks)

from . import features as f
from . import terminology as t

conservative_first_line = Recommendation(
    "conservative-management-first-three-months",
    title="Medical management first for the initial 3 months",
    statement="For osteoporotic vertebral compression fractures without neurological deficits, conservative "
    "medical management is the first-line treatment for the first 3 months; vertebral augmentation is reserved for "
    "patients who do not achieve adequate pain relief in that period or who have an indication for earlier "
    "intervention.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=Communication(
        title="Conservative medical management for 3 months", code=t.CLINICIAN_ADVICE,
        message="Begin conservative medical management; most healing fractures improve gradually over 2-12 weeks.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("000", "Medical management should be the first-line treatment for pain associated with osteoporotic "
                      "lumbar compression fractures for the first 3 months"),
        Source("002", "Initial conservative medical management for 3 months is the primary approach for "
                      "osteoporotic vertebral compression fractures without neurological deficits"),
        Source("003", "Medical management is the standard initial approach for patients with osteoporotic vertebral "
                      "compression fractures without neurological deficits"),
        Source("004", "Begin with conservative medical management for at least 3 months unless neurological "
                      "deficits, spinal instability, or severe progressive deformity are present."),
        Source("001", "Most healing vertebral compression fractures show gradual improvement in pain over 2 to 12 "
                      "weeks with variable return of function"),
    ],
)

calcitonin = Recommendation(
    "calcitonin-acute-pain",
    title="Calcitonin for acute pain during the first 4 weeks",
    statement="In neurologically intact patients with an acute compression fracture, start calcitonin 200 IU "
    "(intranasal or suppository) at fracture identification and continue for 4 weeks for clinically important "
    "pain reduction.",
    when=f.ACUTE & f.NEUROLOGICALLY_INTACT,
    then=Medication(
        title="Calcitonin (salmon) 200 IU for 4 weeks", code=t.CALCITONIN,
        # "for 4 weeks from fracture identification" (001/002/004) starting "0-5 days after onset" (000),
        # "immediately" (004): the 4-week course with its start window (lasting() plus the offset window).
        timing=replace(lasting(weeks(4), starting="fracture identification"), offset=days(0), offset_high=days(5),
                       text="start 0-5 days after onset (immediately at fracture identification), for 4 weeks "
                       "from fracture identification"),
        dosage=[
            Dosage(text="200 IU intranasally for 4 weeks", dose=Quantity(200, "[iU]"), duration=weeks(4),
                   route=t.NASAL_ROUTE),
            Dosage(text="200 IU as a suppository for 4 weeks", dose=Quantity(200, "[iU]"), duration=weeks(4),
                   route=t.RECTAL_ROUTE),
        ],
    ),
    direction=Direction.FOR,
    sources=[
        Source("000", "Calcitonin: Recommended for the first 4 weeks following acute compression fracture (0-5 days "
                      "after onset) in neurologically intact patients"),
        Source("001", "Calcitonin is recommended for 4 weeks following fracture identification for clinically "
                      "important pain reduction in acute compression fractures"),
        Source("001", "Administer calcitonin 200 IU (intranasal or suppository form) which has demonstrated "
                      "significant pain reduction at 1,2,3, and 4 weeks"),
        Source("002", "Calcitonin should be considered for acute pain management within the first 4 weeks after "
                      "fracture identification, as it provides clinically important pain reduction"),
        Source("003", "Calcitonin may be considered for acute pain management in the first 4 weeks after fracture "
                      "identification"),
        Source("004", "Start calcitonin immediately for the first 4 weeks after fracture identification, as it "
                      "provides clinically important pain reduction beyond standard analgesics."),
    ],
    rationale="The sources word this from \"may be considered\" (003) and \"should be considered\" (002) to "
    "\"recommended\" (000, 001) and \"start immediately\" (004); none gives a formal strength grade, so strength is "
    "left ungraded. 000 places the start at 0-5 days after onset. The sources state the dose (200 IU) and the "
    "forms (intranasal or suppository) but no dosing frequency, so none is encoded.",
)

acetaminophen = Recommendation(
    "acetaminophen-mild-pain",
    title="Acetaminophen for mild pain",
    statement="Acetaminophen is appropriate for mild pain.",
    when=f.CONSERVATIVE_CANDIDATE & f.MILD_PAIN,
    then=Medication(title="Acetaminophen", code=t.ACETAMINOPHEN,
                    dosage=Dosage(text="Acetaminophen for mild pain", route=t.ORAL_ROUTE)),
    direction=Direction.FOR,
    sources=[
        Source("002", "Acetaminophen is appropriate for mild pain"),
        Source("003", "NSAIDs, acetaminophen, and if necessary, short-term opioids for acute pain"),
    ],
)

nsaids = Recommendation(
    "nsaids-for-pain",
    title="NSAIDs for fracture pain",
    statement="NSAIDs are effective for back pain relief in compression fractures (assessment periods of "
    "2-12 weeks).",
    when=f.CONSERVATIVE_CANDIDATE,
    then=Medication(title="NSAID", code=t.NSAIDS, dosage=Dosage(text="NSAID as needed for pain", as_needed=True)),
    direction=Direction.FOR,
    sources=[
        Source("002", "NSAIDs are effective for back pain relief in compression fractures for assessment periods of "
                      "2-12 weeks"),
        Source("003", "NSAIDs, acetaminophen, and if necessary, short-term opioids for acute pain"),
        Source("004", "Use NSAIDs or opioids as needed for breakthrough pain"),
    ],
)

opioids = Recommendation(
    "short-term-opioids-severe-pain",
    title="Short-term opioids for severe pain",
    statement="If necessary, use short-term opioids for severe pain (controlled or extended-release morphine, "
    "codeine or oxycodone have given effective relief for 1-9 weeks).",
    when=f.CONSERVATIVE_CANDIDATE & f.SEVERE_PAIN,
    then=Choice(
        *(Medication(title=f"Short-term {name}", code=code,
                     dosage=Dosage(text=f"Short-term {name} for severe pain", as_needed=True))
          for name, code in (("morphine", t.MORPHINE), ("codeine", t.CODEINE), ("oxycodone", t.OXYCODONE))),
        select=Selection.EXACTLY_ONE, title="One short-term opioid (morphine, codeine or oxycodone)",
    ),
    direction=Direction.FOR,
    sources=[
        Source("000", "Short-term opioids for severe pain"),
        Source("002", "Opioid analgesics may be used for moderate to severe pain, with controlled or "
                      "extended-release formulations (morphine, codeine, oxycodone) providing effective relief for "
                      "1-9 weeks"),
        Source("003", "NSAIDs, acetaminophen, and if necessary, short-term opioids for acute pain"),
    ],
    rationale="002 allows opioids for moderate to severe pain; 000 and 003 restrict them to severe pain or "
    "\"if necessary\". The narrower (severe pain) applicability is encoded. See also the AAOS grading "
    "(analgesics-no-recommendation) and the caution in the elderly (opioid-caution-elderly). The opioids 002 names "
    "(morphine, codeine, oxycodone) are alternatives: one choice, one request per drug.",
)

opioid_caution = Recommendation(
    "opioid-caution-elderly",
    title="Caution with opioids in elderly patients",
    statement="Exercise caution with opioids in elderly patients because of sedation, nausea, deconditioning and an "
    "increased risk of falls.",
    when=f.CONSERVATIVE_CANDIDATE & f.SEVERE_PAIN & f.ELDERLY,
    then=Communication(title="Opioid caution in the elderly", code=t.CLINICIAN_ADVICE,
                       message="Opioids in elderly patients: watch for sedation, nausea, deconditioning and falls."),
    direction=Direction.FOR,
    sources=[
        Source("004", "exercise caution with opioids due to sedation, nausea, deconditioning, and increased fall "
                      "risk in elderly patients"),
    ],
    rationale="\"Elderly\" is mapped to age 65 or over (an implementation convention; the source gives no age).",
)

analgesics_no_recommendation = Recommendation(
    "analgesics-no-recommendation",
    title="No formal recommendation for or against opioids/analgesics",
    statement="There is insufficient evidence for a formal recommendation for or against opioid/analgesic use; "
    "they remain a clinical option based on clinical judgement.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=NoRecommendation(
        code=t.NOTIFICATION,
        about="opioids or other analgesics",
        reason="The evidence is insufficient for a formal recommendation (AAOS); they remain a clinical option "
        "based on clinical judgement.",
    ),
    direction=None,
    strength=None,
    sources=[
        Source("001", "No formal recommendation exists for or against opioids/analgesics due to insufficient "
                      "evidence, though they may be used based on clinical judgment"),
        Source("004", "The American Academy of Orthopaedic Surgeons found insufficient evidence to make firm "
                      "recommendations for or against opioid/analgesic use, but they remain a clinical option"),
    ],
)

avoid_bed_rest = Recommendation(
    "avoid-prolonged-bed-rest",
    title="Do not prescribe prolonged bed rest",
    statement="Do not prescribe prolonged bed rest or immobilisation: it causes about 2 % bone loss and 10-15 % "
    "muscle strength loss per week, and the complications of immobility often exceed the risks of early "
    "mobilisation.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=Service(title="Prolonged bed rest", code=t.BED_REST, category="therapy", do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[
        Source("004", "Avoid prolonged bed rest or immobilization—this causes approximately 2% bone loss per week and "
                      "10-15% muscle strength loss per week"),
        Source("004", "Do not prescribe prolonged bed rest—the complications of immobility (bone loss, muscle "
                      "weakness, functional decline, thromboembolism) often exceed the risks of early mobilization"),
        Source("002", "Do not use prolonged bed rest - this accelerates bone loss and muscle deconditioning"),
        Source("003", "Limited bed rest (avoid prolonged immobilization which can worsen bone loss)"),
        Source("003", "Prolonged immobilization can lead to further bone loss, muscle weakness, and increased risk of "
                      "deep venous thrombosis"),
    ],
    rationale="Conflict: 001 (updated 2026-01-21, the latest source) reports the AAOS position that \"Bed rest has "
    "no recommendation for or against due to lack of adequate data\". 002, 003 and 004 advise against "
    "*prolonged* bed rest (003 allows limited bed rest). The two are compatible - no grade for bed rest as such, "
    "advice against prolonging it - so the recommendation against prolonged bed rest is encoded, ungraded.",
)

mobilisation = Recommendation(
    "early-mobilisation-physical-therapy",
    title="Early mobilisation and physical therapy",
    statement="Mobilise early, as tolerated, with physical therapy focused on core strengthening, back muscle "
    "conditioning and posture; return gradually to activities as tolerated.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=[
        Service(title="Physical therapy: core and back strengthening, posture", code=t.PHYSICAL_THERAPY,
                category="therapy"),
        Communication(title="Gradual return to activity", code=t.EDUCATION,
                      message="Mobilise early and return gradually to activities as tolerated."),
    ],
    direction=Direction.FOR,
    sources=[
        Source("004", "Implement early mobilization with physical therapy focusing on core strengthening, back muscle "
                      "conditioning, and posture improvement"),
        Source("002", "Physical therapy should focus on maintaining mobility, strengthening core and back muscles, "
                      "and improving posture"),
        Source("003", "Early mobilization as tolerated"),
        Source("000", "Activity modification: Gradual return to activities as tolerated"),
        Source("004", "clinical practice supports early mobilization and progressive strengthening as part of "
                      "conservative management"),
    ],
)

bracing = Recommendation(
    "bracing-physician-discretion",
    title="Bracing at physician discretion (inconclusive evidence)",
    statement="There is no recommendation for or against bracing: evidence is inconclusive and the decision is at "
    "the physician's discretion; a brace may be used for comfort.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=NoRecommendation(
        code=t.NOTIFICATION,
        about="bracing",
        reason="The evidence is inconclusive (a single study); the decision is at the physician's discretion, and a "
        "brace may be used for comfort.",
    ),
    direction=None,
    sources=[
        Source("001", "No recommendation for or against bracing due to inconclusive evidence from a single study that "
                      "did not report age or fracture level"),
        Source("004", "evidence shows no difference in outcomes between using an external brace versus no brace for "
                      "neurologically intact patients—the decision is at physician discretion"),
        Source("000", "Bracing: May provide pain relief through immobilization"),
        Source("003", "Bracing for comfort as needed"),
        Source("002", "Bracing may be considered, though evidence is limited to specific brace types"),
    ],
    rationale="Sources differ in tone: 001 (latest) states no recommendation for or against (inconclusive evidence) "
    "and 004 leaves it to the physician; 000, 002 and 003 describe bracing for comfort or pain relief without a "
    "grade. Encoded as a \"no recommendation\" statement to the clinician (comfort use in its reason), never as an "
    "order for a brace.",
)

exercise = Recommendation(
    "exercise-programmes-inconclusive",
    title="Supervised or unsupervised exercise programmes: no recommendation",
    statement="There is no recommendation for or against supervised or unsupervised exercise programmes; evidence is "
    "insufficient, though one study showed benefit in quality-of-life (symptom and emotion) domains at 6 months.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=NoRecommendation(
        code=t.NOTIFICATION,
        about="supervised or unsupervised exercise programmes",
        reason="The evidence is insufficient, though one study showed benefit in quality-of-life (symptom and "
        "emotion) domains at 6 months.",
    ),
    direction=None,
    sources=[
        Source("001", "No recommendation for or against supervised or unsupervised exercise programs due to "
                      "insufficient evidence, though one study showed some benefit in quality of life domains"),
        Source("004", "Evidence for supervised or unsupervised exercise programs is inconclusive, though one study "
                      "showed improvement in symptom and emotion domains at 6 months"),
    ],
)

electrical_stimulation = Recommendation(
    "electrical-stimulation-inconclusive",
    title="Electrical stimulation: inconclusive evidence",
    statement="Electrical stimulation has inconclusive evidence, with insufficient power to demonstrate pain relief "
    "or quality-of-life improvement.",
    when=f.CONSERVATIVE_CANDIDATE,
    then=NoRecommendation(
        code=t.NOTIFICATION,
        about="electrical stimulation",
        reason="The evidence is inconclusive, with insufficient power to demonstrate pain relief or quality-of-life "
        "improvement.",
    ),
    direction=None,
    sources=[
        Source("001", "Electrical stimulation has inconclusive evidence with insufficient power to demonstrate pain "
                      "relief or quality of life improvement"),
    ],
)

l2_block_acute = Recommendation(
    "l2-nerve-root-block-acute",
    title="L2 nerve root block for acute L3 or L4 fractures",
    statement="An L2 nerve root block is an option for neurologically intact patients with an acute osteoporotic "
    "compression fracture at L3 or L4.",
    when=f.ACUTE & f.NEUROLOGICALLY_INTACT & f.AT_L3_OR_L4,
    then=Service(title="L2 nerve root block", code=t.L2_NERVE_ROOT_BLOCK, category="procedure", body_site=t.L2_VERTEBRA),
    strength=Strength.WEAK,
    direction=Direction.FOR,
    sources=[
        Source("001", "An L2 nerve root block is an option for treating patients with osteoporotic compression "
                      "fractures at L3 or L4 with acute injury who are neurologically intact"),
        Source("004", "Consider L2 nerve root block for fractures at L3 or L4 with acute injury and persistent pain"),
    ],
    rationale="001 calls it \"an option\", encoded as a weak recommendation for. Sources differ on timing: 001 and "
    "004 describe acute injury, while 000 (earliest source) places L2 nerve root blocks in the persistent-pain "
    "(> 3 months) algorithm; both positions are encoded (see l2-nerve-root-block-persistent).",
)

acute_phase = Strategy(
    "acute-phase",
    title="Initial conservative management (acute phase 0-4 weeks, first 3 months)",
    description="Neurologically intact patients without instability: conservative medical management for the first "
    "3 months, with calcitonin during the first 4 weeks, analgesia, early mobilisation and physical therapy.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[conservative_first_line, calcitonin, acetaminophen, nsaids, opioids, opioid_caution,
                     analgesics_no_recommendation, avoid_bed_rest, mobilisation, bracing, exercise,
                     electrical_stimulation, l2_block_acute],
)
