"""Layer 6, CQL: Library CQL compiles with the official translator, and the expressions of
PlanDefinitions and ActivityDefinitions name real, correctly typed defines.

Uses the team's translator bridge (`generator.cql.translator`). The build passes its
running `Translator` through `ValidationOptions.translator` so no second Node process
starts; standalone runs start one for the call. When the bridge or Node is missing the
layer reports `cql.unavailable` (info) and skips, so the other layers still run.

Where the CQL comes from: `Library.content` (base64 `text/cql`); an IG Publisher placeholder
(`content.id = ig-loader-<Name>.cql`) or a Library without CQL content is paired with the
`.cql` file of that name in the validated folder (as the IG refresh tooling lays it out,
`input/cql/`), and every other `.cql` file there is compiled too (findings name the file).
The whole set is translated once, in dependency order (`generator.cql.library_set`).

Expressions: `text/cql-identifier` (and the older `text/cql.identifier`) name a define; a
`text/cql` expression is a define name or a CQL expression, compiled in the library's context.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.canonicals import CQF_LIBRARY
from generator.cql.declarations import declared_name
from generator.diagnostics import Diagnostic, Severity, SourceLocation
from generator.validate._model import Artifact, ValidationOptions, extensions, items, ref_of, split_canonical, walk_actions
from generator.validate._inline_cql import check_plan as check_inline
from generator.validate._inline_cql import inline_expressions
from generator.validate._rules import diag

IDENTIFIER_LANGUAGES = ("text/cql-identifier", "text/cql.identifier")
EXPRESSION_LANGUAGE = "text/cql"
IG_LOADER = re.compile(r"^ig-loader-(.+\.cql)$")
_SIMPLE_NAME = re.compile(r'^(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*))$')
_LITERALS = frozenset({"true", "false", "null"})
_QUALIFIED = re.compile(r'^(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_]*))\.((?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*))$')
_NAME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_\- ]*$")
_EXPR_DEFINE = "__cpg_expression_"


@dataclass
class _Lib:
    resource: dict[str, Any] | None  # None: a .cql file of the folder no Library points to
    path: str | None  # FHIRPath of the CQL content
    text: str
    cql_name: str | None
    file: str | None = None  # the .cql file the text was read from
    key: str = ""  # name in the translated set
    container: str | None = None  # `Type/id` when the Library is contained in another resource

    def where(self, line: int | None = None) -> dict[str, Any]:
        """Diagnostic location arguments: the resource and, for text read from a file, file:line."""
        ref = (f"{self.container}#{self.resource.get('id')}" if self.container else ref_of(self.resource)) \
            if self.resource is not None else None
        location = SourceLocation(self.file, line or 0) if self.file else None
        return {"resource": ref, "path": self.path, "location": location}


def cql_files(root: Path | None) -> dict[str, Path]:
    """Declared library name -> .cql file under the validated folder (first by path order)."""
    if root is None or not root.is_dir():
        return {}
    found: dict[str, Path] = {}
    for file in sorted(root.rglob("*.cql")):
        rel = file.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in ("node_modules", "output", "temp", "template") for p in rel):
            continue
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found.setdefault(declared_name(text) or file.stem, file)
    return found


def _read(file: Path) -> str | None:
    try:
        return file.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _library_resources(artifacts: list[Artifact]) -> Iterator[tuple[dict[str, Any], str | None, Artifact]]:
    """Every Library, top-level or contained, with the `Type/id` of its container."""
    for a in artifacts:
        if a.resource["resourceType"] == "Library":
            yield a.resource, None, a
        for c in items(a.resource.get("contained")):
            if isinstance(c, dict) and c.get("resourceType") == "Library":
                yield c, ref_of(a.resource), a


def _cql_libraries(artifacts: list[Artifact], options: ValidationOptions, diags: list[Diagnostic]) -> list[_Lib]:
    libs: list[_Lib] = []
    files = cql_files(options.source_root)
    used_files: set[Path] = set()
    for res, container, _artifact in _library_resources(artifacts):
        ref = f"{container}#{res.get('id')}" if container else ref_of(res)
        found = False
        for i, content in enumerate(items(res.get("content"))):
            if not isinstance(content, dict):
                continue
            fp = f"Library.content[{i}]"
            placeholder = IG_LOADER.match(str(content.get("id", "")))
            if placeholder and not isinstance(content.get("data"), str):
                found = True
                file = _find_file(options.source_root, placeholder.group(1), files)
                text = _read(file) if file is not None else None
                if text is None:
                    where = f"under {options.source_root}" if options.source_root else "(no folder is being validated)"
                    diags.append(diag("cql.source-missing", f"IG loader placeholder {content['id']}: {placeholder.group(1)} "
                                      f"not found {where}", resource=ref, path=fp))
                    continue
                used_files.add(file)
                diags.append(diag("cql.source-file", f"CQL read from {file} (IG loader placeholder {content['id']})",
                                  resource=ref, path=fp))
                libs.append(_Lib(res, fp, text, declared_name(text), file=str(file), container=container))
                continue
            if not str(content.get("contentType", "")).startswith("text/cql"):
                continue
            found = True
            data = content.get("data")
            if not isinstance(data, str):
                if content.get("url"):
                    diags.append(diag("cql.bad-content", "CQL content is referenced by url only; not compiled",
                                      resource=ref, path=fp, severity=Severity.WARNING))
                continue
            try:
                text = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                diags.append(diag("cql.bad-content", "content.data is not base64-encoded UTF-8 text", resource=ref,
                                  path=f"{fp}.data"))
                continue
            libs.append(_Lib(res, fp, text, declared_name(text), container=container))
        name = res.get("name")
        if not found and isinstance(name, str) and name in files:  # the refresh tooling's pairing by name
            file = files[name]
            text = _read(file)
            if text is not None:
                used_files.add(file)
                diags.append(diag("cql.source-file", f"Library has no CQL content; CQL read from {file} (same name)",
                                  resource=ref, path="Library.content"))
                libs.append(_Lib(res, "Library.content", text, declared_name(text), file=str(file), container=container))
    for lib in libs:
        if lib.cql_name and isinstance(lib.resource, dict) and isinstance(lib.resource.get("name"), str) \
                and lib.resource["name"] != lib.cql_name:
            diags.append(diag("cql.name-mismatch", f"Library.name {lib.resource['name']!r} but the CQL declares library "
                              f"{lib.cql_name!r}", resource=lib.where()["resource"], path="Library.name"))
    named = {lib.cql_name for lib in libs}
    for name, file in sorted(files.items()):
        if file not in used_files and name not in named:
            text = _read(file)
            if text is not None:
                libs.append(_Lib(None, None, text, declared_name(text) or file.stem, file=str(file)))
    return libs


def _find_file(root: Path | None, filename: str, files: dict[str, Path]) -> Path | None:
    by_name = [f for f in files.values() if f.name == filename]
    if by_name:
        return by_name[0]
    if root is None or not root.is_dir():
        return None
    return next(iter(sorted(root.rglob(filename))), None)


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
    libs = _cql_libraries(artifacts, options, diags)
    users = [a.resource for a in artifacts if a.resource["resourceType"] in ("PlanDefinition", "ActivityDefinition")]
    if not libs and not users:
        return diags
    try:
        from generator.cql.library_set import add_generated_helpers, base_name, translate_set
        from generator.cql.translator import TranslatorError, TranslatorUnavailable
    except ImportError:
        return diags + [diag("cql.unavailable", "CQL layer skipped: the translator bridge (generator.cql.translator) is not installed")]
    sources: dict[str, str] = {}
    for lib in libs:
        if not lib.cql_name:
            continue
        key = lib.cql_name
        n = 1
        while key in sources and sources[key] != lib.text:  # two versions of one library: both are checked
            n += 1
            key = f"{lib.cql_name}|{n}"
        lib.key = key
        sources[key] = lib.text
    try:
        add_generated_helpers(sources)
    except (ImportError, OSError, ValueError) as exc:
        diags.append(diag("cql.unavailable", f"FHIRHelpers could not be generated ({exc}); includes may fail"))
    targets = list(dict.fromkeys(lib.key for lib in libs if lib.key))
    translations: dict[str, Any] = {}
    if targets:
        try:
            with _translator(options) as t:
                translations = translate_set(t, sources, targets, progress=options.progress)
                expressions = _expression_checks(t, sources, libs, users, translations)
        except TranslatorUnavailable as exc:
            return diags + [diag("cql.unavailable", f"CQL layer skipped: translator not available ({exc})")]
        except (TranslatorError, OSError) as exc:
            return diags + [diag("cql.translator-failed", f"CQL layer stopped: {exc}")]
    else:
        expressions = {}
    reported: set[str] = set()
    for lib in libs:
        tr = translations.get(lib.key)
        if tr is None or lib.key in reported:
            continue
        reported.add(lib.key)
        for msg in tr.messages:
            if msg.library not in (None, base_name(lib.key)):
                continue  # an included library's message: reported on that library
            where = f" (line {msg.line}, column {msg.column})" if msg.line else ""
            if msg.severity in ("error", "warning"):
                rule = "cql.compile-error" if msg.severity == "error" else "cql.compile-warning"
                diags.append(diag(rule, f"{msg.message}{where}", **lib.where(msg.line)))
    by_url: dict[str, list[_Lib]] = {}
    for lib in libs:
        if lib.resource is None:
            continue
        url = lib.resource.get("url")
        if lib.container:
            by_url.setdefault(f"{lib.container}#{lib.resource.get('id')}", []).append(lib)
        elif isinstance(url, str):
            by_url.setdefault(url, []).append(lib)
    for res in users:
        diags.extend(_check_uses(res, by_url, translations, expressions))
    # `text/cql-expression` (the CPG spelling of an inline expression) compiled in a wrapper library
    # that includes the PlanDefinition's own library; `text/cql` is checked in `_check_uses` above.
    with_inline = [res for res in users if res["resourceType"] == "PlanDefinition" and inline_expressions(res)]
    if with_inline:
        try:
            with _translator(options) as t:
                for pd in with_inline:
                    lib = _library_of(pd, by_url)[1]
                    diags.extend(check_inline(pd, lib.cql_name if lib else None, sources, t))
        except TranslatorUnavailable as exc:
            diags.append(diag("cql.unavailable", f"inline CQL expressions not checked: translator not available ({exc})"))
        except (TranslatorError, OSError) as exc:
            diags.append(diag("cql.translator-failed", f"inline CQL expressions not checked: {exc}"))
    return diags


# -- expressions in PlanDefinitions and ActivityDefinitions ---------------------------------------

@dataclass(frozen=True)
class _Use:
    path: str
    language: str
    expression: str
    boolean: bool  # a condition: must be Boolean


def _uses(res: dict[str, Any]) -> list[_Use]:
    uses: list[_Use] = []

    def collect(node: dict[str, Any], fp: str) -> None:
        for i, cond in enumerate(items(node.get("condition"))):
            expr = cond.get("expression") if isinstance(cond, dict) else None
            _add(uses, expr, f"{fp}.condition[{i}].expression", True)
        for i, dv in enumerate(items(node.get("dynamicValue"))):
            expr = dv.get("expression") if isinstance(dv, dict) else None
            _add(uses, expr, f"{fp}.dynamicValue[{i}].expression", False)

    if res["resourceType"] == "PlanDefinition":
        for fp, action in walk_actions(res):
            collect(action, fp)
    else:
        collect(res, res["resourceType"])
    return uses


def _add(uses: list[_Use], expr: Any, fp: str, boolean: bool) -> None:
    if not isinstance(expr, dict) or not isinstance(expr.get("expression"), str):
        return
    language = expr.get("language")
    if language in IDENTIFIER_LANGUAGES or language == EXPRESSION_LANGUAGE:
        uses.append(_Use(f"{fp}.expression", language, expr["expression"], boolean))


def simple_name(use: _Use, library: str | None = None) -> str | None:
    """The define a use names: identifiers always; a text/cql expression that is just a name, or
    a name qualified with the library's own name (`Lib."Define"`, which CQL inside Lib cannot say)."""
    if use.language in IDENTIFIER_LANGUAGES:
        return use.expression
    expression = use.expression.strip()
    qualified = _QUALIFIED.match(expression)
    if qualified and library and (qualified.group(1) or qualified.group(2)) == library:
        expression = qualified.group(3)
    match = _SIMPLE_NAME.match(expression)
    if match is None or match.group(0) in _LITERALS:
        return None
    return match.group(1) or match.group(2)


