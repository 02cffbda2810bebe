"""What changed between two versions of a guideline, per recommendation, and the version bump it needs.

Read from the built FHIR artifacts (not the Python definitions), so any two builds compare:
recommendation PlanDefinitions (eca-rule) with their grade extensions, applicability (the CQL
define and every define it uses), the ActivityDefinitions they instantiate, citations, value set
contents and metadata. Canonical versions (`|0.1.0`) are ignored: every artifact carries the
guideline version, which is what a diff is expected to change.

Semantic version rules (`BUMP_RULES`): major when a consumer relying on the old version gets a
different or missing order: a recommendation removed, its direction reversed, an activity removed
or its code / do-not-perform changed, or a scenario's result changes; minor for additions and
re-grading, applicability, dose/timing/priority and value set changes that keep every scenario's
result; patch for text, metadata and sources.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from generator.canonicals import CPG_DIRECTION_OF_RECOMMENDATION, CQF_QUALITY_OF_EVIDENCE, CQF_STRENGTH_OF_RECOMMENDATION
from generator.diagnostics import Diagnostic, GeneratorError
from generator.diff.versions import Version

__all__ = ["Change", "RecommendationChanges", "Diff", "diff_versions", "changes_since", "BUMP_RULES"]

MAJOR, MINOR, PATCH, NONE = "major", "minor", "patch", "none"
_RANK = {NONE: 0, PATCH: 1, MINOR: 2, MAJOR: 3}

#: change kind -> bump
BUMP_RULES = {
    "removed": MAJOR, "direction": MAJOR, "activity-removed": MAJOR, "activity-code": MAJOR, "behaviour": MAJOR,
    "added": MINOR, "strength": MINOR, "certainty": MINOR, "applicability": MINOR, "activity-added": MINOR,
    "dose": MINOR, "timing": MINOR, "priority": MINOR, "value-set": MINOR,
    "sources": PATCH, "metadata": PATCH, "activity-text": PATCH, "strategy": MINOR,
}

_GRADE = {"strength": CQF_STRENGTH_OF_RECOMMENDATION, "direction": CPG_DIRECTION_OF_RECOMMENDATION,
          "certainty": CQF_QUALITY_OF_EVIDENCE}
_ACTIVITY_GROUPS = {
    "activity-code": ("kind", "code", "productCodeableConcept", "productReference", "doNotPerform", "bodySite"),
    "dose": ("dosage", "quantity"),
    "timing": ("timingTiming", "timingDuration", "timingPeriod", "timingRange", "timingAge", "timingDateTime"),
    "priority": ("priority",),
}
_NOT_METADATA = {"text", "meta", "version", "date", "extension", "action", "relatedArtifact", "library", "url",
                 "id", "name"}


@dataclass
class Change:
    kind: str
    detail: str
    old: Any = None
    new: Any = None

    @property
    def bump(self) -> str:
        return BUMP_RULES.get(self.kind, PATCH)


@dataclass
class RecommendationChanges:
    id: str
    status: str  # added / removed / changed
    changes: list[Change] = field(default_factory=list)


@dataclass
class Diff:
    old: str
    new: str
    old_version: str | None
    new_version: str | None
    recommendations: list[RecommendationChanges] = field(default_factory=list)
    value_sets: list[Change] = field(default_factory=list)
    plans: list[Change] = field(default_factory=list)  # the pathway and strategies themselves
    behaviour_checked: bool = False

    @property
    def all_changes(self) -> list[Change]:
        return [c for r in self.recommendations for c in r.changes] + self.value_sets + self.plans

    @property
    def bump(self) -> str:
        return max((c.bump for c in self.all_changes), key=_RANK.__getitem__, default=NONE)

    @property
    def reasons(self) -> list[str]:
        """Why the proposed bump: the changes that require it."""
        wanted = self.bump
        out = []
        for rec in self.recommendations:
            out += [f"{rec.id}: {c.detail}" for c in rec.changes if c.bump == wanted]
        out += [c.detail for c in self.value_sets + self.plans if c.bump == wanted]
        return out

    @property
    def breaking(self) -> bool:
        return self.bump == MAJOR

    @property
    def declared_bump(self) -> str | None:
        """The bump NEW's version number declares over OLD's (None when either is not major.minor.patch)."""
        old, new = _semver(self.old_version), _semver(self.new_version)
        if old is None or new is None:
            return None
        if new[0] != old[0]:
            return MAJOR if new[0] > old[0] else NONE
        if new[1] != old[1]:
            return MINOR if new[1] > old[1] else NONE
        return PATCH if new[2] > old[2] else NONE

    @property
    def declared_enough(self) -> bool | None:
        declared = self.declared_bump
        return None if declared is None else _RANK[declared] >= _RANK[self.bump]


def _semver(version: str | None) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(?:[-+].*)?", version or "")
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


# --- reading one version -----------------------------------------------------------------------------

def _unversioned(value: Any, version: str | None) -> Any:
    """The value with `|<version>` stripped from canonicals (every artifact carries the guideline version)."""
    if not version:
        return value
    text = json.dumps(value, sort_keys=True).replace(f"|{version}", "")
    return json.loads(text)


def _plan_type(resource: dict[str, Any]) -> str | None:
    codings = (resource.get("type") or {}).get("coding") or []
    return codings[0].get("code") if codings else None


def _cql_texts(resources: list[dict[str, Any]], label: str) -> Iterator[str]:
    """The text of every CQL attachment of every Library (DIFF008 when one is not base64)."""
    for library in resources:
        if library.get("resourceType") != "Library":
            continue
        for index, content in enumerate(library.get("content") or []):
            if not str(content.get("contentType", "")).startswith("text/cql") or "data" not in content:
                continue
            try:
                data = base64.b64decode(content["data"])
            except (binascii.Error, TypeError) as exc:
                raise GeneratorError([Diagnostic(
                    "DIFF008", f"{label}: the CQL attachment is not base64: {exc}",
                    resource=f"Library/{library.get('id')}", path=f"Library.content[{index}].data")],
                    exit_code=2) from exc
            yield data.decode("utf-8", "replace")


def _cql_defines(texts: list[str]) -> dict[str, str]:
    """define name -> body text, from every logic Library's CQL attachment."""
    defines: dict[str, str] = {}
    for text in texts:
        for match in re.finditer(r'^define\s+(?:function\s+)?("(?:[^"\\]|\\.)*"|\w+)[^\n]*:\n(.*?)(?=^\S|\Z)',
                                 text, re.M | re.S):
            defines[match.group(1).strip('"')] = match.group(2).strip()
    return defines


