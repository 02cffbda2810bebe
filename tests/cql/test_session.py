"""`TranslationSession`: each distinct input translated once, ahead of time, and forgotten on release.

The session sits between a build and the one Node translator. These tests give it a fake
translator that records every call, so they prove *when* the real one would be asked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.phase import FHIRHELPERS
from generator.cql.render import RenderedLibrary
from generator.cql.session import TranslationSession
from generator.cql.translator import Translation

WAIT = 10.0  # seconds; a bound so a broken session fails instead of hanging


@dataclass
class Call:
    libraries: dict[str, str]
    targets: list[str] | None
    timeout: float | None
    thread: str


@dataclass
class FakeTranslator:
    """Answers like `Translator.translate`: one fresh `Translation` per target, every call recorded."""

    calls: list[Call] = field(default_factory=list)
    gate: threading.Event | None = None  # when set, each call waits for it (to catch work done ahead)
    started: threading.Event = field(default_factory=threading.Event)

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None) -> dict[str, Translation]:
        self.calls.append(Call(dict(libraries), None if targets is None else list(targets), timeout,
                               threading.current_thread().name))
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(WAIT), "test gate never opened"
        names = list(libraries if targets is None else targets)
        number = len(self.calls)
        return {
            name: Translation(name=name, version="1.0.0",
                              elm={"library": {"identifier": {"id": name, "version": "1.0.0"}, "call": number}},
                              elm_json=f'{{"call": {number}}}')
            for name in names
        }

    def targets(self) -> list[list[str]]:
        return [list(c.targets if c.targets is not None else c.libraries) for c in self.calls]


HELPERS = fhirhelpers_cql()


def cql(name: str, define: str = "true") -> str:
    return (f"library {name} version '1.0.0'\nusing FHIR version '4.0.1'\n"
            f"include FHIRHelpers version '4.0.1' called FHIRHelpers\ncontext Patient\n"
            f'define "X": {define}\n')


def rendered(name: str, define: str = "true") -> RenderedLibrary:
    return RenderedLibrary(name=name, version="1.0.0", text=cql(name, define))


def request(library: RenderedLibrary) -> dict[str, str]:
    """What the CQL phase sends for a guideline (compile_logic)."""
    return {library.name: library.text, FHIRHELPERS: HELPERS}


@pytest.fixture()
def fake() -> FakeTranslator:
    return FakeTranslator()


@pytest.fixture()
def session(fake: FakeTranslator) -> Iterator[TranslationSession]:
    with TranslationSession(fake) as running:  # type: ignore[arg-type]
        yield running


def test_the_same_library_asked_twice_is_translated_once(fake: FakeTranslator, session: TranslationSession) -> None:
    lib = rendered("Alpha")
    first = session.translate(request(lib))
    second = session.translate(request(lib))
    assert len(fake.calls) == 1
    assert fake.targets() == [["Alpha", FHIRHELPERS]]
    assert set(first) == {"Alpha", FHIRHELPERS}
    # The very same results, in the order the caller asked for them.
    assert list(second) == list(first)
    assert all(second[name] is first[name] for name in first)


def test_an_equal_request_built_anew_is_still_answered_from_the_first(fake: FakeTranslator,
                                                                      session: TranslationSession) -> None:
    session.translate({"Alpha": cql("Alpha"), FHIRHELPERS: HELPERS})
    session.translate(dict([(FHIRHELPERS, "".join(HELPERS)), ("Alpha", "".join(cql("Alpha")))]))
    assert len(fake.calls) == 1


def test_a_changed_library_text_is_translated_again(fake: FakeTranslator, session: TranslationSession) -> None:
    session.translate(request(rendered("Alpha")))
    changed = session.translate(request(rendered("Alpha", define="false")))
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Alpha"]]
    assert changed["Alpha"].elm["library"]["call"] == 2  # type: ignore[index]


def test_a_library_is_translated_again_when_what_it_includes_changes(fake: FakeTranslator,
                                                                      session: TranslationSession) -> None:
    text = cql("Alpha")
    session.translate({"Alpha": text, FHIRHELPERS: HELPERS})
    session.translate({"Alpha": text, FHIRHELPERS: HELPERS + "\n// another FHIRHelpers\n"})
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Alpha", FHIRHELPERS]]


def test_a_library_without_includes_is_shared_whatever_comes_with_it(fake: FakeTranslator,
                                                                     session: TranslationSession) -> None:
    plain = "library Plain version '1.0.0'\ndefine \"X\": 1\n"
    session.translate({"Plain": plain, "Other": "library Other version '1.0.0'\n"}, ["Plain"])
    session.translate({"Plain": plain, "Other": "library Other version '2.0.0'\n"}, ["Plain"])
    assert fake.targets() == [["Plain"]]


def test_prefetch_queues_the_work_so_translate_does_not_ask_again(fake: FakeTranslator,
                                                                  session: TranslationSession) -> None:
    lib = rendered("Alpha")
    session.prefetch([lib])
    assert fake.started.wait(WAIT), "prefetch queued nothing"
    assert len(fake.calls) == 1  # asked before anyone called translate
    result = session.translate(request(lib))
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert call.libraries == request(lib)
    assert call.targets == ["Alpha", FHIRHELPERS]
    assert result["Alpha"].elm["library"]["call"] == 1  # type: ignore[index]
    session.translate(request(lib))
    assert len(fake.calls) == 1


def test_prefetch_returns_at_once_and_translates_on_a_worker_thread(session: TranslationSession,
                                                                    fake: FakeTranslator) -> None:
    fake.gate = threading.Event()
    lib = rendered("Alpha")
    session.prefetch([lib])  # must not block although the translator is held
    assert fake.started.wait(WAIT), "prefetch did not start translating"
    assert len(fake.calls) == 1
    assert fake.calls[0].thread != threading.current_thread().name
    answers: list[dict[str, Translation]] = []
    waiter = threading.Thread(target=lambda: answers.append(session.translate(request(lib))))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "translate answered before the queued translation finished"
    fake.gate.set()
    waiter.join(WAIT)
    assert not waiter.is_alive()
    assert len(fake.calls) == 1
    assert answers[0]["Alpha"].elm["library"]["call"] == 1  # type: ignore[index]


def test_prefetch_skips_libraries_that_failed_to_render(fake: FakeTranslator, session: TranslationSession) -> None:
    session.prefetch([None, rendered("Alpha"), None])
    session.translate(request(rendered("Alpha")))
    assert fake.targets() == [["Alpha", FHIRHELPERS]]


def test_fhirhelpers_is_translated_once_across_different_libraries(fake: FakeTranslator,
                                                                   session: TranslationSession) -> None:
    libs = [rendered(name) for name in ("Alpha", "Beta", "Gamma")]
    session.prefetch(libs[:2])
    answers = [session.translate(request(lib)) for lib in libs]
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Beta"], ["Gamma"]]
    assert sum(FHIRHELPERS in targets for targets in fake.targets()) == 1
    # Every guideline gets the one FHIRHelpers translation, alongside its own library.
    helpers = answers[0][FHIRHELPERS]
    assert all(answer[FHIRHELPERS] is helpers for answer in answers)
    assert [list(answer) for answer in answers] == [[lib.name, FHIRHELPERS] for lib in libs]
    assert [answer[lib.name].name for answer, lib in zip(answers, libs)] == ["Alpha", "Beta", "Gamma"]


def test_release_forgets_the_library_but_keeps_fhirhelpers(fake: FakeTranslator, session: TranslationSession) -> None:
    lib = rendered("Alpha")
    session.prefetch([lib])
    first = session.translate(request(lib))
    session.release(lib)
    again = session.translate(request(lib))
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Alpha"]]
    assert again["Alpha"] is not first["Alpha"]
    assert again[FHIRHELPERS] is first[FHIRHELPERS]
    session.release(None)  # a library that failed to render: nothing to forget, no error


def test_release_of_one_library_leaves_the_others(fake: FakeTranslator, session: TranslationSession) -> None:
    alpha, beta = rendered("Alpha"), rendered("Beta")
    session.prefetch([alpha, beta])
    session.translate(request(alpha))
    session.release(alpha)
    session.translate(request(beta))
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Beta"]]


def test_a_timeout_or_an_unknown_target_goes_straight_to_the_translator(fake: FakeTranslator,
                                                                        session: TranslationSession) -> None:
    lib = rendered("Alpha")
    session.translate(request(lib))
    session.translate(request(lib), timeout=5.0)
    assert len(fake.calls) == 2
    assert fake.calls[1].timeout == 5.0
    assert fake.calls[1].thread == threading.current_thread().name  # asked directly, not queued
    session.translate(request(lib), ["Alpha", "Missing"])
    assert fake.calls[2].targets == ["Alpha", "Missing"]


def test_targets_limit_what_is_translated_and_returned(fake: FakeTranslator, session: TranslationSession) -> None:
    lib = rendered("Alpha")
    only = session.translate(request(lib), [FHIRHELPERS])
    assert list(only) == [FHIRHELPERS]
    both = session.translate(request(lib))
    assert fake.targets() == [[FHIRHELPERS], ["Alpha"]]
    assert both[FHIRHELPERS] is only[FHIRHELPERS]


def test_release_all_keeps_only_fhirhelpers(fake: FakeTranslator, session: TranslationSession) -> None:
    alpha, beta = rendered("Alpha"), rendered("Beta")
    session.translate(request(alpha))
    session.translate(request(beta))
    session.release_all()
    session.translate(request(alpha))
    session.translate(request(beta))
    assert fake.targets() == [["Alpha", FHIRHELPERS], ["Beta"], ["Alpha"], ["Beta"]]
