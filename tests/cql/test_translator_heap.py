"""The translator's Node process runs with a capped V8 heap (`--max-old-space-size`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cql.translator import MAX_HEAP_MB, SCRIPT, Translator

pytestmark = pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")


def node_arguments(translator: Translator) -> list[str]:
    assert translator.pid is not None, "translator is not running"
    raw = Path(f"/proc/{translator.pid}/cmdline").read_bytes()
    return raw.rstrip(b"\0").decode().split("\0")


def heap_flags(argv: list[str]) -> list[str]:
    return [arg for arg in argv if arg.startswith("--max-old-space-size")]


def assert_node_option(argv: list[str], megabytes: int) -> None:
    assert Path(argv[0]).name.startswith("node"), argv
    assert heap_flags(argv) == [f"--max-old-space-size={megabytes}"]
    # A Node option only counts before the script; after it, it would be an argument of the script.
    assert argv.index(f"--max-old-space-size={megabytes}") < argv.index(str(SCRIPT))


def test_default_cap_is_a_sane_number() -> None:
    assert isinstance(MAX_HEAP_MB, int)
    assert 128 <= MAX_HEAP_MB <= 4096
    assert Translator().max_heap_mb == MAX_HEAP_MB


def test_session_translator_runs_node_with_the_default_cap(session_translator: Translator) -> None:
    assert_node_option(node_arguments(session_translator), MAX_HEAP_MB)


def test_an_explicit_cap_is_passed_to_node() -> None:
    with Translator(max_heap_mb=200) as translator:
        argv = node_arguments(translator)
        assert_node_option(argv, 200)
        assert translator.ping()  # node accepted the option and the translator still answers
