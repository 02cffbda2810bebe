"""The pipeline as one library call: LOAD → RESOLVE → RULES → CQL → SYNTH → CHECK.

`compile_each(path, bag)` yields each guideline as soon as it is built and checked (a stream:
`cpg build` writes and drops each one, so memory stays flat in the number of guidelines);
`compile_definitions(path)` collects the stream. Neither touches `output/` (that is
`generator.write`). Tests and the CLI both call them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.cql.cache import CachedTranslator
from generator.cql.phase import CompiledLogic, compile_logic
from generator.cql.pool import TranslatorPool
from generator.cql.session import TranslationSession
from generator.cql.translator import EarlyTranslator, Translator
from generator.diagnostics import Diagnostic, DiagnosticBag
from generator.load import load_definitions
from generator.resolve import ResolvedGuideline, resolve
from generator.rules import check
from generator.synth import synthesize
from generator.warmup import IdleWork, warm_up


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


#: How many guidelines' libraries may be translated ahead of the one being synthesized: enough to
#: keep Node busy while Python synthesizes; small, because each result (ELM as a dict and as text)
#: is held until its guideline has been checked.
LOOKAHEAD = 2


def compile_each(definitions_dir: Path, bag: DiagnosticBag, *,
                 translator: Translator | EarlyTranslator | CachedTranslator | TranslatorPool | None = None,
                 validate: bool = True,
                 while_translating: Callable[[Sequence[ResolvedGuideline]], None] | None = None,
                 on_synthesized: Callable[[BuiltGuideline], None] | None = None,
                 sources: Path | None = None) -> Iterator[BuiltGuideline]:
    """Yield each guideline under `definitions_dir` once it is built and checked; findings go to `bag`.

    LOAD, RESOLVE and RULES run for every guideline first (they are cheap and need no Node);
    then CQL → SYNTH → CHECK runs guideline by guideline. Nothing more is yielded once `bag`
    holds an error. After a CQL error the later guidelines are only translated (so every CQL
    error is reported); after a CHECK error they are still synthesized and checked (so every
    guideline's findings are reported). A caller must check `bag.has_errors` after the loop
    before publishing what it received.
    `sources`: the folder of source documents cited passages are checked against (else each
    guideline's own `sources_dir`, or $CPG_SOURCES_DIR).
    `while_translating`: called once with every resolved guideline, as soon as the first libraries
    were sent to the translator, on a thread of lowered priority (`IdleWork`) that is joined before
    the first guideline is synthesized (so the caller's engine-free work overlaps the translation).
    `on_synthesized`: called with each guideline as soon as it is synthesized, before CHECK (its
    resources are final; the caller may start work on them that overlaps CHECK).
    `translator`: one the caller runs (an `EarlyTranslator` still starting is waited for when
    first needed); without one, the compile starts its own at once and closes it at the end.
    """
    with contextlib.ExitStack() as stack:
        if translator is None and definitions_dir.is_dir():
            translator = stack.enter_context(EarlyTranslator())
        loaded = load_definitions(definitions_dir, bag)
        resolved = [resolve(item, bag) for item in loaded]
        for rg in resolved:
            check(rg, bag, sources=sources)
        if bag.has_errors:
            return
        if isinstance(translator, EarlyTranslator):
            translator = translator.get()
        elif translator is None:
            translator = stack.enter_context(Translator())
        workers = getattr(translator, "jobs", 1)
        lookahead = LOOKAHEAD * workers
        session = stack.enter_context(TranslationSession(translator, workers=workers))
        rendered = session.render(resolved)
        session.prefetch(rendered[:lookahead])
        # While Node translates: the caller's engine-free work and the one-time loads (see IdleWork),
        # at a lower priority only when a translator runs (a build answered by the cache starts none).
        idle: IdleWork | None = stack.enter_context(IdleWork(
            *([functools.partial(while_translating, resolved)] if while_translating is not None else []),
            functools.partial(warm_up, validate), lowered=bool(getattr(translator, "started", True))))
        cql_failed = False
        for index, rg in enumerate(resolved):
            session.prefetch(rendered[index + 1:index + 1 + lookahead])
            errors = bag.error_count
            logic = compile_logic(rg, session, bag, rendered[index])  # type: ignore[arg-type]
            if idle is not None:
                idle.join()
                idle = None
            cql_failed = cql_failed or logic is None or bag.error_count > errors
            if not cql_failed:
                assert logic is not None
                # A validating build parses every resource in CHECK, so SYNTH need not parse them too.
                built = BuiltGuideline(rg, logic, synthesize(rg, logic, parse=not validate))
                if on_synthesized is not None:  # e.g. start the scenario run while CHECK runs
                    on_synthesized(built)
                if validate:
                    bag.extend(_validate(built, session))  # type: ignore[arg-type]
                if not bag.has_errors:
                    yield built
            session.release(rendered[index])


def compile_definitions(definitions_dir: Path, *, translator: Translator | None = None,
                        validate: bool = True) -> CompileResult:
    """Compile every guideline under `definitions_dir` in memory; stop at the first phase with errors."""
    bag = DiagnosticBag()
    built = list(compile_each(definitions_dir, bag, translator=translator, validate=validate))
    return CompileResult(built if not bag.has_errors else [], bag.items)


def _validate(guideline: BuiltGuideline, translator: Translator) -> list[Diagnostic]:
    """CHECK: the same validator as `cpg validate`, reusing the running translator."""
    from generator.validate import ValidationOptions, validate

    return validate(guideline.resources, options=ValidationOptions(translator=translator))
