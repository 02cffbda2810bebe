"""Bone health: calcium and vitamin D, osteoporosis pharmacotherapy and its safety."""

from __future__ import annotations

from generator import (Choice, Code, Communication, Direction, Dosage, Medication, Priority, Process, Recommendation,
                       Selection, Source, Strategy, days, immediately)

from . import features as f
from . import terminology as t

calcium_vitamin_d = Recommendation(
    "calcium-vitamin-d",
    title="Calcium and vitamin D supplementation",
    statement="Prescribe at least 1000 mg elemental calcium and at least 800 IU vitamin D daily, starting "
    "immediately.",
    when=f.HAS_FRACTURE,
    then=[
        Medication(title="Calcium: at least 1000 mg elemental calcium daily", code=t.CALCIUM_CARBONATE,
                   timing=immediately(),
                   dosage=Dosage(text="At least 1000 mg elemental calcium daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
        Medication(title="Vitamin D at least 800 IU daily", code=t.CHOLECALCIFEROL, timing=immediately(),
                   dosage=Dosage(text="At least 800 IU vitamin D daily", frequency=1, period=days(1),
                                 route=t.ORAL_ROUTE)),
    ],
    direction=Direction.FOR,
    sources=[
        Source("004", "Prescribe at least 1000 mg elemental calcium daily and at least 800 IU vitamin D daily "
                      "immediately."),
        Source("001", "Ensure adequate calcium and vitamin D supplementation if dietary intake is inadequate"),
        Source("002", "Supplemental calcium and vitamin D should be provided"),
    ],
    rationale="001 (latest) conditions supplementation on inadequate dietary intake; 004 prescribes it for every "
    "patient immediately. The unconditional 004 dosing is encoded; the clinician can omit it where dietary intake "
    "is already adequate, per 001. The doses are minimums (\"at least\") and the calcium dose is *elemental* "
    "calcium: a structured dose of 1000 mg would state an exact amount, and for calcium carbonate the weight of the "
    "salt, not of elemental calcium, so the doses are given in the dosage text only until the builders can express "
    "a minimum (a dose range with no upper bound). Calcium carbonate is one salt that provides elemental calcium; "
    "the sources name none.",
)

def _agent(title: str, code: Code) -> Medication:
    """One osteoporosis agent of the choice, its own request: urgent, started immediately (004 "Initiate
    osteoporosis pharmacotherapy immediately", "the high recurrence risk makes this urgent")."""
    return Medication(title=title, code=code, priority=Priority.URGENT, timing=immediately())


def _agents(*, risedronate: bool, bisphosphonates: bool = True) -> Choice:
    """The sources' osteoporosis agents as one choice (one request per drug): bisphosphonates first-line (002/003),
    denosumab the alternative first-line agent (002), strontium ranelate an option (001/004)."""
    drugs = []
    if bisphosphonates:
        drugs += [_agent("Alendronate", t.ALENDRONATE)]
        if risedronate:
            drugs += [_agent("Risedronate", t.RISEDRONATE)]
        drugs += [_agent("Ibandronate", t.IBANDRONATE)]
    drugs += [_agent("Denosumab", t.DENOSUMAB), _agent("Strontium ranelate", t.STRONTIUM_RANELATE)]
    return Choice(*drugs, select=Selection.EXACTLY_ONE, title="One osteoporosis agent")


_AGENT_SOURCES = [
    Source("004", "Initiate osteoporosis pharmacotherapy immediately—patients with compression fractures have a "
                  "20% risk of another vertebral fracture within 12 months."),
    Source("004", "Do not delay this treatment; the high recurrence risk makes this urgent"),
    Source("002", "Denosumab is an alternative first-line agent"),
    Source("001", "Ibandronate and strontium ranelate are options to prevent additional symptomatic fractures in "
                  "patients with existing osteoporotic compression fractures"),
    Source("004", "Ibandronate and strontium ranelate are specific options to prevent additional symptomatic "
                  "fractures in patients with existing osteoporotic compression fractures"),
]

_CHOICE_RATIONALE = (
    "The agents are alternatives, not parallel orders: one choice (exactly one), one request per drug. "
    "Bisphosphonates are first-line (002, 003), denosumab \"an alternative first-line agent\" (002), ibandronate and "
    "strontium ranelate \"options\" (001, 004). Each is proposed with priority urgent and timing immediately: 004 "
    "\"Initiate osteoporosis pharmacotherapy immediately\" and \"the high recurrence risk makes this urgent\". "
)

bisphosphonate = Recommendation(
    "osteoporosis-pharmacotherapy-bisphosphonate",
    title="Start osteoporosis pharmacotherapy immediately: one agent, a bisphosphonate first-line",
    statement="Initiate osteoporosis pharmacotherapy immediately - patients with a compression fracture have a 20 % "
    "risk of another vertebral fracture within 12 months. Choose one agent: a bisphosphonate (alendronate, "
    "risedronate, ibandronate) first-line, denosumab as the alternative first-line agent, or strontium ranelate; "
    "continue treatment even after the fracture pain is controlled.",
    when=f.HAS_FRACTURE & ~f.BISPHOSPHONATE_CONTRAINDICATED & ~f.CRCL_BELOW_30,
    then=_agents(risedronate=True),
    direction=Direction.FOR,
    sources=[
        *_AGENT_SOURCES,
        Source("004", "Do not delay osteoporosis pharmacotherapy given the 20% risk of recurrent fracture within one "
                      "year"),
        Source("002", "Bisphosphonates (such as alendronate) are first-line treatment for osteoporosis and have "
                      "demonstrated significant reduction in vertebral fracture incidence (48% relative risk "
                      "reduction)"),
        Source("003", "Bisphosphonates such as alendronate have shown significant reduction in the risk of new "
                      "vertebral fractures (48% relative risk reduction)"),
        Source("001", "Bisphosphonates like risedronate are indicated for treatment of osteoporosis in postmenopausal "
                      "women to reduce vertebral fracture incidence"),
        Source("000", "Continuous medication for osteoporosis is still required even after successful pain "
                      "management of compression fractures"),
        Source("002", "Do not ignore underlying osteoporosis treatment - fracture management alone without "
                      "addressing bone health leads to future fractures"),
        Source("003", "Failure to treat the underlying osteopenia can result in future fractures"),
    ],
    rationale=_CHOICE_RATIONALE + "With creatinine clearance below 30 mL/min the choice without risedronate applies "
    "instead (osteoporosis-pharmacotherapy-bisphosphonate-renal), so that no plan proposes and forbids risedronate; "
    "with a bisphosphonate contraindication, the choice of denosumab or strontium ranelate "
    "(osteoporosis-pharmacotherapy-no-bisphosphonate).",
)

bisphosphonate_renal = Recommendation(
    "osteoporosis-pharmacotherapy-bisphosphonate-renal",
    title="Creatinine clearance below 30 mL/min: one osteoporosis agent, risedronate excluded",
    statement="Initiate osteoporosis pharmacotherapy immediately; with severe renal impairment (creatinine clearance "
    "< 30 mL/min) risedronate is not recommended, so choose alendronate or ibandronate, or denosumab or strontium "
    "ranelate.",
    when=f.HAS_FRACTURE & ~f.BISPHOSPHONATE_CONTRAINDICATED & f.CRCL_BELOW_30,
    then=_agents(risedronate=False),
    direction=Direction.FOR,
    sources=[
        *_AGENT_SOURCES,
        Source("002", "Bisphosphonates (such as alendronate) are first-line treatment for osteoporosis and have "
                      "demonstrated significant reduction in vertebral fracture incidence (48% relative risk "
                      "reduction)"),
        Source("001", "Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
                      "<30 mL/min)"),
    ],
    rationale=_CHOICE_RATIONALE + "The sources restrict only risedronate in severe renal impairment; no renal "
    "restriction of alendronate, ibandronate, denosumab or strontium ranelate is stated in them, and none from drug "
    "labelling is added here.",
)

no_bisphosphonate = Recommendation(
    "osteoporosis-pharmacotherapy-no-bisphosphonate",
    title="Bisphosphonate contraindicated: denosumab or strontium ranelate",
    statement="Initiate osteoporosis pharmacotherapy immediately; when bisphosphonates are contraindicated, choose "
    "denosumab (an alternative first-line agent) or strontium ranelate.",
    when=f.HAS_FRACTURE & f.BISPHOSPHONATE_CONTRAINDICATED,
    then=_agents(risedronate=False, bisphosphonates=False),
    direction=Direction.FOR,
    sources=[
        *_AGENT_SOURCES,
        Source("001", "Bisphosphonates are contraindicated in patients with esophageal abnormalities, inability to "
                      "stand/sit upright for 30 minutes, or hypocalcemia"),
    ],
    rationale=_CHOICE_RATIONALE + "The bisphosphonate contraindications of 001 apply to the bisphosphonates only "
    "(bisphosphonate-contraindicated); the sources state none for denosumab or strontium ranelate. No labelling-based "
    "restriction is added (e.g. denosumab and hypocalcaemia): the prescriber checks the product labelling.",
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
    sources=[
        Source("001", "Bisphosphonates are contraindicated in patients with esophageal abnormalities, inability to "
                      "stand/sit upright for 30 minutes, or hypocalcemia"),
    ],
)

risedronate_renal = Recommendation(
    "risedronate-not-in-severe-renal-impairment",
    title="Do not use risedronate when creatinine clearance is below 30 mL/min",
    statement="Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
    "< 30 mL/min).",
    when=f.HAS_FRACTURE & f.CRCL_BELOW_30,
    then=Medication(title="Risedronate", code=t.RISEDRONATE, do_not_perform=True),
    direction=Direction.AGAINST,
    sources=[
        Source("001", "Risedronate is not recommended for patients with severe renal impairment (creatinine clearance "
                      "<30 mL/min)"),
    ],
)

separate_dosing = Recommendation(
    "separate-supplements-from-bisphosphonate",
    title="Take calcium, antacids, magnesium and iron at a different time from the bisphosphonate",
    statement="Take calcium supplements, antacids, magnesium-based supplements and iron preparations at different "
    "times of day from the bisphosphonate to avoid interfering with its absorption.",
    when=f.HAS_FRACTURE & (f.ON_BISPHOSPHONATE | ~f.BISPHOSPHONATE_CONTRAINDICATED),
    then=Communication(
        title="Separate supplements from the bisphosphonate dose", code=t.EDUCATION,
        message="Take calcium, antacids, magnesium-based supplements and iron at a different time of day from "
        "your bisphosphonate.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("001", "Take calcium supplements, antacids, magnesium-based supplements, and iron preparations at "
                      "different times of day to avoid interference with bisphosphonate absorption if prescribed"),
    ],
)

periodic_reevaluation = Recommendation(
    "bisphosphonate-periodic-reevaluation",
    title="Re-evaluate bisphosphonate therapy periodically",
    statement="Re-evaluate continued bisphosphonate therapy periodically; consider stopping after 3 to 5 years in "
    "patients at low risk of fracture, and re-evaluate fracture risk periodically after stopping.",
    when=f.ON_BISPHOSPHONATE,
    then=Communication(
        title="Periodic re-evaluation of bisphosphonate therapy", code=t.CLINICIAN_ADVICE,
        message="Re-evaluate the need for continued bisphosphonate therapy; consider a drug holiday after 3-5 years "
        "if fracture risk is low, and keep re-evaluating fracture risk after stopping.",
    ),
    direction=Direction.FOR,
    sources=[
        Source("001", "All patients on bisphosphonate therapy should have continued therapy re-evaluated "
                      "periodically; patients at low-risk for fracture should be considered for drug discontinuation "
                      "after 3 to 5 years"),
        Source("001", "Patients who discontinue bisphosphonate therapy should have their fracture risk re-evaluated "
                      "periodically"),
    ],
)

bone_health = Strategy(
    "bone-health",
    title="Bone health (start immediately)",
    description="Treat the underlying osteoporosis from the start: calcium and vitamin D, osteoporosis "
    "pharmacotherapy, and safe bisphosphonate use.",
    process=Process.GUIDELINE_BASED_CARE,
    recommendations=[calcium_vitamin_d, bisphosphonate, bisphosphonate_renal, no_bisphosphonate,
                     bisphosphonate_contraindicated,
                     risedronate_renal, separate_dosing, periodic_reevaluation],
)
