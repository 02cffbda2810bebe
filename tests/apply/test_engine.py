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
    assert got == [(True, True, False), (False, True, False), (True, False, False), (True, True, None)]
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
