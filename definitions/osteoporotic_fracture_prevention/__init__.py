"""Secondary prevention of osteoporotic fractures after a vertebral fragility fracture.

The bone-health content of the five source documents in shared/seeds (000-004), which are about
osteoporotic vertebral compression fractures, as a guideline of its own: start treatment (calcium and
vitamin D, one osteoporosis agent, contraindications) -> long-term care (continue, re-evaluate, stop,
falls, follow-up). The acute fracture care is the vertebral-compression-fracture guideline's.
"""

from __future__ import annotations

from generator import Citation, Code, Guideline

from . import features, terminology
from .long_term import long_term
from .pharmacotherapy import start_treatment
from .scenarios import SCENARIOS

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
    id="osteoporotic-fracture-prevention",
    name="OsteoporoticFracturePrevention",
    title="Secondary Prevention of Osteoporotic Fractures after a Vertebral Fragility Fracture",
    canonical="http://example.org/fhir/cpg/osteoporotic-fracture-prevention",
    version="0.1.0",
    status="draft",
    experimental=True,
    date="2026-12-06",
    publisher="cpg project (example content)",
    description="Preventing further fractures in adults with a vertebral fragility (osteoporotic) fracture: "
    "calcium and vitamin D, starting one osteoporosis agent (urgently after a recent fracture), bisphosphonate "
    "contraindications and renal limits, continuing and re-evaluating long-term therapy, fracture risk after "
    "stopping, fall prevention and follow-up. Derived from five clinical summaries; for demonstration, not for "
    "clinical use.",
    copyright="Example content derived from publicly available clinical summaries; not for clinical use.",
    jurisdiction=[Code("urn:iso:std:iso:3166", "001", "World",
                       note="UNCONFIRMED: FHIR R4 jurisdiction examples code 'World' as UN M49 001 "
                       "(http://unstats.un.org/unsd/methods/m49/m49.htm), not under ISO 3166.")],
    topic=[terminology.OSTEOPOROTIC_VERTEBRAL_COLLAPSE],
    sources=SOURCES,
    strategies=[start_treatment, long_term],
    features=features.ALL_FEATURES,
    value_sets=terminology.VALUE_SETS,
    scenarios=SCENARIOS,
    sources_dir="../../../shared/seeds",
)
