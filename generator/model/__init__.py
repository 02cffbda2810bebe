"""The authoring model: what guideline authors write in definitions/."""

from generator.model.activities import Activity, Communication, Dosage, Medication, Service
from generator.model.activities import Choice, NoRecommendation, Priority, Selection, Timing, at, immediately, lasting
from generator.model._errors import ModelError
from generator.model.guideline import ALL_OTHERS, Guideline, Process, Scenario, Strategy
from generator.model.logic import (
    BooleanLogic,
    ClinicalStatus,
    Feature,
    administrative_sex,
    age_in_months,
    age_in_years,
    conditions,
    medications,
    observations,
    procedures,
    time_since,
)
from generator.model.recommendation import Certainty, Citation, Direction, Recommendation, Source, Strength
from generator.model.terminology import (
    ICD10CM,
    LOINC,
    RXNORM,
    SNOMED,
    Code,
    CodeSystem,
    Duration,
    Quantity,
    ValueSet,
    code_prefix,
    code_range,
    days,
    is_a,
    months,
    weeks,
    years,
)

__all__ = [
    "ALL_OTHERS", "Activity", "BooleanLogic", "ClinicalStatus", "ICD10CM", "administrative_sex", "age_in_months",
    "code_prefix", "code_range", "is_a", "time_since", "Certainty", "Citation", "Code", "CodeSystem", "Communication", "Direction",
    "Dosage", "Duration", "Feature", "Guideline", "LOINC", "Medication", "Process", "Quantity", "RXNORM",
    "Recommendation", "SNOMED", "Scenario", "Service", "Source", "Strategy", "Strength", "ValueSet",
    "age_in_years", "conditions", "days", "medications", "months", "observations", "procedures", "weeks", "years",
]
__all__ += ["Choice", "ModelError", "NoRecommendation", "Priority", "Selection", "Timing", "at", "immediately", "lasting"]
