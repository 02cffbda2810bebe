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


def test_node_can_be_asked_for_a_full_collection() -> None:
    """`--expose-gc`: the server collects before reporting its live heap share."""
    with Translator() as translator:
        assert "--expose-gc" in node_arguments(translator)


def test_a_translator_past_its_heap_share_restarts_and_keeps_answering() -> None:
    """The translator retains memory per library; past `restart_heap_share` a fresh process takes over."""
    library = "library Restart version '1.0.0'\ndefine \"X\": 1 + 1\n"
    with Translator(restart_heap_share=0.0) as translator:  # every reply is "past" a zero share
        first_pid = translator.pid
        first = translator.translate({"Restart": library})["Restart"]
        assert translator.restarts == 1 and translator.pid not in (None, first_pid)
        second = translator.translate({"Restart": library})["Restart"]
        assert translator.restarts == 2
    assert first.ok and second.ok and first.elm == second.elm


def test_a_translator_within_its_heap_share_keeps_its_process(session_translator: Translator) -> None:
    pid, restarts = session_translator.pid, session_translator.restarts
    session_translator.translate({"Small": "library Small version '1.0.0'\ndefine \"X\": true\n"})
    assert (session_translator.pid, session_translator.restarts) == (pid, restarts)


def test_running_out_of_heap_says_why_and_what_to_do() -> None:
    """A request too big for the capped heap: a plain error naming the cap, not a bare crash."""
    import re

    from generator.cql.translator import TranslatorError

    library = "library Big version '1.0.0'\n" + "".join(f'define "D{i}": {i} + 1\n' for i in range(4000))
    with Translator(max_heap_mb=24) as translator, pytest.raises(TranslatorError) as caught:
        translator.translate({"Big": library})
    assert re.search(r"ran out of its 24 MB heap translating 1 libraries", str(caught.value))

