"""Whole-set CQL translation: `cpg cql` on N interdependent libraries vs the reference floor.

Why: `cpg cql` and `cpg validate` once re-translated every included library for each includer
(25-40x the reference translator's CPU on WHO's sets). The target is within 1.5x of a plain
single-process translation of the same files with the same translator
(`benchmarks/reference_translate.mjs`). Both are measured as whole processes (CPU = user+system
of the process and its children, Node start-up included), on a seeded generated set: library i
includes up to three earlier ones (a layered graph, as in WHO ANC/HIV), each with FHIR retrieves,
FHIRHelpers conversions and cross-library references.

    .venv/bin/python benchmarks/cql_set.py [--libraries 64] [--repeat 1] [--old]

`--old` also times the previous approach (each library sent with its include closure).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.5

OLD_WAY = """
import sys
from pathlib import Path
from generator.cql.declarations import declared_name, include_closure
from generator.cql.translator import Translator
files = sorted(Path(sys.argv[1]).glob("*.cql"))
sources = {declared_name(f.read_text()): f.read_text() for f in files}
with Translator() as t:
    for name in sources:
        t.translate(include_closure(name, sources), [name])
"""


def library(i: int) -> str:
    """Library i: includes up to three earlier libraries, a dozen defines of clinical shape."""
    deps = sorted({j for j in (i - 1, i // 2, i // 3) if 0 <= j < i})
    lines = [f"library Lib{i:03d} version '1.0.0'", "using FHIR version '4.0.1'",
             "include FHIRHelpers version '4.0.1' called FHIRHelpers"]
    lines += [f"include Lib{j:03d} version '1.0.0' called L{j}" for j in deps]
    lines += [f"valueset \"Conditions {i}\": 'http://example.org/fhir/ValueSet/conditions-{i}'",
              "context Patient"]
    lines += [
        f'define "Conditions": [Condition: "Conditions {i}"] C where C.clinicalStatus ~ '
        "Code { code: 'active', system: 'http://terminology.hl7.org/CodeSystem/condition-clinical' }",
        'define "Has Condition": exists "Conditions"',
        'define "Recent Observations": [Observation] O where O.status in { \'final\', \'amended\' } '
        'and (O.effective as dateTime) >= Now() - 2 years',
        'define "Latest Value": Last("Recent Observations" O sort by (effective as dateTime)).value as Quantity',
        'define "Encounters": [Encounter] E where end of E.period >= Now() - 2 years',
        'define "Encounter Count": Count("Encounters")',
        'define "Is Adult": AgeInYears() >= 18',
        'define "Active Medications": [MedicationRequest] M where M.status = \'active\' and M.doNotPerform is not true',
        'define "On Medication": exists "Active Medications"',
    ]
    for j in deps:
        lines.append(f'define "From {j}": L{j}."Has Condition" or L{j}."Applies"')
    combined = " and ".join(['"Has Condition"', '"Is Adult"'] + [f'"From {j}"' for j in deps[:1]])
    lines.append(f'define "Applies": {combined} and not "On Medication"')
    return "\n".join(lines) + "\n"


def generate(folder: Path, count: int) -> list[Path]:
    from generator.cql.fhirhelpers import fhirhelpers_cql

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "FHIRHelpers.cql").write_text(fhirhelpers_cql(), "utf-8")
    for i in range(count):
        (folder / f"Lib{i:03d}.cql").write_text(library(i), "utf-8")
    return sorted(folder.glob("*.cql"))


def measure(command: list[str]) -> tuple[float, float, str]:
    """(CPU seconds of the process and its children, wall seconds, stdout+stderr tail)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    lines = (done.stdout + done.stderr).strip().splitlines()
    return cpu, wall, lines[-1] if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--libraries", type=int, default=64, help="generated libraries (default: %(default)s, >= 60)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, median reported")
    parser.add_argument("--old", action="store_true", help="also time the old per-library include-closure requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpg-cqlset-") as tmp:
        files = generate(Path(tmp) / "cql", args.libraries)
        runs = {
            "reference (one Node process, fromText per file)": ["node", str(ROOT / "benchmarks" / "reference_translate.mjs"),
                                                                  str(files[0].parent)],
            "cpg cql (translate_set)": [str(ROOT / ".venv" / "bin" / "cpg"), "cql", "--no-cache", *map(str, files)],
        }
        if args.old:
            runs["old: one request per library + closure"] = [sys.executable, "-c", OLD_WAY, str(files[0].parent)]
        results: dict[str, tuple[float, float, str]] = {}
        for label, command in runs.items():
            samples = [measure(command) for _ in range(max(args.repeat, 1))]
            results[label] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
                              samples[-1][2])
    reference_cpu = results[next(iter(results))][0]
    print(f"{len(files)} libraries ({args.libraries} generated + FHIRHelpers), median of {max(args.repeat, 1)}")
    print(f"{'run':52} {'cpu s':>7} {'wall s':>7} {'x ref cpu':>9}  last line")
    for label, (cpu, wall, last) in results.items():
        print(f"{label:52} {cpu:7.2f} {wall:7.2f} {cpu / reference_cpu:9.2f}  {last[:60]}")
    ratio = results["cpg cql (translate_set)"][0] / reference_cpu
    verdict = "ok" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(json.dumps({"libraries": len(files), "reference_cpu_s": round(reference_cpu, 2),
                      "cpg_cpu_s": round(results["cpg cql (translate_set)"][0], 2), "ratio": round(ratio, 2),
                      "target": TARGET_RATIO, "verdict": verdict}))
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
