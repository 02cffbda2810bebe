"""The `cpg validate` command: table and OperationOutcome output, exit codes, rule listing, speed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner
from fhir.resources.R4B.operationoutcome import OperationOutcome

from generator.cli import main
from generator.validate import RULES, ValidationOptions, validate
from tests.validate.conftest import CONFORMANT, conformant_resources, find


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.output


def test_conformant_folder_exits_0() -> None:
    code, out = invoke(str(CONFORMANT), "--no-cql")
    assert code == 0 and "0 errors, 0 warnings" in out


def test_rules_lists_every_rule() -> None:
    code, out = invoke("--rules")
    assert code == 0
    for rule_id in RULES:
        assert rule_id in out


def _broken(tmp_path: Path) -> Path:
    res = conformant_resources()
    find(res, "PlanDefinition/order-hba1c")["status"] = "bogus"
    find(res, "ActivityDefinition/order-hba1c-test")["status"] = "draft"  # a warning
    for r in res:
        (tmp_path / f"{r['resourceType']}-{r['id']}.json").write_text(json.dumps(r))
    return tmp_path


def test_table_lists_rule_resource_and_path(tmp_path: Path) -> None:
    code, out = invoke(str(_broken(tmp_path)), "--no-cql")
    assert code == 1
    line = next(ln for ln in out.splitlines() if "base.binding" in ln)
    assert "PlanDefinition/order-hba1c" in line and "PlanDefinition.status" in line and "'bogus'" in line
    assert out.strip().splitlines()[-1].startswith("1 error, ")


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    res = conformant_resources()
    find(res, "ActivityDefinition/order-hba1c-test")["status"] = "draft"
    for r in res:
        (tmp_path / f"{r['id']}.json").write_text(json.dumps(r))
    code, out = invoke(str(tmp_path), "--no-cql")
    assert code == 0 and "meta.status-mixed" in out and "0 errors, 1 warning" in out


def test_json_output_is_an_operation_outcome(tmp_path: Path) -> None:
    code, out = invoke(str(_broken(tmp_path)), "--no-cql", "--format", "json")
    assert code == 1
    data = json.loads(out)
    outcome = OperationOutcome.model_validate(data)
    binding = next(i for i in outcome.issue if i.diagnostics == "base.binding")
    assert binding.severity == "error" and binding.code == "code-invalid"
    assert binding.expression == ["PlanDefinition.status"]
    assert "PlanDefinition/order-hba1c" in binding.details.text


def test_json_output_for_clean_input_is_valid_too() -> None:
    code, out = invoke(str(CONFORMANT), "--no-cql", "--format", "json")
    assert code == 0
    OperationOutcome.model_validate(json.loads(out))


def test_sixty_resources_validate_well_under_a_second() -> None:
    """A build validates ~60 resources; the non-CQL layers must stay fast (definitions warm)."""
    res = conformant_resources()
    many: list[dict] = []
    for i in range(10):
        for r in res:
            copy = json.loads(json.dumps(r))
            copy["id"] = f"{r['id']}-{i}"
            if "url" in copy:
                copy["url"] = copy["url"] + f"-{i}"
            many.append(copy)
    validate(res, ValidationOptions(cql=False))  # warm the per-process caches
    started = time.perf_counter()
    validate(many, ValidationOptions(cql=False))
    assert time.perf_counter() - started < 1.0
