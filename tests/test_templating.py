"""Compiled templates kept on disk: output never depends on them, and a bad cache only costs time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from generator import templating

TEMPLATE = "{% for x in items %}{{ x | upper }};{% endfor %}"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CPG_CACHE_DIR", str(tmp_path / "cache"))
    templating._bytecode_cache.cache_clear()
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "x.j2").write_text(TEMPLATE, "utf-8")
    yield tmp_path
    templating._bytecode_cache.cache_clear()


def _render(folder: Path) -> str:
    return templating.environment(folder).get_template("x.j2").render(items=["a", "b"])


def test_compiled_templates_are_kept_and_reused(cache: Path) -> None:
    assert _render(cache / "t") == "A;B;"
    kept = list((cache / "cache" / "templates").glob("__jinja2_*"))
    assert len(kept) == 1
    assert _render(cache / "t") == "A;B;"  # a new environment, loaded from the cache


def test_a_changed_template_is_compiled_again(cache: Path) -> None:
    _render(cache / "t")
    (cache / "t" / "x.j2").write_text(TEMPLATE.replace("upper", "lower"), "utf-8")
    assert _render(cache / "t") == "a;b;"


def test_a_damaged_entry_is_compiled_again(cache: Path) -> None:
    _render(cache / "t")
    for entry in (cache / "cache" / "templates").glob("__jinja2_*"):
        entry.write_bytes(bc_magic + b"\x80 damaged after a valid header")  # unpickling fails
    assert _render(cache / "t") == "A;B;"
    for entry in (cache / "cache" / "templates").glob("__jinja2_*"):
        entry.write_bytes(b"not bytecode at all")
    assert _render(cache / "t") == "A;B;"


def test_an_unusable_cache_directory_only_costs_the_compilation(cache: Path) -> None:
    (cache / "cache").write_text("a file where the cache directory should be", "utf-8")
    assert _render(cache / "t") == "A;B;"


def test_clear_removes_the_compiled_templates(cache: Path) -> None:
    _render(cache / "t")
    assert templating.clear_cache() == 1
    assert not list((cache / "cache" / "templates").glob("__jinja2_*"))
