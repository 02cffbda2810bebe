"""txt-1 / txt-2, checked natively (fhirpathpy has no htmlChecks()): each way a narrative can break
them is reported, and narratives the R4 rules allow are not."""

from __future__ import annotations

from typing import Any

import pytest

from generator.diagnostics import Severity
from generator.validate import ValidationOptions, validate
from generator.validate._base import narrative_problems

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


@pytest.mark.parametrize(("div", "key", "fragment"), [
    (f"<div {NS}><p>ok<script>alert(1)</script></p></div>", "txt-1", "<script>"),
    (f"<div {NS}><form><p>x</p></form></div>", "txt-1", "<form>"),
    (f"<div {NS}><iframe src=\"x\"/>x</div>", "txt-1", "<iframe>"),
    (f"<div {NS}><object data=\"x\"/>x</div>", "txt-1", "<object>"),
    (f"<div {NS}><p onclick=\"steal()\">x</p></div>", "txt-1", "'onclick'"),
    (f"<div {NS}><a href=\"javascript:steal()\">x</a></div>", "txt-1", "javascript:"),
    (f"<div {NS}><svg xmlns=\"http://www.w3.org/2000/svg\"/>x</div>", "txt-1", "<svg>"),
    ("<div><p>no namespace</p></div>", "txt-1", "root must be an XHTML div"),
    (f"<p {NS}>not a div</p>", "txt-1", "root must be an XHTML div"),
    (f"<div {NS}><p>unclosed</div>", "txt-1", "not well-formed"),
    (f"<div {NS}>\ud800</div>", "txt-1", "not well-formed"),  # a lone surrogate JSON can carry
    (f"<div {NS}>  <p> </p>\n</div>", "txt-2", "non-whitespace"),
])
def test_what_the_narrative_rules_forbid_is_an_error(div: str, key: str, fragment: str) -> None:
    problems = narrative_problems(div)
    assert any(k == key and fragment in message and severity is Severity.ERROR
               for k, message, severity in problems), problems


@pytest.mark.parametrize(("div", "fragment"), [
    (f"<div {NS}><font>deprecated</font></div>", "<font>"),
    (f"<div {NS}><ins>added</ins></div>", "<ins>"),
    (f"<div {NS}><p data-x=\"1\">x</p></div>", "'data-x'"),
])
def test_what_the_rules_do_not_list_is_a_warning(div: str, fragment: str) -> None:
    problems = narrative_problems(div)
    assert problems and all(severity is Severity.WARNING for _, _, severity in problems), problems
    assert any(fragment in message for _, message, _ in problems)


@pytest.mark.parametrize("div", [
    f"<div {NS}><h3>Title</h3><p style=\"color: red\">Text with <b>bold</b>, <i>italic</i>, <code>code</code>.</p></div>",
    f"<div {NS}><table border=\"1\"><tr><th scope=\"col\">A</th></tr><tr><td colspan=\"2\">1</td></tr></table></div>",
    f"<div {NS}><ul><li><a href=\"http://example.org\" rel=\"x\">link</a></li><li><a id=\"top\">anchor</a></li></ul></div>",
    f"<div {NS} xml:lang=\"en\" lang=\"en\"><img src=\"#pic\" alt=\"\" usemap=\"#m\"/><map name=\"m\"><area href=\"#a\" shape=\"rect\" coords=\"0,0,1,1\" alt=\"a\"/></map></div>",
    f"<div {NS}><pre xml:space=\"preserve\">define \"X\": true</pre><dl><dt tabindex=\"0\">t</dt><dd>d</dd></dl><hr/><br/></div>",
])
def test_narratives_the_rules_allow_pass(div: str) -> None:
    assert narrative_problems(div) == []


def _value_set(div: str) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": "vs", "url": "http://example.org/ValueSet/vs", "status": "draft",
            "text": {"status": "generated", "div": div}}


def test_the_base_layer_reports_txt_rules_at_the_div() -> None:
    diags = validate([_value_set(f"<div {NS}><script/> </div>")], ValidationOptions(layers=["base"]))
    found = [d for d in diags if d.code == "base.invariant"]
    assert [(d.path, d.message.split(":")[0]) for d in found] == [("ValueSet.text.div", "txt-1"),
                                                                  ("ValueSet.text.div", "txt-2")]
    assert validate([_value_set(f"<div {NS}><p>fine</p></div>")], ValidationOptions(layers=["base"])) == []
