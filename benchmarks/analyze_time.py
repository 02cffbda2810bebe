"""`cpg analyze` timing: compile in memory, then the engine-free part and the full analysis per guideline.

Why separate numbers: the engine-free part (formulas, search, unreachable / always-on, conflict
candidates) is what `cpg build` runs; the full analysis adds witness patients on the CQL engine
and scenario coverage.

    .venv/bin/python benchmarks/analyze_time.py definitions
    .venv/bin/python benchmarks/synthetic_guidelines.py 50 /tmp/syn50 && \\
        .venv/bin/python benchmarks/analyze_time.py /tmp/syn50/definitions
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("definitions", type=Path)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    from generator.analyze import analyze_built
    from generator.analyze.analysis import GuidelineModel, analyse_statically, candidates
    from generator.apply import Engine
    from generator.compile import compile_definitions

    result = compile_definitions(args.definitions, validate=False)
    if not result.ok:
        print("\n".join(str(d) for d in result.diagnostics), file=sys.stderr)
        return 1
    compiled = time.perf_counter()
    static = 0.0
    codes: Counter[str] = Counter()
    with Engine() as engine:
        for built in result.guidelines:
            start = time.perf_counter()
            model = GuidelineModel.of(built.resolved)
            analyse_statically(model)
            candidates(model)
            static += time.perf_counter() - start
            codes.update(f.code for f in analyze_built(built, engine).findings)
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"guidelines={len(result.guidelines)} compile={compiled - began:.2f}s "
          f"analysis(incl. engine)={done - compiled - static:.2f}s engine-free part={static:.2f}s peak={peak:.0f}MB")
    print("findings: " + ", ".join(f"{code}={n}" for code, n in sorted(codes.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
