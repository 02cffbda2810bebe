"""Deterministic synthetic guideline packages for scale benchmarks.

Why: the one real guideline (VCF) cannot tell us whether build and validation cost grows
linearly with content. This writes N definition packages of realistic shape (20-40
recommendations, 10-30 features over conditions / observations / procedures / medications /
age combined with & | ~, 3-8 value sets, 3-6 strategies, medication / service /
communication activities, grading, and verbatim source passages) into a `definitions/`
folder, seeded so the same (n, seed) always gives byte-identical files.

Codes have valid formats: SNOMED CT identifiers carry a Verhoeff check digit and a concept
partition, LOINC codes a mod-10 check digit, so the validator's terminology layer passes.

    .venv/bin/python benchmarks/synthetic_guidelines.py 10 /tmp/syn   # writes /tmp/syn/definitions
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path

# --- check digits (implemented from the algorithms' definitions) ------------------------------

# Dihedral group D5 on 0..9: 0-4 rotations, 5-9 reflections.
def _d5(a: int, b: int) -> int:
    if a < 5 and b < 5:
        return (a + b) % 5
    if a < 5:
        return 5 + (a + b - 5) % 5
    if b < 5:
        return 5 + (a - 5 - b) % 5
    return (a - b) % 5


_PERM = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_INVERSE = [next(y for y in range(10) if _d5(x, y) == 0) for x in range(10)]


def _perm_power(digit: int, times: int) -> int:
    for _ in range(times % 8):
        digit = _PERM[digit]
    return digit


def verhoeff_digit(body: str) -> str:
    """The Verhoeff check digit to append to `body`."""
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = _d5(c, _perm_power(int(ch), i + 1))
    return str(_INVERSE[c])


def mod10_digit(body: str) -> str:
    """The LOINC (Luhn) check digit for `body`: double every second digit from the right."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            n = n - 9 if n > 9 else n
        total += n
    return str((10 - total % 10) % 10)


def snomed_id(rng: random.Random) -> str:
    """A well-formed SNOMED CT concept id: 6-9 digit item, partition 00 or 10, Verhoeff digit."""
    item = str(rng.randint(10_000, 9_999_999))
    body = item + rng.choice(("00", "10"))
    return body + verhoeff_digit(body)


def loinc_code(rng: random.Random) -> str:
    body = str(rng.randint(1000, 99999))
    return f"{body}-{mod10_digit(body)}"


def rxnorm_code(rng: random.Random) -> str:
    return str(rng.randint(1000, 2_000_000))


# --- vocabulary ---------------------------------------------------------------------------------

_ORGANS = ["Renal", "Hepatic", "Cardiac", "Pulmonary", "Vertebral", "Pelvic", "Cerebral", "Thyroid", "Gastric",
           "Dermal", "Ocular", "Splenic", "Pancreatic", "Adrenal", "Femoral", "Tibial"]
_STATES = ["Fracture", "Stenosis", "Infection", "Insufficiency", "Lesion", "Inflammation", "Obstruction",
           "Haemorrhage", "Ischaemia", "Neoplasm", "Deformity", "Instability", "Oedema", "Ulcer"]
_DRUGS = ["alendronate", "zoledronate", "ibuprofen", "naproxen", "tramadol", "paracetamol", "calcitriol",
          "ceftriaxone", "amoxicillin", "prednisolone", "metformin", "apixaban", "furosemide", "omeprazole"]
_SERVICES = [("imaging", "MRI"), ("imaging", "CT"), ("imaging", "radiograph"), ("procedure", "biopsy"),
             ("procedure", "nerve block"), ("referral", "specialist referral"), ("laboratory", "blood panel"),
             ("therapy", "physiotherapy")]
_LABS = [("Creatinine Clearance", "mL/min", 30), ("Serum Calcium", "mg/dL", 8), ("Haemoglobin", "g/dL", 10),
         ("Pain Score", "{score}", 4), ("Vitamin D", "ng/mL", 20), ("eGFR", "mL/min/{1.73_m2}", 45)]
_VERBS = ["Offer", "Consider", "Start", "Arrange", "Do not offer", "Avoid", "Refer for", "Discuss"]
_FILLER = ["in adults", "after shared decision making", "when symptoms persist", "during the acute phase",
           "once contraindications are excluded", "with periodic review", "according to local protocol",
           "unless the patient declines", "if renal function allows", "within two weeks"]


@dataclass
class _Package:
    """One guideline's generated source files, assembled line by line."""

    index: int
    terminology: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)


def _words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choice(_FILLER) for _ in range(k))


