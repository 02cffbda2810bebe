"""CPG 2.0.0 profiles: the PlanDefinition hierarchy, the activity definitions, and the
other computable artifact profiles (facts §1.2-§1.4, §2)."""

from __future__ import annotations

from generator.canonicals import (
    CPG_ACTIVITY_TYPE,
    CPG_DIRECTION_OF_RECOMMENDATION,
    CPG_RECOMMENDATION_DIRECTION,
    CQF_KNOWLEDGE_CAPABILITY,
    CQF_KNOWLEDGE_REPRESENTATION_LEVEL,
    PLAN_DEFINITION_TYPE,
)
from generator.validate.profiles import (
    CPG,
    Card,
    ExtensionBinding,
    Fixed,
    Invariant,
    Pattern,
    ProfileSpec,
    Target,
    prohibited,
    required,
)

COMPUTABLE_PD = CPG + "cpg-computableplandefinition"
COMPUTABLE_AD = CPG + "cpg-computableactivity"
PATHWAY = CPG + "cpg-pathwaydefinition"
STRATEGY = CPG + "cpg-strategydefinition"
RECOMMENDATION = CPG + "cpg-recommendationdefinition"
WORKFLOW = CPG + "cpg-workflowdefinition"
ORDER_SET = CPG + "cpg-ordersetdefinition"

_COMMON_PROHIBITED = ("action.type", "action.groupingBehavior", "action.requiredBehavior", "action.precheckBehavior",
                      "action.cardinalityBehavior", "action.transform", "action.dynamicValue")

# Evidence/metadata extensions with required bindings, checked wherever a CPG PlanDefinition is claimed.
_PD_EXTENSIONS = (
    ExtensionBinding("action", CPG_DIRECTION_OF_RECOMMENDATION, CPG_RECOMMENDATION_DIRECTION,
                     frozenset({"for", "against"})),
    ExtensionBinding("", CQF_KNOWLEDGE_CAPABILITY, None, frozenset({"shareable", "computable", "publishable", "executable"})),
    ExtensionBinding("", CQF_KNOWLEDGE_REPRESENTATION_LEVEL, None,
                     frozenset({"narrative", "semi-structured", "structured", "executable"})),
)


def _domain_pd(url: str, type_code: str, **kw: object) -> ProfileSpec:
    return ProfileSpec(
        url,
        "PlanDefinition",
        parents=(COMPUTABLE_PD,),
        patterns=(Pattern("type", PLAN_DEFINITION_TYPE, type_code),),
        **kw,  # type: ignore[arg-type]
    )


# (profile id, kind, produced request/task profile id, activity-type code) per facts §1.4
_ACTIVITIES: tuple[tuple[str, str, str, str], ...] = (
    ("cpg-medicationrequestactivity", "MedicationRequest", "cpg-medicationrequest", "order-medication"),
    ("cpg-servicerequestactivity", "ServiceRequest", "cpg-servicerequest", "order-service"),
    ("cpg-communicationactivity", "CommunicationRequest", "cpg-communicationrequest", "send-message"),
    ("cpg-immunizationactivity", "MedicationRequest", "cpg-immunizationrequest", "recommend-immunization"),
    ("cpg-collectinformationactivity", "Task", "cpg-questionnairetask", "collect-information"),
    ("cpg-administermedicationactivity", "Task", "cpg-administermedicationtask", "administer-medication"),
    ("cpg-dispensemedicationactivity", "Task", "cpg-dispensemedicationtask", "dispense-medication"),
    ("cpg-documentmedicationactivity", "Task", "cpg-documentmedicationtask", "document-medication"),
    ("cpg-enrollmentactivity", "Task", "cpg-enrollmenttask", "enrollment"),
    ("cpg-generatereportactivity", "Task", "cpg-generatereporttask", "generate-report"),
    ("cpg-proposediagnosisactivity", "Task", "cpg-proposediagnosistask", "propose-diagnosis"),
    ("cpg-recorddetectedissueactivity", "Task", "cpg-recorddetectedissuetask", "record-detected-issue"),
    ("cpg-recordinferenceactivity", "Task", "cpg-recordinferencetask", "record-inference"),
    ("cpg-reportflagactivity", "Task", "cpg-reportflagtask", "report-flag"),
    ("cpg-stopactivity", "Task", "cpg-stoptask", "stop-activity"),
    ("cpg-holdactivity", "Task", "cpg-holdtask", "hold-activity"),
    ("cpg-resumeactivity", "Task", "cpg-resumetask", "resume-activity"),
)

