"""The site loads in a real headless browser and shows every recommendation.

Needs Debian's `chromium` on PATH (`apt-get install -y chromium`); skipped otherwise.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.compile import BuiltGuideline

chromium = shutil.which("chromium")
pytestmark = pytest.mark.skipif(chromium is None, reason="chromium is not on PATH (apt-get install -y chromium)")


def _dump_dom(page: Path, profile: Path) -> str:
    assert chromium is not None
    completed = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def test_site_renders_every_recommendation(minimal_built: BuiltGuideline, minimal_files: dict[str, bytes],
                                           tmp_path: Path) -> None:
    for rel in ("site/index.html", "site/style.css"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(minimal_files[rel])
    dom = _dump_dom(tmp_path / "site" / "index.html", tmp_path / "profile")
    assert "<svg" in dom and "Minimal Guideline" in dom
    for rr in minimal_built.resolved.recommendations:
        title = rr.recommendation.title or rr.id
        assert html.escape(title, quote=False) in dom, title
        assert f'id="rec-{rr.id}"' in dom
        assert f'href="#rec-{rr.id}"' in dom  # the diagram box links to it
    assert 'id="cql-is-calcitonin-applicable"' in dom


REAL = Path(__file__).resolve().parents[2] / "definitions"


@pytest.mark.skipif(not REAL.is_dir(), reason="no definitions/ (the real guideline) in this checkout")
def test_real_guideline_site(session_translator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from generator.compile import compile_definitions
    from generator.publish import publication_files

    result = compile_definitions(REAL, translator=session_translator, validate=False)
    if not result.ok:
        pytest.skip("definitions/ does not compile right now (work in progress elsewhere)")
    for built in result.guidelines:
        files = publication_files(built)
        site = tmp_path / built.id / "site"
        site.mkdir(parents=True)
        for rel in ("index.html", "style.css"):
            (site / rel).write_bytes(files[f"site/{rel}"])
        dom = _dump_dom(site / "index.html", tmp_path / built.id / "profile")
        missing = [rr.recommendation.title or rr.id for rr in built.resolved.recommendations
                   if html.escape(rr.recommendation.title or rr.id, quote=False) not in dom]
        assert not missing
