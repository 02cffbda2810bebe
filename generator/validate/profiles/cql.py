"""Using CQL with FHIR (CQL IG) Library profiles and their invariants."""

from __future__ import annotations

from generator.canonicals import RELATED_ARTIFACT_RESOURCE_REFERENCE
from generator.validate.profiles import CQLIG, Card, Invariant, ProfileSpec, required


PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(
        CQLIG + "cql-library",
        "Library",
        cards=(Card("content", 1), Card("content.contentType", 1, 1)),
        invariants=(
            Invariant("clb-1", "Exactly one content with a text/cql contentType",
                      "content.where(contentType.startsWith('text/cql')).count() = 1"),
            Invariant("clb-2", "Each content has data or url", "content.all(data.exists() or url.exists())"),
        ),
    ),
    ProfileSpec(
        CQLIG + "elm-json-library",
        "Library",
        cards=(Card("content.contentType", 1, 1),),
        invariants=(
            Invariant("ejl-1", "Exactly one content with an application/elm+json contentType",
                      "content.where(contentType.startsWith('application/elm+json')).count() = 1"),
            Invariant("ejl-2", "The ELM JSON content has data or url",
                      "content.where(contentType.startsWith('application/elm+json')).all(data.exists() or url.exists())"),
        ),
    ),
    ProfileSpec(
        CQLIG + "elm-xml-library",
        "Library",
        cards=(Card("content.contentType", 1, 1),),
        invariants=(
            Invariant("exl-1", "Exactly one content with an application/elm+xml contentType",
                      "content.where(contentType.startsWith('application/elm+xml')).count() = 1"),
            Invariant("exl-2", "The ELM XML content has data or url",
                      "content.where(contentType.startsWith('application/elm+xml')).all(data.exists() or url.exists())"),
        ),
    ),
    ProfileSpec(
        CQLIG + "cql-module",
        "Library",
        cards=required("type"),
        invariants=(
            Invariant(
                "mnf-2",
                "A dependency uses either resource (canonical) or the resourceReference extension, not both",
                "relatedArtifact.where(type = 'depends-on')"
                f".all(resource.exists() xor extension.where(url = '{RELATED_ARTIFACT_RESOURCE_REFERENCE}').exists())",
            ),
        ),
    ),
)

