"""Links reaching the site and narratives pass the shared link-safety check (generator/links.py)."""

from __future__ import annotations

import pytest

from generator.publish.narrative import template_environment


@pytest.mark.parametrize("folder", ["site", "narrative"])
@pytest.mark.parametrize("url, linked", [
    ("https://example.org/guideline", True), ("jav&#x09;ascript:alert(1)", False), ("JAVASCRIPT:alert(1)", False),
    ("data:text/html,<b>x</b>", False), ("", False),
])
def test_unsafe_urls_are_never_links(folder: str, url: str, linked: bool) -> None:
    template = template_environment(folder).from_string(
        '{% if u | safe_link %}<a href="{{ u }}">x</a>{% else %}{{ u }}{% endif %}')
    assert ("<a " in template.render(u=url)) is linked
