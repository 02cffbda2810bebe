"""Activities a recommendation proposes; each becomes a CPG ActivityDefinition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location
from generator.model.terminology import Code, Duration, Quantity, ValueSet


@dataclass(frozen=True)
class Dosage:
    """Dosage as text (always) plus the structured parts the source states."""

    text: str
    dose: Quantity | None = None
    frequency: int | None = None
    period: Duration | None = None
    duration: Duration | None = None
    route: Code | None = None
    as_needed: bool = False


@dataclass(eq=False)
class Activity:
    """Base of all activities. `id` defaults to one derived from the recommendation."""

    title: str | None = None
    code: Code | ValueSet | None = None
    description: str | None = None
    do_not_perform: bool = False
    id: str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    #: The CPG activity profile (tail of the canonical), request kind and activity-type code.
    profile: ClassVar[str]
    kind: ClassVar[str]
    request_profile: ClassVar[str]
    activity_type: ClassVar[str]
    activity_type_display: ClassVar[str]
    key: ClassVar[str]

    def __hash__(self) -> int:
        return id(self)


@dataclass(eq=False)
class Medication(Activity):
    """Propose (or, with do_not_perform, advise against) a medication."""

    dosage: Dosage | list[Dosage] | None = None

    profile: ClassVar[str] = "cpg-medicationrequestactivity"
    kind: ClassVar[str] = "MedicationRequest"
    request_profile: ClassVar[str] = "cpg-medicationrequest"
    activity_type: ClassVar[str] = "order-medication"
    activity_type_display: ClassVar[str] = "Order a medication"
    key: ClassVar[str] = "medication"

    @property
    def dosages(self) -> list[Dosage]:
        if self.dosage is None:
            return []
        return self.dosage if isinstance(self.dosage, list) else [self.dosage]


ServiceCategory = Literal["imaging", "procedure", "referral", "laboratory", "therapy"]


@dataclass(eq=False)
class Service(Activity):
    """Imaging, a procedure, a referral or another service request."""

    category: ServiceCategory = "procedure"
    body_site: Code | None = None
    timing: str | None = None

    profile: ClassVar[str] = "cpg-servicerequestactivity"
    kind: ClassVar[str] = "ServiceRequest"
    request_profile: ClassVar[str] = "cpg-servicerequest"
    activity_type: ClassVar[str] = "order-service"
    activity_type_display: ClassVar[str] = "Order a service"
    key: ClassVar[str] = "service"


@dataclass(eq=False)
class Communication(Activity):
    """Advice or education sent to the patient or a clinician (a CommunicationRequest)."""

    message: str | None = None

    profile: ClassVar[str] = "cpg-communicationactivity"
    kind: ClassVar[str] = "CommunicationRequest"
    request_profile: ClassVar[str] = "cpg-communicationrequest"
    activity_type: ClassVar[str] = "send-message"
    activity_type_display: ClassVar[str] = "Send a message"
    key: ClassVar[str] = "communication"
