"""Deterministic synthetic patients for the vertebral-compression-fracture guideline.

Why: throughput must be measured on records shaped like real ones (a fracture Condition with
onset and body site, pain scores over time, labs, comorbidities, medication orders, imaging
procedures, and unrelated vitals the retrieves must skip), with the mix of findings spread so
that most recommendations are exercised. Codes come from the built guideline's ValueSets where
the guideline uses a value set, and from its direct-reference codes otherwise.

    python benchmarks/synthetic_patients.py --count 5 --out /tmp/patients   # writes 5 bundles
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generator.apply import Artifacts, load_artifacts  # noqa: E402

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
PAIN = {"system": LOINC, "code": "72514-3", "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
VERTEBRAE = [("23215003", "T12 vertebra"), ("66794005", "L1 vertebra"), ("14293000", "L2 vertebra"),
             ("36470004", "L3 vertebra"), ("11994002", "L4 vertebra"), ("49668003", "L5 vertebra")]
#: Direct-reference condition codes of the guideline (no value set): code, display.
DIRECT = {
    "cord-compression": ("71286001", "Spinal cord compression"),
    "pulmonary": ("409623005", "Respiratory insufficiency"),
    "mastocytosis": ("397016004", "Systemic mast cell disease"),
    "hypocalcaemia": ("5291005", "Hypocalcemia"),
}
#: Conditions drawn from a value set of the guideline: value set id → prevalence.
CONDITION_VALUE_SETS = {
    "neurological-deficit": 0.05, "spinal-instability": 0.05, "spinal-deformity": 0.10, "malignancy": 0.10,
    "spinal-metastases": 0.04, "oesophageal-abnormality": 0.04, "unable-to-remain-upright": 0.05,
    "mri-contraindication": 0.05, "not-surgical-candidate": 0.08,
}
DIRECT_PREVALENCE = {"cord-compression": 0.03, "pulmonary": 0.08, "mastocytosis": 0.01, "hypocalcaemia": 0.04}
VITALS = [("8867-4", "Heart rate", "/min", 55, 110), ("8310-5", "Body temperature", "Cel", 36, 38),
          ("29463-7", "Body weight", "kg", 45, 110), ("9279-1", "Respiratory rate", "/min", 10, 24)]


def guideline_codes(artifacts: Artifacts) -> dict[str, list[dict[str, str]]]:
    """Value set id → codings (with displays) from the built ValueSets' compose."""
    out: dict[str, list[dict[str, str]]] = {}
    for vs in artifacts.of_type("ValueSet"):
        codes = []
        for include in (vs.get("compose") or {}).get("include", []) or []:
            for concept in include.get("concept", []) or []:
                codes.append({"system": include["system"], "code": concept["code"],
                              "display": concept.get("display", concept["code"])})
        out[str(vs["id"])] = codes
    return out


