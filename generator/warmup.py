"""One-time loads done while Node translates the first library (a cold build's idle time), and the
thread of lowered priority they run on.

Why: on a cold build the main thread would otherwise sit idle for seconds waiting for the
first translation, then pay these loads (R4B model classes, the validator's definitions and
FHIRPath caches) on the critical path. The sample's findings are discarded; only per-process
caches are filled, so no result depends on whether this ran.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from generator.canonicals import CPG, LIBRARY_TYPE, PLAN_DEFINITION_TYPE, SNOMED, UCUM, USAGE_CONTEXT_TYPE

_EXAMPLE = "http://example.org/warm-up"
_CQL_IDENTIFIER = {"language": "text/cql-identifier", "expression": "X"}
_CODE = {"system": SNOMED, "code": "1000000002", "display": "x"}

#: One small resource of each kind a build emits, touching the elements that load most definitions.
SAMPLE: list[dict[str, Any]] = [
    {"resourceType": "PlanDefinition", "id": "warm-up", "url": _EXAMPLE, "name": "WarmUp", "status": "draft",
     "meta": {"profile": [CPG + "cpg-recommendationdefinition"]},
     "type": {"coding": [{"system": PLAN_DEFINITION_TYPE, "code": "eca-rule"}]},
     "useContext": [{"code": {"system": USAGE_CONTEXT_TYPE, "code": "focus"}, "valueCodeableConcept": {"text": "x"}}],
     "relatedArtifact": [{"type": "citation", "display": "x"}],
     "action": [{"title": "x", "condition": [{"kind": "applicability", "expression": _CQL_IDENTIFIER}],
                 "definitionCanonical": f"{_EXAMPLE}-activity",
                 "dynamicValue": [{"path": "x", "expression": _CQL_IDENTIFIER}],
                 "action": [{"title": "y"}]}]},
    {"resourceType": "ActivityDefinition", "id": "warm-up-activity", "url": f"{_EXAMPLE}-activity",
     "status": "draft", "kind": "ServiceRequest", "intent": "proposal", "doNotPerform": False,
     "code": {"coding": [_CODE]},
     "timingDuration": {"value": 1, "unit": "d", "system": UCUM, "code": "d"},
     "dosage": [{"text": "x", "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                 "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg", "system": UCUM, "code": "mg"},
                                  "rateRange": {"low": {"value": 1, "system": UCUM, "code": "mg"}}}]}]},
    {"resourceType": "Library", "id": "warm-up-library", "url": f"{_EXAMPLE}-library", "status": "draft",
     "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
     "contained": [{"resourceType": "Parameters", "id": "p", "parameter": [{"name": "x", "valueString": "y"}]}],
     "extension": [{"url": f"{_EXAMPLE}-extension", "valueReference": {"reference": "#p"}}],
     "type": {"coding": [{"system": LIBRARY_TYPE, "code": "logic-library"}]},
     "parameter": [{"name": "X", "use": "out", "type": "boolean"}],
     "dataRequirement": [{"type": "Condition", "codeFilter": [{"path": "code", "valueSet": f"{_EXAMPLE}-vs"}]}],
     "content": [{"contentType": "text/cql", "data": "eA=="}]},
    {"resourceType": "ValueSet", "id": "warm-up-vs", "url": f"{_EXAMPLE}-vs", "status": "draft",
     "compose": {"include": [{"system": SNOMED, "concept": [_CODE]}]}},
    {"resourceType": "CodeSystem", "id": "warm-up-cs", "url": f"{_EXAMPLE}-cs", "status": "draft",
     "content": "complete", "concept": [{"code": "x", "display": "x"}]},
]


def warm_up(validate: bool) -> None:
    """Fill the model and (when the build validates) the validator caches; never raises."""
    try:
        from fhir.resources.R4B import get_fhir_model_class

        for sample in SAMPLE:
            try:
                get_fhir_model_class(sample["resourceType"]).model_validate(sample)
            except Exception:  # noqa: BLE001 - a sample the model rejects still warmed it
                pass
        if validate:
            from generator.validate import ValidationOptions, load_rules
            from generator.validate import validate as run_validator

            run_validator(SAMPLE, options=ValidationOptions(cql=False))
            load_rules()
    except Exception:  # noqa: BLE001 - only an optimisation
        return


class IdleWork:
    """Work done on a thread of lowered OS priority while Node translates, joined when needed.

    Why a lower priority: the translator uses about one and a half of two cores (V8 compiles and
    collects on helper threads), so anything else running meanwhile slows the translation, which
    is a cold build's critical path. Measured on the 2-core VM: a busy process at normal priority
    made the VCF translation 33 % slower, the same process at nice 10-19 only 6-15 %. Where the OS
    offers no per-thread priority (it is Linux's `setpriority` on a thread id) the work simply
    runs at normal priority; `lowered=False` keeps it there too (no translation to keep out of the
    way: a lower priority would only slow the work on a busy machine). Use as a context manager;
    `join` re-raises what a task raised.
    """

    def __init__(self, *tasks: Callable[[], object], lowered: bool = True) -> None:
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(tasks, lowered), name="cpg-idle-work", daemon=True)
        self._thread.start()

    def _run(self, tasks: tuple[Callable[[], object], ...], lowered: bool) -> None:
        if lowered:
            _lower_priority()
        try:
            for task in tasks:
                task()
        except BaseException as exc:  # noqa: BLE001 - re-raised by join, on the caller's thread
            self._error = exc

    def join(self) -> None:
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def __enter__(self) -> "IdleWork":
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()  # never left running; an error not yet joined is the caller's to raise


#: Niceness added to the idle-work thread's (a lower priority, relative to the caller's; 19 is the lowest).
IDLE_NICENESS = 10


def _lower_priority() -> None:
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(os.getpriority(os.PRIO_PROCESS, thread) + IDLE_NICENESS, 19))
    except (AttributeError, OSError):  # not Linux: the work runs at the caller's priority
        pass
