"""Start treatment: calcium and vitamin D, the choice of osteoporosis agent, and its safety limits."""

from __future__ import annotations

from generator import (Choice, Direction, Dosage, Medication, Priority, Process, Recommendation, Selection, Source,
                       Strategy, days)

from . import features as f
from . import terminology as t

_START_NOW = Source("004", "Initiate osteoporosis pharmacotherapy immediately—patients with compression fractures have "
                           "a 20% risk of another vertebral fracture within 12 months.")
_DO_NOT_DELAY = Source("004", "Do not delay this treatment; the high recurrence risk makes this urgent")
_BISPHOSPHONATE_FIRST_LINE = Source("002", "Bisphosphonates (such as alendronate) are first-line treatment for "
                                           "osteoporosis and have demonstrated significant reduction in vertebral "
                                           "fracture incidence (48% relative risk reduction)")
_IBANDRONATE_STRONTIUM = Source("001", "Ibandronate and strontium ranelate are options to prevent additional "
                                       "symptomatic fractures in patients with existing osteoporotic compression "
                                       "fractures")
_DENOSUMAB = Source("002", "Denosumab is an alternative first-line agent")
_DO_NOT_IGNORE = Source("002", "Do not ignore underlying osteoporosis treatment - fracture management alone without "
                               "addressing bone health leads to future fractures")
#: "Immediately" for ongoing drug therapy is the start, in the source's words. Not `immediately()`: that is a
#: one-off event (Timing.repeat.count 1), which `$apply` merges into the daily dosage timing - one dose only.
START_IMMEDIATELY = "start immediately"

_FAILURE_TO_TREAT = Source("003", "Failure to treat the underlying osteopenia can result in future fractures")


def _agents(*, bisphosphonates: bool, priority: Priority | None = None, now: bool = False) -> Choice:
    """One osteoporosis agent of those the sources name; each its own activity (one request per drug)."""
    timing = START_IMMEDIATELY if now else None
    members = [
        Medication(title="Denosumab", code=t.DENOSUMAB, priority=priority, timing=timing),
        Medication(title="Strontium ranelate", code=t.STRONTIUM_RANELATE, priority=priority, timing=timing),
    ]
    if bisphosphonates:
        members = [
            Medication(title="Alendronate", code=t.ALENDRONATE, priority=priority, timing=timing),
            Medication(title="Ibandronate", code=t.IBANDRONATE, priority=priority, timing=timing),
            *members,
        ]
    title = "One osteoporosis agent" if bisphosphonates else "One osteoporosis agent other than a bisphosphonate"
    return Choice(*members, select=Selection.EXACTLY_ONE, title=title)