def _library_of(res: dict[str, Any], by_url: dict[str, list[_Lib]]) -> tuple[str | None, _Lib | None]:
    canon = next((x for x in items(res.get("library")) if isinstance(x, str)), None)
    if canon is None:
        canon = next((e.get("valueCanonical") for e in extensions(res, CQF_LIBRARY)), None)
    if not isinstance(canon, str):
        return None, None
    if canon.startswith("#"):
        found = by_url.get(f"{ref_of(res)}{canon}", [])
        return canon, found[0] if found else None
    url, version = split_canonical(canon)
    candidates = [c for c in by_url.get(url, []) if version is None or (c.resource or {}).get("version") == version]
    return canon, candidates[0] if candidates else None


def _expression_checks(t: Any, sources: dict[str, str], libs: list[_Lib], users: list[dict[str, Any]],
                       translations: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Compile every text/cql expression that is more than a name, in its library's context: the
    library with one define per expression appended, translated once per library."""
    from generator.cql.library_set import translate_set

    by_url: dict[str, list[_Lib]] = {}
    for lib in libs:
        if lib.resource is not None and isinstance(lib.resource.get("url"), str) and not lib.container:
            by_url.setdefault(lib.resource["url"], []).append(lib)
        if lib.container:
            by_url.setdefault(f"{lib.container}#{(lib.resource or {}).get('id')}", []).append(lib)
    wanted: dict[str, list[str]] = {}
    for res in users:
        _canon, lib = _library_of(res, by_url)
        if lib is None or not lib.key:
            continue
        for use in _uses(res):
            if use.language == EXPRESSION_LANGUAGE and simple_name(use, lib.cql_name) is None:
                exprs = wanted.setdefault(lib.key, [])
                if use.expression not in exprs:
                    exprs.append(use.expression)
    results: dict[tuple[str, str], Any] = {}
    for key, exprs in wanted.items():
        tr = translations.get(key)
        if tr is None or not tr.ok:
            continue  # the library's own errors are reported; its expressions cannot be checked
        body = sources[key] if sources[key].endswith("\n") else sources[key] + "\n"
        spans = []  # (first line, last line) of each appended expression
        for n, expr in enumerate(exprs):
            first = body.count("\n") + 3  # a blank line, the define line, then the expression
            body += f'\ndefine "{_EXPR_DEFINE}{n}":\n  {expr}\n'
            spans.append((first, body.count("\n")))
        checked = translate_set(t, {**sources, key: body}, [key])[key]
        for n, expr in enumerate(exprs):
            start, end = spans[n]
            errors = [m for m in checked.messages if m.is_error and m.line is not None and start - 1 <= m.line <= end]
            rtype = None
            try:
                rtype = checked.summary.defines.get(f"{_EXPR_DEFINE}{n}") if checked.elm is not None else None
            except ValueError:
                rtype = None
            results[(key, expr)] = (errors, rtype)
    return results


def _check_uses(res: dict[str, Any], by_url: dict[str, list[_Lib]], translations: dict[str, Any],
                expressions: dict[tuple[str, str], Any]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    ref = ref_of(res)
    uses = _uses(res)
    if not uses:
        return diags
    canon, lib = _library_of(res, by_url)
    rtype = res["resourceType"]
    if lib is None:
        if canon is None or not str(canon).startswith(("http://hl7.org/fhir/", "http://fhir.org/guides/cqf/common/")):
            diags.append(diag("cql.no-library", f"expressions use CQL but the {rtype}'s library "
                              f"{'is missing' if canon is None else canon + ' has no CQL content in the set'}",
                              resource=ref, path=f"{rtype}.library"))
        return diags
    tr = translations.get(lib.key)
    if tr is None or tr.elm is None or not tr.ok:
        return diags  # compile errors already reported
    from generator.cql.elm import condition_check

    try:
        summary = tr.summary
    except ValueError as exc:  # ELM without result types (translator options) cannot be type-checked
        return diags + [diag("cql.unavailable", f"define checks skipped for {lib.cql_name}: {exc}", resource=ref)]
    for use in uses:
        name = simple_name(use, lib.cql_name)
        found = expressions.get((lib.key, use.expression)) if name is None else None
        if name is None and _NAME_LIKE.match(use.expression.strip()) and (found is None or found[0]):
            name = use.expression.strip()  # text/cql holding a define name written without quotes
        if name is not None:
            exists = name in summary.defines and name not in summary.private_defines
            if use.boolean:
                reason = condition_check(summary, name)
                if reason is not None:
                    diags.append(diag("cql.not-boolean" if exists else "cql.missing-define", reason, resource=ref, path=use.path))
            elif not exists:
                close = difflib.get_close_matches(name, list(summary.defines), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                diags.append(diag("cql.missing-define", f"{name!r} is not a public define in library {lib.cql_name}{hint}",
                                  resource=ref, path=use.path))
            continue
        if found is None:
            continue
        errors, result_type = found
        for m in errors:
            hint = ""
            unresolved = re.match(r"Could not resolve identifier (.+) in the current library\.", m.message)
            if unresolved:
                close = difflib.get_close_matches(unresolved.group(1), list(summary.defines), n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
            diags.append(diag("cql.expression-error", f"text/cql expression {use.expression!r} does not compile against "
                              f"library {lib.cql_name}: {m.message}{hint}", resource=ref, path=use.path))
        if not errors and use.boolean and result_type not in (None, "System.Boolean"):
            diags.append(diag("cql.not-boolean", f"condition expression {use.expression!r} is {result_type}, not System.Boolean",
                              resource=ref, path=use.path))
    return diags
