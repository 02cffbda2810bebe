"""Narratives are well-formed restricted XHTML, and author text is always escaped."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest

from generator.compile import BuiltGuideline
from generator.publish import add_narratives, publication_files

from .conftest import HOSTILE

XHTML = "{http://www.w3.org/1999/xhtml}"
#: Elements the FHIR narrative rules forbid (txt-1) and attributes that could run code.
FORBIDDEN = {"script", "form", "input", "iframe", "object", "embed", "head", "body", "base", "link", "style", "frame"}


def _check_div(div: str) -> ET.Element:
    root = ET.fromstring(div)  # raises on anything not well-formed
    assert root.tag == f"{XHTML}div"
    for element in root.iter():
        assert element.tag.startswith(XHTML), element.tag
        assert element.tag[len(XHTML):] not in FORBIDDEN, element.tag
        for attribute in element.attrib:
            assert not attribute.lower().startswith("on"), attribute
    assert "".join(root.itertext()).strip()
    return root


def _published(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(files["bundle-collection.json"])["entry"]]


def test_every_published_resource_has_a_narrative(minimal_files: dict[str, bytes]) -> None:
    for resource in _published(minimal_files):
        assert resource["text"]["status"] == "generated"
        _check_div(resource["text"]["div"])
        assert list(resource)[:2] == ["resourceType", "id"]


def test_recommendation_narrative_content(minimal_files: dict[str, bytes]) -> None:
    by_id = {f'{r["resourceType"]}/{r["id"]}': r for r in _published(minimal_files)}
    text = "".join(_check_div(by_id["PlanDefinition/calcitonin"]["text"]["div"]).itertext())
    for expected in ("Give calcitonin for 4 weeks.", "Is Calcitonin Applicable",
                     "Acute Fracture and Adult and not Low Creatinine Clearance", 'define "Acute Fracture"',
                     "Strong", "Moderate quality", "For", "should receive calcitonin for 4 weeks"):
        assert expected in text
    donot = "".join(_check_div(by_id["ActivityDefinition/no-vertebroplasty-1"]["text"]["div"]).itertext())
    assert "DO NOT PERFORM" in donot
    library = "".join(_check_div(by_id["Library/Minimal"]["text"]["div"]).itertext())
    assert "library Minimal version '1.0.0'" in library and "text/cql; version=1.5" in library
    value_set = "".join(_check_div(by_id["ValueSet/vertebral-fracture"]["text"]["div"]).itertext())
    assert "207957008" in value_set


def test_add_narratives_returns_new_dicts(minimal_built: BuiltGuideline) -> None:
    before = json.dumps(minimal_built.resources, sort_keys=True)
    narrated = add_narratives(minimal_built.resources, minimal_built)
    assert json.dumps(minimal_built.resources, sort_keys=True) == before
    assert all(a is not b for a, b in zip(narrated, minimal_built.resources, strict=True))
    assert add_narratives(narrated, minimal_built) == narrated  # idempotent


def test_hostile_author_text_is_escaped(hostile_built: BuiltGuideline) -> None:
    files = publication_files(hostile_built)
    resources = _published(files)
    assert len(resources) >= 6
    seen = 0
    for resource in resources:
        root = _check_div(resource["text"]["div"])
        seen += "".join(root.itertext()).count(HOSTILE)
    assert seen >= 8  # the hostile text came through as text, not markup

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            assert not any(name.startswith("on") for name, _ in attrs)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    page = Collect()
    page.feed(files["site/index.html"].decode("utf-8"))
    page.close()
    assert "script" not in page.tags
    assert HOSTILE in "".join(page.text).replace("\n", "")
    # the hostile URL stays one attribute value
    assert 'href="http://example.org/doc?a=1&amp;b=&#34;2&#34;"' in files["site/index.html"].decode("utf-8")


@pytest.mark.parametrize("bad", ["\x00", "\x0b", "\ufffe"])
def test_xml_invalid_characters_are_dropped(minimal_built: BuiltGuideline, bad: str) -> None:
    resource = dict(minimal_built.resources[0], title=f"before{bad}after")
    (narrated,) = add_narratives([resource], minimal_built)
    assert "beforeafter" in "".join(_check_div(narrated["text"]["div"]).itertext())
