"""Throughput of `$apply` on synthetic patients: patients/second and where the time goes.

One engine process, libraries loaded once, patients streamed in batches (as `cpg test` does).
The per-patient split comes from `Applier.timing`: CQL evaluation inside node, transport
(JSON encode/decode both sides and the pipe), and Python (building RequestGroups, requests,
bundles). Batches are pipelined (Node evaluates the next batch while Python builds this one's
results), so with batches of many patients the columns overlap and add up to more than the
ms/patient wall figure. Start-up (node, library load) is reported apart: it is paid once per run.

    python benchmarks/apply_throughput.py                  # 1000 patients, batch 64 and batch 1
    python benchmarks/apply_throughput.py --patients 200 --batch 16
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from generator.apply import BATCH_SIZE, Applier, Engine, Timing, load_artifacts  # noqa: E402
from synthetic_patients import synthetic_patients  # noqa: E402


def _row(label: str, patients: int, seconds: float, timing: Timing) -> list[str]:
    per = 1000.0 / max(patients, 1)
    other = seconds * 1000 - timing.engine_ms - timing.transport_ms - timing.python_ms
    return [label, str(patients), f"{patients / seconds:,.0f}", f"{seconds * 1000 * per / 1000:.2f}",
            f"{timing.engine_ms * per / 1000:.2f}", f"{timing.transport_ms * per / 1000:.2f}",
            f"{timing.python_ms * per / 1000:.2f}", f"{max(other, 0.0) * per / 1000:.2f}"]


def _table(rows: list[list[str]]) -> str:
    header = ["run", "patients", "patients/s", "ms/patient", "engine ms", "transport ms", "python ms", "other ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guideline", default="vertebral-compression-fracture",
                        help="built guideline: id under output/ or a path (default: %(default)s)")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--date", default="2026-11-21")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE, help="patients per engine round trip")
    parser.add_argument("--skip-unbatched", action="store_true", help="skip the batch-size-1 comparison run")
    args = parser.parse_args(argv)

    artifacts = load_artifacts(args.guideline, ROOT / "output")
    began = time.perf_counter()
    patients = synthetic_patients(args.patients, artifacts, args.date, args.seed)
    generate_s = time.perf_counter() - began

    began = time.perf_counter()
    with Engine() as engine:
        started_s = time.perf_counter() - began
        began = time.perf_counter()
        applier = Applier(artifacts, engine)
        load_s = time.perf_counter() - began
        applier.apply_many(patients[:50], args.date, batch_size=args.batch)  # JIT warm-up, not measured

        rows = []
        runs = [(f"batch {args.batch}", args.batch)] + ([] if args.skip_unbatched else [("batch 1", 1)])
        results = []
        for label, batch in runs:
            applier.timing = Timing()
            began = time.perf_counter()
            results = applier.apply_many(patients, args.date, batch_size=batch)
            rows.append(_row(label, len(patients), time.perf_counter() - began, applier.timing))

    counts = [len(r.applicable) for r in results]
    popular = Counter(rec for r in results for rec in r.applicable)
    defines = sum(len(v) for v in applier.plan.expressions.values())
    print(f"guideline {args.guideline}: {len(applier.plan.recommendations())} recommendations, "
          f"{defines} defines evaluated per patient; {engine.engine_version} + {engine.data_provider_version}")
    print(f"start-up (once per run): node {started_s * 1000:.0f} ms, load libraries + value sets {load_s * 1000:.0f} ms; "
          f"generating {len(patients)} patients took {generate_s * 1000:.0f} ms (not counted)")
    print()
    print(_table(rows))
    print()
    print(f"applicable recommendations per patient: mean {statistics.mean(counts):.1f}, "
          f"min {min(counts)}, max {max(counts)}; {len(popular)} of {len(applier.plan.recommendations())} "
          "recommendations applicable to at least one patient")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
