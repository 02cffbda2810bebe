"""The CQL layer translates a set once: in dependency order, in batches of one translator
session, each source sent once (the Node process keeps the session's sources and compilations).

Why it matters: sending each library with its include closure re-translated shared libraries
once per includer (25-40x the reference translator's CPU on large sets), and sending hundreds of
libraries in one request exhausted the translator's heap.
"""

from __future__ import annotations

import base64
from typing import Any

from generator.cql.library_set import dependency_order, translate_set
from generator.cql.translator import Translation, Translator
from generator.validate import ValidationOptions, validate


def _library(name: str, cql: str) -> dict[str, Any]:
    return {
        "resourceType": "Library", "id": name, "url": f"http://example.org/Library/{name}", "name": name,
        "status": "draft",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
        "content": [{"contentType": "text/cql", "data": base64.b64encode(cql.encode()).decode()}],
    }


SET = {
    "Top": "library Top version '1'\ninclude \"Middle\" version '1' called M\ndefine Z: M.Y\n",
    "Alone": "library Alone version '1'\ndefine W: false\n",
    "Middle": "library Middle version '1'\ninclude Common version '1'\ndefine Y: Common.X\n",
    "Common": "library Common version '1'\ndefine X: true\n",
}


class _Recording:
    """Records what the layer sends (the protocol), answering like a translator would."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str], str | None]] = []
        self.restarts = 0

    def translate(self, libraries: dict[str, str], targets: list[str] | None = None, *,
                  session: str | None = None) -> dict[str, Translation]:
        names = list(targets or libraries)
        self.calls.append((sorted(libraries), names, session))
        return {n: Translation(name=n, version="1", elm={"library": {}}, elm_json="{}") for n in names}


def test_dependency_order_puts_includes_first() -> None:
    assert dependency_order(SET, list(SET)) == ["Common", "Middle", "Top", "Alone"]


def test_each_source_is_sent_once_per_session() -> None:
    fake = _Recording()
    validate([_library(n, t) for n, t in SET.items()], ValidationOptions(translator=fake, layers=frozenset({"cql"})))
    assert [(libs, targets) for libs, targets, _ in fake.calls] == [
        (["Alone", "Common", "Middle", "Top"], ["Common", "Middle", "Top", "Alone"])]
    fake = _Recording()
    translate_set(fake, SET, list(SET), batch_size=2)
    assert [(libs, targets) for libs, targets, _ in fake.calls] == [
        (["Common", "Middle"], ["Common", "Middle"]), (["Alone", "Top"], ["Top", "Alone"])]
    assert len({s for *_, s in fake.calls}) == 1


def test_sources_are_sent_again_after_a_restart() -> None:
    class Restarting(_Recording):
        def translate(self, libraries: dict[str, str], targets: list[str] | None = None, *,
                      session: str | None = None) -> dict[str, Translation]:
            out = super().translate(libraries, targets, session=session)
            self.restarts += 1  # as Translator does when the heap share is high
            return out

    fake = Restarting()
    translate_set(fake, SET, ["Middle", "Top"], batch_size=1)
    assert [libs for libs, _, _ in fake.calls] == [["Common", "Middle"], ["Common", "Middle", "Top"]]


def test_a_session_gives_the_same_elm_as_separate_requests(session_translator: Translator) -> None:
    together = translate_set(session_translator, SET, list(SET), batch_size=2)
    for name in SET:
        alone = session_translator.translate({n: SET[n] for n in SET}, [name])[name]
        assert together[name].ok and together[name].elm == alone.elm, name


def test_a_translator_without_sessions_gets_one_closure_per_library() -> None:
    """The build's TranslationSession answers repeated (library + closure) requests from its cache."""
    calls: list[tuple[list[str], list[str]]] = []

    class Plain:
        def translate(self, libraries: dict[str, str], targets: list[str] | None = None) -> dict[str, Translation]:
            calls.append((sorted(libraries), list(targets or libraries)))
            return {n: Translation(name=n, version="1", elm={"library": {}}, elm_json="{}") for n in targets or libraries}

    translate_set(Plain(), SET, ["Top", "Alone"])
    assert calls == [(["Common", "Middle", "Top"], ["Top"]), (["Alone"], ["Alone"])]


def test_restarts_between_batches_keep_results_right() -> None:
    """Memory is bounded by restarting the process between batches; the session survives it."""
    with Translator(restart_heap_share=0.0) as translator:  # restart after every request
        results = translate_set(translator, SET, list(SET), batch_size=2)
        assert translator.restarts == 2
    assert all(results[name].ok and results[name].elm for name in SET), {n: r.messages for n, r in results.items()}
