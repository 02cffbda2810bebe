"""The cold VCF build against the translator floor, in paired rounds (issue #18: floor + 1 s).

Why paired: on a shared 2-core VM the same command's wall time moves by ±15 % from minute to
minute, more than the effects being measured. Each round runs the cold build and then the floor
back to back, and the gap (build − floor) of each round is what is reported: its median and its
worst round.

* cold build: `cpg build --no-cache` of the VCF alone (a definitions folder holding only it) into a
  fresh output folder, in a new process; the translation cache is bypassed, the user cache
  directory (compiled templates, like Python's bytecode) is a fresh one warmed by one untimed build;
* floor: a fresh process that starts the translator and translates the same two libraries (the
  guideline's and FHIRHelpers) in one request: `generator.cql.translator.Translator`, the same
  Node server and translator the build uses.

    .venv/bin/python benchmarks/cold_gap.py              # 10 rounds
    .venv/bin/python benchmarks/cold_gap.py --rounds 20
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CPG = str(Path(PYTHON).with_name("cpg"))
GUIDELINE = "vertebral_compression_fracture"
TARGET_GAP_S = 1.0

#: The floor: the translator alone, translating every built library in one request.
_FLOOR = """
import sys
from pathlib import Path
from generator.cql.translator import Translator
libraries = {p.stem: p.read_text() for p in Path(sys.argv[1]).glob("*/cql/*.cql")}
with Translator() as translator:
    translator.translate(libraries)
"""


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the process tree) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cpg-cold-gap-") as tmp:
        work = Path(tmp)
        (work / "definitions").mkdir()
        (work / "definitions" / GUIDELINE).symlink_to(ROOT / "definitions" / GUIDELINE)
        env = {**os.environ, "CPG_CACHE_DIR": str(work / "cache")}
        out = work / "out"
        build = [CPG, "build", "--no-cache", "--definitions", str(work / "definitions"), "--output", str(out)]
        _timed(build, env)  # untimed: fills the compiled-template cache and the OS file cache
        builds: list[tuple[float, float]] = []
        floors: list[tuple[float, float]] = []
        print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; {args.rounds} rounds")
        for _ in range(args.rounds):
            shutil.rmtree(out, ignore_errors=True)
            builds.append(_timed(build, env))
            floors.append(_timed([PYTHON, "-c", _FLOOR, str(out)], env))
    gaps = [b[0] - f[0] for b, f in zip(builds, floors)]
    for label, runs in (("cold `cpg build --no-cache`", builds), ("translator floor", floors)):
        walls = [w for w, _ in runs]
        print(f"{label:28} wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"cpu median {statistics.median(c for _, c in runs):.2f} s")
    verdict = "met" if statistics.median(gaps) <= TARGET_GAP_S else "MISSED"
    print(f"gap per round: median {statistics.median(gaps):.2f} s, worst {max(gaps):.2f} s, best {min(gaps):.2f} s "
          f"(target <= {TARGET_GAP_S:g} s: {verdict} by the median)")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
