"""CRMI 1.0.0 capability profiles (each derives directly from its base resource)."""

from __future__ import annotations

from generator.canonicals import LIBRARY_TYPE, RELATED_ARTIFACT_RESOURCE_REFERENCE
from generator.validate.profiles import CRMI, Card, Invariant, Pattern, ProfileSpec, prohibited, required


PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(CRMI + "crmi-shareablelibrary", "Library", cards=required("url", "version", "title", "description")),
    ProfileSpec(CRMI + "crmi-publishablelibrary", "Library", cards=required("type", "date")),
    ProfileSpec(CRMI + "crmi-computablelibrary", "Library", cards=(Card("content", 1),)),
    ProfileSpec(CRMI + "crmi-executablelibrary", "Library", cards=(Card("content", 1),)),
    ProfileSpec(
        CRMI + "crmi-manifestlibrary",
        "Library",
        cards=required("type") + prohibited("content"),
        patterns=(Pattern("type", LIBRARY_TYPE, "asset-collection"),),
        invariants=(
            Invariant(
                "mnf-1",
                "A related artifact uses either resource (canonical) or the resourceReference extension, not both",
                f"relatedArtifact.all(resource.exists() xor extension.where(url = '{RELATED_ARTIFACT_RESOURCE_REFERENCE}').exists())",
            ),
        ),
    ),
    ProfileSpec(CRMI + "crmi-shareableplandefinition", "PlanDefinition", cards=required("url", "version", "title", "description")),
    ProfileSpec(CRMI + "crmi-publishableplandefinition", "PlanDefinition", cards=required("date")),
    ProfileSpec(
        CRMI + "crmi-shareableactivitydefinition",
        "ActivityDefinition",
        cards=required("url", "version", "title", "experimental", "description"),
    ),
    ProfileSpec(CRMI + "crmi-publishableactivitydefinition", "ActivityDefinition", cards=required("date")),
    ProfileSpec(
        CRMI + "crmi-shareablevalueset", "ValueSet", cards=required("url", "version", "title", "experimental", "description")
    ),
    ProfileSpec(CRMI + "crmi-publishablevalueset", "ValueSet", cards=required("date")),
    ProfileSpec(CRMI + "crmi-computablevalueset", "ValueSet", cards=required("compose")),
    ProfileSpec(CRMI + "crmi-executablevalueset", "ValueSet", cards=required("expansion")),
    ProfileSpec(CRMI + "crmi-shareablecodesystem", "CodeSystem", cards=required("url", "version", "title", "description")),
    ProfileSpec(CRMI + "crmi-publishablecodesystem", "CodeSystem", cards=required("date")),
)
