"""The site in a real headless browser, as a clinical reviewer would read it.

Needs Debian's `chromium` on PATH (`apt-get install -y chromium`); skipped otherwise. Checks, at a
laptop width (1280 px) and a phone width (390 px): no horizontal overflow, every recommendation
with its thresholds and windows in words, every scenario with its result, every code of every
value set. Screenshots at both widths go to build/site-screenshots/ for people to look at.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from generator.compile import BuiltGuideline
from generator.model import logic as L
from generator.publish._describe import duration_words, quantity_words

chromium = shutil.which("chromium")
pytestmark = pytest.mark.skipif(chromium is None, reason="chromium is not on PATH (apt-get install -y chromium)")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "site-screenshots"
WIDTHS = (1280, 390)

#: Appended to a copy of the page under test only: the page itself has no script.
_MEASURE = ('<script>document.body.setAttribute("data-overflow", '
            'String(document.documentElement.scrollWidth - window.innerWidth));</script></body>')


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert chromium is not None
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def _write_site(files: dict[str, bytes], folder: Path) -> Path:
    for rel in ("site/index.html", "site/style.css"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(files[rel])
    return folder / "site" / "index.html"


def _dom_at(page: Path, width: int, profile: Path) -> tuple[str, int]:
    """The rendered DOM at `width` px, and how many px the page overflows horizontally."""
    probe = page.with_name(f"probe-{width}.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _MEASURE, 1), encoding="utf-8")
    done = _chromium(f"--window-size={width},900", "--dump-dom", probe.as_uri(), profile=profile)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-overflow="(-?\d+)"', done.stdout)
    assert found, "the measuring script did not run"
    return done.stdout, int(found.group(1))


def _screenshot(page: Path, width: int, name: str, profile: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-{width}.png"
    done = _chromium(f"--window-size={width},2400", f"--screenshot={target}", page.as_uri(), profile=profile)
    assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _article(dom: str, anchor: str) -> str:
    start = dom.index(f'id="{anchor}"')
    return _text(dom[start:dom.index("</article>", start)])


def _thresholds(node: Any, features: dict[str, L.Feature], seen: frozenset[str] = frozenset()) -> set[str]:
    """Every number a reader must see for `node`: thresholds with units, and time windows."""
    if isinstance(node, L.FeatureName):
        node = features.get(node.name)
    if isinstance(node, L.Feature):
        if node.name in seen or node.expression is None:
            return set()
        return _thresholds(node.expression, features, seen | {node.name})
    if isinstance(node, (L.AllOf, L.AnyOf)):
        return set().union(*(_thresholds(p, features, seen) for p in node.parts))
    if isinstance(node, L.Not):
        return _thresholds(node.part, features, seen)
    if isinstance(node, L.Compare):
        return {quantity_words(node.right)}
    if isinstance(node, (L.OnsetWithin, L.OnsetBefore, L.PerformedWithin)):
        return {duration_words(node.duration)}
    return set()


def review_site(built: BuiltGuideline, files: dict[str, bytes], folder: Path, name: str) -> None:
    """Every check of this module on one built guideline's site."""
    page = _write_site(files, folder)
    rg = built.resolved
    features = {f.name: f for f in rg.features}
    for width in WIDTHS:
        dom, overflow = _dom_at(page, width, folder / "profile")
        assert overflow <= 0, f"the page is {overflow} px wider than a {width} px window"
        for rr in rg.recommendations:
            title = rr.recommendation.title or rr.id
            assert html.escape(title, quote=False) in dom, title
            assert f'href="#rec-{rr.id}"' in dom  # the pathway links to it
            text = _article(dom, f"rec-{rr.id}")
            if rr.recommendation.applicability is not None:
                for number in _thresholds(rr.recommendation.applicability, features):
                    assert number in text, f"{rr.id}: threshold {number!r} is not spelled out"
        for scenario in rg.scenarios:
            text = _article(dom, f"scenario-{scenario.id}")
            assert "as expected" in text, f"scenario {scenario.id} shows no result"
            assert scenario.date in text
        for vs in (r for r in built.resources if r["resourceType"] == "ValueSet"):
            section = dom[dom.index(f'id="vs-{vs["id"]}"'):]
            for include in vs.get("compose", {}).get("include", []):
                for concept in include.get("concept", []):
                    assert f"<code>{html.escape(concept['code'])}</code>" in section, (vs["id"], concept["code"])
        _screenshot(page, width, name, folder / "profile")


def test_minimal_site_for_a_reviewer(minimal_built: BuiltGuideline, minimal_files: dict[str, bytes],
                                     tmp_path: Path) -> None:
    review_site(minimal_built, minimal_files, tmp_path, "minimal")
    dom, _ = _dom_at(tmp_path / "site" / "index.html", 1280, tmp_path / "profile")
    assert 'id="cql-is-calcitonin-applicable"' in dom
    assert "<svg" not in dom  # the pathway is HTML that reflows, not a fixed-width drawing


def test_overflow_is_measured(tmp_path: Path) -> None:
    """The width check can fail: a page with a fixed 2000 px element overflows at 1280 px."""
    page = tmp_path / "wide.html"
    page.write_text('<!DOCTYPE html><html><body><div style="width:2000px">x</div></body></html>', encoding="utf-8")
    _, overflow = _dom_at(page, 1280, tmp_path / "profile")
    assert overflow > 0


REAL = ROOT / "definitions"


@pytest.mark.skipif(not REAL.is_dir(), reason="no definitions/ (the real guideline) in this checkout")
def test_real_guideline_site(session_translator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from generator.compile import compile_definitions
    from generator.publish import publication_files

    result = compile_definitions(REAL, translator=session_translator, validate=False)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    for built in result.guidelines:
        review_site(built, publication_files(built), tmp_path / built.id, built.id)
