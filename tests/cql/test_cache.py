"""The translation cache: same input -> the translator's own result without Node; anything else -> Node."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.cql.cache import CachedTranslator, TranslationCache, cache_dir
from generator.cql.translator import Translator

LIB = """library Cached version '1.0.0'
define "Answer": 40 + 2
"""
BROKEN = """library Broken version '1.0.0'
define "Oops": 1 + 'a'
"""
ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "golden" / "minimal" / "definitions"


def test_a_hit_is_the_translators_own_result_without_node(tmp_path: Path, session_translator: Translator,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = TranslationCache(tmp_path)
    with CachedTranslator(cache, early=False) as first:
        fresh = first.translate({"Cached": LIB, "Broken": BROKEN})
        assert first.started and first.misses == 2
    monkeypatch.setenv("CPG_NODE", str(tmp_path / "no-node"))  # Node cannot start now
    with CachedTranslator(cache, early=False) as second:
        again = second.translate({"Cached": LIB, "Broken": BROKEN})
        assert not second.started and second.hits == 2
    direct = session_translator.translate({"Cached": LIB, "Broken": BROKEN})
    for name in ("Cached", "Broken"):
        assert again[name].elm_json == fresh[name].elm_json == direct[name].elm_json
        assert again[name].messages == fresh[name].messages == direct[name].messages
        assert again[name].elm == direct[name].elm
    assert not again["Broken"].ok  # errors are cached as the translator reported them


def test_the_key_covers_text_includes_options_and_target() -> None:
    key = TranslationCache.key
    options = {"options": ("EnableLocators",), "signatureLevel": "Overloads"}
    base = key("tool", options, "A", {"A": "x", "B": "y"})
    assert base == key("tool", dict(options), "A", {"B": "y", "A": "x"})  # order of libraries is no input
    assert base != key("tool", options, "A", {"A": "x", "B": "changed include"})
    assert base != key("tool", options, "A", {"A": "x changed", "B": "y"})
    assert base != key("tool", {**options, "signatureLevel": "All"}, "A", {"A": "x", "B": "y"})
    assert base != key("other translator version", options, "A", {"A": "x", "B": "y"})
    assert base != key("tool", options, "B", {"A": "x", "B": "y"})


def test_a_damaged_entry_is_dropped_and_translated_again(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path)
    with CachedTranslator(cache, early=False) as t:
        good = t.translate({"Cached": LIB})["Cached"]
    (entry,) = cache.directory.glob("*/*.json")
    entry.write_bytes(entry.read_bytes().replace(b"42", b"43"))  # checksum no longer matches
    with CachedTranslator(cache, early=False) as t:
        assert t.translate({"Cached": LIB})["Cached"].elm_json == good.elm_json
        assert t.misses == 1 and t.started
    entry.write_bytes(b"not json")
    assert cache.get(entry.stem) is None and not entry.exists()


def test_size_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path)
    with CachedTranslator(cache, early=False) as t:
        t.translate({"Cached": LIB})
        one = cache.stats().bytes
        cache.max_bytes = int(one * 2.5)
        for n in range(4):
            t.translate({"Cached": LIB.replace("40", str(n))})
    stats = cache.stats()
    assert stats.entries == 2 and stats.bytes <= cache.max_bytes


def test_concurrent_writers_leave_one_valid_entry(tmp_path: Path, session_translator: Translator) -> None:
    translation = session_translator.translate({"Cached": LIB})["Cached"]
    cache = TranslationCache(tmp_path)
    threads = [threading.Thread(target=cache.put, args=("ab" + "0" * 62, translation)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("ab" + "0" * 62).elm_json == translation.elm_json  # type: ignore[union-attr]
    assert [p.name for p in cache.directory.glob("*/*")] == ["ab" + "0" * 62 + ".json"]  # no temp files left


def test_cache_location_follows_xdg(tmp_path: Path) -> None:
    assert cache_dir({"CPG_CACHE_DIR": "/x"}) == Path("/x")
    assert cache_dir({"XDG_CACHE_HOME": "/y"}) == Path("/y/cpg")
    assert cache_dir({}) == Path.home() / ".cache" / "cpg"


def test_a_build_whose_cql_did_not_change_starts_no_translator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPG_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--definitions", str(MINIMAL), "--output", str(tmp_path / "one")])
    assert first.exit_code == 0, first.output
    monkeypatch.setenv("CPG_NODE", str(tmp_path / "no-node"))  # any translator start would now fail
    second = runner.invoke(main, ["build", "--definitions", str(MINIMAL), "--output", str(tmp_path / "two")])
    assert second.exit_code == 0, second.output
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert files and all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files)
    no_cache = runner.invoke(main, ["build", "--no-cache", "--definitions", str(MINIMAL),
                                    "--output", str(tmp_path / "three")])
    assert no_cache.exit_code != 0 and "no-node" in no_cache.output  # --no-cache really asks Node


def test_cache_command_reports_and_clears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CPG_CACHE_DIR", str(tmp_path))
    with CachedTranslator(TranslationCache(tmp_path), early=False) as t:
        t.translate({"Cached": LIB})
    runner = CliRunner()
    info = runner.invoke(main, ["cache", "info", "--format", "json"])
    assert info.exit_code == 0 and '"entries": 1' in info.output
    cleared = runner.invoke(main, ["cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 translation(s)" in cleared.output
    assert "compiled template(s)" in cleared.output
    assert TranslationCache(tmp_path).stats().entries == 0
    assert os.environ["CPG_CACHE_DIR"] == str(tmp_path)


def test_a_set_translated_in_sessions_is_cached_and_shared_with_single_requests(
        tmp_path: Path, session_translator: Translator, monkeypatch: pytest.MonkeyPatch) -> None:
    """`translate_set` over the cache: a second run starts no Node; keys match one-library requests."""
    from generator.cql.library_set import translate_set

    sources = {
        "Base": "library Base version '1.0.0'\ndefine \"One\": 1\n",
        "Mid": "library Mid version '1.0.0'\ninclude Base version '1.0.0'\ndefine \"Two\": Base.\"One\" + 1\n",
        "Top": "library Top version '1.0.0'\ninclude Mid version '1.0.0'\ndefine \"Three\": Mid.\"Two\" + 1\n",
    }
    direct = translate_set(session_translator, sources, list(sources), batch_size=1)
    cache = TranslationCache(tmp_path)
    with CachedTranslator(cache, early=False) as cold:
        first = translate_set(cold, sources, list(sources), batch_size=1)  # three batches, one session
        assert cold.misses == 3 and cold.started
    monkeypatch.setenv("CPG_NODE", str(tmp_path / "no-node"))
    with CachedTranslator(cache, early=False) as warm:
        second = translate_set(warm, sources, list(sources), batch_size=2)
        assert warm.hits == 3 and not warm.started
        # A one-library request with its includes is the same key as the session's.
        single = warm.translate({"Base": sources["Base"], "Mid": sources["Mid"]}, ["Mid"])
        assert not warm.started
    for name in sources:
        assert first[name].elm_json == second[name].elm_json == direct[name].elm_json
    assert single["Mid"].elm_json == direct["Mid"].elm_json
