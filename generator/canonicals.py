"""The canonical URLs of the standards we build on, each written once.

Synth stamps these URLs into resources; validate, publish, apply and cql read them back.
When every phase spelled its own copy, a typo in one would produce or expect an extension
or code system the others never recognise, and nothing would say so. Naming each URL here
makes the phases agree by construction.

This module imports nothing from the project, so any phase can import it without cycles.
URLs are written out in full (not built from prefixes) so that a URL seen in a resource or
a diagnostic can be grepped straight to its name.
"""

from __future__ import annotations

# Profile bases: a profile's canonical is its base + its id (e.g. CPG + "cpg-pathwaydefinition").
CPG = "http://hl7.org/fhir/uv/cpg/StructureDefinition/"
CRMI = "http://hl7.org/fhir/uv/crmi/StructureDefinition/"
CQLIG = "http://hl7.org/fhir/uv/cql/StructureDefinition/"
FHIR_STRUCTURE_DEFINITION = "http://hl7.org/fhir/StructureDefinition/"  # core resources and core extensions

# Profiles named on their own.
CRMI_MANIFEST_LIBRARY = "http://hl7.org/fhir/uv/crmi/StructureDefinition/crmi-manifestlibrary"

# Extensions: FHIR core (cqf-*, workflow-*, request-*, valueset-*) ...
CQF_LIBRARY = "http://hl7.org/fhir/StructureDefinition/cqf-library"
CQF_CQL_OPTIONS = "http://hl7.org/fhir/StructureDefinition/cqf-cqlOptions"
CQF_KNOWLEDGE_CAPABILITY = "http://hl7.org/fhir/StructureDefinition/cqf-knowledgeCapability"
CQF_KNOWLEDGE_REPRESENTATION_LEVEL = "http://hl7.org/fhir/StructureDefinition/cqf-knowledgeRepresentationLevel"
CQF_STRENGTH_OF_RECOMMENDATION = "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation"
CQF_QUALITY_OF_EVIDENCE = "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence"
VALUESET_REFERENCE = "http://hl7.org/fhir/StructureDefinition/valueset-reference"
WORKFLOW_INSTANTIATES_CANONICAL = "http://hl7.org/fhir/StructureDefinition/workflow-instantiatesCanonical"
REQUEST_DO_NOT_PERFORM = "http://hl7.org/fhir/StructureDefinition/request-doNotPerform"
# ... CPG ...
CPG_DIRECTION_OF_RECOMMENDATION = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-directionOfRecommendation"
CPG_RATIONALE = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale"
CPG_PART_OF = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-partOf"
CPG_ENABLED = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-enabled"
# ... and the R5 cross-version extension for RelatedArtifact.resourceReference.
RELATED_ARTIFACT_RESOURCE_REFERENCE = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-RelatedArtifact.resourceReference")

# Code systems: HL7 terminology (THO) ...
PLAN_DEFINITION_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
LIBRARY_TYPE = "http://terminology.hl7.org/CodeSystem/library-type"
ACTION_TYPE = "http://terminology.hl7.org/CodeSystem/action-type"
RECOMMENDATION_STRENGTH = "http://terminology.hl7.org/CodeSystem/recommendation-strength"
EVIDENCE_QUALITY = "http://terminology.hl7.org/CodeSystem/evidence-quality"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
# ... and CPG.
CPG_ACTIVITY_TYPE = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-activity-type-cs"
CPG_COMMON_PROCESS = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-common-process-cs"
CPG_RECOMMENDATION_DIRECTION = "http://hl7.org/fhir/uv/cpg/CodeSystem/cpg-recommendation-direction-cs"

# External code systems.
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"

# CQL models: the FHIR model's URI in ELM `using`, and the Libraries carrying model info.
FHIR_MODEL = "http://hl7.org/fhir"
MODEL_INFO_LIBRARY_BASE = "http://fhir.org/guides/cqf/common/Library"
FHIR_MODEL_INFO = "http://fhir.org/guides/cqf/common/Library/FHIR-ModelInfo|4.0.1"

# Libraries every guideline shares (our generated FHIRHelpers): one canonical for all guidelines,
# so any number of them load into one server without two resources claiming one url|version. Not
# the CQF canonical (http://fhir.org/guides/cqf/common/Library/FHIRHelpers): our text is generated,
# and reporting it as the published library is a known interoperability trap (cqf-tooling#230).
SHARED_LIBRARY_BASE = "http://example.org/fhir/cpg/shared/Library/"
