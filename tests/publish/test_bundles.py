"""Bundles follow CRMI packaging: manifest first, pathway next, conditional create everywhere."""

from __future__ import annotations

import json

from generator.compile import BuiltGuideline
from generator.publish import published_resources, transaction_bundle


def test_transaction_layout(minimal_built: BuiltGuideline, minimal_files: dict[str, bytes]) -> None:
    bundle = json.loads(minimal_files["bundle-transaction.json"])
    assert bundle["type"] == "transaction"
    assert bundle["id"] == "minimal-transaction"
    assert bundle["timestamp"] == "2026-01-01T00:00:00Z"  # the guideline date, not the clock
    entries = bundle["entry"]
    first, second = entries[0]["resource"], entries[1]["resource"]
    assert first["resourceType"] == "Library"
    assert first["type"]["coding"][0]["code"] == "asset-collection"
    assert "content" not in first
    assert second["resourceType"] == "PlanDefinition" and second["id"] == "minimal"
    for entry in entries:
        resource = entry["resource"]
        assert entry["fullUrl"] == resource["url"]
        assert entry["request"] == {
            "method": "POST",
            "url": resource["resourceType"],
            "ifNoneExist": f"url={resource['url']}&version={resource['version']}",
        }
    # dependencies (FHIRHelpers, value sets) come after every artifact of the guideline
    ids = [e["resource"]["id"] for e in entries]
    assert ids.index("Minimal") < ids.index("FHIRHelpers-4.0.1") < ids.index("vertebral-fracture")


def test_manifest_lists_every_component(minimal_files: dict[str, bytes]) -> None:
    entries = json.loads(minimal_files["bundle-transaction.json"])["entry"]
    manifest = entries[0]["resource"]
    composed = [a["resource"] for a in manifest["relatedArtifact"] if a["type"] == "composed-of"]
    shared = "http://example.org/fhir/cpg/shared/Library/FHIRHelpers|4.0.1"  # shared by every guideline
    assert composed == [f"{e['resource']['url']}|{e['resource']['version']}" for e in entries[1:]
                        if f"{e['resource']['url']}|{e['resource']['version']}" != shared]
    depends = [a["resource"] for a in manifest["relatedArtifact"] if a["type"] == "depends-on"]
    assert shared in depends and shared not in composed
    assert "http://fhir.org/guides/cqf/common/Library/FHIR-ModelInfo|4.0.1" in depends
    assert {"http://snomed.info/sct", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm"} <= set(depends)
    assert depends == sorted(depends)
    assert json.loads(minimal_files["resources/Library-minimal-manifest.json"]) == manifest


def test_collection_has_the_same_resources(minimal_files: dict[str, bytes]) -> None:
    transaction = json.loads(minimal_files["bundle-transaction.json"])
    collection = json.loads(minimal_files["bundle-collection.json"])
    assert collection["type"] == "collection"
    assert [e["resource"] for e in collection["entry"]] == [e["resource"] for e in transaction["entry"]]
    assert all("request" not in e for e in collection["entry"])


def test_update_mode_puts_by_id(minimal_built: BuiltGuideline) -> None:
    ordered = published_resources(minimal_built)
    bundle = transaction_bundle("x", ordered, "2026-01-01", mode="update")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}


def test_inputs_are_not_mutated(minimal_built: BuiltGuideline) -> None:
    import copy

    from generator.publish import publication_files

    before = copy.deepcopy(minimal_built.resources)
    assert publication_files(minimal_built)
    assert minimal_built.resources == before