calcium_vitamin_d = Recommendation(
    "calcium-vitamin-d",
    title="Calcium and vitamin D supplementation, starting immediately",
    statement="Prescribe at least 1000 mg elemental calcium and at least 800 IU vitamin D daily, starting "
    "immediately.",
    when=f.HAS_FRACTURE,
    then=[
        Medication(title="Calcium: at least 1000 mg elemental calcium daily", code=t.CALCIUM_CARBONATE,
                   timing=START_IMMEDIATELY,
                   dosage=Dosage(text="At least 1000 mg elemental calcium daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
        Medication(title="Vitamin D: at least 800 IU daily", code=t.CHOLECALCIFEROL, timing=START_IMMEDIATELY,
                   dosage=Dosage(text="At least 800 IU vitamin D daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
    ],
    direction=Direction.FOR,
    sources=[
        Source("004", "Prescribe at least 1000 mg elemental calcium daily and at least 800 IU vitamin D daily "
                      "immediately."),
        Source("002", "Supplemental calcium and vitamin D should be provided"),
        Source("001", "Ensure adequate calcium and vitamin D supplementation if dietary intake is inadequate"),
    ],
    rationale="Sources disagree on who needs it: 004 prescribes it to every patient immediately and 002 says it "
    "should be provided, while 001 (the latest) conditions it on inadequate dietary intake. Diet is not in the "
    "record, so the unconditional 004 wording is encoded and the clinician may omit it where intake is adequate. "
    "The doses are minimums of *elemental* calcium: they are in the dosage text only (a structured 1000 mg of "
    "calcium carbonate would state the salt's weight and an exact dose). Calcium carbonate is one salt that "
    "provides elemental calcium; the sources name none.",
)

start_after_recent_fracture = Recommendation(
    "start-pharmacotherapy-recent-fracture",
    title="Recent vertebral fragility fracture: start osteoporosis pharmacotherapy immediately",
    statement="Initiate osteoporosis pharmacotherapy immediately after a vertebral fragility fracture (20 % risk of "
    "another vertebral fracture within 12 months): one of alendronate, ibandronate, denosumab or strontium "
    "ranelate.",
    when=f.RECENT_FRACTURE & f.UNTREATED & ~f.BISPHOSPHONATE_CONTRAINDICATED,
    then=_agents(bisphosphonates=True, priority=Priority.URGENT, now=True),
    direction=Direction.FOR,
    sources=[_START_NOW, _DO_NOT_DELAY, _BISPHOSPHONATE_FIRST_LINE, _IBANDRONATE_STRONTIUM, _DENOSUMAB],
    rationale="Urgent priority and 'immediately' from 004 (\"Do not delay this treatment; the high recurrence "
    "risk makes this urgent\"). The agents are those the sources name; 002 calls bisphosphonates first-line and "
    "denosumab an alternative first-line agent, 001/004 name ibandronate and strontium ranelate as options - no "
    "source ranks them further, so the choice is one of the four. Risedronate has its own recommendation "
    "(risedronate-postmenopausal-women) because 001 names it for postmenopausal women only.",
)

treat_underlying = Recommendation(
    "treat-underlying-osteoporosis",
    title="Older vertebral fragility fracture, untreated: treat the underlying osteoporosis",
    statement="A vertebral fragility fracture more than 12 months ago with no osteoporosis treatment: treat the "
    "underlying osteoporosis with one of alendronate, ibandronate, denosumab or strontium ranelate.",
    when=f.UNTREATED & ~f.RECENT_FRACTURE & ~f.BISPHOSPHONATE_CONTRAINDICATED,
    then=_agents(bisphosphonates=True),
    direction=Direction.FOR,
    sources=[_DO_NOT_IGNORE, _FAILURE_TO_TREAT, Source("003", "Treatment of underlying osteopenia/osteoporosis"),
             _BISPHOSPHONATE_FIRST_LINE, _IBANDRONATE_STRONTIUM, _DENOSUMAB],
    rationale="The sources' urgency (004) is tied to the 12 months after the fracture; for an older fracture they "
    "still ask for treatment (002, 003) but state no urgency, so no priority or timing is given (never defaulted).",
)

risedronate_women = Recommendation(
    "risedronate-postmenopausal-women",
    title="Postmenopausal women: risedronate is an option",
    statement="In postmenopausal women, risedronate is indicated for treatment of osteoporosis to reduce vertebral "
    "fracture incidence.",
    when=f.UNTREATED & f.POSTMENOPAUSAL_WOMAN & ~f.BISPHOSPHONATE_CONTRAINDICATED & ~f.CRCL_BELOW_30,
    then=Medication(title="Risedronate", code=t.RISEDRONATE),
    direction=Direction.FOR,
    sources=[Source("001", "Bisphosphonates like risedronate are indicated for treatment of osteoporosis in "
                           "postmenopausal women to reduce vertebral fracture incidence")],
    rationale="The only place where sex matters in the sources: 001 states the risedronate indication for "
    "postmenopausal women; 002/003 state the bisphosphonate benefit without restriction by sex (encoded in the "
    "agent choice for everyone). Administrative sex female and a recorded postmenopausal state are both required; "
    "the menopause is not inferred from age. Not with creatinine clearance below 30 mL/min (001) nor a "
    "bisphosphonate contraindication.",
)

non_bisphosphonate = Recommendation(
    "pharmacotherapy-bisphosphonate-contraindicated",
    title="Bisphosphonate contraindicated: an osteoporosis agent other than a bisphosphonate",
    statement="When bisphosphonates are contraindicated, treat the osteoporosis with denosumab or strontium "
    "ranelate; the sources state no contraindications of these two, so check them before prescribing.",
    when=f.UNTREATED & f.BISPHOSPHONATE_CONTRAINDICATED,
    then=_agents(bisphosphonates=False),
    direction=Direction.FOR,
    sources=[_DENOSUMAB, _IBANDRONATE_STRONTIUM, _DO_NOT_IGNORE,
             Source("001", "Bisphosphonates are contraindicated in patients with esophageal abnormalities, inability "
                           "to stand/sit upright for 30 minutes, or hypocalcemia")],
    rationale="The sources do not say what to give instead of a bisphosphonate; this encoding offers the two "
    "non-bisphosphonate agents they name. No contraindication of denosumab or strontium ranelate from drug "
    "labelling (e.g. denosumab and hypocalcaemia) is added: the sources state none, and the clinician must check it.",
)

bisphosphonate_contraindicated = Recommendation(
    "bisphosphonate-contraindicated",
    title="Do not give bisphosphonates with oesophageal abnormality, inability to stay upright 30 minutes or "
    "hypocalcaemia",
    statement="Bisphosphonates are contraindicated in patients with oesophageal abnormalities, inability to stand or "
    "sit upright for 30 minutes, or hypocalcaemia.",
    when=f.HAS_FRACTURE & f.BISPHOSPHONATE_CONTRAINDICATED,
    then=Medication(title="Bisphosphonate", code=t.BISPHOSPHONATES, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[Source("001", "Bisphosphonates are contraindicated in patients with esophageal abnormalities, inability "
                           "to stand/sit upright for 30 minutes, or hypocalcemia")],
)

risedronate_renal = Recommendation(
    "risedronate-not-in-severe-renal-impairment",
    title="Do not use risedronate when creatinine clearance is below 30 mL/min",
    statement="Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
    "< 30 mL/min).",
    when=f.HAS_FRACTURE & f.CRCL_BELOW_30,
    then=Medication(title="Risedronate", code=t.RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[Source("001", "Risedronate is not recommended for patients with severe renal impairment (creatinine "
                           "clearance <30 mL/min)")],
    rationale="The sources restrict only risedronate in severe renal impairment; no renal limit of the other agents "
    "is stated in them and none from labelling is added.",
)

start_treatment = Strategy(
    "start-treatment",
    title="Start treatment",
    description="Calcium and vitamin D, one osteoporosis agent (urgently after a recent fracture), and the "
    "sources' contraindications.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[calcium_vitamin_d, start_after_recent_fracture, treat_underlying, risedronate_women,
                     non_bisphosphonate, bisphosphonate_contraindicated, risedronate_renal],
)
