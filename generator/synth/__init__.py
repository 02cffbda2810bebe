"""SYNTH phase: the resolved model and its compiled logic become FHIR R4 resources.

One exporter per output kind (PlanDefinition levels, ActivityDefinition, Library,
ValueSet); no I/O. Every resource is parsed by the R4B models before it is written: here,
or, when the build validates, by the CHECK phase's structure layer (which parses the same
resources, narrated, and reports located findings instead of raising).
"""

from __future__ import annotations

from typing import Any

from generator.cql.phase import FHIRHELPERS, CompiledLogic
from generator.cql.translator import DEFAULT_OPTIONS
from generator.resolve import ResolvedGuideline
from generator.synth import activitydefinition, codesystem, plandefinition, valueset
from generator.publish.narrative import LogicContext, add_narratives
from generator.synth._common import checked
from generator.synth.library import FHIRHELPERS_VERSION, logic_library, shared_library


def synthesize(rg: ResolvedGuideline, logic: CompiledLogic, *, parse: bool = True) -> list[dict[str, Any]]:
    """The guideline's resources, narrated; `parse=False` leaves the model parse to CHECK (it is
    the costliest step of SYNTH, and a validating build would otherwise do it twice)."""
    g = rg.guideline
    resources: list[dict[str, Any]] = [plandefinition.pathway(rg)]
    resources += [plandefinition.strategy(rg, rs) for rs in rg.strategies]
    resources += [plandefinition.recommendation(rg, rr) for rr in rg.recommendations]
    resources += [activitydefinition.activity_definition(rg, ra) for ra in rg.activities]
    resources.append(
        logic_library(rg, rg.library_name, g.version, f"{g.title} logic",
                      f"Case features and applicability logic of {g.title}, in CQL with its ELM.",
                      logic.library.text, logic.main, DEFAULT_OPTIONS)
    )
    resources.append(
        shared_library(FHIRHELPERS, FHIRHELPERS_VERSION, "FHIRHelpers",
                       "Conversions from FHIR R4 types to CQL System types, generated from the FHIR 4.0.1 "
                       "model info's conversion declarations.",
                       logic.fhirhelpers, logic.translations[FHIRHELPERS], DEFAULT_OPTIONS)
    )
    resources += [valueset.value_set(rg, vs) for vs in rg.value_sets]
    resources += [codesystem.code_system(rg, uri, codes) for uri, codes in codesystem.local_code_systems(rg).items()]
    if parse:
        resources = [checked(r) for r in resources]
    return add_narratives(resources, LogicContext(rg, logic))
