"""Layer 6, CQL: Library CQL compiles with the official translator, and PlanDefinition
expressions name real, correctly typed defines.

Uses the team's translator bridge (`generator.cql.translator`). The build passes its
running `Translator` through `ValidationOptions.translator` so no second Node process
starts; standalone runs start one for the call. When the bridge or Node is missing the
layer reports `cql.unavailable` (info) and skips, so the other layers still run.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from generator.canonicals import CQF_LIBRARY
from generator.cql.declarations import declared_name, include_closure, included_names
from generator.diagnostics import Diagnostic, Severity
from generator.validate._model import Artifact, ValidationOptions, extensions, items, ref_of, split_canonical, walk_actions
from generator.validate._inline_cql import check_plan as check_inline
from generator.validate._inline_cql import inline_expressions
from generator.validate._rules import diag



@dataclass
class _Lib:
    resource: dict[str, Any]
    path: str  # FHIRPath of the CQL content
    text: str
    cql_name: str | None


def _cql_libraries(artifacts: list[Artifact], diags: list[Diagnostic]) -> list[_Lib]:
    libs: list[_Lib] = []
    for a in artifacts:
        res = a.resource
        if res["resourceType"] != "Library":
            continue
        for i, content in enumerate(items(res.get("content"))):
            if not isinstance(content, dict) or not str(content.get("contentType", "")).startswith("text/cql"):
                continue
            fp = f"Library.content[{i}]"
            data = content.get("data")
            if not isinstance(data, str):
                if content.get("url"):
                    diags.append(diag("cql.bad-content", "CQL content is referenced by url only; not compiled",
                                      resource=ref_of(res), path=fp, severity=Severity.WARNING))
                continue
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                diags.append(diag("cql.bad-content", "content.data is not base64-encoded UTF-8 text", resource=ref_of(res),
                                  path=f"{fp}.data"))
                continue
            name = declared_name(text)
            libs.append(_Lib(res, fp, text, name))
            if name and isinstance(res.get("name"), str) and res["name"] != name:
                diags.append(diag("cql.name-mismatch", f"Library.name {res['name']!r} but the CQL declares library {name!r}",
                                  resource=ref_of(res), path="Library.name"))
    return libs


@contextlib.contextmanager
def _translator(options: ValidationOptions) -> Iterator[Any]:
    if options.translator is not None:
        yield options.translator
        return
    from generator.cql.translator import Translator

    with Translator() as t:
        yield t


def check(artifacts: list[Artifact], options: ValidationOptions) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    libs = _cql_libraries(artifacts, diags)
    pds = [a.resource for a in artifacts if a.resource["resourceType"] == "PlanDefinition"]
    if not libs and not pds:
        return diags
    sources = {lib.cql_name: lib.text for lib in libs if lib.cql_name}
    try:
        from generator.cql.translator import TranslatorError, TranslatorUnavailable
    except ImportError:
        return diags + [diag("cql.unavailable", "CQL layer skipped: the translator bridge (generator.cql.translator) is not installed")]
    needs_helpers = any(
        "FHIRHelpers" in included_names(text) for text in sources.values()
    )
    library_sources = dict(sources)
    if needs_helpers and "FHIRHelpers" not in library_sources:
        try:
            from generator.cql.fhirhelpers import fhirhelpers_cql

            library_sources["FHIRHelpers"] = fhirhelpers_cql()
        except (ImportError, OSError) as exc:
            diags.append(diag("cql.unavailable", f"FHIRHelpers source unavailable ({exc}); includes may fail"))
    translations: dict[str, Any] = {}
    if sources:
        try:
            with _translator(options) as t:
                # One request per library, holding only what it includes: the translator keeps a
                # request's libraries in memory, so asking for hundreds of guidelines at once
                # exhausted its heap. (Compiled FHIRHelpers is reused across requests.)
                for name in sources:
                    translations.update(t.translate(include_closure(name, library_sources), targets=[name]))
        except TranslatorUnavailable as exc:
            return diags + [diag("cql.unavailable", f"CQL layer skipped: translator not available ({exc})")]
        except (TranslatorError, OSError) as exc:
            return diags + [diag("cql.translator-failed", f"CQL layer stopped: {exc}")]
    by_name = {lib.cql_name: lib for lib in libs if lib.cql_name}
    for name, tr in translations.items():
        lib = by_name[name]
        for msg in tr.messages:
            if msg.library not in (None, name):
                continue
            where = f" (line {msg.line}, column {msg.column})" if msg.line else ""
            if msg.severity == "error":
                diags.append(diag("cql.compile-error", f"{msg.message}{where}", resource=ref_of(lib.resource), path=lib.path))
            elif msg.severity == "warning":
                diags.append(diag("cql.compile-warning", f"{msg.message}{where}", resource=ref_of(lib.resource), path=lib.path))
    by_url: dict[str, list[_Lib]] = {}
    for lib in libs:
        url = lib.resource.get("url")
        if isinstance(url, str):
            by_url.setdefault(url, []).append(lib)
    for pd in pds:
        diags.extend(_check_plan(pd, by_url, translations))
    with_inline = [pd for pd in pds if inline_expressions(pd)]
    if with_inline:
        try:
            with _translator(options) as t:
                for pd in with_inline:
                    lib = _library_of(pd, by_url)[1]
                    diags.extend(check_inline(pd, lib.cql_name if lib else None, library_sources, t))
        except TranslatorUnavailable as exc:
            diags.append(diag("cql.unavailable", f"inline CQL expressions not checked: translator not available ({exc})"))
        except (TranslatorError, OSError) as exc:
            diags.append(diag("cql.translator-failed", f"inline CQL expressions not checked: {exc}"))
    return diags


def _library_of(pd: dict[str, Any], by_url: dict[str, list[Any]]) -> tuple[str | None, Any]:
    """(the PlanDefinition's library canonical, its CQL library in the set or None)."""
    canon = next((x for x in items(pd.get("library")) if isinstance(x, str)), None)
    if canon is None:
        canon = next((e.get("valueCanonical") for e in extensions(pd, CQF_LIBRARY)), None)
    lib = None
    if isinstance(canon, str):
        url, version = split_canonical(canon)
        candidates = [c for c in by_url.get(url, []) if version is None or c.resource.get("version") == version]
        lib = candidates[0] if candidates else None
    return canon, lib


def _check_plan(pd: dict[str, Any], by_url: dict[str, list[Any]], translations: dict[str, Any]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    ref = ref_of(pd)
    canon, lib = _library_of(pd, by_url)
    uses: list[tuple[str, str, bool]] = []  # (path, define name, must be boolean)
    for fp, action in walk_actions(pd):
        for i, cond in enumerate(items(action.get("condition"))):
            expr = cond.get("expression") if isinstance(cond, dict) else None
            if isinstance(expr, dict) and expr.get("language") == "text/cql-identifier" and isinstance(expr.get("expression"), str):
                uses.append((f"{fp}.condition[{i}].expression.expression", expr["expression"], True))
        for i, dv in enumerate(items(action.get("dynamicValue"))):
            expr = dv.get("expression") if isinstance(dv, dict) else None
            if isinstance(expr, dict) and expr.get("language") == "text/cql-identifier" and isinstance(expr.get("expression"), str):
                uses.append((f"{fp}.dynamicValue[{i}].expression.expression", expr["expression"], False))
    if not uses:
        return diags
    if lib is None:
        if canon is None or not str(canon).startswith(("http://hl7.org/fhir/", "http://fhir.org/guides/cqf/common/")):
            diags.append(diag("cql.no-library", "actions use text/cql-identifier expressions but the PlanDefinition's library "
                              f"{'is missing' if canon is None else canon + ' has no CQL content in the set'}",
                              resource=ref, path="PlanDefinition.library"))
        return diags
    tr = translations.get(lib.cql_name)
    if tr is None or tr.elm is None or not tr.ok:
        return diags  # compile errors already reported
    from generator.cql.elm import condition_check

    try:
        summary = tr.summary
    except ValueError as exc:  # ELM without result types (translator options) cannot be type-checked
        return diags + [diag("cql.unavailable", f"define checks skipped for {lib.cql_name}: {exc}", resource=ref)]
    for path, name, boolean in uses:
        exists = name in summary.defines and name not in summary.private_defines
        if boolean:
            reason = condition_check(summary, name)
            if reason is not None:
                diags.append(diag("cql.not-boolean" if exists else "cql.missing-define", reason, resource=ref, path=path))
        elif not exists:
            diags.append(diag("cql.missing-define", f"{name!r} is not a public define in library {lib.cql_name}",
                              resource=ref, path=path))
    return diags