def _cql_value_sets(texts: list[str]) -> dict[str, str]:
    """valueset name -> url, from the `valueset "Name": 'url'` declarations of every CQL library."""
    found: dict[str, str] = {}
    for text in texts:
        for match in re.finditer(r"""^valueset\s+"((?:[^"\\]|\\.)*)"\s*:\s*'([^']*)'""", text, re.M):
            found[match.group(1)] = match.group(2).split("|")[0]
    return found


def _closure(name: str, defines: dict[str, str]) -> dict[str, str]:
    """The define and every define it uses (by quoted name), transitively."""
    seen: dict[str, str] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in defines:
            continue
        seen[current] = defines[current]
        todo += re.findall(r'"((?:[^"\\]|\\.)*)"', defines[current])
    return dict(sorted(seen.items()))


@dataclass
class _Rec:
    resource: dict[str, Any]
    grade: dict[str, Any]
    applicability: dict[str, str]
    value_sets: set[str]  # urls of the value sets its applicability retrieves by
    activities: dict[str, dict[str, Any]]
    sources: Any
    metadata: dict[str, Any]


def _recommendations(version: Version) -> dict[str, _Rec]:
    resources = version.resources
    v = version.guideline_version
    by_url = {r.get("url"): r for r in resources if r.get("url")}
    texts = list(_cql_texts(resources, version.label))
    defines = _cql_defines(texts)
    value_set_names = _cql_value_sets(texts)
    recs: dict[str, _Rec] = {}
    for pd in resources:
        if pd.get("resourceType") != "PlanDefinition" or _plan_type(pd) != "eca-rule":
            continue
        actions = pd.get("action") or []
        grade: dict[str, Any] = {}
        applicability: dict[str, str] = {}
        activities: dict[str, dict[str, Any]] = {}
        documentation: list[Any] = []
        for action in actions:
            for ext in action.get("extension") or []:
                for kind, url in _GRADE.items():
                    if ext.get("url") == url:
                        codings = (ext.get("valueCodeableConcept") or {}).get("coding") or [{}]
                        grade[kind] = codings[0].get("code")
            for condition in action.get("condition") or []:
                expression = (condition.get("expression") or {}).get("expression")
                if expression:
                    applicability.update(_closure(expression, defines) or {expression: "(define not found)"})
            documentation += action.get("documentation") or []
            for sub in [action, *(action.get("action") or [])]:
                canonical = sub.get("definitionCanonical")
                if canonical:
                    ad = by_url.get(canonical.split("|")[0]) or {}
                    activities[ad.get("id") or canonical] = _unversioned(
                        {k: val for k, val in ad.items() if k not in ("text", "meta", "version", "date")}, v)
        metadata = _unversioned({k: val for k, val in pd.items() if k not in _NOT_METADATA}, v)
        used = {value_set_names[name] for body in applicability.values()
                for name in re.findall(r'"((?:[^"\\]|\\.)*)"', body) if name in value_set_names}
        recs[str(pd.get("id"))] = _Rec(pd, grade, applicability, used, activities,
                                       _unversioned([pd.get("relatedArtifact"), documentation], v), metadata)
    return recs


