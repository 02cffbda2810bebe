"""Declared FHIR package dependencies: what a validated set may reference without containing it.

A FHIR package (or an IG source folder) declares the packages it builds on in `package.json`
`dependencies` (name -> version). Where such a package sits in the local FHIR package cache
(`~/.fhir/packages/<name>#<version>/package/`, the layout the IG Publisher and SUSHI use;
`$CPG_FHIR_PACKAGES` overrides the folder), canonicals are resolved against its `.index.json`.
Nothing is downloaded: a dependency missing from the cache is named in the finding instead.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def default_cache() -> Path:
    configured = os.environ.get("CPG_FHIR_PACKAGES")
    return Path(configured) if configured else Path.home() / ".fhir" / "packages"


def declared_dependencies(path: str | Path) -> dict[str, str]:
    """`dependencies` of the package.json at a folder's root (or `package/` below it) or inside a .tgz."""
    root = Path(path)
    manifest: Any = None
    try:
        if root.is_dir():
            for candidate in (root / "package.json", root / "package" / "package.json"):
                if candidate.is_file():
                    manifest = json.loads(candidate.read_text("utf-8"))
                    break
        elif root.name.endswith((".tgz", ".tar.gz")) and root.is_file():
            with tarfile.open(fileobj=io.BytesIO(root.read_bytes()), mode="r:*") as tar:
                member = next((m for m in tar if m.isfile() and m.name.lstrip("./") == "package/package.json"), None)
                handle = tar.extractfile(member) if member is not None else None
                if handle is not None:
                    manifest = json.loads(handle.read(1024 * 1024))
    except (OSError, ValueError, tarfile.TarError, EOFError):
        return {}  # the input layer reports unreadable files and packages
    deps = manifest.get("dependencies") if isinstance(manifest, dict) else None
    if not isinstance(deps, dict):
        return {}
    return {str(k): str(v) for k, v in deps.items() if isinstance(v, str)}


@dataclass
class DependencyIndex:
    """Canonical urls of the declared dependencies found in the cache, and which are absent."""

    urls: dict[str, str] = field(default_factory=dict)  # canonical url -> "name#version"
    canonical_bases: dict[str, str] = field(default_factory=dict)  # package canonical -> "name#version"
    missing: list[str] = field(default_factory=list)  # "name#version" not in the cache

    @classmethod
    def load(cls, dependencies: dict[str, str], cache: Path | None) -> "DependencyIndex":
        index = cls()
        folder = cache or default_cache()
        for name, version in sorted(dependencies.items()):
            label = f"{name}#{version}"
            package = folder / label / "package"
            try:
                manifest = json.loads((package / "package.json").read_text("utf-8"))
            except (OSError, ValueError):
                index.missing.append(label)
                continue
            canonical = manifest.get("canonical") if isinstance(manifest, dict) else None
            if isinstance(canonical, str):
                index.canonical_bases[canonical.rstrip("/") + "/"] = label
            for url in _index_urls(package):
                index.urls.setdefault(url, label)
        return index

    def package_of_base(self, url: str) -> str | None:
        """The dependency whose canonical base `url` lies under (it should then be in that package)."""
        return next((label for base, label in self.canonical_bases.items() if url.startswith(base)), None)


def _index_urls(package: Path) -> list[str]:
    try:
        index = json.loads((package / ".index.json").read_text("utf-8"))
    except (OSError, ValueError):
        index = None
    if isinstance(index, dict) and isinstance(index.get("files"), list):
        return [f["url"] for f in index["files"] if isinstance(f, dict) and isinstance(f.get("url"), str)]
    urls = []  # no index: read the resources themselves
    for file in sorted(package.glob("*.json")):
        try:
            res = json.loads(file.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(res, dict) and isinstance(res.get("url"), str):
            urls.append(res["url"])
    return urls
