"""CQL translation timings: cold start and warm per-library compile times of the Node translator.

Why: the build translates every guideline library (plus FHIRHelpers) on each run; this shows what
one long-lived translator process costs to start and what each translation costs once warm.

    .venv/bin/python benchmarks/cql_compile.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.cql.fhirhelpers import fhirhelpers_cql  # noqa: E402
from generator.cql.translator import Translator  # noqa: E402

TINY = "library Tiny version '1'\ndefine \"Answer\": 40 + 2\n"

CLINICAL = """library Clinical version '1.0.0'
using FHIR version '4.0.1'
include FHIRHelpers version '4.0.1' called FHIRHelpers
codesystem "SNOMED": 'http://snomed.info/sct'
valueset "Vertebral Fractures": 'http://example.org/fhir/ValueSet/vertebral-fractures'
code "Calcitonin": '1234' from "SNOMED" display 'Calcitonin'
parameter "Pain Threshold" Integer default 7
context Patient
define "Fractures": [Condition: "Vertebral Fractures"] C
  where C.clinicalStatus ~ Code { code: 'active', system: 'http://terminology.hl7.org/CodeSystem/condition-clinical' }
define "Has Fracture": exists "Fractures"
define "Pain Scores": [Observation] O where O.status in { 'final', 'amended' } and O.value > "Pain Threshold"
define "Severe Pain": exists ("Pain Scores" O where O.value >= 9)
define "Calcitonin Orders": [MedicationRequest: medication in "Calcitonin"] M where M.doNotPerform is not true
define "Recent Encounter": exists ([Encounter] E where E.period ends 1 year or less before Today())
define "Is Recommendation Applicable": "Has Fracture" and "Severe Pain" and not exists "Calcitonin Orders"
"""


def many_defines(count: int) -> str:
    lines = [f"library Many version '1'", "using FHIR version '4.0.1'",
             "include FHIRHelpers version '4.0.1' called FHIRHelpers", "context Patient"]
    for i in range(count):
        lines.append(f'define "Obs {i}": [Observation] O where O.value > {i} \'mg\' and O.status = \'final\'')
        lines.append(f'define "Has {i}": exists "Obs {i}"')
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="warm runs per library (median reported)")
    args = parser.parse_args()

    helpers = fhirhelpers_cql()
    cases = {
        "Tiny": ({"Tiny": TINY}, "Tiny"),
        "FHIRHelpers": ({"FHIRHelpers": helpers}, "FHIRHelpers"),
        "Clinical (+FHIRHelpers include)": ({"Clinical": CLINICAL, "FHIRHelpers": helpers}, "Clinical"),
        "Many, 100 defines (+include)": ({"Many": many_defines(50), "FHIRHelpers": helpers}, "Many"),
    }

    started = time.perf_counter()
    with Translator() as translator:
        ready = time.perf_counter()
        translator.translate({"Tiny": TINY})
        first = time.perf_counter()
        rows = []
        for label, (libraries, target) in cases.items():
            t0 = time.perf_counter()
            result = translator.translate(libraries, [target])[target]
            first_ms = (time.perf_counter() - t0) * 1000
            if not result.ok:
                print(f"{label}: {[str(m) for m in result.errors]}", file=sys.stderr)
                return 1
            warm = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                translator.translate(libraries, [target])
                warm.append((time.perf_counter() - t0) * 1000)
            size = len(libraries[target].splitlines())
            rows.append((label, size, first_ms, statistics.median(warm), min(warm), len(result.elm_json) // 1024))

    print(f"translator {translator.translator_version}, node process start to ready (ping): "
          f"{(ready - started) * 1000:.0f} ms; to first result: {(first - started) * 1000:.0f} ms")
    header = ("library", "CQL lines", "first ms", f"warm median ms (n={args.runs})", "warm min ms", "ELM KiB")
    widths = [max(len(str(r[i])) if i in (0, 1, 5) else 8 for r in [header, *rows]) for i in range(len(header))]
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for label, size, first_ms, median, low, kib in rows:
        cells = (label, str(size), f"{first_ms:.0f}", f"{median:.1f}", f"{low:.1f}", str(kib))
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
    print("first = first translation in this process (JIT cold); warm includes the JSON round trip. "
          "Included libraries without includes of their own (FHIRHelpers) are compiled once per process.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
