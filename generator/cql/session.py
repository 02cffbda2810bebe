"""The translator as one build uses it: asked once per input, kept busy ahead of Python.

Why a module of its own: `compile.py` says *what* the pipeline does; this says how the one
Node translator is scheduled so that it overlaps Python's work on two cores. (Its early start
is `translator.EarlyTranslator`; its memory is kept in bounds by `Translator` restarting.)
`TranslationSession` answers each distinct input once (the CQL phase and the validator's CQL
layer ask for the same library; FHIRHelpers is the same for every guideline) and translates the
next guidelines' libraries on a worker thread while the main thread synthesizes and validates.
Results, messages and their order are what asking the translator gives.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.phase import FHIRHELPERS
from generator.cql.render import RenderedLibrary, render_library
from generator.cql.translator import Translation, Translator
from generator.resolve import ResolvedGuideline

__all__ = ["TranslationSession"]

# Any mention of the word, not `declarations.included_names`: a library wrongly thought to include
# nothing would be keyed by its own text and could be answered with a stale result.
_INCLUDE = re.compile(r"\binclude\b")


class TranslationSession:
    """A running translator, asked at most once per distinct input, translating ahead on a thread.

    A translation depends only on the translator's options, the library's text and the texts of
    what it includes, which is the key results are shared by. `release` forgets a guideline's
    result once it is built and checked, so memory does not grow with the number of guidelines.
    """

    def __init__(self, translator: Translator, *, workers: int = 1) -> None:
        self._translator = translator
        # `workers` > 1 only for a translator that takes concurrent calls (a pool of processes).
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cpg-translate")
        self._results: dict[tuple[str, Any], tuple[Future[dict[str, Translation]], str]] = {}
        self._helpers: str | None = None

    def __enter__(self) -> "TranslationSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def render(resolved: Sequence[ResolvedGuideline]) -> list[RenderedLibrary | None]:
        """Every guideline's library, rendered once (None where rendering failed: the CQL phase
        renders it again and reports the failure where it belongs)."""
        rendered: list[RenderedLibrary | None] = []
        for rg in resolved:
            try:
                rendered.append(render_library(rg))
            except Exception:  # noqa: BLE001 - only an optimisation
                rendered.append(None)
        return rendered

    def prefetch(self, libraries: Sequence[RenderedLibrary | None]) -> None:
        """Queue these libraries as the CQL phase will send them (FHIRHelpers is translated once)."""
        for library in libraries:
            if library is not None:
                self._submit(self._request(library), [library.name, FHIRHELPERS])

    def release(self, library: RenderedLibrary | None) -> None:
        """Forget a guideline's translation (FHIRHelpers' is kept for the next guideline)."""
        if library is not None:
            self._results.pop(self._key(library.name, self._request(library)), None)

    def release_all(self, keep: Collection[str] = (FHIRHELPERS,)) -> None:
        """Forget every translation except those of the libraries named in `keep`."""
        self._results = {key: value for key, value in self._results.items() if key[0] in keep}

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

    def _request(self, library: RenderedLibrary) -> dict[str, str]:
        if self._helpers is None:
            self._helpers = fhirhelpers_cql()
        return {library.name: library.text, FHIRHELPERS: self._helpers}

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
