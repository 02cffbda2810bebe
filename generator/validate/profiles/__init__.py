"""Profile rules as data, written by us from the CPG 2.0.0, CRMI 1.0.0 and Using CQL with
FHIR facts (not generated from the published StructureDefinitions, which we do not ship).

A `ProfileSpec` lists what `_profiles.py` enforces for one profile canonical. Paths are
dotted element names from the resource root; a path starting with `action.` applies to
every PlanDefinition action, nested ones included (the profiles' `action` constraints reach
`action.action` through its contentReference). A trailing `[x]` matches any choice type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.canonicals import CPG, CQLIG, CRMI  # re-exported: the profile modules import them from here


@dataclass(frozen=True)
class Card:
    """Cardinality: `min`..`max` occurrences at `path` inside each context node (max None = *)."""

    path: str
    min: int = 0
    max: int | None = None


@dataclass(frozen=True)
class Fixed:
    """The element, when present (or required by a Card), must equal `value` exactly."""

    path: str
    value: object


@dataclass(frozen=True)
class Pattern:
    """A CodeableConcept/Coding at `path` must contain a coding with this system and code."""

    path: str
    system: str
    code: str


@dataclass(frozen=True)
class ExtensionBinding:
    """Values of extension `url` on nodes at `context` ('' = root) must be codes from `codes`."""

    context: str
    url: str
    system: str | None
    codes: frozenset[str]


@dataclass(frozen=True)
class Invariant:
    """A FHIRPath expression evaluated on the resource; must be true."""

    key: str
    human: str
    expression: str


@dataclass(frozen=True)
class Target:
    """Canonicals at `path` must resolve (when in the set) to a resource conforming to one of `allowed`."""

    path: str
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class ProfileSpec:
    url: str
    type: str
    parents: tuple[str, ...] = ()
    cards: tuple[Card, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    extension_bindings: tuple[ExtensionBinding, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    targets: tuple[Target, ...] = ()
    notes: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def prohibited(*paths: str) -> tuple[Card, ...]:
    return tuple(Card(p, 0, 0) for p in paths)


def required(*paths: str) -> tuple[Card, ...]:
    return tuple(Card(p, 1, 1) for p in paths)


def all_profiles() -> dict[str, ProfileSpec]:
    from generator.validate.profiles import cpg, cql, crmi

    out: dict[str, ProfileSpec] = {}
    for module in (cpg, crmi, cql):
        for spec in module.PROFILES:
            out[spec.url] = spec
    return out