class _PatientMaker:
    """Makes one patient at a time from its own Random (seeded per run: no global state)."""

    def __init__(self, codes: Mapping[str, Sequence[Mapping[str, str]]], date: dt.date, rng: random.Random) -> None:
        self.codes = codes
        self.date = date
        self.rng = rng

    def day(self, days_ago: int) -> str:
        return (self.date - dt.timedelta(days=days_ago)).isoformat()

    def condition(self, pid: str, n: int, coding: Mapping[str, str], onset_days: int,
                  body_site: tuple[str, str] | None = None) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "resourceType": "Condition", "id": f"{pid}-c{n}",
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            "code": {"coding": [dict(coding)], "text": coding.get("display")},
            "subject": {"reference": f"Patient/{pid}"},
            "onsetDateTime": self.day(onset_days), "recordedDate": self.day(max(onset_days - 1, 0)),
        }
        if body_site is not None:
            resource["bodySite"] = [{"coding": [{"system": SNOMED, "code": body_site[0], "display": body_site[1]}]}]
        return resource

    def observation(self, pid: str, n: int, coding: Mapping[str, str], value: float, unit: str,
                    days_ago: int) -> dict[str, Any]:
        return {
            "resourceType": "Observation", "id": f"{pid}-o{n}", "status": "final",
            "code": {"coding": [dict(coding)]}, "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": self.day(days_ago) + "T09:30:00Z",
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }

    def make(self, index: int) -> dict[str, Any]:
        rng = self.rng
        pid = f"synthetic-{index:06d}"
        resources: list[dict[str, Any]] = [{
            "resourceType": "Patient", "id": pid, "gender": rng.choice(["female", "female", "female", "male"]),
            "birthDate": self.day(rng.randint(50 * 365, 95 * 365)),
            "name": [{"family": f"Synthetic{index}", "given": ["Test"]}],
        }]
        n = 0
        fractures = self.codes.get("vertebral-compression-fracture", [])
        fracture_age = rng.choice([rng.randint(0, 27), rng.randint(28, 90), rng.randint(91, 400)])
        if fractures and rng.random() < 0.9:
            n += 1
            resources.append(self.condition(pid, n, rng.choice(fractures), fracture_age, rng.choice(VERTEBRAE)))
        for vs_id, prevalence in CONDITION_VALUE_SETS.items():
            if self.codes.get(vs_id) and rng.random() < prevalence:
                n += 1
                resources.append(self.condition(pid, n, rng.choice(self.codes[vs_id]), rng.randint(0, 3000)))
        for key, prevalence in DIRECT_PREVALENCE.items():
            if rng.random() < prevalence:
                n += 1
                code, display = DIRECT[key]
                resources.append(self.condition(pid, n, {"system": SNOMED, "code": code, "display": display},
                                                rng.randint(0, 2000)))
        for _ in range(rng.randint(1, 4)):  # pain scores over the last weeks
            n += 1
            resources.append(self.observation(pid, n, PAIN, rng.randint(0, 10), "{score}", rng.randint(0, 60)))
        if self.codes.get("creatinine-clearance") and rng.random() < 0.6:
            n += 1
            resources.append(self.observation(pid, n, rng.choice(self.codes["creatinine-clearance"]),
                                              rng.randint(15, 110), "mL/min", rng.randint(0, 180)))
        for _ in range(rng.randint(2, 8)):  # unrelated vitals
            n += 1
            code, display, unit, low, high = rng.choice(VITALS)
            resources.append(self.observation(pid, n, {"system": LOINC, "code": code, "display": display},
                                              rng.randint(low, high), unit, rng.randint(0, 365)))
        for vs_id, prevalence in (("analgesics", 0.5), ("bisphosphonates", 0.3)):
            if self.codes.get(vs_id) and rng.random() < prevalence:
                n += 1
                resources.append({
                    "resourceType": "MedicationRequest", "id": f"{pid}-m{n}",
                    "status": rng.choice(["active", "active", "active", "completed"]), "intent": "order",
                    "medicationCodeableConcept": {"coding": [dict(rng.choice(self.codes[vs_id]))]},
                    "subject": {"reference": f"Patient/{pid}"}, "authoredOn": self.day(rng.randint(0, 200)),
                })
        for vs_id, prevalence, window in (("spine-imaging-mri", 0.3, 200), ("vertebral-augmentation", 0.05, 700)):
            if self.codes.get(vs_id) and rng.random() < prevalence:
                n += 1
                resources.append({
                    "resourceType": "Procedure", "id": f"{pid}-p{n}", "status": "completed",
                    "code": {"coding": [dict(rng.choice(self.codes[vs_id]))]},
                    "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": self.day(rng.randint(0, window)),
                })
        resources.append({"resourceType": "Encounter", "id": f"{pid}-e1", "status": "finished",
                          "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                          "subject": {"reference": f"Patient/{pid}"},
                          "period": {"start": self.day(rng.randint(0, 30)) + "T08:00:00Z"}})
        return {"resourceType": "Bundle", "id": pid, "type": "collection",
                "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}


def synthetic_patients(count: int, artifacts: Artifacts, date: str | dt.date = "2026-11-21",
                       seed: int = 20261121) -> list[dict[str, Any]]:
    """`count` patient Bundles; the same arguments always give the same bundles."""
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    maker = _PatientMaker(guideline_codes(artifacts), day, random.Random(seed))
    return [maker.make(i) for i in range(count)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guideline", default="vertebral-compression-fracture",
                        help="built guideline: id under output/ or a path (default: %(default)s)")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--date", default="2026-11-21")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--out", type=Path, required=True, help="folder for <patient-id>.json bundles")
    args = parser.parse_args(argv)
    artifacts = load_artifacts(args.guideline, ROOT / "output")
    args.out.mkdir(parents=True, exist_ok=True)
    for bundle in synthetic_patients(args.count, artifacts, args.date, args.seed):
        (args.out / f"{bundle['id']}.json").write_text(json.dumps(bundle, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.count} bundles to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
