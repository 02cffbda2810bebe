"""Translations kept on disk, so the same CQL is never translated twice.

Why: most of a build's CPU is the Node translator, and between two builds almost no library
changes. A translation depends only on the toolchain (translator, model info and UCUM package
versions, our Node script), the compiler options, the library's text and the texts of what it
includes; that is the key. Entries live in the user's cache directory (`$CPG_CACHE_DIR`, else
`$XDG_CACHE_HOME/cpg`, else `~/.cache/cpg`), one file each, written to a temporary name and
renamed (concurrent builds at worst write the same bytes twice), checked on read (a damaged or
foreign entry is dropped and translated again), and bounded in size (least recently used first).

`CachedTranslator` stands where a `Translator` is expected and starts Node only for a miss: a
build whose CQL did not change starts no translator at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generator.cql.library_set import reachable_all
from generator.cql.pool import TranslatorPool
from generator.cql.translator import (
    DEFAULT_OPTIONS,
    SCRIPT,
    CqlMessage,
    Translation,
    TranslatorUnavailable,
    find_node_modules,
)
from generator.jsonfmt import load_json
from generator.user_cache import cache_dir

__all__ = ["CachedTranslator", "TranslationCache", "cache_dir", "DEFAULT_MAX_BYTES"]

#: Entries beyond this total size are evicted, least recently used first.
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_FORMAT = 1
_PACKAGES = ("@cqframework/cql", "cql-exec-fhir", "@lhncbc/ucum-lhc")


@cache
def toolchain_fingerprint(node_modules: Path) -> str:
    """The versions of everything that shapes a translation (and of our Node script)."""
    parts = [f"script={hashlib.sha256(SCRIPT.read_bytes()).hexdigest()}"]
    for package in _PACKAGES:
        manifest = node_modules / package / "package.json"
        try:
            parts.append(f"{package}={json.loads(manifest.read_text(encoding='utf-8')).get('version')}")
        except (OSError, ValueError):
            parts.append(f"{package}=?")
    return ";".join(parts)


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int


class TranslationCache:
    """One folder of translations keyed by their complete input."""

    def __init__(self, directory: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = (directory or cache_dir()) / "translations"
        self.max_bytes = max_bytes

    # -- keys --------------------------------------------------------------------------------
    @staticmethod
    def key(fingerprint: str, options: Mapping[str, Any], name: str, libraries: Mapping[str, str]) -> str:
        material = json.dumps({"format": _FORMAT, "toolchain": fingerprint,
                               "options": {**options, "options": list(options.get("options", ()))},
                               "target": name, "libraries": sorted(libraries.items())},
                              sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    # -- entries -----------------------------------------------------------------------------
    def get(self, key: str) -> Translation | None:
        """The stored translation, or None (absent, damaged or not ours: a damaged one is removed)."""
        path = self._path(key)
        try:
            data = load_json(path.read_bytes())
            body = data["body"]
            if data.get("key") != key or data.get("sha256") != _digest(body):
                raise ValueError("entry does not match its key or checksum")
            entry = load_json(body)
            elm_json = entry["elm_json"]
            translation = Translation(
                name=entry["name"], version=entry["version"],
                elm=load_json(elm_json) if elm_json else None, elm_json=elm_json,
                messages=[CqlMessage(**m) for m in entry["messages"]],
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return translation

    def put(self, key: str, translation: Translation) -> None:
        """Store atomically (temporary file, then rename); a full disk only costs the cache."""
        body = json.dumps({
            "name": translation.name, "version": translation.version, "elm_json": translation.elm_json,
            "messages": [vars(m) for m in translation.messages],
        }, ensure_ascii=False, sort_keys=True)
        data = json.dumps({"format": _FORMAT, "key": key, "sha256": _digest(body), "body": body},
                          ensure_ascii=False).encode("utf-8")
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return
        self._evict()

    def _entries(self) -> Iterator[tuple[Path, os.stat_result]]:
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*/*.json"):
            with contextlib.suppress(OSError):
                yield path, path.stat()

    def _evict(self) -> None:
        entries = sorted(self._entries(), key=lambda item: item[1].st_mtime)
        total = sum(stat.st_size for _, stat in entries)
        for path, stat in entries:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
                total -= stat.st_size

    def stats(self) -> CacheStats:
        entries = list(self._entries())
        return CacheStats(len(entries), sum(stat.st_size for _, stat in entries))

    def has_entries(self) -> bool:
        return any(True for _ in self._entries())

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        removed = 0
        for path, _ in list(self._entries()):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
        return removed


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class CachedTranslator:
    """`Translator.translate` answered from a `TranslationCache`; Node is started only on a miss.

    Misses go to a `TranslatorPool` of up to `jobs` processes. `early`: start one at once on a
    thread because a miss is likely; by default only when the cache holds nothing yet. Results are
    the translator's own, byte for byte: the cache stores the ELM text it produced and its messages.
    Safe to call from several threads (the build translates ahead on `jobs` threads).
    """

    def __init__(self, cache: TranslationCache | None = None, *, jobs: int = 1, early: bool | None = None) -> None:
        self.cache = cache if cache is not None else TranslationCache()
        self.options = DEFAULT_OPTIONS
        self.jobs = max(1, jobs)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self._sessions: dict[str, dict[str, str]] = {}  # every source sent in a session, by session
        self._forwarded: dict[str, set[str]] = {}  # what the pinned process has of each session
        self._seen_restarts = 0
        self._pool = TranslatorPool(self.jobs, early=early if early is not None else not self.cache.has_entries())

    @property
    def started(self) -> bool:
        """Whether a Node translator was started (a fully cached build starts none)."""
        return self._pool.started > 0

    def wait_started(self, timeout: float | None = None) -> None:
        """As `TranslatorPool.wait_started` (at once when the cache spared starting one)."""
        self._pool.wait_started(timeout)

    def get(self) -> "CachedTranslator":
        """Itself: lets it stand where an `EarlyTranslator` is awaited."""
        return self

    @property
    def restarts(self) -> int:
        """Restarts of the process serving sessions (a session's sources are gone after one)."""
        return self._pool.pinned_restarts()

    def translate(self, libraries: Mapping[str, str], targets: Sequence[str] | None = None, *,
                  timeout: float | None = None, session: str | None = None) -> dict[str, Translation]:
        """As `Translator.translate`. With `session` (a whole set translated in batches, see
        `generator.cql.library_set`), each target is keyed by its include closure among every
        source of the session so far: the same key a one-library request with its includes gets,
        so a set and a build share their translations."""
        names = list(libraries if targets is None else targets)
        known = self._sessions.setdefault(session, {}) if session is not None else dict(libraries)
        if session is not None:
            known.update(libraries)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"targets not among the libraries: {', '.join(unknown)}")
        try:
            fingerprint = toolchain_fingerprint(find_node_modules())
        except TranslatorUnavailable:
            return self._pool.translate(libraries, names, timeout=timeout)  # raises the clear message
        keys = {}
        for name in names:
            closure = known if session is None else {n: known[n] for n in sorted(reachable_all([name], known))}
            keys[name] = TranslationCache.key(fingerprint, self.options, name, closure)
        results: dict[str, Translation] = {}
        for name in names:
            found = self.cache.get(keys[name])
            if found is not None:
                results[name] = found
        missing = [name for name in names if name not in results]
        with self._lock:
            self.hits += len(names) - len(missing)
            self.misses += len(missing)
        if missing:
            if session is None:
                translated = self._pool.translate(libraries, missing, timeout=timeout)
            else:
                translated = self._session_translate(session, known, missing, timeout)
            for name in missing:
                self.cache.put(keys[name], translated[name])
            results.update(translated)
        return {name: results[name] for name in names}

    def _session_translate(self, session: str, known: dict[str, str], missing: list[str],
                           timeout: float | None) -> dict[str, Translation]:
        """Misses of a session, on the one process that holds it: sources answered from the cache
        so far were never sent to Node, so whatever it has not seen (since its last restart) goes now."""
        with self._lock:
            restarts = self._pool.pinned_restarts()
            if restarts != self._seen_restarts:
                self._forwarded.clear()
                self._seen_restarts = restarts
            sent = self._forwarded.setdefault(session, set())
            fresh = {n: text for n, text in known.items() if n not in sent}
            sent |= set(fresh)
        return self._pool.pinned().translate(fresh, missing, timeout=timeout, session=session)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> "CachedTranslator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