def _value_sets(version: Version) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for vs in version.resources:
        if vs.get("resourceType") != "ValueSet":
            continue
        codes: set[tuple[str, str]] = set()
        for include in ((vs.get("compose") or {}).get("include") or []):
            codes |= {(include.get("system", ""), c.get("code", "")) for c in include.get("concept") or []}
        for c in ((vs.get("expansion") or {}).get("contains") or []):
            codes.add((c.get("system", ""), c.get("code", "")))
        found[str(vs.get("url") or vs.get("id"))] = codes
    return found


# --- comparing ---------------------------------------------------------------------------------------

def _compare_rec(rid: str, old: _Rec, new: _Rec) -> list[Change]:
    changes: list[Change] = []
    for kind in ("direction", "strength", "certainty"):
        if old.grade.get(kind) != new.grade.get(kind):
            changes.append(Change(kind, f"{kind} {old.grade.get(kind) or 'none'} -> {new.grade.get(kind) or 'none'}",
                                  old.grade.get(kind), new.grade.get(kind)))
    if old.applicability != new.applicability:
        names = sorted(n for n in {*old.applicability, *new.applicability}
                       if old.applicability.get(n) != new.applicability.get(n))
        changes.append(Change("applicability", "applicability CQL changed (" + ", ".join(names) + ")",
                              old.applicability, new.applicability))
    for aid in sorted(set(old.activities) - set(new.activities)):
        changes.append(Change("activity-removed", f"activity {aid} removed"))
    for aid in sorted(set(new.activities) - set(old.activities)):
        changes.append(Change("activity-added", f"activity {aid} added"))
    for aid in sorted(set(old.activities) & set(new.activities)):
        a, b = old.activities[aid], new.activities[aid]
        grouped: set[str] = set()
        for kind, keys in _ACTIVITY_GROUPS.items():
            grouped.update(keys)
            before, after = {k: a.get(k) for k in keys}, {k: b.get(k) for k in keys}
            if before != after:
                fields = ", ".join(k for k in keys if before[k] != after[k])
                changes.append(Change(kind, f"activity {aid}: {fields} changed",
                                      {k: v for k, v in before.items() if v is not None},
                                      {k: v for k, v in after.items() if v is not None}))
        rest_a = {k: v for k, v in a.items() if k not in grouped}
        rest_b = {k: v for k, v in b.items() if k not in grouped}
        if rest_a != rest_b:
            fields = ", ".join(sorted(k for k in {*rest_a, *rest_b} if rest_a.get(k) != rest_b.get(k)))
            changes.append(Change("activity-text", f"activity {aid}: {fields} changed"))
    if old.sources != new.sources:
        changes.append(Change("sources", "sources / citations changed"))
    if old.metadata != new.metadata:
        fields = ", ".join(sorted(k for k in {*old.metadata, *new.metadata}
                                  if old.metadata.get(k) != new.metadata.get(k)))
        changes.append(Change("metadata", f"{fields} changed"))
    return changes


def _plans(version: Version) -> dict[str, dict[str, Any]]:
    """Pathway and strategy PlanDefinitions (everything but recommendations), metadata only, by id."""
    v = version.guideline_version
    return {str(pd.get("id")): _unversioned({k: val for k, val in pd.items() if k not in _NOT_METADATA}, v)
            for pd in version.resources
            if pd.get("resourceType") == "PlanDefinition" and _plan_type(pd) != "eca-rule"}


