"""Layer 7, terminology checks that need no terminology server.

Known code system URIs, SNOMED CT identifier structure (Verhoeff check digit, partition
identifier), LOINC check digits (mod 10, Luhn-style), numeric RxNorm codes, a display on
every Coding, and UCUM unit syntax. UCUM atoms and prefixes come from the UCUM table the
npm package `@lhncbc/ucum-lhc` ships (already a dependency); without it only the shape
of a unit expression is checked.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from generator.canonicals import LOINC, RXNORM, SNOMED, UCUM
from generator.diagnostics import Diagnostic
from generator.validate._definitions import DefinitionsUnavailable, find_package, load_definitions
from generator.validate._model import Artifact, ref_of
from generator.validate._rules import diag

KNOWN_SYSTEMS = frozenset(
    {
        SNOMED, LOINC, RXNORM, UCUM,
        "http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-9-cm",
        "http://hl7.org/fhir/sid/cvx", "http://hl7.org/fhir/sid/ndc", "http://www.ama-assn.org/go/cpt",
        "http://www.whocc.no/atc", "http://www.nlm.nih.gov/research/umls", "urn:ietf:bcp:47", "urn:ietf:bcp:13",
        "urn:iso:std:iso:3166", "urn:iso:std:iso:4217", "http://dicom.nema.org/resources/ontology/DCM",
    }
)
KNOWN_PREFIXES = ("http://hl7.org/fhir/", "http://terminology.hl7.org/", "urn:oid:", "urn:uuid:")


def known_systems() -> frozenset[str]:
    """KNOWN_SYSTEMS plus every code system the shipped R4 definitions name (ISO 3166, NUCC, ...)."""
    try:
        return KNOWN_SYSTEMS | load_definitions().known_systems
    except DefinitionsUnavailable:
        return KNOWN_SYSTEMS


def is_known_system(system: str) -> bool:
    return system in known_systems() or system.startswith(KNOWN_PREFIXES)

# Verhoeff tables, built from their definition: d is the dihedral group D5, p powers of one permutation.
_D = [[(j + k) % 5 if j < 5 and k < 5 else 5 + (j + k) % 5 if j < 5 else 5 + (j - k) % 5 if k < 5 else (j - k) % 5
       for k in range(10)] for j in range(10)]
_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
_P = [list(range(10))]
for _ in range(7):
    _P.append([_P1[x] for x in _P[-1]])


def verhoeff_ok(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def snomed_problem(code: str) -> str | None:
    """Why `code` is not a SNOMED CT concept identifier (None if it is, or is an expression)."""
    if any(ch in code for ch in ":|+={}"):
        return None  # a post-coordinated expression; not checked here
    if not code.isdigit():
        return "is not numeric"
    if not 6 <= len(code) <= 18 or code[0] == "0":
        return "must be 6-18 digits without a leading zero"
    if code[-3:-1] not in ("00", "10"):
        return f"has partition identifier {code[-3:-1]!r}, which is not a concept (00 or 10)"
    if not verhoeff_ok(code):
        return "fails the Verhoeff check digit"
    return None


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


_LOINC = re.compile(r"^(\d{1,7})-(\d)$")
_LOINC_PART = re.compile(r"^L[APLG]\d+-\d$")


def loinc_problem(code: str) -> str | None:
    m = _LOINC.match(code)
    if m:
        return None if luhn_ok(m.group(1) + m.group(2)) else "fails the LOINC mod-10 check digit"
    if _LOINC_PART.match(code):
        return None
    return "is not a LOINC code (NNNNN-C)"


@functools.lru_cache(maxsize=1)
def _ucum_table() -> tuple[frozenset[str], frozenset[str], frozenset[str]] | None:
    """(atoms, metric atoms, prefixes) from @lhncbc/ucum-lhc, cached per process."""
    package = find_package()
    candidates = []
    if package is not None:
        candidates.append(package.parent.parent / "@lhncbc" / "ucum-lhc" / "data" / "ucumDefs.min.json")
    for path in candidates:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        config = data["units"]["config"]
        i_code, i_metric = config.index("csCode_"), config.index("isMetric_")
        atoms = frozenset(u[i_code] for u in data["units"]["data"])
        metric = frozenset(u[i_code] for u in data["units"]["data"] if u[i_metric])
        prefixes = frozenset(p[0] for p in data["prefixes"]["data"])
        return atoms, metric, prefixes
    return None


_TOKEN = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]|[./()]|[^./(){}\[\]]+")


def ucum_problem(unit: str) -> str | None:
    """A cheap recursive-descent check of UCUM syntax (and atoms, when the table is installed)."""
    if not unit or any(ord(ch) < 33 or ord(ch) > 126 for ch in unit):
        return "contains spaces or non-ASCII characters"
    if unit.count("(") != unit.count(")") or unit.count("{") != unit.count("}") or unit.count("[") != unit.count("]"):
        return "has unbalanced brackets"
    table = _ucum_table()
    # split into components at top-level '.' and '/', keeping bracketed parts whole
    depth, components, current = 0, [], ""
    i = 0
    while i < len(unit):
        ch = unit[i]
        if ch in "[{":
            close = "]" if ch == "[" else "}"
            j = unit.find(close, i)
            current += unit[i:j + 1]
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and ch in "./":
            components.append(current)
            current = ""
        else:
            current += ch
        i += 1
    components.append(current)
    for n, comp in enumerate(components):
        if comp == "" and n == 0 and unit.startswith("/"):
            continue
        if comp == "":
            return "has an empty component"
        if comp.startswith("(") and comp.endswith(")"):
            inner = ucum_problem(comp[1:-1])
            if inner:
                return inner
            continue
        core = re.sub(r"\{[^{}]*\}$", "", comp)
        if core == "" or core.isdigit():
            continue  # pure annotation or integer factor
        if table is None:
            continue
        atoms, metric, prefixes = table
        m = re.match(r"^(.*?)([+-]?\d+)?$", core)
        symbol = m.group(1) if m and m.group(1) else core
        if _unit_known(symbol, atoms, metric, prefixes) or _unit_known(core, atoms, metric, prefixes):
            continue
        return f"unknown unit {core!r}"
    return None


def _unit_known(symbol: str, atoms: frozenset[str], metric: frozenset[str], prefixes: frozenset[str]) -> bool:
    if symbol in atoms:
        return True
    return any(symbol.startswith(p) and symbol[len(p):] in metric for p in prefixes)


def _nodes(value: Any, key: str, fp: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield key, fp, value
        for k, v in value.items():
            if k in ("contained", "text"):
                continue
            yield from _nodes(v, k, f"{fp}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, key, f"{fp}[{i}]")


def check(artifacts: list[Artifact]) -> list[Diagnostic]:
    local_systems = {a.resource.get("url") for a in artifacts if a.resource["resourceType"] == "CodeSystem"}
    diags: list[Diagnostic] = []
    for a in artifacts:
        res = a.resource
        ref = ref_of(res)
        for key, fp, node in _nodes(res, res["resourceType"], res["resourceType"]):
            if key in ("identifier", "meta") or node is res:
                continue
            system, code = node.get("system"), node.get("code")
            is_quantity = "value" in node or "unit" in node or "comparator" in node
            if is_quantity:
                if system == UCUM and isinstance(code, str):
                    problem = ucum_problem(code)
                    if problem:
                        diags.append(diag("term.ucum", f"UCUM unit {code!r} {problem}", resource=ref, path=f"{fp}.code"))
                continue
            if not isinstance(code, str) or not isinstance(system, str):
                continue
            if "display" not in node:
                diags.append(diag("term.missing-display", f"Coding {system}#{code} has no display", resource=ref, path=fp))
            if system == SNOMED:
                problem = snomed_problem(code)
                if problem:
                    diags.append(diag("term.snomed-id", f"SNOMED CT code {code!r} {problem}", resource=ref, path=f"{fp}.code"))
            elif system == LOINC:
                problem = loinc_problem(code)
                if problem:
                    diags.append(diag("term.loinc-code", f"LOINC code {code!r} {problem}", resource=ref, path=f"{fp}.code"))
            elif system == RXNORM:
                if not code.isdigit():
                    diags.append(diag("term.rxnorm-code", f"RxNorm code {code!r} is not numeric", resource=ref, path=f"{fp}.code"))
            elif system not in local_systems and not is_known_system(system):
                why = "is not an absolute URI" if not re.match(r"^(https?://|urn:)", system) else "is not a known code system"
                diags.append(diag("term.unknown-system", f"system {system} {why}", resource=ref, path=f"{fp}.system"))
    return diags
