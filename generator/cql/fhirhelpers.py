"""Our own FHIRHelpers 4.0.1, generated from the FHIR model info.

Why generated: the translator turns FHIR values into CQL System values (FHIR.string ->
System.String, FHIR.Quantity -> System.Quantity, ...) by calling the functions that the model
info's `conversionInfo` elements name (`FHIRHelpers.ToString`, `FHIRHelpers.ToQuantity`, ...).
We do not ship the published FHIRHelpers text; instead this module reads the conversion
declarations of the FHIR 4.0.1 model info that cql-exec-fhir ships and renders one function per
declaration with jinja2 (templates/FHIRHelpers.cql.j2):

* every conversion whose source is a primitive or code-valued type (string, code enumerations such
  as EncounterStatus, boolean, integer, decimal, date, dateTime, instant, time, uri, xhtml, ...)
  is the type's `value` element, found through the type's base-type chain;
* every primitive type of the model is covered too, even where no conversionInfo names it (code,
  id, markdown, canonical, url, positiveInt, ...), so explicit calls resolve without widening;
* the structured conversions (Coding -> Code, CodeableConcept -> Concept, Quantity -> Quantity,
  Period / Range -> Interval, Ratio -> Ratio) are written in the template from the FHIR and CQL
  specifications' semantics (see the comments there).

The output is deterministic: functions are ordered by (function name, source type).
"""

from __future__ import annotations

import functools

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import jinja2

from generator.canonicals import FHIR_MODEL, UCUM
from generator.cql.translator import find_node_modules
from generator import templating

__all__ = ["FHIRHELPERS_NAME", "FHIRHELPERS_VERSION", "Conversion", "conversions", "fhirhelpers_cql", "model_info_path"]

FHIRHELPERS_NAME = "FHIRHelpers"
FHIRHELPERS_VERSION = "4.0.1"
FHIR_VERSION = "4.0.1"

_NS = {"m": "urn:hl7-org:elm-modelinfo:r1"}
_TEMPLATES = Path(__file__).resolve().parent / "templates"
# Structured conversions are hand-written in the template; everything else must be value-based.
_STRUCTURED = {"FHIR.Coding", "FHIR.CodeableConcept", "FHIR.Quantity", "FHIR.Period", "FHIR.Range", "FHIR.Ratio"}
_FUNCTION_FOR_SYSTEM_TYPE = {
    "System.String": "ToString",
    "System.Boolean": "ToBoolean",
    "System.Integer": "ToInteger",
    "System.Decimal": "ToDecimal",
    "System.Date": "ToDate",
    "System.DateTime": "ToDateTime",
    "System.Time": "ToTime",
}


@dataclass(frozen=True, order=True)
class Conversion:
    """One generated value-based function: `function(value from_type) returns to_type: value.value`."""

    function: str
    from_type: str
    to_type: str


def model_info_path(node_modules: Path | None = None) -> Path:
    """The FHIR 4.0.1 model info XML that cql-exec-fhir ships (the one the translator also loads)."""
    base = node_modules if node_modules is not None else find_node_modules()
    return base / "cql-exec-fhir" / "lib" / "modelInfos" / f"fhir-modelinfo-{FHIR_VERSION}.xml"


def _value_type(types: dict[str, ET.Element], name: str) -> str | None:
    """The System type of `name`'s `value` element, following baseType (FHIR.code -> FHIR.string)."""
    seen: set[str] = set()
    current: str | None = name
    while current and current.startswith("FHIR.") and current not in seen:
        seen.add(current)
        info = types.get(current)
        if info is None:
            return None
        for element in info.findall("m:element", _NS):
            if element.get("name") == "value":
                element_type = element.get("elementType")
                return element_type if element_type and element_type.startswith("System.") else None
        current = info.get("baseType")
    return None


def conversions(model_info: Path | None = None) -> list[Conversion]:
    """Value-based conversions: all conversionInfos outside the structured ones, plus primitives."""
    root = ET.parse(model_info or model_info_path()).getroot()
    types = {f"FHIR.{t.get('name')}": t for t in root.findall("m:typeInfo", _NS)}
    found: set[Conversion] = set()
    for info in root.findall("m:conversionInfo", _NS):
        from_type, to_type, function = info.get("fromType"), info.get("toType"), info.get("functionName")
        if not (from_type and to_type and function) or from_type in _STRUCTURED:
            continue
        library, _, name = function.partition(".")
        if library != FHIRHELPERS_NAME:
            continue
        if _value_type(types, from_type) != to_type:
            raise ValueError(f"conversionInfo {function}({from_type}) -> {to_type} is not a `value` conversion")
        found.add(Conversion(name, from_type, to_type))
    for type_name in types:
        simple = type_name.removeprefix("FHIR.")
        if not simple[:1].islower():  # FHIR primitive types are the lower-case ones
            continue
        system_type = _value_type(types, type_name)
        if system_type in _FUNCTION_FOR_SYSTEM_TYPE:
            found.add(Conversion(_FUNCTION_FOR_SYSTEM_TYPE[system_type], type_name, system_type))
    return sorted(found)


@functools.lru_cache(maxsize=4)
def fhirhelpers_cql(model_info: Path | None = None) -> str:
    """The FHIRHelpers 4.0.1 CQL text (deterministic for a given model info)."""
    return _render(model_info or model_info_path(), FHIRHELPERS_VERSION, FHIR_VERSION)


def _render(model_info: Path, version: str, fhir_version: str) -> str:
    """FHIRHelpers `version`, its conversions read from `model_info`."""
    root = ET.parse(model_info).getroot()
    return _environment().get_template("FHIRHelpers.cql.j2").render(
        version=version,
        fhir_version=root.get("version", fhir_version),
        model_name=root.get("name", "FHIR"),
        model_url=root.get("url", FHIR_MODEL),
        model_info_name=model_info.name,
        ucum=UCUM,
        primitives=conversions(model_info),
    )


@functools.cache
def _environment() -> jinja2.Environment:
    return templating.environment(_TEMPLATES, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                  autoescape=False)


#: FHIR versions whose model info cql-exec-fhir ships and the translator loads (node/translator.mjs).
SUPPORTED_FHIR_VERSIONS = ("4.0.0", "4.0.1")


@functools.lru_cache(maxsize=4)
def fhirhelpers_cql_for(fhir_version: str) -> str:
    """FHIRHelpers `fhir_version` generated from that version's model info, as `fhirhelpers_cql` does
    for 4.0.1. Why: content written for FHIR 4.0.0 includes FHIRHelpers version '4.0.0'."""
    if fhir_version == FHIRHELPERS_VERSION:
        return fhirhelpers_cql()
    if fhir_version not in SUPPORTED_FHIR_VERSIONS:
        raise ValueError(f"no FHIR {fhir_version} model info (supported: {', '.join(SUPPORTED_FHIR_VERSIONS)})")
    return _render(model_info_path().with_name(f"fhir-modelinfo-{fhir_version}.xml"), fhir_version, fhir_version)
