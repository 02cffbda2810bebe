"""The Node translator server and its Python client, against the real @cqframework/cql."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from generator.cql.translator import (
    DEFAULT_OPTIONS,
    CqlMessage,
    Translator,
    TranslatorError,
    TranslatorUnavailable,
)

SMALL = """library Small version '1.0.0'

define "Answer": 40 + 2
define "Is Big": "Answer" > 10
"""


def only_errors(translation):
    return [m for m in translation.messages if m.severity == "error"]


def test_small_library_translates(translator: Translator) -> None:
    result = translator.translate({"Small": SMALL})["Small"]
    assert result.ok and result.messages == []
    assert (result.name, result.version) == ("Small", "1.0.0")
    assert result.elm is not None
    assert result.elm["library"]["identifier"] == {"id": "Small", "version": "1.0.0"}
    defines = {d["name"]: d for d in result.elm["library"]["statements"]["def"]}
    # EnableResultTypes: every define is typed.
    assert defines["Is Big"]["resultTypeName"] == "{urn:hl7-org:elm-types:r1}Boolean"
    info = result.elm["library"]["annotation"][0]
    assert info["type"] == "CqlToElmInfo"
    assert info["translatorOptions"] == ",".join(DEFAULT_OPTIONS["options"])
    assert info["signatureLevel"] == "Overloads"


def test_elm_json_is_byte_identical_for_identical_input(translator: Translator) -> None:
    first = translator.translate({"Small": SMALL})["Small"].elm_json
    second = translator.translate({"Small": SMALL})["Small"].elm_json
    assert first == second
    assert first.startswith('{\n  "library": {')


def test_process_is_reused(translator: Translator) -> None:
    pid = translator.pid
    translator.translate({"Small": SMALL})
    translator.translate({"Small": SMALL})
    assert pid is not None and translator.pid == pid
    os.kill(pid, 0)  # still alive


def test_options_are_recorded() -> None:
    t = Translator({"signatureLevel": "All"})
    assert t.options["signatureLevel"] == "All"
    assert t.options["options"] == DEFAULT_OPTIONS["options"]
    assert t.options["compatibilityLevel"] == "1.5"


def test_syntax_error_is_located(translator: Translator) -> None:
    cql = "library S version '1'\ndefine A: 1\ndefine B: 1 + * 2\n"
    result = translator.translate({"S": cql})["S"]
    (error,) = only_errors(result)
    assert error.type == "syntax"
    assert "Syntax error at *" in error.message
    # '*' is the 15th character of line 3 (columns are 1-based, also for syntax errors)
    assert (error.library, error.version, error.line, error.column) == ("S", "1", 3, 15)
    assert str(error) == "S:3:15: error: Syntax error at *"
    assert not result.ok


def test_type_error_is_located(translator: Translator) -> None:
    cql = "library T version '1'\n\ndefine \"Sum\": 1 + 'a'\n"
    (error,) = only_errors(translator.translate({"T": cql})["T"])
    assert error.type == "semantic"
    assert error.message == "Could not resolve call to operator Add with signature (System.Integer, System.String)."
    assert (error.line, error.column, error.end_line, error.end_column) == (3, 15, 3, 21)


def test_unknown_identifier_is_located(translator: Translator) -> None:
    cql = "library U version '1'\ndefine \"A\": true\ndefine \"B\": \"A\" and \"Nope\"\n"
    (error,) = only_errors(translator.translate({"U": cql})["U"])
    assert error.message == "Could not resolve identifier Nope in the current library."
    assert (error.line, error.column) == (3, 21)


def test_unknown_define_in_included_library_is_located(translator: Translator) -> None:
    libraries = {
        "Main": "library Main version '1'\ninclude Shared version '2' called S\n\ndefine X: S.\"Nope\"\n",
        "Shared": "library Shared version '2'\ndefine Yes: true\n",
    }
    result = translator.translate(libraries, ["Main"])
    assert list(result) == ["Main"]
    (error,) = only_errors(result["Main"])
    assert error.message == "Could not resolve identifier Nope in library Shared."
    assert (error.library, error.line, error.column) == ("Main", 4, 13)  # the quoted identifier


def test_missing_include_is_an_include_error(translator: Translator) -> None:
    cql = "library C version '1'\ninclude Missing version '2' called M\ndefine X: 1\n"
    (error,) = only_errors(translator.translate({"C": cql})["C"])
    assert error.type == "include"
    assert (error.line, error.column) == (2, 1)
    assert "Missing" in error.message


def test_libraries_include_each_other_by_name_and_version(translator: Translator) -> None:
    libraries = {
        "Main": "library Main version '1'\ninclude Shared version '2' called S\ndefine X: S.Yes and true\n",
        "Shared": "library Shared version '2'\ndefine Yes: true\n",
    }
    results = translator.translate(libraries)
    assert results["Main"].ok and results["Shared"].ok
    assert list(results) == ["Main", "Shared"]  # the order asked for (Shared is translated first, then reused)
    # Main's ELM does not depend on whether Shared was compiled as a target or as Main's include.
    assert translator.translate(libraries, ["Main"])["Main"].elm_json == results["Main"].elm_json
    wrong_version = {**libraries, "Main": libraries["Main"].replace("version '2'", "version '3'")}
    assert not translator.translate(wrong_version, ["Main"])["Main"].ok


def test_quantity_literals_use_the_ucum_service(translator: Translator) -> None:
    cql = "library Q version '1'\ndefine Dose: 5 'mg' + 1 'g'\ndefine Rate: 2 'mL/h'\n"
    result = translator.translate({"Q": cql})["Q"]
    assert result.ok, [str(m) for m in result.messages]
    bad = translator.translate({"Q": "library Q version '1'\ndefine Dose: 5 'furlongs'\n"})["Q"]
    (error,) = only_errors(bad)
    assert error.message == "furlongs is not a valid UCUM code."
    assert (error.line, error.column) == (2, 14)


def test_unknown_target_is_rejected(translator: Translator) -> None:
    with pytest.raises(ValueError, match="Nope"):
        translator.translate({"Small": SMALL}, ["Nope"])


def test_message_str() -> None:
    message = CqlMessage("warning", "semantic", "odd", "Lib", "1", 12, 5, 12, 9)
    assert str(message) == "Lib:12:5: warning: odd"
    assert str(CqlMessage("error", "internal", "boom")) == "<cql>: error: boom"


def test_missing_node_binary_is_a_clear_error() -> None:
    env = {**os.environ, "CPG_NODE": "/nonexistent/bin/node"}
    with pytest.raises(TranslatorUnavailable) as raised:
        with Translator(env=env):
            pass
    message = str(raised.value)
    assert "CPG_NODE='/nonexistent/bin/node'" in message
    assert "node >= 18" in message


def test_missing_node_modules_is_a_clear_error(tmp_path: Path) -> None:
    env = {**os.environ, "CPG_NODE_MODULES": str(tmp_path)}
    with pytest.raises(TranslatorUnavailable, match="npm ci"):
        Translator(env=env).start()


def test_dead_process_gives_a_clean_error() -> None:
    with Translator() as t:
        assert t.pid is not None
        os.kill(t.pid, signal.SIGKILL)
        with pytest.raises(TranslatorError, match="exited unexpectedly|died"):
            t.translate({"Small": SMALL})
        # a dead process (killed, heap exhausted) fails that request only: the next gets a fresh one (#16)
        assert t.translate({"Small": SMALL})["Small"].ok and t.restarts == 1


def test_not_started_translator_refuses() -> None:
    with pytest.raises(TranslatorError, match="not running"):
        Translator().translate({"Small": SMALL})


def test_timeout_kills_the_process_and_says_so(fhirhelpers: str) -> None:
    with Translator() as t:
        pid = t.pid
        with pytest.raises(TranslatorError, match=r"did not answer within 0.001 s"):
            t.translate({"FHIRHelpers": fhirhelpers}, timeout=0.001)
        assert t.pid != pid  # the hung process was killed and replaced for the next request
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_closed_translator_can_start_again() -> None:
    from generator.cql.translator import Translator as FreshTranslator

    translator = FreshTranslator()
    translator.start()
    first = translator.pid
    translator.close()
    translator.start()
    try:
        assert translator.pid != first
        assert translator.translate({"Tiny": "library Tiny version '1.0.0'\ndefine X: 1"})["Tiny"].ok
    finally:
        translator.close()
