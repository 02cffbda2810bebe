"""Declarations read from CQL text: the library name, and the include closure sent per request."""

from __future__ import annotations

from generator.cql.declarations import declared_name, include_closure, included_names


def test_included_names_in_every_spelling() -> None:
    text = ("library A version '1'\n"
            "include FHIRHelpers version '4.0.1' called FHIRHelpers\n"
            "  include \"Quoted Name\" version '1'\n"
            "/* helpers */ include org.example.Common version '2' called C\n"
            "define \"X\": 'include NotThis'\n"
            "// include NotThisEither\n")
    assert included_names(text) == ["FHIRHelpers", "Quoted Name", "Common"]


def test_the_closure_follows_includes_and_ignores_unknown_names() -> None:
    sources = {
        "Top": "library Top\ninclude Middle\ninclude Missing\n",
        "Middle": "library Middle\ninclude Base\n",
        "Base": "library Base\n",
        "Other": "library Other\ninclude Base\n",
    }
    assert sorted(include_closure("Top", sources)) == ["Base", "Middle", "Top"]
    assert sorted(include_closure("Base", sources)) == ["Base"]
    cyclic = {"A": "library A\ninclude B\n", "B": "library B\ninclude A\n"}
    assert sorted(include_closure("A", cyclic)) == ["A", "B"]


def test_declared_name_with_or_without_quotes_and_version() -> None:
    assert declared_name("// header\nlibrary VCF version '1.0.0'\n") == "VCF"
    assert declared_name('library "My Logic"\nusing FHIR\n') == "My Logic"
    assert declared_name("define X: true\n") is None
