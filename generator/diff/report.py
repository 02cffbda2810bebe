"""`cpg diff` output: a terminal changelog, a Markdown changelog, and JSON."""

from __future__ import annotations

from typing import Any

from generator.diff.compare import Diff

__all__ = ["as_text", "as_markdown", "as_json"]


def _heading(diff: Diff) -> str:
    return f"{diff.old} ({diff.old_version or '?'}) -> {diff.new} ({diff.new_version or '?'})"


def as_text(diff: Diff) -> str:
    lines = [f"cpg diff {_heading(diff)}"]
    for status in ("added", "removed", "changed"):
        group = [r for r in diff.recommendations if r.status == status]
        if not group:
            continue
        lines.append(f"{status}:")
        for rec in group:
            lines.append(f"  {rec.id}")
            if status == "changed":
                lines += [f"    [{c.kind}] {c.detail}" for c in rec.changes]
    if diff.value_sets:
        lines.append("value sets:")
        lines += [f"  {c.detail}" for c in diff.value_sets]
    if diff.plans:
        lines.append("pathway and strategies:")
        lines += [f"  [{c.kind}] {c.detail}" for c in diff.plans]
    if not diff.all_changes:
        lines.append("no changes")
    lines.append(f"proposed version bump: {diff.bump}" + (f" because {'; '.join(diff.reasons)}" if diff.reasons else ""))
    lines.append(_declared(diff))
    if not diff.behaviour_checked:
        lines.append("(behaviour not compared: no scenarios were run)")
    return "\n".join(lines)


def _declared(diff: Diff) -> str:
    declared = diff.declared_bump
    if declared is None:
        return f"declared version {diff.old_version} -> {diff.new_version}: not semantic versions, not checked"
    verdict = "enough" if diff.declared_enough else f"NOT enough: the changes need a {diff.bump} bump"
    return f"declared version {diff.old_version} -> {diff.new_version} ({declared}): {verdict}"


def as_markdown(diff: Diff) -> str:
    lines = [f"## Changes: {_heading(diff)}", "", f"Proposed version bump: **{diff.bump}**. {_declared(diff)}."]
    if diff.reasons:
        lines += ["", "Why:", *[f"- {r}" for r in diff.reasons]]
    for status, title in (("added", "Added"), ("removed", "Removed"), ("changed", "Changed")):
        group = [r for r in diff.recommendations if r.status == status]
        if not group:
            continue
        lines += ["", f"### {title}", ""]
        for rec in group:
            if status == "changed":
                lines.append(f"- `{rec.id}`: " + "; ".join(f"{c.detail} ({c.kind})" for c in rec.changes))
            else:
                lines.append(f"- `{rec.id}`")
    if diff.value_sets:
        lines += ["", "### Value sets", "", *[f"- {c.detail}" for c in diff.value_sets]]
    if diff.plans:
        lines += ["", "### Pathway and strategies", "", *[f"- {c.detail} ({c.kind})" for c in diff.plans]]
    return "\n".join(lines) + "\n"


def as_json(diff: Diff) -> dict[str, Any]:
    return {
        "old": {"source": diff.old, "version": diff.old_version},
        "new": {"source": diff.new, "version": diff.new_version},
        "bump": diff.bump, "reasons": diff.reasons, "breaking": diff.breaking,
        "declaredBump": diff.declared_bump, "declaredEnough": diff.declared_enough,
        "behaviourChecked": diff.behaviour_checked,
        "recommendations": [{"id": r.id, "status": r.status,
                             "changes": [{"kind": c.kind, "bump": c.bump, "detail": c.detail} for c in r.changes]}
                            for r in diff.recommendations],
        "valueSets": [{"kind": c.kind, "bump": c.bump, "detail": c.detail} for c in diff.value_sets],
        "plans": [{"kind": c.kind, "bump": c.bump, "detail": c.detail} for c in diff.plans],
    }