def _guideline(index: int, seed: int) -> tuple[dict[str, str], str]:
    """(module file name -> Python source, source document text) for guideline `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    tag = f"syn{index:04d}"
    pkg = _Package(index)

    # Value sets: condition/procedure sets of SNOMED codes, medication sets of RxNorm codes.
    vs_count = rng.randint(3, 8)
    value_sets: list[tuple[str, str]] = []  # (python name, kind)
    t = pkg.terminology
    for v in range(vs_count):
        kind = rng.choice(("condition", "condition", "procedure", "medication"))
        name = f"VS{v}"
        codes = []
        for c in range(rng.randint(2, 6)):
            if kind == "medication":
                codes.append(f"RXNORM({rxnorm_code(rng)!r}, {rng.choice(_DRUGS) + ' ' + str(c)!r})")
            else:
                label = f"{rng.choice(_ORGANS)} {rng.choice(_STATES).lower()} {c}"
                codes.append(f"SNOMED({snomed_id(rng)!r}, {label!r})")
        t.append(f"{name} = ValueSet({f'{tag}-vs-{v}'!r}, title={f'{kind.title()} set {v}'!r},\n"
                 f"    description={f'Synthetic {kind} value set {v}.'!r},\n"
                 f"    codes=[{', '.join(codes)}])")
        value_sets.append((name, kind))
    labs = rng.sample(_LABS, 3)
    for i, (label, _, _) in enumerate(labs):
        t.append(f"LAB{i} = LOINC({loinc_code(rng)!r}, {label!r})")
    t.append(f"SERVICE_CODES = [{', '.join(f'SNOMED({snomed_id(rng)!r}, {s[1]!r})' for s in _SERVICES)}]")
    t.append(f"ADVICE = SNOMED({snomed_id(rng)!r}, 'Patient education')")
    t.append(f"VALUE_SETS = [{', '.join(n for n, _ in value_sets)}]")

    # Features: simple record queries first, then combinations of earlier features.
    f = pkg.features
    feature_count = rng.randint(10, 30)
    simple = max(6, feature_count * 2 // 3)
    names: list[str] = []
    for k in range(feature_count):
        var = f"F{k}"
        if k < simple:
            vs_name, kind = rng.choice(value_sets)
            choice = rng.random()
            if kind == "medication":
                expr = f"medications(t.{vs_name}).exists()"
            elif kind == "procedure":
                expr = f"procedures(t.{vs_name}).performed_within(months({rng.randint(1, 24)}))"
            elif choice < 0.3:
                expr = f"conditions(t.{vs_name}).exists()"
            elif choice < 0.55:
                expr = f"conditions(t.{vs_name}).onset_within(weeks({rng.randint(1, 12)}))"
            elif choice < 0.7:
                expr = f"conditions(t.{vs_name}).onset_before(months({rng.randint(1, 12)}))"
            elif choice < 0.9:
                i = rng.randrange(3)
                op = rng.choice(("<", "<=", ">", ">="))
                expr = f"observations(t.LAB{i}).latest_value() {op} Quantity({labs[i][2]}, {labs[i][1]!r})"
            else:
                expr = f"age_in_years() >= {rng.choice((18, 50, 65, 75))}"
            title = f"{rng.choice(_ORGANS)} {rng.choice(_STATES)} Finding {k}"
        else:
            a, b = rng.sample(names, 2)
            expr = rng.choice((f"{a} & ~{b}", f"{a} | {b}", f"({a} | {b}) & ~{rng.choice(names)}"))
            title = f"Combined Criterion {k}"
        f.append(f"{var} = Feature({title!r}, {expr},\n    description={f'Synthetic feature {k}.'!r})")
        names.append(var)
    f.append(f"ALL_FEATURES = [{', '.join(names)}]")

    # Recommendations, spread over strategies, each citing a sentence of the source document.
    r = pkg.recommendations
    rec_count = rng.randint(20, 40)
    rec_vars: list[str] = []
    for k in range(rec_count):
        against = rng.random() < 0.15
        kind = rng.choice(("medication", "service", "service", "communication"))
        drug = rng.choice(_DRUGS)
        if kind == "medication":
            vs_meds = [n for n, kd in value_sets if kd == "medication"]
            code = f"RXNORM({rxnorm_code(rng)!r}, {drug!r})"
            dose = rng.choice((5, 10, 20, 50, 100))
            activity = (f"Medication(title={f'{drug.title()} {dose} mg'!r}, code={code},"
                        f" do_not_perform={against},\n"
                        f"        dosage=Dosage(text={f'{dose} mg orally daily'!r}, dose=Quantity({dose}, 'mg'),"
                        f" frequency=1, period=days(1), duration=weeks({rng.randint(1, 12)})))")
            if vs_meds and rng.random() < 0.3:
                activity = activity.replace(f"code={code}", f"code=t.{rng.choice(vs_meds)}")
            what = drug
        elif kind == "service":
            si = rng.randrange(len(_SERVICES))
            category, label = _SERVICES[si]
            activity = (f"Service(title={label.capitalize()!r}, code=t.SERVICE_CODES[{si}], category={category!r},"
                        f" do_not_perform={against})")
            what = label
        else:
            activity = (f"Communication(title='Education', code=t.ADVICE, do_not_perform={against},\n"
                        f"        message={f'Explain the plan {_words(rng, 1)}.'!r})")
            what = "education"
        verb = "Do not offer" if against else rng.choice([v for v in _VERBS if not v.startswith(("Do not", "Avoid"))])
        sentence = f"{verb} {what} {_words(rng, 2)} (statement {tag}-{k})."
        pkg.sentences.append(sentence)
        parts = rng.sample(names, rng.randint(1, 3))
        when = " & ".join(p if rng.random() > 0.2 else f"~{p}" for p in parts)
        if len(parts) == 1 and when.startswith("~"):
            when = parts[0]
        var = f"R{k}"
        r.append(
            f"{var} = Recommendation({f'{tag}-rec-{k}'!r},\n"
            f"    title={f'{verb} {what} ({k})'!r},\n"
            f"    statement={sentence!r},\n"
            f"    when={when},\n"
            f"    then={activity},\n"
            f"    strength=Strength.{rng.choice(('STRONG', 'WEAK'))},"
            f" direction=Direction.{'AGAINST' if against else 'FOR'},"
            f" certainty=Certainty.{rng.choice(('HIGH', 'MODERATE', 'LOW', 'VERY_LOW'))},\n"
            f"    sources=[Source('001', {sentence!r})])"
        )
        rec_vars.append(var)

    strategy_count = rng.randint(3, 6)
    cuts = sorted(rng.sample(range(1, rec_count), strategy_count - 1))
    bounds = list(zip([0, *cuts], [*cuts, rec_count]))
    processes = ("DIAGNOSTIC_TESTING", "GUIDELINE_BASED_CARE", "MONITOR_AND_FOLLOW_UP", "PROVIDE_COUNSELING")
    for s, (lo, hi) in enumerate(bounds):
        r.append(f"S{s} = Strategy({f'{tag}-phase-{s}'!r}, title={f'Phase {s}'!r},"
                 f" process=Process.{rng.choice(processes)},\n    recommendations=[{', '.join(rec_vars[lo:hi])}])")

    header = "from __future__ import annotations\n\n"
    terminology_py = (f'"""Synthetic terminology for {tag} (generated)."""\n\n{header}'
                      "from generator import LOINC, RXNORM, SNOMED, ValueSet\n\n" + "\n\n".join(t) + "\n")
    features_py = (f'"""Synthetic case features for {tag} (generated)."""\n\n{header}'
                   "from generator import (Feature, Quantity, age_in_years, conditions, medications, months,\n"
                   "                       observations, procedures, weeks)\n\n"
                   "from . import terminology as t\n\n" + "\n\n".join(f) + "\n")
    init_py = (
        f'"""Synthetic guideline {tag} (generated by benchmarks/synthetic_guidelines.py)."""\n\n{header}'
        "from generator import (Certainty, Citation, Communication, Direction, Dosage, Guideline, Medication,\n"
        "                       Process, Quantity, RXNORM, Recommendation, Service, Source, Strategy, Strength, days,\n"
        "                       weeks)\n\n"
        "from . import terminology as t\n"
        "from .features import *  # noqa: F403 - generated feature names\n"
        "from .features import ALL_FEATURES\n\n" + "\n\n".join(r) + "\n\n"
        f"guideline = Guideline(\n"
        f"    id={f'{tag}-guideline'!r}, name={f'Syn{index:04d}Guideline'!r},\n"
        f"    title={f'Synthetic guideline {index}'!r},\n"
        f"    canonical={f'http://example.org/fhir/cpg/{tag}'!r}, version='0.1.0', date='2026-01-01',\n"
        f"    description='Generated for scale benchmarks; not clinical content.', publisher='cpg benchmarks',\n"
        f"    sources={{'001': Citation(file='001.txt', title='Synthetic source')}}, sources_dir='sources',\n"
        f"    strategies=[{', '.join(f'S{s}' for s in range(len(bounds)))}],\n"
        f"    features=ALL_FEATURES, value_sets=t.VALUE_SETS,\n)\n"
    )
    text = "Synthetic source document.\n\n" + "\n".join(
        f"{_words(rng, 1).capitalize()}. {s}" for s in pkg.sentences) + "\n"
    return {"__init__.py": init_py, "terminology.py": terminology_py, "features.py": features_py}, text


def generate(n: int, root: Path, seed: int = 8) -> Path:
    """Write N guideline packages under root/definitions and return that folder."""
    definitions = root / "definitions"
    for index in range(1, n + 1):
        modules, text = _guideline(index, seed)
        package = definitions / f"syn_{index:04d}"
        (package / "sources").mkdir(parents=True, exist_ok=True)
        for name, source in modules.items():
            (package / name).write_text(source, encoding="utf-8")
        (package / "sources" / "001.txt").write_text(text, encoding="utf-8")
    return definitions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("root", type=Path)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(generate(args.n, args.root, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
