"""The pipeline as one library call: LOAD → RESOLVE → RULES → CQL → SYNTH → CHECK.

`compile_definitions(path)` works in memory and returns resources and diagnostics; it
never touches `output/` (that is `generator.write`). Tests and the CLI both call it.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.phase import FHIRHELPERS, CompiledLogic, compile_logic
from generator.cql.render import RenderedLibrary, render_library
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


class _EarlyTranslator:
    """Our own translator, started on a thread at the top of the compile.

    Why: Node's start (~0.4 s) then overlaps loading and checking the definitions. Errors
    (e.g. Node missing) are raised where they were before: when the CQL phase needs it.
    """

    def __init__(self) -> None:
        self.translator = Translator()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="cpg-translator-start", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self.translator.start()
        except BaseException as exc:  # noqa: BLE001 - re-raised by `running`
            self._error = exc

    @contextlib.contextmanager
    def running(self) -> Iterator[Translator]:
        self._thread.join()
        try:
            if self._error is not None:
                raise self._error
            yield self.translator
        finally:
            self.translator.close()

    def close(self) -> None:
        self._thread.join()
        self.translator.close()


@contextlib.contextmanager
def _translator(given: Translator | None, early: _EarlyTranslator | None) -> Iterator[Translator]:
    if given is not None:
        yield given
    elif early is not None:
        with early.running() as own:
            yield own
    else:
        with Translator() as own:
            yield own


def compile_definitions(definitions_dir: Path, *, translator: Translator | None = None,
                        validate: bool = True) -> CompileResult:
    """Compile every guideline under `definitions_dir`; stop at the first phase with errors."""
    bag = DiagnosticBag()
    early = _EarlyTranslator() if translator is None and definitions_dir.is_dir() else None
    try:
        loaded = load_definitions(definitions_dir, bag)
        resolved = [resolve(item, bag) for item in loaded]
        for rg in resolved:
            check(rg, bag)
    except BaseException:
        if early is not None:
            early.close()
        raise
    if bag.has_errors:
        if early is not None:
            early.close()
        return CompileResult([], bag.items)

    built: list[BuiltGuideline] = []
    with _translator(translator, early) as running, _Translations(running) as translations:
        rendered = translations.prefetch(resolved)
        _warm_up(validate)
        for rg in resolved:
            logic = compile_logic(rg, translations, bag, rendered.get(id(rg)))  # type: ignore[arg-type]
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

    def prefetch(self, resolved: list[ResolvedGuideline]) -> dict[int, RenderedLibrary]:
        """Render every guideline's library once and queue it as the CQL phase will send it.

        Returns the rendered libraries by `id(rg)` for the CQL phase to reuse.
        """
        rendered: dict[int, RenderedLibrary] = {}
        try:
            helpers = fhirhelpers_cql()
            for rg in resolved:
                library = rendered[id(rg)] = render_library(rg)
                self._submit({library.name: library.text, FHIRHELPERS: helpers}, [library.name, FHIRHELPERS])
        except Exception:  # noqa: BLE001 - only an optimisation; the CQL phase reports real failures
            pass
        return rendered

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


_SAMPLE: list[dict[str, Any]] = [
    {"resourceType": "PlanDefinition", "id": "warm-up", "url": "http://example.org/warm-up", "name": "WarmUp",
     "status": "draft", "meta": {"profile": ["http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-recommendationdefinition"]},
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/plan-definition-type", "code": "eca-rule"}]},
     "useContext": [{"code": {"system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "focus"},
                     "valueCodeableConcept": {"text": "x"}}],
     "relatedArtifact": [{"type": "citation", "display": "x"}],
     "action": [{"title": "x", "condition": [{"kind": "applicability",
                                              "expression": {"language": "text/cql-identifier", "expression": "X"}}],
                 "definitionCanonical": "http://example.org/warm-up-activity",
                 "dynamicValue": [{"path": "x", "expression": {"language": "text/cql-identifier", "expression": "X"}}],
                 "action": [{"title": "y"}]}]},
    {"resourceType": "ActivityDefinition", "id": "warm-up-activity", "url": "http://example.org/warm-up-activity",
     "status": "draft", "kind": "ServiceRequest", "intent": "proposal", "doNotPerform": False,
     "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1000000002", "display": "x"}]},
     "dosage": [{"text": "x", "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                 "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg", "system": "http://unitsofmeasure.org",
                                                   "code": "mg"}}]}]},
    {"resourceType": "Library", "id": "warm-up-library", "url": "http://example.org/warm-up-library", "status": "draft",
     "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
     "parameter": [{"name": "X", "use": "out", "type": "boolean"}],
     "dataRequirement": [{"type": "Condition", "codeFilter": [{"path": "code", "valueSet": "http://example.org/vs"}]}]},
    {"resourceType": "ValueSet", "id": "warm-up-vs", "url": "http://example.org/vs", "status": "draft",
     "compose": {"include": [{"system": "http://snomed.info/sct", "concept": [{"code": "1000000002", "display": "x"}]}]}},
    {"resourceType": "CodeSystem", "id": "warm-up-cs", "url": "http://example.org/cs", "status": "draft",
     "content": "complete", "concept": [{"code": "x", "display": "x"}]},
]


def _warm_up(validate: bool) -> None:
    """Load the FHIR models and the validator's definitions while Node translates (cold start).

    Why: on a cold build the main thread would otherwise sit idle for seconds waiting for the
    first translation, then pay these one-time loads on the critical path. The sample's
    findings are discarded; only per-process caches are filled, so results do not change.
    """
    try:
        from fhir.resources.R4B import get_fhir_model_class

        for sample in _SAMPLE:
            try:
                get_fhir_model_class(sample["resourceType"]).model_validate(sample)
            except Exception:  # noqa: BLE001 - a sample the model rejects still warmed it
                pass
        if validate:
            from generator.validate import ValidationOptions
            from generator.validate import validate as run_validator

            run_validator(_SAMPLE, options=ValidationOptions(cql=False))
    except Exception:  # noqa: BLE001 - only an optimisation
        return


def _validate(guideline: BuiltGuideline, translator: Translator) -> list[Diagnostic]:
    """CHECK: the same validator as `cpg validate`, reusing the running translator."""
    from generator.validate import ValidationOptions, validate

    return validate(guideline.resources, options=ValidationOptions(translator=translator))
