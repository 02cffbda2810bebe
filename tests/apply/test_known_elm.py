"""`Artifacts.from_resources(..., known_elm=...)`: ELM a build already holds is used as is, not decoded.

A build has every Library's ELM in memory (the translator's answer); decoding the base64
attachment again (FHIRHelpers' ELM above all) cost more than planning. Libraries the mapping
does not name are still decoded from their attachment.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import generator.apply.testcases as testcases
from generator.apply import Artifacts
from generator.apply._artifacts import ApplyError
from generator.canonicals import SHARED_LIBRARY_BASE
from generator.compile import BuiltGuideline, compile_definitions
from generator.cql.translator import Translator
from generator.synth.library import library_canonical

ROOT = Path(__file__).resolve().parents[2]
VCF = ROOT / "output" / "vertebral-compression-fracture"
BASE = "http://example.org/fhir/cpg/vertebral-compression-fracture/Library/"
MAIN = BASE + "VertebralCompressionFracture"
HELPERS = SHARED_LIBRARY_BASE + "FHIRHelpers"  # one FHIRHelpers for every guideline
DEFINITIONS = Path(__file__).resolve().parent / "definitions"


@pytest.fixture(scope="module")
def vcf_resources() -> list[dict[str, Any]]:
    return [json.loads(p.read_bytes()) for p in sorted((VCF / "resources").glob("*.json"))]


def attachment_elm(library: dict[str, Any]) -> dict[str, Any]:
    data = next(a["data"] for a in library["content"] if a["contentType"].startswith("application/elm+json"))
    return json.loads(base64.b64decode(data))


def sentinel_elm(name: str = "KnownSentinel") -> dict[str, Any]:
    return {"library": {"identifier": {"id": name, "version": "9.9.9"}, "statements": {"def": []}}}


def with_broken_elm(library: dict[str, Any]) -> dict[str, Any]:
    """The Library with an ELM attachment that cannot be decoded."""
    broken = dict(library)
    broken["content"] = [dict(a, data="!!! not base64 !!!") if a["contentType"].startswith("application/elm+json")
                         else a for a in library["content"]]
    return broken


def test_the_vcf_libraries_are_where_the_test_expects(vcf_resources: list[dict[str, Any]]) -> None:
    urls = {r["url"] for r in vcf_resources if r["resourceType"] == "Library"}
    assert {MAIN, HELPERS} <= urls


def test_known_elm_is_returned_as_the_very_same_object(vcf_resources: list[dict[str, Any]]) -> None:
    known = sentinel_elm()
    artifacts = Artifacts.from_resources(vcf_resources, known_elm={MAIN: known})
    library = artifacts.resolve(MAIN)
    assert library is not None
    assert artifacts.elm_of(library) is known
    assert artifacts.elm_of(library) is known  # asked again: still the same object
    # What the Library's ELM names is what `apply` uses (here the sentinel, not the attachment's).
    assert artifacts.library_name(MAIN, where="test") == "KnownSentinel"
    assert known in artifacts.elm_libraries()


def test_known_elm_is_not_decoded(vcf_resources: list[dict[str, Any]]) -> None:
    resources = [with_broken_elm(r) if r.get("url") == MAIN else r for r in vcf_resources]
    # Without the mapping, the broken attachment is decoded and rejected ...
    plain = Artifacts.from_resources(resources)
    with pytest.raises(ApplyError) as info:
        plain.elm_of(plain.resolve(MAIN))  # type: ignore[arg-type]
    assert "APPLY010" in str(info.value.diagnostics[0])
    # ... with it, the attachment is never read.
    known = sentinel_elm()
    artifacts = Artifacts.from_resources(resources, known_elm={MAIN: known})
    assert artifacts.elm_of(artifacts.resolve(MAIN)) is known  # type: ignore[arg-type]


def test_a_library_not_in_known_elm_is_decoded_from_its_attachment(vcf_resources: list[dict[str, Any]]) -> None:
    known = sentinel_elm()
    artifacts = Artifacts.from_resources(vcf_resources, known_elm={MAIN: known})
    helpers = artifacts.resolve(HELPERS)
    assert helpers is not None
    decoded = artifacts.elm_of(helpers)
    assert decoded is not known
    assert decoded == attachment_elm(helpers)
    assert decoded["library"]["identifier"]["id"] == "FHIRHelpers"
    assert decoded == json.loads((VCF / "elm" / "FHIRHelpers.json").read_bytes())


def test_without_known_elm_every_library_is_decoded(vcf_resources: list[dict[str, Any]]) -> None:
    artifacts = Artifacts.from_resources(vcf_resources)
    main = artifacts.resolve(MAIN)
    assert artifacts.elm_of(main) == json.loads((VCF / "elm" / "VertebralCompressionFracture.json").read_bytes())  # type: ignore[arg-type]


def test_known_elm_is_a_snapshot_of_the_mapping_given(vcf_resources: list[dict[str, Any]]) -> None:
    mapping = {MAIN: sentinel_elm("First")}
    artifacts = Artifacts.from_resources(vcf_resources, known_elm=mapping)
    mapping[MAIN] = sentinel_elm("Second")
    assert artifacts.library_name(MAIN, where="test") == "First"


# -- in a build: test-case Libraries are planned from the translator's ELM --------------------------


@pytest.fixture(scope="module")
def demo_built(session_translator: Translator) -> BuiltGuideline:
    result = compile_definitions(DEFINITIONS, translator=session_translator, validate=False)
    assert result.ok, [str(d) for d in result.diagnostics]
    (built,) = result.guidelines
    assert built.resolved.scenarios, "the demo needs scenarios for test-case Libraries"
    return built


def test_build_translations_are_keyed_by_the_library_urls(demo_built: BuiltGuideline) -> None:
    urls = {r["url"] for r in demo_built.resources if r["resourceType"] == "Library"}
    assert {library_canonical(demo_built.resolved, name) for name in demo_built.logic.translations} <= urls


def test_test_case_libraries_plan_without_decoding_any_elm(demo_built: BuiltGuideline,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    real_decode = Artifacts._decode_elm

    def counting_decode(self: Artifacts, library: dict[str, Any]) -> dict[str, Any]:
        decoded.append(str(library.get("url")))
        return real_decode(self, library)

    monkeypatch.setattr(Artifacts, "_decode_elm", counting_decode)
    from_known = testcases.test_case_libraries(demo_built)
    assert from_known
    assert decoded == []

    # The same Libraries as planning from the decoded attachments (known_elm withheld).
    real_from_resources = Artifacts.from_resources.__func__  # type: ignore[attr-defined]

    def without_known_elm(cls: type[Artifacts], resources: Any, source: str = "<memory>", *,
                          known_elm: Any = None) -> Artifacts:
        return real_from_resources(cls, resources, source)

    monkeypatch.setattr(Artifacts, "from_resources", classmethod(without_known_elm))
    from_attachments = testcases.test_case_libraries(demo_built)
    assert decoded, "the comparison run should have decoded the attachments"
    assert from_attachments == from_known


def test_planning_uses_the_translations_own_objects(demo_built: BuiltGuideline) -> None:
    def url(name: str) -> str:
        return library_canonical(demo_built.resolved, name)

    known = {url(name): t.elm for name, t in demo_built.logic.translations.items() if t.elm is not None}
    artifacts = Artifacts.from_resources(demo_built.resources, known_elm=known)
    for name, translation in demo_built.logic.translations.items():
        library = artifacts.resolve(url(name))
        assert library is not None
        assert artifacts.elm_of(library) is translation.elm
        assert translation.elm == attachment_elm(library)  # the same ELM the Library carries
