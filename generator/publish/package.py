"""The FHIR NPM package (package.tgz) of a guideline, byte-for-byte reproducible.

Package id rule: the guideline id in lower case, every run of characters other than
[a-z0-9] becoming one '.' (`vertebral-compression-fracture` -> `vertebral.compression.fracture`);
an id with a single part gets the prefix `cpg.` because FHIR package names need at least
two parts (`minimal` -> `cpg.minimal`).

License rule: the guideline's `license` (an SPDX id) when the model has one; otherwise
`not-open-source` (a code of FHIR's SPDX license value set): we never claim an open
licence the author did not grant. The guideline copyright travels in the resources.

Reproducibility: entries sorted by name, mtime = the guideline date (UTC midnight, 0 when
unparseable), uid/gid 0, no user names, mode 0644, gzip header without name and mtime 0.
"""

from __future__ import annotations

import calendar
import gzip
import io
import re
import tarfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from generator.jsonfmt import dump_json

if TYPE_CHECKING:
    from generator.resolve import ResolvedGuideline

FHIR_VERSION = "4.0.1"
#: Packages every CPG guideline package depends on (package id -> version, canonical of its IG).
DEPENDENCIES: dict[str, tuple[str, str | None]] = {
    "hl7.fhir.r4.core": ("4.0.1", None),  # the base spec: fhirVersion, not an IG dependsOn
    "hl7.fhir.uv.cpg": ("2.0.0", "http://hl7.org/fhir/uv/cpg/ImplementationGuide/hl7.fhir.uv.cpg"),
    "hl7.fhir.uv.crmi": ("1.0.0", "http://hl7.org/fhir/uv/crmi/ImplementationGuide/hl7.fhir.uv.crmi"),
    "hl7.fhir.uv.cql": ("2.0.0", "http://hl7.org/fhir/uv/cql/ImplementationGuide/hl7.fhir.uv.cql"),
}
DEFAULT_LICENSE = "not-open-source"


def package_id(guideline_id: str) -> str:
    """The NPM package name of a guideline (see the module docstring for the rule)."""
    parts = [p for p in re.split(r"[^a-z0-9]+", guideline_id.lower()) if p]
    if len(parts) < 2:
        parts.insert(0, "cpg")
    return ".".join(parts)


def package_license(rg: ResolvedGuideline) -> str:
    return str(getattr(rg.guideline, "license", None) or DEFAULT_LICENSE)


def resource_filename(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}-{resource['id']}.json"


def package_manifest(rg: ResolvedGuideline) -> dict[str, Any]:
    """package/package.json."""
    g = rg.guideline
    manifest: dict[str, Any] = {
        "name": package_id(g.id),
        "version": g.version,
        "canonical": g.canonical.rstrip("/"),
        "url": g.canonical.rstrip("/"),
        "title": g.title,
        "description": g.description,
        "fhirVersions": [FHIR_VERSION],
        "dependencies": {name: version for name, (version, _) in sorted(DEPENDENCIES.items())},
        "author": g.publisher,
        "license": package_license(rg),
        "type": "IG",
    }
    if g.jurisdiction:
        first = g.jurisdiction[0]
        manifest["jurisdiction"] = f"{first.system}#{first.code}"
    return manifest


def implementation_guide(rg: ResolvedGuideline, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The ImplementationGuide the package describes itself with ({canonical}/ImplementationGuide/{packageId})."""
    g = rg.guideline
    pid = package_id(g.id)
    guide: dict[str, Any] = {
        "resourceType": "ImplementationGuide",
        "id": pid,
        "meta": {"profile": ["http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-computableguideline"]},
        "url": rg.url("ImplementationGuide", pid),
        "version": g.version,
        "name": g.name,
        "title": g.title,
        "status": g.status,
        "experimental": g.experimental,
        "date": g.date,
        "publisher": g.publisher,
        "description": g.description,
    }
    if g.copyright:
        guide["copyright"] = g.copyright
    guide.update({
        "packageId": pid,
        "license": package_license(rg),
        "fhirVersion": [FHIR_VERSION],
        "dependsOn": [
            {"id": name.replace(".", "_"), "uri": uri, "packageId": name, "version": version}
            for name, (version, uri) in sorted(DEPENDENCIES.items()) if uri
        ],
        "definition": {
            "resource": [
                {"reference": {"reference": f"{r['resourceType']}/{r['id']}"},
                 "name": str(r.get("title") or r.get("name") or r["id"]),
                 "exampleBoolean": False}
                for r in resources
            ],
        },
    })
    return guide


def index_entry(resource: dict[str, Any]) -> dict[str, Any]:
    """One `.index.json` row: the fields the FHIR package spec lists, where the type has them."""
    entry: dict[str, Any] = {"filename": resource_filename(resource), "resourceType": resource["resourceType"],
                             "id": resource["id"]}
    for key in ("url", "version"):
        if resource.get(key):
            entry[key] = resource[key]
    kind = resource["resourceType"]
    if kind == "StructureDefinition":
        for key in ("kind", "type", "derivation"):
            if resource.get(key):
                entry[key] = resource[key]
    elif kind == "CodeSystem":
        for key in ("content", "supplements"):
            if resource.get(key):
                entry[key] = resource[key]
    elif kind == "ConceptMap":
        for key in ("sourceUri", "sourceCanonical"):
            if resource.get(key):
                entry["valueSet"] = resource[key]
                break
    return entry


def package_index(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """package/.index.json, files sorted by filename."""
    entries = sorted((index_entry(r) for r in resources), key=lambda e: e["filename"])
    return {"index-version": 1, "files": entries}


def package_mtime(date: str) -> int:
    """Seconds since the epoch of the guideline date (UTC midnight); 0 if it is not a date."""
    try:
        return calendar.timegm(time.strptime(date[:10], "%Y-%m-%d"))
    except ValueError:
        return 0


def tar(files: dict[str, bytes], mtime: int) -> bytes:
    """The tar of `files` (sorted, fixed owner and mode, `mtime`), before compression."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def gzipped(data: bytes) -> bytes:
    """`data` gzipped with no name and no time in the header (identical bytes for identical input).
    zlib releases the interpreter while it compresses, so this may run on a thread of its own."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return out.getvalue()


def package_files(rg: ResolvedGuideline, resources: list[dict[str, Any]], guide: dict[str, Any],
                  tests: Sequence[dict[str, Any]] = ()) -> dict[str, bytes]:
    """Path inside the tarball -> bytes: package.json, .index.json, the IG, every resource, and the
    scenario test cases in `package/tests/` (with an index of their own, as other folders have)."""
    everything = [guide, *resources]
    files = {f"package/{resource_filename(r)}": dump_json(r) for r in everything}
    files["package/package.json"] = dump_json(package_manifest(rg))
    files["package/.index.json"] = dump_json(package_index(everything))
    if tests:
        files.update({f"package/tests/{resource_filename(r)}": dump_json(r) for r in tests})
        files["package/tests/.index.json"] = dump_json(package_index(list(tests)))
    return files


def package_tar(rg: ResolvedGuideline, resources: list[dict[str, Any]], guide: dict[str, Any],
                tests: Sequence[dict[str, Any]] = ()) -> bytes:
    """The package (package.tgz) before compression: PUBLISH gzips it on a thread (see `gzipped`)."""
    return tar(package_files(rg, resources, guide, tests), package_mtime(rg.guideline.date))
