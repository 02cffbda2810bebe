"""APPLY / TEST: run built guideline artifacts on patient data (CPG `$apply`) and check scenarios.

Built artifacts + patient Bundle → CQL engine (cql-execution + cql-exec-fhir, one Node process)
→ Bundle with a RequestGroup tree, requests and a CarePlan. See `_plan` for the semantics.

Why cql-execution and not the engine in @cqframework/cql 5.3.0: that Kotlin/JS engine exposes
only DataProvider/RetrieveProvider/ModelResolver interfaces and ships no FHIR data provider, so
it cannot read a patient Bundle without one being written; cql-exec-fhir is that provider for
the JavaScript reference engine. Throughput is measured by benchmarks/apply_throughput.py.
"""

from __future__ import annotations

from generator.apply._applier import BATCH_SIZE, Applier, Timing, apply, running_engine
from generator.apply._artifacts import ApplyError, Artifacts, load_artifacts
from generator.apply._engine import Engine, EngineError, EngineUnavailable
from generator.apply._patient import check_patient_bundle, execution_datetime, read_patient_bundle, read_scenario_bundle
from generator.apply._plan import ApplyResult, CompiledPlan, compile_plan

__all__ = [
    "BATCH_SIZE",
    "Applier",
    "ApplyError",
    "ApplyResult",
    "Artifacts",
    "CompiledPlan",
    "Engine",
    "EngineError",
    "EngineUnavailable",
    "Timing",
    "apply",
    "check_patient_bundle",
    "compile_plan",
    "execution_datetime",
    "load_artifacts",
    "read_patient_bundle",
    "read_scenario_bundle",
    "running_engine",
]
