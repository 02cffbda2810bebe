"""ValueSet compose semantics decidable without a terminology server.

The author check (TERM004-TERM006, RULES phase) and the validator rule `term.expansion-compose`
ask the same question of a published ValueSet: does its `expansion` agree with its `compose`?
Offline we can decide explicit concept lists and regex filters (ICD-10-CM prefixes and ranges);
an `is-a` filter we can only partly decide (the root concept must be in the expansion, and a
code of another system cannot descend from it), so such codes are accepted, not proven.

The expansion file an author checks in (definitions/<guideline>/<path>.json) is either
`{"source": ..., "date": "YYYY-MM-DD", "contains": [{"system", "code", "display"}, ...]}`
or a FHIR ValueSet with `expansion.contains` (an export of `$expand`) plus `source`/`date`
at its top level or `expansion.identifier` / `expansion.timestamp`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.readers import InputError, read_json

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Expansion:
    source: str
    date: str  # YYYY-MM-DD
    contains: list[dict[str, str]]  # flat, sorted by (system, code)


class ExpansionError(ValueError):
    """The expansion file is missing or malformed; the message says which and why."""


def compose_of(codes: Iterable[Any], rules: Iterable[Any]) -> dict[str, Any]:
    """The FHIR compose of a model ValueSet: listed codes per system, then one include per rule."""
    by_system: dict[str, list[dict[str, str]]] = {}
    for code in sorted(codes, key=lambda c: c.system):
        by_system.setdefault(code.system, []).append({"code": code.code, "display": code.display})
    includes: list[dict[str, Any]] = [{"system": s, "concept": c} for s, c in by_system.items()]
    for rule in rules:
        includes.append({"system": rule.system, "filter": [rule_filter(rule)]})
    return {"include": includes}


def rule_filter(rule: Any) -> dict[str, str]:
    """is-a -> concept is-a; an ICD-10-CM prefix or category range -> a code regex (decidable offline)."""
    if rule.kind == "is-a":
        return {"property": "concept", "op": "is-a", "value": rule.value}
    if rule.kind == "prefix":
        return {"property": "code", "op": "regex", "value": re.escape(rule.value) + ".*"}
    letter, first, last = rule.value[0], int(rule.value[1:]), int(rule.to[1:])
    categories = "|".join(f"{letter}{n:02d}" for n in range(first, last + 1))
    return {"property": "code", "op": "regex", "value": f"({categories})(\\..*)?"}


def read_expansion(path: Path) -> Expansion:
    if not path.is_file():
        raise ExpansionError(f"expansion file {path} not found")
    try:
        data = read_json(path)
    except InputError as exc:
        raise ExpansionError(f"expansion file {path} is not readable JSON: {exc.message}") from None
    if not isinstance(data, dict):
        raise ExpansionError(f"expansion file {path} is not a JSON object")
    inner = data.get("expansion") if data.get("resourceType") == "ValueSet" else data
    if not isinstance(inner, dict):
        raise ExpansionError(f"expansion file {path}: a ValueSet without `expansion`")
    source = data.get("source") or inner.get("identifier")
    date = data.get("date") or inner.get("timestamp")
    if not isinstance(source, str) or not source.strip():
        raise ExpansionError(f"expansion file {path} does not say its `source` (terminology server, release)")
    if not isinstance(date, str) or not DATE.match(date):
        raise ExpansionError(f"expansion file {path} has no `date` (YYYY-MM-DD) of the expansion")
    contains = list(flatten(inner.get("contains") or []))
    if not contains:
        raise ExpansionError(f"expansion file {path} has an empty `contains`")
    for entry in contains:
        if not isinstance(entry.get("system"), str) or not isinstance(entry.get("code"), str):
            raise ExpansionError(f"expansion file {path}: every entry needs a system and a code, got {entry!r:.80}")
    unique = {(c["system"], c["code"]): c for c in contains}
    return Expansion(source.strip(), date[:10], [unique[k] for k in sorted(unique)])


def flatten(contains: Iterable[Any]) -> Iterator[dict[str, str]]:
    """Hierarchical `contains` (nested entries) as a flat list of codings."""
    for entry in contains:
        if not isinstance(entry, Mapping):
            continue
        if "code" in entry:
            yield {k: entry[k] for k in ("system", "code", "display") if k in entry}
        yield from flatten(entry.get("contains") or [])


def admits(include: Mapping[str, Any], system: str, code: str) -> bool | None:
    """Does one compose include (or exclude) take system|code? None when undecidable offline."""
    if include.get("system") is None and include.get("valueSet"):
        return None  # another value set: not expanded here
    if include.get("system") != system:
        return False
    concepts = include.get("concept")
    if concepts:
        return any(c.get("code") == code for c in concepts)
    verdict: bool | None = True
    for f in include.get("filter") or []:
        op, value = f.get("op"), str(f.get("value", ""))
        if op == "regex" and f.get("property") in ("code", "concept"):
            ok: bool | None = re.fullmatch(value, code) is not None
        elif op in ("is-a", "descendent-of") and f.get("property") == "concept":
            ok = True if (op == "is-a" and code == value) else None
        else:
            ok = None
        if ok is False:
            return False
        if ok is None:
            verdict = None
    return verdict


def disagreements(compose: Mapping[str, Any], contains: list[Mapping[str, Any]]) -> list[str]:
    """Why `contains` is not an expansion of `compose` (empty when it agrees, as far as offline can tell)."""
    problems: list[str] = []
    includes = list(compose.get("include") or [])
    excludes = list(compose.get("exclude") or [])
    present = {(c.get("system"), c.get("code")) for c in contains}
    for entry in contains:
        system, code = str(entry.get("system")), str(entry.get("code"))
        verdicts = [admits(inc, system, code) for inc in includes]
        if not any(v is not False for v in verdicts):
            problems.append(f"{system}|{code} is in the expansion but no compose.include admits it")
        elif any(admits(exc, system, code) is True for exc in excludes):
            problems.append(f"{system}|{code} is in the expansion but compose.exclude removes it")
    for inc in includes:
        system = inc.get("system")
        for concept in inc.get("concept") or []:
            if (system, concept.get("code")) not in present:
                problems.append(f"{system}|{concept.get('code')} is listed in compose but missing from the expansion")
        for f in inc.get("filter") or []:
            if f.get("op") == "is-a" and (system, f.get("value")) not in present:
                problems.append(f"{system}|{f.get('value')} (is-a root, includes itself) is missing from the expansion")
        if inc.get("filter") and not any(admits(inc, str(c.get("system")), str(c.get("code"))) is not False
                                         for c in contains):
            problems.append(f"compose.include on {system} with filter {_show(inc['filter'])} matches nothing in the expansion")
    return problems


def _show(filters: list[Mapping[str, Any]]) -> str:
    return " and ".join(f"{f.get('property')} {f.get('op')} {f.get('value')}" for f in filters)
