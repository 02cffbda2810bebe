"""package.tgz is a FHIR NPM package whose .index.json describes every file, byte-reproducible."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile

from generator.compile import BuiltGuideline
from generator.cql.translator import Translator
from generator.publish import publication_files
from generator.publish.package import package_id

from .conftest import MINIMAL, compile_one


def _members(tgz: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    result = {}
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None, info.name
            result[info.name] = (info, handle.read())
    return result


def test_every_file_matches_the_index(minimal_files: dict[str, bytes]) -> None:
    members = _members(minimal_files["package.tgz"])
    assert all(name.startswith("package/") for name in members)
    index = json.loads(members["package/.index.json"][1])
    assert index["index-version"] == 1
    listed = {entry["filename"]: entry for entry in index["files"]}
    resources = {name[len("package/"):] for name in members} - {"package.json", ".index.json"}
    assert set(listed) == resources
    assert [e["filename"] for e in index["files"]] == sorted(listed)
    for filename, entry in listed.items():
        resource = json.loads(members[f"package/{filename}"][1])
        assert filename == f"{resource['resourceType']}-{resource['id']}.json"
        assert entry["resourceType"] == resource["resourceType"]
        assert entry["id"] == resource["id"]
        assert entry.get("url") == resource.get("url")
        assert entry.get("version") == resource.get("version")
        assert resource["text"]["status"] == "generated"


def test_package_json_and_guide(minimal_files: dict[str, bytes]) -> None:
    members = _members(minimal_files["package.tgz"])
    manifest = json.loads(members["package/package.json"][1])
    assert manifest["name"] == package_id("minimal") == "cpg.minimal"
    assert package_id("vertebral-compression-fracture") == "vertebral.compression.fracture"
    assert manifest["version"] == "1.0.0"
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.uv.cpg": "2.0.0",
                                        "hl7.fhir.uv.cql": "2.0.0", "hl7.fhir.uv.crmi": "1.0.0"}
    assert manifest["canonical"] == "http://example.org/fhir/minimal"
    assert manifest["type"] == "IG" and manifest["author"] == "Test Publisher"
    guide = json.loads(members["package/ImplementationGuide-cpg.minimal.json"][1])
    assert guide["url"] == "http://example.org/fhir/minimal/ImplementationGuide/cpg.minimal"
    assert guide["packageId"] == "cpg.minimal" and guide["version"] == "1.0.0"
    refs = {r["reference"]["reference"] for r in guide["definition"]["resource"]}
    others = {f"{json.loads(data)['resourceType']}/{json.loads(data)['id']}" for name, (_, data) in members.items()
              if name not in ("package/package.json", "package/.index.json", "package/ImplementationGuide-cpg.minimal.json")}
    assert refs == others


def test_archive_is_normalised(minimal_files: dict[str, bytes]) -> None:
    tgz = minimal_files["package.tgz"]
    assert tgz[:2] == b"\x1f\x8b"
    flags, mtime = tgz[3], struct.unpack("<I", tgz[4:8])[0]
    assert mtime == 0 and not flags & 0x08  # no timestamp, no file name in the gzip header
    names = []
    for name, (info, _) in _members(tgz).items():
        names.append(name)
        assert (info.uid, info.gid, info.uname, info.gname, info.mode) == (0, 0, "", "", 0o644)
        assert info.mtime == 1767225600  # 2026-01-01T00:00:00Z, the guideline date
    assert names == sorted(names)
    assert gzip.decompress(tgz)  # a valid stream


def test_two_builds_are_identical(minimal_built: BuiltGuideline, minimal_files: dict[str, bytes],
                                  session_translator: Translator) -> None:
    again = compile_one(MINIMAL, session_translator)
    assert publication_files(again) == minimal_files
    assert publication_files(minimal_built) == minimal_files
