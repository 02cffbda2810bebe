"""What a recommendation proposes, read back from the published FHIR, in a reviewer's words.

Read from the PlanDefinition actions and ActivityDefinitions as published (not from the author
model), so the page shows exactly what a FHIR consumer receives: priority, timing (absolute,
relative to another action, or a repeat), dose, "choose one of" groups and do-not-perform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.publish.narrative import coding_text, concept_display, concept_text

#: R4 action-selection-behavior, as a reviewer reads it.
SELECTION_WORDS = {
    "any": "any of these (one or more, or none)",
    "all": "all of these",
    "all-or-none": "all of these or none",
    "exactly-one": "choose exactly one of",
    "at-most-one": "choose at most one of",
    "one-or-more": "choose one or more of",
}

_UNITS = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month", "a": "year"}
_RELATIONSHIP = {
    "before-start": "before the start of", "before": "before", "before-end": "before the end of",
    "concurrent-with-start": "at the start of", "concurrent": "at the same time as",
    "concurrent-with-end": "at the end of", "after-start": "after the start of", "after": "after",
    "after-end": "after the end of",
}


def _plural(value: Any, unit: str) -> str:
    word = _UNITS.get(unit, unit)
    return f"{value:g} {word}{'' if value == 1 or word == unit else 's'}" if isinstance(value, (int, float)) \
        else f"{value} {word}"


def quantity_text(quantity: Mapping[str, Any] | None) -> str | None:
    if not quantity or quantity.get("value") is None:
        return None
    return _plural(quantity["value"], str(quantity.get("code") or quantity.get("unit") or ""))


def range_text(rng: Mapping[str, Any] | None) -> str | None:
    if not rng:
        return None
    low, high = quantity_text(rng.get("low")), quantity_text(rng.get("high"))
    if low and high:
        lv, hv = rng["low"]["value"], rng["high"]["value"]
        unit = str(rng["high"].get("code") or rng["high"].get("unit") or "")
        same = (rng["low"].get("code") or rng["low"].get("unit")) == (rng["high"].get("code") or rng["high"].get("unit"))
        return f"{lv:g}–{_plural(hv, unit)}" if same else f"{low} to {high}"
    if low:
        return f"at least {low}"
    return f"at most {high}" if high else None


def timing_text(element: Mapping[str, Any]) -> str | None:
    """`timing[x]` of an action or ActivityDefinition in words (None when there is none)."""
    if "timingDateTime" in element:
        return f"on {element['timingDateTime']}"
    if "timingAge" in element:
        return f"at age {quantity_text(element['timingAge'])}"
    if "timingDuration" in element:
        return f"for {quantity_text(element['timingDuration'])}"
    if "timingRange" in element:
        return f"at {range_text(element['timingRange'])}"
    if "timingPeriod" in element:
        period = element["timingPeriod"]
        return f"from {period.get('start', '?')} to {period.get('end', '?')}"
    timing = element.get("timingTiming")
    if timing:
        return repeat_text(timing)
    return None


def repeat_text(timing: Mapping[str, Any]) -> str | None:
    parts: list[str] = []
    code = concept_display(timing.get("code"))
    if code:
        parts.append(code)
    repeat = timing.get("repeat", {})
    if repeat.get("frequency") and repeat.get("period"):
        parts.append(f"{repeat['frequency']} time(s) every {_plural(repeat['period'], repeat.get('periodUnit', ''))}")
    if "boundsDuration" in repeat:
        parts.append(f"for {quantity_text(repeat['boundsDuration'])}")
    if "boundsRange" in repeat:
        parts.append(f"for {range_text(repeat['boundsRange'])}")
    if "boundsPeriod" in repeat:
        period = repeat["boundsPeriod"]
        parts.append(f"from {period.get('start', '?')} to {period.get('end', '?')}")
    return ", ".join(parts) or None


def related_text(action: Mapping[str, Any], titles: Mapping[str, str]) -> list[str]:
    """`relatedAction` as "starts 0–5 days after <title>"."""
    texts = []
    for related in action.get("relatedAction", []):
        other = titles.get(str(related.get("actionId")), str(related.get("actionId")))
        relation = _RELATIONSHIP.get(str(related.get("relationship")), str(related.get("relationship")))
        offset = quantity_text(related.get("offsetDuration")) or range_text(related.get("offsetRange"))
        texts.append(f"{offset + ' ' if offset else ''}{relation} “{other}”")
    return texts


def _with_note(coding: Mapping[str, Any], notes: Mapping[tuple[str, str], str]) -> str:
    """`Display (code)`, marked when the author could not confirm the code's meaning."""
    note = notes.get((str(coding.get("system")), str(coding.get("code"))), "")
    return coding_text(dict(coding)) + (" [code meaning UNCONFIRMED]" if note.upper().startswith("UNCONFIRMED") else "")


def activity_view(resource: Mapping[str, Any] | None, fallback_title: str,
                  notes: Mapping[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """One ActivityDefinition as the page lists it (`notes`: the author's verification note by code)."""
    notes = notes or {}
    if resource is None:
        return {"title": fallback_title, "kind": None, "codes": [], "do_not": False, "dosages": [],
                "description": None, "file": None, "product": None, "priority": None, "timing": None}
    return {
        "title": resource.get("title") or fallback_title,
        "kind": resource.get("kind"),
        "codes": [_with_note(c, notes) for c in resource.get("code", {}).get("coding", [])],
        "product": " or ".join(_with_note(c, notes) for c in resource.get("productCodeableConcept", {}).get("coding", []))
                   or concept_text(resource.get("productCodeableConcept")),
        "do_not": bool(resource.get("doNotPerform")),
        "dosages": [d.get("text") for d in resource.get("dosage", []) if d.get("text")],
        "description": resource.get("description"),
        "priority": resource.get("priority"),
        "timing": timing_text(resource),
        "file": f"../resources/ActivityDefinition-{resource['id']}.json",
    }


def action_views(actions: list[Mapping[str, Any]], by_url: Mapping[str, Mapping[str, Any]],
                 titles: Mapping[str, str] | None = None,
                 notes: Mapping[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """The action tree under a recommendation: each proposal, or a group with its selection rule."""
    titles = dict(titles or {})
    titles.update({str(a["id"]): str(a.get("title") or a["id"]) for a in actions if a.get("id")})
    views = []
    for action in actions:
        canonical = str(action.get("definitionCanonical", "")).split("|", 1)[0]
        children = action.get("action", [])
        activity = activity_view(by_url.get(canonical), str(action.get("title") or canonical), notes) if canonical else None
        views.append({
            "title": action.get("title") or (activity or {}).get("title"),
            "priority": action.get("priority") or (activity or {}).get("priority"),
            # When the action is due (an offset from the anchor) and how the source words the
            # activity's timing ("for 4 weeks from fracture identification"): both, when they differ.
            "timing": " — ".join(dict.fromkeys(t for t in (timing_text(action), (activity or {}).get("timing")) if t))
                      or None,
            "related": related_text(action, titles),
            "choice": SELECTION_WORDS.get(str(action.get("selectionBehavior"))) if children else None,
            "activity": activity,
            "children": action_views(children, by_url, titles, notes),
        })
    return views