def _plan_changes(old: Version, new: Version) -> list[Change]:
    """The pathway's and strategies' own changes: strategies added or removed, their text and metadata."""
    before, after = _plans(old), _plans(new)
    changes = [Change("strategy", f"plan {pid} removed") for pid in before if pid not in after]
    changes += [Change("strategy", f"plan {pid} added") for pid in after if pid not in before]
    for pid in [p for p in before if p in after]:
        fields = sorted(k for k in {*before[pid], *after[pid]} if before[pid].get(k) != after[pid].get(k))
        if fields:
            changes.append(Change("metadata", f"plan {pid}: {', '.join(fields)} changed"))
    return changes


def diff_versions(old: Version, new: Version, *, engine: Any | None = None) -> Diff:
    """Compare two versions; with an `engine`, also run every scenario of either version on both."""
    if old.pathway_url != new.pathway_url:
        raise GeneratorError([Diagnostic("DIFF006", f"{old.label} and {new.label} are different guidelines (pathway "
                                         f"{old.pathway_url} vs {new.pathway_url})")], exit_code=2)
    diff = Diff(old.label, new.label, old.guideline_version, new.guideline_version)
    before, after = _recommendations(old), _recommendations(new)
    for rid in [*before, *[r for r in after if r not in before]]:
        if rid not in after:
            diff.recommendations.append(RecommendationChanges(rid, "removed", [Change("removed", "removed")]))
        elif rid not in before:
            diff.recommendations.append(RecommendationChanges(rid, "added", [Change("added", "added")]))
        else:
            changes = _compare_rec(rid, before[rid], after[rid])
            if changes:
                diff.recommendations.append(RecommendationChanges(rid, "changed", changes))
    diff.plans = _plan_changes(old, new)
    vs_old, vs_new = _value_sets(old), _value_sets(new)
    for url in sorted({*vs_old, *vs_new}):
        a, b = vs_old.get(url), vs_new.get(url)
        if a == b:
            continue
        if a is None or b is None:
            diff.value_sets.append(Change("value-set", f"value set {url} {'added' if a is None else 'removed'}"))
        else:
            plus = ", ".join(f"{s}|{c}" for s, c in sorted(b - a))
            minus = ", ".join(f"{s}|{c}" for s, c in sorted(a - b))
            diff.value_sets.append(Change("value-set", f"value set {url}: " + "; ".join(
                part for part in (f"added {plus}" if plus else "", f"removed {minus}" if minus else "") if part),
                sorted(a), sorted(b)))
    _attribute_value_sets(diff, after, vs_old, vs_new)
    if engine is not None:
        from generator.diff.behaviour import behaviour_changes

        for rid, change in behaviour_changes(old, new, engine):
            entry = next((r for r in diff.recommendations if r.id == rid), None)
            if entry is None:
                entry = RecommendationChanges(rid, "changed")
                diff.recommendations.append(entry)
            if entry.status == "changed":
                entry.changes.append(change)
        diff.behaviour_checked = True
    return diff


def _attribute_value_sets(diff: Diff, recs: dict[str, _Rec], vs_old: dict[str, set[tuple[str, str]]],
                          vs_new: dict[str, set[tuple[str, str]]]) -> None:
    """List a changed value set under every (kept) recommendation whose applicability retrieves by it."""
    changed = {url for url in {*vs_old, *vs_new} if url in vs_old and url in vs_new and vs_old[url] != vs_new[url]}
    for rid, rec in recs.items():
        for url in sorted(rec.value_sets & changed):
            entry = next((r for r in diff.recommendations if r.id == rid), None)
            if entry is None:
                entry = RecommendationChanges(rid, "changed")
                diff.recommendations.append(entry)
            if entry.status == "changed":
                entry.changes.append(Change("value-set", f"its applicability uses value set {url}, whose contents "
                                            "changed"))


def changes_since(old: Version | str, new: Version | str, *, engine: Any | None = None) -> Diff:
    """What a site's "Changes since <version>" section lists: `diff_versions`, with either side also given
    as anything `cpg diff` accepts (built folder, package, git revision)."""
    from generator.diff.versions import load_version

    before = old if isinstance(old, Version) else load_version(old)
    after = new if isinstance(new, Version) else load_version(new)
    return diff_versions(before, after, engine=engine)
