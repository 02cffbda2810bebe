"""One link-safety rule for everything that becomes a clickable link (narratives, the site,
citations and related artifacts).

Why one place: browsers ignore ASCII whitespace and control characters inside a URL scheme and
decode character references before looking at it, so `jav&#x09;ascript:` and ` JavaScript:` are
script links; a check that only compares the raw prefix misses them. `data:` URLs can carry
whole HTML documents and are refused as links too.
"""

from __future__ import annotations

import html
import re

__all__ = ["unsafe_link", "UNSAFE_SCHEMES"]

UNSAFE_SCHEMES = ("javascript", "vbscript", "data")
_IGNORED = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def unsafe_link(url: str) -> str | None:
    """The dangerous scheme a link uses once decoded as a browser would (None when safe)."""
    decoded = html.unescape(url)
    squeezed = _IGNORED.sub("", decoded).lower()
    match = _SCHEME.match(squeezed)
    if match and match.group(1) in UNSAFE_SCHEMES:
        return match.group(1)
    return None
