"""Terminology layer, ValueSet part: an `expansion` must agree with the `compose` it expands.

A published expansion lets engines without a terminology server evaluate the value set; one
that drifted from its compose (a code the rules do not admit, a listed code left out) would
make every such engine silently wrong. The semantics live in `generator.compose`, shared with
the author check (TERM005).
"""

from __future__ import annotations

from generator.compose import disagreements, flatten
from generator.diagnostics import Diagnostic
from generator.validate._model import Artifact, ref_of
from generator.validate._rules import diag


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    for a in artifacts:
        res = a.resource
        if res.get("resourceType") != "ValueSet":
            continue
        compose, expansion = res.get("compose"), res.get("expansion")
        if not isinstance(compose, dict) or not isinstance(expansion, dict):
            continue
        for problem in disagreements(compose, list(flatten(expansion.get("contains") or []))):
            diags.append(diag("term.expansion-compose", problem, resource=ref_of(res), path="expansion"))
    return diags
