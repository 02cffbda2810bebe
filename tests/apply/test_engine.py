"""The engine server: one process, libraries loaded once, many patients, the date as a parameter."""

from __future__ import annotations

from typing import Any

import pytest

from generator.apply import Artifacts, Engine, EngineError
from generator.apply._engine import LoadedLogic

from .conftest import demo_patient


@pytest.fixture(scope="module")
def logic(engine: Engine, demo_resources: list[dict[str, Any]]) -> LoadedLogic:
    artifacts = Artifacts.from_resources(demo_resources)
    return engine.load(artifacts.elm_libraries(), artifacts.value_set_codes())


def test_versions_are_the_pinned_ones(engine: Engine) -> None:
    assert engine.engine_version == "cql-execution 3.3.2"
    assert engine.data_provider_version == "cql-exec-fhir 2.2.0"


def test_loaded_libraries_include_fhirhelpers(logic: LoadedLogic) -> None:
    assert logic.libraries == {"ApplyDemo": "1.0.0", "FHIRHelpers": "4.0.1"}


def test_many_patients_in_one_call_keep_their_order(logic: LoadedLogic) -> None:
    names = ["acute-adult", "old-fracture", "acute-child", "acute-adult-no-crcl"]
    batch = logic.evaluate({"ApplyDemo": ["Acute Fracture", "Adult", "Low Creatinine Clearance"]},
                           [demo_patient(n) for n in names], "2026-03-01T23:59:59.999Z")
    assert [p.patient_id for p in batch.patients] == names
    got = [(p.get("ApplyDemo", "Acute Fracture"), p.get("ApplyDemo", "Adult"),
            p.get("ApplyDemo", "Low Creatinine Clearance")) for p in batch.patients]
    assert got == [(True, True, False), (False, True, False), (True, False, False), (True, True, False)]
    assert batch.engine_ms > 0


def test_value_set_membership_uses_the_guideline_value_sets(logic: LoadedLogic) -> None:
    bundle = demo_patient("acute-adult")
    bundle["entry"][1]["resource"]["code"]["coding"][0]["code"] = "999999"  # not in the value set
    batch = logic.evaluate({"ApplyDemo": ["Acute Fracture"]}, [bundle], "2026-03-01T23:59:59.999Z")
    assert batch.patients[0].get("ApplyDemo", "Acute Fracture") is False


def test_execution_date_is_a_parameter_not_the_wall_clock(logic: LoadedLogic) -> None:
    bundle = demo_patient("acute-adult")  # fracture on 2026-02-20
    soon = logic.evaluate({"ApplyDemo": ["Acute Fracture"]}, [bundle], "2026-03-01T23:59:59.999Z")
    later = logic.evaluate({"ApplyDemo": ["Acute Fracture"]}, [bundle], "2026-06-01T23:59:59.999Z")
    assert soon.patients[0].get("ApplyDemo", "Acute Fracture") is True
    assert later.patients[0].get("ApplyDemo", "Acute Fracture") is False


def test_values_come_back_fhir_shaped(logic: LoadedLogic) -> None:
    batch = logic.evaluate({"ApplyDemo": ["Adult Education Message", "Vertebral Fracture Conditions"]},
                           [demo_patient("acute-adult")], "2026-03-01T23:59:59.999Z")
    values = batch.patients[0].values["ApplyDemo"]
    assert values["Adult Education Message"] == "Remove trip hazards at home."
    assert [c["id"] for c in values["Vertebral Fracture Conditions"]] == ["acute-adult-fracture"]


def test_missing_execution_date_is_refused(logic: LoadedLogic) -> None:
    with pytest.raises(EngineError, match="executionDateTime is required"):
        logic.evaluate({"ApplyDemo": ["Adult"]}, [demo_patient("acute-adult")], "")


def test_unknown_define_is_refused(logic: LoadedLogic) -> None:
    with pytest.raises(EngineError, match="has no define 'Nope'"):
        logic.evaluate({"ApplyDemo": ["Nope"]}, [demo_patient("acute-adult")], "2026-03-01T00:00:00.000Z")


def test_engine_survives_errors_and_keeps_answering(engine: Engine, logic: LoadedLogic) -> None:
    with pytest.raises(EngineError):
        logic.evaluate({"Nope": ["Adult"]}, [demo_patient("acute-adult")], "2026-03-01T00:00:00.000Z")
    assert engine.ping()["ok"] is True


def test_missing_node_modules_is_a_clear_error(tmp_path: Any) -> None:
    engine = Engine(env={"PATH": __import__("os").environ["PATH"], "CPG_NODE_MODULES": str(tmp_path)})
    with pytest.raises(EngineError, match="cql-execution.*npm ci"):
        engine.start()


def _synthetic_module() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "synthetic_patients.py"
    spec = importlib.util.spec_from_file_location("_cpg_bench_synthetic_patients", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_distinct_gives_exactly_the_engine_results(session_translator: Any) -> None:
    """The server's distinct fast path and its retrieve memo change speed, never values."""
    from pathlib import Path

    from generator.apply import compile_plan
    from generator.compile import compile_definitions

    definitions = Path(__file__).resolve().parents[2] / "definitions"
    if not (definitions / "vertebral_compression_fracture" / "__init__.py").is_file():
        pytest.skip("definitions/vertebral_compression_fracture is not written yet")
    result = compile_definitions(definitions, translator=session_translator, validate=False)
    assert result.ok
    artifacts = Artifacts.from_resources(result.guidelines[0].resources)
    patients = _synthetic_module().synthetic_patients(120, artifacts, "2026-11-21", seed=7)
    expressions = {lib: list(defines) for lib, defines in compile_plan(artifacts).expressions.items()}
    elm = artifacts.elm_libraries()
    # every define of the logic library, not only those apply needs
    name = next(e["library"]["identifier"]["id"] for e in elm if e["library"]["identifier"]["id"] != "FHIRHelpers")
    logic_elm = next(e for e in elm if e["library"]["identifier"]["id"] == name)
    expressions[name] = [d["name"] for d in logic_elm["library"]["statements"]["def"]
                         if d.get("context") == "Patient" and d.get("type") != "FunctionDef" and d["name"] != "Patient"]
    values = []
    for exact in (False, True):
        with Engine(exact_distinct=exact) as engine:
            assert engine.fast_distinct is not exact
            logic = engine.load(elm, artifacts.value_set_codes())
            values.append([p.values for p in logic.evaluate(expressions, patients, "2026-11-21T23:59:59.999Z").patients])
    assert values[0] == values[1]
