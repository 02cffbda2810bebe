"""Behaviour diff: run every scenario of either version on both versions and compare the results.

Why scenarios: a CQL text change may or may not change who a recommendation applies to; the
scenarios (published as CRMI test-case Libraries) are the patients the authors care about, so a
result that flips on one of them is what a consumer will notice.
"""

from __future__ import annotations

from typing import Any

from generator.apply import Applier, ApplyError, Artifacts, Engine
from generator.diff.versions import Version

__all__ = ["behaviour_changes"]


def _scenarios(version: Version) -> dict[str, tuple[dict[str, Any], str]]:
    """test-case id -> (patient Bundle, evaluation date-time)."""
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for library in version.test_cases:
        contained = {r.get("id"): r for r in library.get("contained") or []}
        bundle = contained.get("input-data")
        params = (contained.get("input-parameters") or {}).get("parameter") or []
        when = next((p.get("valueDateTime") for p in params if p.get("name") == "executionDateTime"), None)
        if bundle is not None and when:
            found[str(library.get("id"))] = (bundle, when)
    return found


def behaviour_changes(old: Version, new: Version, engine: Engine) -> list[tuple[str, Any]]:
    """(recommendation id, Change) for each recommendation whose result differs on some scenario."""
    from generator.diff.compare import Change

    scenarios = {**_scenarios(old), **_scenarios(new)}
    if not scenarios:
        return []
    appliers = [Applier(Artifacts.from_resources(v.resources, source=v.label), engine) for v in (old, new)]
    flips: dict[str, list[str]] = {}
    for sid, (bundle, when) in sorted(scenarios.items()):
        try:
            before, after = (set(a.apply(bundle, when).applicable) for a in appliers)
        except ApplyError:
            continue  # a scenario the other version cannot evaluate shows up as a structural change
        for rid in sorted(before ^ after):
            effect = "now applies" if rid in after else "no longer applies"
            flips.setdefault(rid, []).append(f"{sid.removeprefix('test-')} ({effect})")
    return [(rid, Change("behaviour", "result changes on scenario(s): " + ", ".join(items), None, items))
            for rid, items in flips.items()]
