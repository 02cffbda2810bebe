"""Every registered rule fires on its negative case and stays silent on its positive one."""

from __future__ import annotations

import pytest

from generator.diagnostics import Diagnostic, Severity
from generator.validate import RULES
from tests.validate.conftest import Env
from tests.validate.rule_cases import NEGATIVE, POSITIVE


def _codes(diags: list[Diagnostic]) -> set[str]:
    return {d.code for d in diags}


def test_conformant_set_has_no_findings(baseline: list[Diagnostic]) -> None:
    assert [str(d) for d in baseline] == []


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_fires_on_negative_case(rule_id: str, env: Env) -> None:
    assert rule_id in NEGATIVE, f"rule {rule_id} has no negative fixture in tests/validate/rule_cases.py"
    diags = NEGATIVE[rule_id](env)
    assert rule_id in _codes(diags), [str(d) for d in diags]
    hit = next(d for d in diags if d.code == rule_id)
    assert hit.message
    if RULES[rule_id].layer not in ("input", "cql") and not rule_id.endswith(".unavailable"):
        assert hit.resource and hit.path, f"{rule_id} should be located: {hit}"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_silent_on_positive_case(rule_id: str, env: Env, baseline: list[Diagnostic]) -> None:
    diags = POSITIVE[rule_id](env) if rule_id in POSITIVE else baseline
    assert rule_id not in _codes(diags), [str(d) for d in diags if d.code == rule_id]


def test_every_rule_is_described() -> None:
    for rule in RULES.values():
        assert rule.description.endswith(".") and "\n" not in rule.description
        assert rule.severity in (Severity.ERROR, Severity.WARNING, Severity.INFO)


def test_no_stale_cases() -> None:
    assert set(NEGATIVE) <= set(RULES) and set(POSITIVE) <= set(RULES)
