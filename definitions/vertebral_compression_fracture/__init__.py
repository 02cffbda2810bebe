"""Vertebral compression fracture: assessment, conservative care, bone health and interventions.

Encodes the five source documents in shared/seeds (000-004) as a CPG-on-FHIR pathway:
assessment & referral -> acute phase / first 3 months -> bone health -> follow-up ->
persistent pain & interventions -> pathologic fractures & special situations.
"""

from __future__ import annotations

from generator import SNOMED, Citation, Code, Guideline

from . import features, terminology
from .acute_phase import acute_phase
from .assessment import assessment
from .bone_health import bone_health
from .follow_up import follow_up
from .persistent_pain import persistent_pain
from .scenarios import SCENARIOS
from .special_situations import special_situations

SOURCES = {
    "000": Citation(file="000_ee7b556522d4d7b4.txt",
                    title="What are the treatment options for pain associated with lumbar compression fractures?",
                    updated="2025-07-21"),
    "001": Citation(file="001_6d08e6c8fdba5074.txt",
                    title="What is the appropriate treatment plan for a patient presenting with a lumbar compression "
                    "fracture, potentially due to underlying osteoporosis?",
                    updated="2026-01-21"),
    "002": Citation(file="002_40d237f22f08a564.txt",
                    title="What is the management and treatment for patients with compression fractures?",
                    updated="2025-11-25"),
    "003": Citation(file="003_5ff2b13c09ec5c8b.txt",
                    title="What is the treatment approach for a patient with osteopenia and an atraumatic vertebral "
                    "compression fracture?",
                    updated="2025-10-26"),
    "004": Citation(file="004_a7769be40c5770ea.txt", title="Treatment of L1 and L2 Compression Fractures",
                    updated=None,
                    note="The document carries no \"Last updated\" date; it is not treated as later than any other "
                    "source when sources disagree."),
}

guideline = Guideline(
    id="vertebral-compression-fracture",
    name="VertebralCompressionFracture",
    title="Vertebral Compression Fracture: Assessment and Management",
    canonical="http://example.org/fhir/cpg/vertebral-compression-fracture",
    version="0.1.0",
    status="draft",
    experimental=True,
    date="2026-11-21",
    publisher="cpg project (example content)",
    description="Assessment and management of osteoporotic (atraumatic) thoracolumbar vertebral compression "
    "fractures in adults: imaging and red flags, urgent referral, conservative care in the first 3 months "
    "(calcitonin, analgesia, mobilisation), bone health, follow-up, vertebral augmentation and nerve blocks for "
    "persistent pain, and pathologic (malignancy-related) fractures. Derived from five clinical summaries; "
    "for demonstration, not for clinical use.",
    copyright="Example content derived from publicly available clinical summaries; not for clinical use.",
    jurisdiction=[Code("urn:iso:std:iso:3166", "001", "World",
                       note="UNCONFIRMED: FHIR R4 jurisdiction examples code 'World' as UN M49 001 "
                       "(http://unstats.un.org/unsd/methods/m49/m49.htm), not under ISO 3166.")],
    topic=[terminology.OSTEOPOROTIC_FRACTURE,
           SNOMED("64859006", "Osteoporosis", note="Confirmed: VSAC 'Osteoporosis' "
                  "(2.16.840.1.113883.3.464.1003.113.12.1038) expansion, cqframework/ecqm-content-r4-2021.")],
    sources=SOURCES,
    strategies=[assessment, acute_phase, bone_health, follow_up, persistent_pain, special_situations],
    features=features.ALL_FEATURES,
    value_sets=terminology.VALUE_SETS,
    scenarios=SCENARIOS,
    sources_dir="../../../shared/seeds",
)
