"""Several translator processes: started only when calls overlap; a build gives the same bytes with 1 or 2."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator.cql.pool as pool_module
from generator.cli import main
from generator.cql.pool import TranslatorPool

ROOT = Path(__file__).resolve().parents[2]


class _SlowTranslator:
    """Stands in for EarlyTranslator to make two calls overlap on purpose (the pool's own logic is tested)."""

    gate = threading.Event()
    started = 0

    def __init__(self) -> None:
        type(self).started += 1

    def translate(self, libraries, targets=None, *, timeout=None):  # type: ignore[no-untyped-def]
        assert self.gate.wait(10)
        return {"x": id(self)}

    def close(self) -> None:
        pass


def test_a_second_process_starts_only_when_calls_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "EarlyTranslator", _SlowTranslator)
    pool = TranslatorPool(2, early=False)
    _SlowTranslator.gate.set()
    pool.translate({"x": ""})
    pool.translate({"x": ""})
    assert pool.started == 1  # sequential calls reuse the idle process
    _SlowTranslator.gate.clear()
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(pool.translate({"x": ""})["x"])) for _ in range(3)]
    for thread in threads:
        thread.start()
    while pool.started < 2:  # the second overlapping call starts a second process, the third waits
        threading.Event().wait(0.01)
    _SlowTranslator.gate.set()
    for thread in threads:
        thread.join()
    assert pool.started == 2 and len(seen) == 3 and len(set(seen)) == 2


def test_two_translators_give_the_same_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from synthetic_guidelines import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    definitions = generate(3, tmp_path)
    runner = CliRunner()
    outputs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        result = runner.invoke(main, ["build", "--no-cache", "--jobs", jobs, "--no-validate",
                                      "--definitions", str(definitions), "--output", str(out)])
        assert result.exit_code == 0, result.output
        outputs[jobs] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len(outputs["1"]) > 30 and outputs["1"] == outputs["2"]