ACTIVITY_PROFILES: tuple[str, ...] = tuple(CPG + a[0] for a in _ACTIVITIES)

PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(
        COMPUTABLE_PD,
        "PlanDefinition",
        cards=(Card("type", 1, 1), Card("action", 1), Card("library", 0, 1)),
        extension_bindings=_PD_EXTENSIONS,
    ),
    _domain_pd(
        PATHWAY,
        "clinical-protocol",
        cards=required("action.title", "action.description", "action.code")
        + prohibited("action.input", "action.output", "action.relatedAction", "action.selectionBehavior",
                     *_COMMON_PROHIBITED),
        targets=(Target("action.definitionCanonical", (STRATEGY, WORKFLOW)),),
    ),
    _domain_pd(
        STRATEGY,
        "workflow-definition",
        cards=required("action.title", "action.description", "action.code") + (Card("action.selectionBehavior", 0, 1),)
        + prohibited(*_COMMON_PROHIBITED),
        targets=(Target("action.definitionCanonical", (RECOMMENDATION,)),),
    ),
    _domain_pd(
        RECOMMENDATION,
        "eca-rule",
        targets=(Target("action.definitionCanonical", (COMPUTABLE_AD, ORDER_SET)),),
    ),
    _domain_pd(
        WORKFLOW,
        "workflow-definition",
        cards=required("action.title", "action.description") + (Card("action.code", 0, 1),)
        + prohibited("action.selectionBehavior", *_COMMON_PROHIBITED),
    ),
    _domain_pd(ORDER_SET, "order-set", cards=required("action.title")),
    ProfileSpec(COMPUTABLE_AD, "ActivityDefinition", cards=(Card("kind", 1, 1), Card("library", 0, 1))),
    *(
        ProfileSpec(
            CPG + pid,
            "ActivityDefinition",
            parents=(COMPUTABLE_AD,),
            cards=required("kind", "profile", "intent", "doNotPerform"),
            fixed=(Fixed("kind", kind), Fixed("profile", CPG + produced), Fixed("intent", "proposal")),
            patterns=(Pattern("code", CPG_ACTIVITY_TYPE, code),),
        )
        for pid, kind, produced, code in _ACTIVITIES
    ),
    ProfileSpec(
        CPG + "cpg-computablemetric",
        "Measure",
        cards=required("scoring", "improvementNotation") + (Card("group", 1), Card("group.population", 1)),
    ),
    ProfileSpec(CPG + "cpg-computablequestionnaire", "Questionnaire"),
    ProfileSpec(CPG + "cpg-computablegraphdefinition", "GraphDefinition"),
    ProfileSpec(CPG + "cpg-computableguideline", "ImplementationGuide"),
    ProfileSpec(
        CPG + "cpg-casefeaturedefinition",
        "StructureDefinition",
        cards=required("derivation"),
        fixed=(Fixed("kind", "resource"), Fixed("abstract", False), Fixed("derivation", "constraint")),
    ),
    ProfileSpec(
        CPG + "cpg-groupdefinition",
        "Group",
        cards=required("name") + prohibited("member"),
        fixed=(Fixed("type", "person"), Fixed("actual", False)),
        invariants=(
            Invariant(
                "gdf-1",
                "Exactly one of the cqf-expression extension or characteristic",
                "extension.where(url = 'http://hl7.org/fhir/StructureDefinition/cqf-expression').exists()"
                " xor characteristic.exists()",
            ),
        ),
    ),
)

