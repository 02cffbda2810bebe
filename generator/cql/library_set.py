"""Translate a whole set of CQL libraries (a folder, an IG's input/cql, a package) in one run.

Why: sending each library with its whole include closure re-translated every shared library once
per includer (25-40x the reference translator's CPU on WHO's sets). Here each library is
translated once, in dependency order (includes first), in batches over one translator session:
the Node process keeps the session's sources and reuses every clean compilation, so a batch
sends only sources not sent before. The translator's memory stays bounded by its own restart
between batches (`Translator.restarts`); after a restart the sources are sent again.

Also here because every caller needs them: the FHIRHelpers a set needs (generated for the FHIR
version its includes ask for) and one error per missing include instead of its cascade.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from generator.cql.declarations import declared_version, fhir_version, includes
from generator.cql.translator import CqlMessage, Translation
from generator.graphs import reachable

#: Targets per request: large enough that round trips do not matter, small enough that one reply
#: (ELM with annotations) stays a few MB and the heap check runs between batches.
BATCH_SIZE = 16

_sessions = itertools.count(1)

Progress = Callable[[int, int], None]
OnResult = Callable[[str, Translation], None]


def dependency_order(sources: Mapping[str, str], targets: Sequence[str]) -> list[str]:
    """`targets` ordered so that every library comes after the libraries it includes (depth-first,
    stable: ties keep the given order; a cycle is broken where it is met)."""
    wanted = set(targets)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        stack = [(name, iter(_deps(name, sources)))]
        state[name] = 1
        while stack:
            current, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[current] = 2
                if current in wanted:
                    order.append(current)
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(_deps(child, sources))))

    for name in targets:
        if name not in state:
            visit(name)
    return order


def base_name(key: str) -> str:
    """Sources are keyed by library name; a second version of one library is keyed `Name|version`."""
    return key.split("|", 1)[0]


def _deps(key: str, sources: Mapping[str, str]) -> list[str]:
    wanted = {i.name for i in includes(sources[key])} - {base_name(key)}
    return [k for k in sources if base_name(k) in wanted]


def translate_set(
    translator: Any,
    sources: Mapping[str, str],
    targets: Sequence[str],
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    on_result: OnResult | None = None,
) -> dict[str, Translation]:
    """Translate each of `targets` once (all of `sources` may be included); results by name.

    `on_result` is called per library as its batch completes (for streaming findings),
    `progress` with (done, total)."""
    # One FHIR version per session (the translator holds one version of a model per compilation):
    # versions in first-seen order, each in dependency order, each in its own session.
    ordered = dependency_order(sources, targets)
    groups: dict[str, list[str]] = {}
    for key in ordered:
        groups.setdefault(fhir_version(sources[key]) or "", []).append(key)
    base = f"cpg-{os.getpid()}-{next(_sessions)}"
    results: dict[str, Translation] = {}
    total, done = len(ordered), 0
    if progress is not None:
        progress(0, total)
    sessions = supports_sessions(translator)
    for version, keys in groups.items():
        session = f"{base}-{version or 'none'}"
        sent: set[str] = set()
        restarts = getattr(translator, "restarts", 0)
        for start in range(0, len(keys), batch_size):
            batch = keys[start:start + batch_size]
            now = getattr(translator, "restarts", 0)
            if now != restarts:  # a fresh process: the session's sources are gone
                sent.clear()
                restarts = now
            if sessions:
                needed = reachable_all(batch, sources)
                libraries = {n: sources[n] for n in sorted(needed) if n not in sent}
                reply = translator.translate(libraries, batch, session=session)
                sent |= set(libraries)
            else:  # e.g. the build's TranslationSession, which answers repeated requests from its cache
                reply = {}
                for name in batch:
                    closure = {n: sources[n] for n in sorted(reachable_all([name], sources))}
                    reply.update(translator.translate(closure, [name]))
            for name in batch:
                translation = collapse_missing_includes(reply[name], sources.get(name, ""))
                results[name] = translation
                if on_result is not None:
                    on_result(name, translation)
            done += len(batch)
            if progress is not None:
                progress(done, total)
    return results


def supports_sessions(translator: Any) -> bool:
    """Whether `translator.translate` takes `session` (Translator, EarlyTranslator do)."""
    try:
        return "session" in inspect.signature(translator.translate).parameters
    except (TypeError, ValueError):
        return False


def reachable_all(keys: Sequence[str], sources: Mapping[str, str]) -> set[str]:
    """`keys` and everything they include, directly or not, among `sources`."""
    found: set[str] = set()
    for key in keys:
        if key not in found:
            found |= reachable(key, lambda k: _deps(k, sources))
    return found


NO_HELPERS = "Could not resolve library name FHIRHelpers."


def collapse_missing_helpers(translation: Translation) -> Translation:
    """A library using FHIR without including FHIRHelpers gets one error per implicit conversion;
    keep the first, saying what is missing and how many places need it."""
    places = [m for m in translation.messages if m.message == NO_HELPERS and m.library == translation.name]
    if len(places) < 1:
        return translation
    first = replace(places[0], message=f"the library uses FHIR values that need FHIRHelpers conversions but does not "
                                       f"include FHIRHelpers ({len(places)} place{'s' if len(places) != 1 else ''})")
    return replace(translation, messages=[first if m is places[0] else m for m in translation.messages
                                          if m is places[0] or m not in places])


def collapse_missing_includes(translation: Translation, text: str) -> Translation:
    """One error per include the translator could not load, naming it, instead of the cascade of
    "Could not resolve identifier <alias>" errors every use of the alias causes."""
    translation = collapse_missing_helpers(translation)
    missing: dict[str, CqlMessage] = {}
    aliases = {i.alias: i for i in includes(text)}
    for message in translation.messages:
        if message.type == "include" or message.message.startswith("Could not load source for library"):
            for alias, inc in aliases.items():
                if f"library {inc.name}," in message.message or f"library {inc.name} " in message.message:
                    missing[alias] = message
    if not missing:
        return translation
    kept: list[CqlMessage] = []
    dropped: dict[str, int] = {alias: 0 for alias in missing}
    for message in translation.messages:
        alias = next((a for a in missing if message.message == f"Could not resolve identifier {a} in the current library."), None)
        if alias is not None and message.library == translation.name:
            dropped[alias] += 1
            continue
        kept.append(message)
    final = []
    for message in kept:
        alias = next((a for a, m in missing.items() if m is message), None)
        if alias is not None:
            inc = aliases[alias]
            wanted = f"{inc.name}" + (f" version '{inc.version}'" if inc.version else "")
            extra = f"; {dropped[alias]} uses of {alias} not checked" if dropped[alias] else ""
            if inc.name == "FHIRHelpers":
                extra += "; cpg generates FHIRHelpers for FHIR 4.0.0 and 4.0.1 only, other versions must be in the set"
            message = replace(message, message=f"included library {wanted} is not available{extra}")
        final.append(message)
    return replace(translation, messages=final)


def missing_helpers(sources: Mapping[str, str]) -> list[str]:
    """FHIRHelpers versions included by `sources` that the set does not hold itself."""
    held = {declared_version(text) for key, text in sources.items() if base_name(key) == "FHIRHelpers"}
    if None in held:  # a FHIRHelpers without a version serves every include of it
        return []
    versions = {i.version or "4.0.1" for text in sources.values() for i in includes(text) if i.name == "FHIRHelpers"}
    return sorted(versions - held)


def add_generated_helpers(sources: dict[str, str], shown: dict[str, str] | None = None) -> list[str]:
    """Add our generated FHIRHelpers for each version the set needs and lacks (4.0.1, 4.0.0);
    returns the versions that cannot be generated (the include error then names them once)."""
    from generator.cql.fhirhelpers import SUPPORTED_FHIR_VERSIONS, fhirhelpers_cql_for

    unsupported = []
    for version in missing_helpers(sources):
        if version not in SUPPORTED_FHIR_VERSIONS:
            unsupported.append(version)
            continue
        key = "FHIRHelpers" if "FHIRHelpers" not in sources else f"FHIRHelpers|{version}"
        sources[key] = fhirhelpers_cql_for(version)
        if shown is not None:
            shown[key] = f"<generated FHIRHelpers {version}>"
    return unsupported
