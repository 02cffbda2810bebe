"""The pipeline as one library call: LOAD → RESOLVE → RULES → CQL → SYNTH → CHECK.

`compile_definitions(path)` works in memory and returns resources and diagnostics; it
never touches `output/` (that is `generator.write`). Tests and the CLI both call it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.phase import FHIRHELPERS, CompiledLogic, compile_logic
from generator.cql.render import render_library
from generator.cql.translator import Translation, Translator
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
    with _translator(translator) as running, _Translations(running) as translations:
        translations.prefetch(resolved)
        for rg in resolved:
            logic = compile_logic(rg, translations, bag)  # type: ignore[arg-type]  # same translate()
            if logic is None or bag.has_errors:
                continue
            built.append(BuiltGuideline(rg, logic, synthesize(rg, logic)))
        if validate and not bag.has_errors:
            for guideline in built:
                bag.extend(_validate(guideline, translations))  # type: ignore[arg-type]
    return CompileResult(built if not bag.has_errors else [], bag.items)


_INCLUDE = re.compile(r"\binclude\b")


class _Translations:
    """The running translator, asked at most once per distinct input during one compile.

    Why: a build used to translate every library twice (CQL phase, then the validator's CQL
    layer on the Library resources) and to re-translate and re-parse FHIRHelpers for every
    guideline; and Python waited idle while Node translated. A translation depends only on the
    translator's options, the library's text and the texts of what it includes, so results are
    shared by that key; and a worker thread translates the next guidelines' libraries while the
    main thread synthesizes and validates (two cores: Node on one, Python on the other).
    Results, messages and their order are the same as asking the translator directly.
    """

    def __init__(self, translator: Translator) -> None:
        self._translator = translator
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cpg-translate")
        self._results: dict[tuple[str, Any], tuple[Future[dict[str, Translation]], str]] = {}

    def __enter__(self) -> "_Translations":
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _key(name: str, libraries: Mapping[str, str]) -> tuple[str, Any]:
        text = libraries[name]
        if _INCLUDE.search(text) is None:  # no includes: the text alone decides the result
            return name, text
        return name, tuple(sorted(libraries.items()))

    def _submit(self, libraries: Mapping[str, str], names: Sequence[str]) -> dict[str, tuple[str, Any]]:
        keys = {name: self._key(name, libraries) for name in names}
        missing = [name for name in names if keys[name] not in self._results]
        if missing:
            job = self._pool.submit(self._translator.translate, dict(libraries), missing)
            for name in missing:
                self._results[keys[name]] = (job, name)
        return keys

    def prefetch(self, resolved: list[ResolvedGuideline]) -> None:
        """Queue every guideline's library as the CQL phase will send it (rendering is deterministic)."""
        try:
            helpers = fhirhelpers_cql()
            for rg in resolved:
                library = render_library(rg)
                self._submit({library.name: library.text, FHIRHELPERS: helpers}, [library.name, FHIRHELPERS])
        except Exception:  # noqa: BLE001 - only an optimisation; the CQL phase reports real failures
            return

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None) -> dict[str, Translation]:
        """`Translator.translate`, answered from results already asked for when the input is the same."""
        names = list(libraries if targets is None else targets)
        if timeout is not None or any(name not in libraries for name in names):
            return self._translator.translate(libraries, targets, timeout=timeout)
        keys = self._submit(libraries, names)
        results: dict[str, Translation] = {}
        for name in names:
            job, picked = self._results[keys[name]]
            results[name] = job.result()[picked]
        return results


def _validate(guideline: BuiltGuideline, translator: Translator) -> list[Diagnostic]:
    """CHECK: the same validator as `cpg validate`, reusing the running translator."""
    from generator.validate import ValidationOptions, validate

    return validate(guideline.resources, options=ValidationOptions(translator=translator))
