"""Layer 4, profiles: enforce what each claimed `meta.profile` requires.

The rules are data (`generator/validate/profiles/`), written from the CPG 2.0.0, CRMI
1.0.0 and CQL IG facts; this module only interprets them. Conformance is layered as in
the guides: a resource may claim several independent profiles and each is checked, plus
the parents of CPG domain profiles (pathway -> computable PlanDefinition). Allowed
`definitionCanonical` targets are checked across the whole set: a target claiming an allowed
profile is checked as such on its own; one that claims none must conform to one of them (its
rules are run on it), since R4 conformance does not depend on the claim.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from generator.diagnostics import Diagnostic
from generator.graphs import reachable
from generator.validate._base import _compiled
from generator.validate._model import Artifact, items, profiles_of, ref_of, split_canonical, walk_actions
from generator.validate._rules import diag
from generator.validate.profiles import ProfileSpec, all_profiles


@functools.lru_cache(maxsize=1)
def _specs() -> dict[str, ProfileSpec]:
    return all_profiles()


def ancestors(url: str) -> set[str]:
    """The profile and every profile it derives from, by canonical."""
    specs = _specs()
    return reachable(url, lambda u: specs[u].parents if u in specs else ())


def conforms_claim(resource: dict[str, Any], allowed: tuple[str, ...]) -> bool:
    claimed: set[str] = set()
    for p in profiles_of(resource):
        claimed |= ancestors(p)
    return any(a in claimed for a in allowed)


def _children(node: Any, name: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    if name.endswith("[x]"):
        root = name[:-3]
        out: list[Any] = []
        for key, value in node.items():
            if key.startswith(root) and len(key) > len(root) and key[len(root)].isupper():
                out.extend(items(value))
        return out
    return items(node.get(name))


def _contexts(resource: dict[str, Any], path: str) -> tuple[list[tuple[str, Any]], list[str]]:
    """Split a rule path into the nodes it starts from and the remaining element names."""
    parts = path.split(".")
    if parts[0] == "action" and len(parts) > 1 and resource.get("resourceType") == "PlanDefinition":
        return list(walk_actions(resource)), parts[1:]
    return [(resource["resourceType"], resource)], parts


def _navigate(start: list[tuple[str, Any]], names: list[str]) -> list[tuple[str, Any]]:
    nodes = start
    for name in names:
        nxt: list[tuple[str, Any]] = []
        for fp, node in nodes:
            values = _children(node, name)
            shown = name.replace("[x]", "")
            for i, v in enumerate(values):
                nxt.append((f"{fp}.{shown}[{i}]" if len(values) > 1 else f"{fp}.{shown}", v))
        nodes = nxt
    return nodes


def values_at(resource: dict[str, Any], path: str) -> list[tuple[str, Any]]:
    start, names = _contexts(resource, path)
    return _navigate(start, names)


def _codings(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if "coding" in value:
        return [c for c in items(value.get("coding")) if isinstance(c, dict)]
    return [value] if "code" in value or "system" in value else []


class _Checker:
    def __init__(self, artifacts: list[Artifact], *, check_targets: bool = True):
        self.check_targets = check_targets
        self.diags: list[Diagnostic] = []
        self.by_url: dict[str, list[dict[str, Any]]] = {}
        for a in artifacts:
            url = a.resource.get("url")
            if isinstance(url, str):
                self.by_url.setdefault(url, []).append(a.resource)

    def resolve(self, canonical: str, container: dict[str, Any]) -> dict[str, Any] | None:
        if canonical.startswith("#"):  # a contained resource of the referring one
            return next((c for c in items(container.get("contained"))
                         if isinstance(c, dict) and c.get("id") == canonical[1:]), None)
        url, version = split_canonical(canonical)
        candidates = self.by_url.get(url, [])
        if version is not None:
            candidates = [c for c in candidates if c.get("version") == version]
        return candidates[0] if candidates else None

    def check(self, res: dict[str, Any]) -> None:
        specs = _specs()
        ref = ref_of(res)
        applied: set[str] = set()
        for claimed in profiles_of(res):
            spec = specs.get(claimed)
            if spec is None:
                self.diags.append(
                    diag("profile.unknown", f"no rules for claimed profile {claimed}; it is not checked", resource=ref,
                         path=f"{res['resourceType']}.meta.profile")
                )
                continue
            for url in sorted(ancestors(claimed)):
                if url in applied or url not in specs:
                    continue
                applied.add(url)
                self.apply(specs[url], res, ref, claimed)

    def conformance_problem(self, target: dict[str, Any], allowed: tuple[str, ...]) -> str | None:
        """None when `target` meets every rule of one allowed profile (claimed or not), else the
        first problem found against the first allowed profile of its type."""
        specs = _specs()
        first: str | None = None
        for url in allowed:
            if url not in specs or specs[url].type != target.get("resourceType"):
                continue
            scratch = _Checker([], check_targets=False)
            for parent in sorted(ancestors(url)):
                if parent in specs:
                    scratch.apply(specs[parent], target, ref_of(target), url)
            errors = [d for d in scratch.diags if d.is_error]
            if not errors:
                return None
            first = first or f"as {url.rsplit('/', 1)[-1]}: {errors[0].message} at {errors[0].path}"
        return first or f"it is a {target.get('resourceType')}"

    def apply(self, spec: ProfileSpec, res: dict[str, Any], ref: str, claimed: str) -> None:
        name = spec.url.rsplit("/", 1)[-1]
        if spec.type != res["resourceType"]:
            self.diags.append(diag("profile.unknown", f"{name} profiles {spec.type}, not {res['resourceType']}", resource=ref,
                                   path=f"{res['resourceType']}.meta.profile"))
            return
        via = "" if spec.url == claimed else f" (via {claimed.rsplit('/', 1)[-1]})"
        for card in spec.cards:
            start, names = _contexts(res, card.path)
            parents = _navigate(start, names[:-1])
            for fp, node in parents:
                count = len(_children(node, names[-1]))
                where = f"{fp}.{names[-1].replace('[x]', '')}"
                if card.max == 0 and count:
                    self.diags.append(diag("profile.prohibited", f"{name}{via} prohibits {card.path}", resource=ref, path=where))
                elif count < card.min:
                    self.diags.append(diag("profile.cardinality", f"{name}{via} requires {card.path} (min {card.min}, found {count})",
                                           resource=ref, path=where))
                elif card.max is not None and count > card.max:
                    self.diags.append(diag("profile.cardinality", f"{name}{via} allows at most {card.max} {card.path} (found {count})",
                                           resource=ref, path=where))
        for fixed in spec.fixed:
            for fp, value in values_at(res, fixed.path):
                if value != fixed.value:
                    self.diags.append(diag("profile.fixed", f"{name}{via} fixes {fixed.path} to {fixed.value!r}, found {value!r}",
                                           resource=ref, path=fp))
        for pattern in spec.patterns:
            for fp, value in values_at(res, pattern.path):
                if not any(c.get("system") == pattern.system and c.get("code") == pattern.code for c in _codings(value)):
                    self.diags.append(diag("profile.pattern", f"{name}{via} requires {pattern.path} to include {pattern.system}#{pattern.code}",
                                           resource=ref, path=fp))
        for eb in spec.extension_bindings:
            nodes = list(walk_actions(res)) if eb.context == "action" else [(res["resourceType"], res)]
            for fp, node in nodes:
                for i, ext in enumerate(items(node.get("extension")) if isinstance(node, dict) else []):
                    if not isinstance(ext, dict) or ext.get("url") != eb.url:
                        continue
                    if "valueCode" in ext:
                        pairs = [(None, ext["valueCode"])]
                    else:
                        value = ext.get("valueCodeableConcept") or ext.get("valueCoding")
                        pairs = [(c.get("system"), c.get("code")) for c in _codings(value)]
                    bad = [code for system, code in pairs
                           if code not in eb.codes or (eb.system and system is not None and system != eb.system)]
                    if bad or not pairs:
                        self.diags.append(diag("profile.binding",
                                               f"{eb.url.rsplit('/', 1)[-1]} must be one of {sorted(eb.codes)}"
                                               + (f" from {eb.system}" if eb.system else "") + f", found {bad or 'no code'}",
                                               resource=ref, path=f"{fp}.extension[{i}]"))
        for inv in spec.invariants:
            fn = _compiled(inv.expression)
            result = fn(res, {"resource": res, "rootResource": res}) if fn is not None else None
            if result == [False]:
                self.diags.append(diag("profile.invariant", f"{inv.key}: {inv.human} ({name})", resource=ref,
                                       path=res["resourceType"]))
        for target in spec.targets if self.check_targets else ():
            for fp, value in values_at(res, target.path):
                if not isinstance(value, str):
                    continue
                found = self.resolve(value, res)
                if found is None:
                    continue  # the references layer reports unresolved canonicals
                if conforms_claim(found, target.allowed):
                    continue  # a claimed profile is checked on the target itself
                problem = self.conformance_problem(found, target.allowed)
                if problem is not None:
                    allowed = " or ".join(a.rsplit("/", 1)[-1] for a in target.allowed)
                    self.diags.append(diag("profile.target", f"{name}{via}: {target.path} must point to a {allowed}; "
                                           f"{ref_of(found)} claims {profiles_of(found) or 'no profile'} and does not "
                                           f"conform ({problem})", resource=ref, path=fp))


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    checker = _Checker(artifacts)
    for a in artifacts:
        checker.check(a.resource)
    return checker.diags


def iter_specs() -> Iterator[ProfileSpec]:
    yield from _specs().values()


def compile_invariants() -> None:
    """Compile every profile invariant's FHIRPath now (kept by `_compiled`, per process)."""
    for spec in _specs().values():
        for invariant in spec.invariants:
            _compiled(invariant.expression)
