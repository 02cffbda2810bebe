"""The pipeline as one library call: LOAD → RESOLVE → RULES → CQL → SYNTH → CHECK.

`compile_definitions(path)` works in memory and returns resources and diagnostics; it
never touches `output/` (that is `generator.write`). Tests and the CLI both call it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.cql.phase import CompiledLogic, compile_logic
from generator.cql.translator import Translator
from generator.diagnostics import Diagnostic, DiagnosticBag
from generator.load import load_definitions
from generator.resolve import ResolvedGuideline, resolve
from generator.rules import check
from generator.synth import synthesize


@dataclass
class BuiltGuideline:
    resolved: ResolvedGuideline
    logic: CompiledLogic
    resources: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return self.resolved.guideline.id


@dataclass
class CompileResult:
    guidelines: list[BuiltGuideline] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


@contextlib.contextmanager
def _translator(given: Translator | None) -> Iterator[Translator]:
    if given is not None:
        yield given
    else:
        with Translator() as own:
            yield own


def compile_definitions(definitions_dir: Path, *, translator: Translator | None = None,
                        validate: bool = True) -> CompileResult:
    """Compile every guideline under `definitions_dir`; stop at the first phase with errors."""
    bag = DiagnosticBag()
    loaded = load_definitions(definitions_dir, bag)
    resolved = [resolve(item, bag) for item in loaded]
    for rg in resolved:
        check(rg, bag)
    if bag.has_errors:
        return CompileResult([], bag.items)

    built: list[BuiltGuideline] = []
    with _translator(translator) as running:
        for rg in resolved:
            logic = compile_logic(rg, running, bag)
            if logic is None or bag.has_errors:
                continue
            built.append(BuiltGuideline(rg, logic, synthesize(rg, logic)))
        if validate and not bag.has_errors:
            for guideline in built:
                bag.extend(_validate(guideline, running))
    return CompileResult(built if not bag.has_errors else [], bag.items)


def _validate(guideline: BuiltGuideline, translator: Translator) -> list[Diagnostic]:
    """CHECK: the same validator as `cpg validate`, reusing the running translator."""
    from generator.validate import ValidationOptions, validate

    return validate(guideline.resources, options=ValidationOptions(translator=translator))
