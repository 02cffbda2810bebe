"""`cpg load` throughput (resources/s) into the test FHIR server (tests/server/fhir-server.mjs).

Starts the server on 127.0.0.1 (a free port), loads each built guideline folder given, in one
process with the loader's library calls (as `cpg load` runs them, default options: transaction,
8 entries, 1 MB), and prints resources, requests, seconds and resources/s: first the loads into
an empty server, then the same loads again (everything `matched`, nothing sent).

    .venv/bin/python benchmarks/load_throughput.py output/vertebral-compression-fracture
    .venv/bin/python benchmarks/load_throughput.py /tmp/syn/output/*/     # after building N synthetic
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()

    from generator.server import LoadOptions, load, read_target
    from generator.server._http import FhirClient

    node = shutil.which("node") or "node"
    server = subprocess.Popen([node, str(ROOT / "tests" / "server" / "fhir-server.mjs")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}/fhir"
        sets = [read_target(str(folder), ROOT / "output") for folder in args.folders]
        for label in ("empty server", "second load"):
            resources = requests = 0
            started = time.perf_counter()
            with FhirClient(base, None) as client:
                for found in sets:
                    report = load(client, found, LoadOptions())
                    assert not report.failed, [r.as_json() for r in report.results if r.status == "failed"]
                    resources += len(found)
                requests = client.requests
            seconds = time.perf_counter() - started
            print(f"{label:13}  {len(sets)} guideline(s)  {resources} resources  {requests} requests  "
                  f"{seconds:.2f} s  {resources / seconds:.0f} resources/s")
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
