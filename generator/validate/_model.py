"""Shared shapes for the validator: the input artifact, the options, small FHIR helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.canonicals import LOINC, RXNORM, SNOMED, UCUM

if TYPE_CHECKING:  # the translator bridge is optional at run time
    from generator.diagnostics import Diagnostic
    from generator.cql.translator import EarlyTranslator, Translator

DEFAULT_EXTERNAL_CANONICALS: frozenset[str] = frozenset(
    {
        "http://hl7.org/fhir/",
        "http://terminology.hl7.org/",
        SNOMED,
        LOINC,
        RXNORM,
        UCUM,
        "http://fhir.org/guides/cqf/common/",
        "urn:iso:std:iso:",
    }
)

CANONICAL_TYPES: frozenset[str] = frozenset(
    {
        "ActivityDefinition", "CapabilityStatement", "ChargeItemDefinition", "CodeSystem",
        "CompartmentDefinition", "ConceptMap", "EffectEvidenceSynthesis", "EventDefinition",
        "Evidence", "EvidenceVariable", "ExampleScenario", "GraphDefinition", "ImplementationGuide",
        "Library", "Measure", "MessageDefinition", "NamingSystem", "OperationDefinition",
        "PlanDefinition", "Questionnaire", "ResearchDefinition", "ResearchElementDefinition",
        "RiskEvidenceSynthesis", "SearchParameter", "StructureDefinition", "StructureMap",
        "TerminologyCapabilities", "TestScript", "ValueSet",
    }
)


@dataclass(frozen=True)
class Artifact:
    """A resource plus the file it came from (for messages); `validate` also takes bare dicts."""

    resource: dict[str, Any]
    source: str | None = None


@dataclass
class ValidationOptions:
    """Knobs for one validation run; the defaults are what `cpg validate` uses."""

    external_canonicals: frozenset[str] | set[str] = field(default_factory=lambda: set(DEFAULT_EXTERNAL_CANONICALS))
    cql: bool = True
    translator: "Translator | EarlyTranslator | None" = None  # reuse the caller's running translator (no second process)
    layers: frozenset[str] | None = None  # restrict to these layer names (None = all)
    closed: bool = False  # canonicals outside the validated set are errors, not warnings (`--closed`)
    dependencies: dict[str, str] = field(default_factory=dict)  # declared FHIR packages: name -> version
    package_cache: Path | None = None  # FHIR package cache holding the dependencies (default ~/.fhir/packages)
    source_root: Path | None = None  # the folder validated: where `.cql` files for Library content are looked up
    progress: "Callable[[int, int], None] | None" = None  # CQL layer: (libraries done, total), for terminals
    on_findings: "Callable[[list[Diagnostic]], None] | None" = None  # each layer's findings as they come (streaming)

    def is_external(self, canonical: str) -> bool:
        return any(canonical.startswith(prefix) for prefix in self.external_canonicals)


def as_artifacts(items: Iterable[Artifact | dict[str, Any]]) -> list[Artifact]:
    return [i if isinstance(i, Artifact) else Artifact(i) for i in items]


def ref_of(resource: dict[str, Any]) -> str:
    """`Type/id` for messages (`Type/?` when the id is missing)."""
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


def split_canonical(value: str) -> tuple[str, str | None]:
    """`url|version` -> (url, version); a `#fragment` is dropped."""
    value = value.split("#", 1)[0]
    url, sep, version = value.partition("|")
    return url, (version if sep else None)


def profiles_of(resource: dict[str, Any]) -> list[str]:
    """Claimed profiles without their `|version` suffix."""
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    if not isinstance(profiles, list):
        return []
    return [split_canonical(p)[0] for p in profiles if isinstance(p, str)]


def items(value: Any) -> list[Any]:
    """An element's values as a list whether it repeats or not."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def walk_actions(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every PlanDefinition action, nested ones included, with its FHIRPath."""

    def rec(actions: Any, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for i, action in enumerate(items(actions)):
            if isinstance(action, dict):
                path = f"{prefix}.action[{i}]"
                yield path, action
                yield from rec(action.get("action"), path)

    yield from rec(resource.get("action"), resource.get("resourceType", "PlanDefinition"))


def extensions(node: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in items(node.get("extension")) if isinstance(e, dict) and e.get("url") == url]
