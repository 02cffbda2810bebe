"""Activities a recommendation proposes; each becomes a CPG ActivityDefinition.

Besides what to do (`Medication`, `Service`, `Communication`), an activity says how urgently
(`Priority`) and when (`Timing`: `immediately()`, `at(...)`, `lasting(...)`); a `Choice` groups
alternatives with a CPG selection behaviour; `NoRecommendation` publishes an inconclusive-evidence
statement as guidance to the clinician, never as an order. Wrong types stop at the author's line
(RULE030-RULE035, `ModelError`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from generator.diagnostics import SourceLocation
from generator.model._errors import ModelError
from generator.model._location import caller_location
from generator.model.terminology import Code, Duration, Quantity, ValueSet

#: code -> what it checks, for the activity vocabulary (raised at construction as ModelError).
ACTIVITY_RULES: dict[str, str] = {
    "RULE030": "priority is a Priority, a service category is known, do_not_perform is a bool",
    "RULE031": "a timing is immediately()/at()/lasting() or the source's words; offsets are durations, windows ordered",
    "RULE032": "a Choice holds at least two activities and its select is a Selection",
    "RULE033": "then= holds activities and Choice groups only",
    "RULE034": "a NoRecommendation names its subject in words, stands alone, and has no direction or strength",
    "RULE035": "a timing after= another activity names an activity of the same recommendation, without a cycle",
}

#: THO communication-category (the example binding of R4 CommunicationRequest.category).
COMMUNICATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/communication-category"


class Priority(enum.Enum):
    """FHIR RequestPriority (required binding of ActivityDefinition/PlanDefinition.action/request priority)."""

    ROUTINE = "routine"
    URGENT = "urgent"
    ASAP = "asap"
    STAT = "stat"


class Selection(enum.Enum):
    """FHIR ActionSelectionBehavior: how many of a group's activities the clinician may choose."""

    ANY = "any"
    ALL = "all"
    ALL_OR_NONE = "all-or-none"
    EXACTLY_ONE = "exactly-one"
    AT_MOST_ONE = "at-most-one"
    ONE_OR_MORE = "one-or-more"


def _duration(value: object, what: str) -> Duration | None:
    if value is None or isinstance(value, Duration):
        return value
    raise ModelError("RULE031", f"{what} must be a duration such as weeks(4), got {value!r}")


@dataclass(frozen=True)
class Timing:
    """When an activity happens, as the source says it. Build it with `immediately()`, `at()`, `lasting()`.

    `offset`..`offset_high` is the window after the anchor; `duration` how long it lasts; the anchor
    is a clinical event named in words (`anchor="fracture identification"`; default: when the
    recommendation applies) or another activity of the same recommendation (`after=`).
    """

    text: str
    offset: Duration | None = None
    offset_high: Duration | None = None
    duration: Duration | None = None
    anchor: str | None = None
    after: "Activity | None" = None
    location: SourceLocation | None = field(default_factory=caller_location, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ModelError("RULE031", "a timing needs its wording from the source (text=...)", self.location)
        for name in ("offset", "offset_high", "duration"):
            _duration(getattr(self, name), f"timing {name}")
        if self.offset_high is not None and self.offset is None:
            raise ModelError("RULE031", "a timing window needs its start (offset) as well as its end", self.location)
        if (self.offset is not None and self.offset_high is not None
                and _days(self.offset_high) < _days(self.offset)):
            raise ModelError("RULE031", f"timing window ends ({self.offset_high}) before it starts ({self.offset})",
                             self.location)
        if self.anchor is not None and not isinstance(self.anchor, str):
            raise ModelError("RULE031", f"timing anchor must be the event in words, got {self.anchor!r}", self.location)
        if self.after is not None and not isinstance(self.after, Activity):
            raise ModelError("RULE031", f"timing after= must be an activity of the same recommendation, "
                             f"got {type(self.after).__name__}", self.location)

    @property
    def relative_to_activity(self) -> bool:
        return self.after is not None


def _days(d: Duration) -> float:
    return d.value * {"days": 1, "weeks": 7, "months": 30.4375, "years": 365.25}[d.unit]


def _span(low: Duration, high: Duration | None) -> str:
    if high is None:
        return str(low)
    if low.unit == high.unit:
        return f"{low.value}-{high}"
    return f"{low}-{high}"


def immediately() -> Timing:
    """"Immediately": no delay after the recommendation applies (offset 0)."""
    return Timing("immediately", offset=Duration(0, "days"), location=caller_location())


def at(offset: Duration, to: Duration | None = None, *, after: "str | Activity | None" = None) -> Timing:
    """"At 4-6 weeks after fracture identification": `at(weeks(4), weeks(6), after="fracture identification")`.

    `after` is a clinical event in words, or another activity of the same recommendation.
    """
    location = caller_location()
    _duration(offset, "at()"), _duration(to, "at(..., to)")
    if offset is None:
        raise ModelError("RULE031", "at() needs the offset, e.g. at(weeks(4), weeks(6))", location)
    if after is not None and not isinstance(after, (str, Activity)):
        raise ModelError("RULE031", "at(..., after=) is an event in words or another activity of the recommendation, "
                         f"got {type(after).__name__}", location)
    event = (after.title or "the related activity") if isinstance(after, Activity) else after
    text = f"at {_span(offset, to)}" + (f" after {event}" if event else "")
    return Timing(text, offset=offset, offset_high=to, anchor=after if isinstance(after, str) else None,
                  after=after if isinstance(after, Activity) else None, location=location)


def lasting(duration: Duration, *, starting: "str | None" = None) -> Timing:
    """"For 4 weeks from fracture identification": `lasting(weeks(4), starting="fracture identification")`."""
    location = caller_location()
    if not isinstance(duration, Duration):
        raise ModelError("RULE031", f"lasting() needs a duration such as weeks(4), got {duration!r}", location)
    if starting is not None and not isinstance(starting, str):
        raise ModelError("RULE031", f"lasting(..., starting=) is the event in words, got {type(starting).__name__}",
                         location)
    text = f"for {duration}" + (f" from {starting}" if starting else "")
    return Timing(text, duration=duration, anchor=starting, location=location)


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
    priority: Priority | None = None
    timing: Timing | str | None = None
    location: SourceLocation | None = field(default_factory=caller_location, repr=False)

    #: The CPG activity profile (tail of the canonical), request kind and activity-type code.
    profile: ClassVar[str]
    kind: ClassVar[str]
    request_profile: ClassVar[str]
    activity_type: ClassVar[str]
    activity_type_display: ClassVar[str]
    key: ClassVar[str]

    def __post_init__(self) -> None:
        if self.priority is not None and not isinstance(self.priority, Priority):
            hint = f" (use Priority.{str(self.priority).upper()})" if str(self.priority).upper() in Priority.__members__ else ""
            raise ModelError("RULE030", f"priority must be a Priority (routine, urgent, asap, stat), "
                             f"got {self.priority!r}{hint}", self.location)
        if isinstance(self.timing, str):
            # Free wording from the source: kept as the timing's text (FHIR Timing.code.text).
            self.timing = Timing(self.timing, location=self.location)
        elif self.timing is not None and not isinstance(self.timing, Timing):
            raise ModelError("RULE031", "timing must be immediately(), at(...), lasting(...) or the source's "
                             f"wording as a string, got {type(self.timing).__name__}", self.location)
        if not isinstance(self.do_not_perform, bool):
            raise ModelError("RULE030", f"do_not_perform must be True or False, got {self.do_not_perform!r}",
                             self.location)

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
SERVICE_CATEGORIES: tuple[str, ...] = ("imaging", "procedure", "referral", "laboratory", "therapy")


@dataclass(eq=False)
class Service(Activity):
    """Imaging, a procedure, a referral or another service request."""

    category: ServiceCategory = "procedure"
    body_site: Code | None = None

    profile: ClassVar[str] = "cpg-servicerequestactivity"
    kind: ClassVar[str] = "ServiceRequest"
    request_profile: ClassVar[str] = "cpg-servicerequest"
    activity_type: ClassVar[str] = "order-service"
    activity_type_display: ClassVar[str] = "Order a service"
    key: ClassVar[str] = "service"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.category not in SERVICE_CATEGORIES:
            raise ModelError("RULE030", f"unknown service category {self.category!r} "
                             f"(one of {', '.join(SERVICE_CATEGORIES)})", self.location)


@dataclass(eq=False)
class _MessageActivity(Activity):
    """What every activity published as a CPG communication activity (a CommunicationRequest) shares."""

    profile: ClassVar[str] = "cpg-communicationactivity"
    kind: ClassVar[str] = "CommunicationRequest"
    request_profile: ClassVar[str] = "cpg-communicationrequest"
    activity_type: ClassVar[str] = "send-message"
    activity_type_display: ClassVar[str] = "Send a message"


@dataclass(eq=False)
class Communication(_MessageActivity):
    """Advice or education sent to the patient or a clinician (a CommunicationRequest)."""

    message: str | None = None

    key: ClassVar[str] = "communication"


@dataclass(eq=False)
class NoRecommendation(_MessageActivity):
    """"No recommendation for or against X" (inconclusive evidence): guidance to the clinician.

    Published as a CPG communication activity (a CommunicationRequest of category `notification`
    whose payload is the statement), never as an order for X: `about` is X in words, not an activity.
    The recommendation holding it may carry no direction or strength (RULE034).
    """

    about: str = ""
    reason: str | None = None

    key: ClassVar[str] = "no-recommendation"

    def __post_init__(self) -> None:
        super().__post_init__()
        if isinstance(self.about, Activity):
            raise ModelError("RULE034", "NoRecommendation(about=...) names the thing in words; passing an activity "
                             "would publish an order for it", self.location)
        if not isinstance(self.about, str) or not self.about.strip():
            raise ModelError("RULE034", "NoRecommendation needs about='what there is no recommendation for'",
                             self.location)
        if self.do_not_perform:
            raise ModelError("RULE034", "NoRecommendation is neither for nor against; do_not_perform does not apply",
                             self.location)
        if self.code is None:
            self.code = Code(COMMUNICATION_CATEGORY, "notification", "Notification")
        if self.title is None:
            self.title = f"No recommendation: {self.about}"

    @property
    def message(self) -> str:
        text = f"No recommendation for or against {self.about}."
        return f"{text} {self.reason}" if self.reason else text


class Choice:
    """Alternatives: `Choice(Medication(...), Medication(...), select=Selection.EXACTLY_ONE)`.

    Becomes a CPG action group (groupingBehavior logical-group + selectionBehavior); every member
    is its own ActivityDefinition, so each drug is its own request.
    """

    def __init__(self, *activities: Activity, select: Selection = Selection.EXACTLY_ONE, title: str | None = None,
                 id: str | None = None) -> None:  # noqa: A002 - `id` like every other builder
        self.location = caller_location()
        if len(activities) == 1 and isinstance(activities[0], (list, tuple)):
            activities = tuple(activities[0])
        for member in activities:
            if isinstance(member, (Choice, NoRecommendation)) or not isinstance(member, Activity):
                raise ModelError("RULE032", "a Choice holds Medication, Service or Communication activities, got "
                                 f"{type(member).__name__}", self.location)
        if len(activities) < 2:
            raise ModelError("RULE032", f"a Choice needs at least two alternatives, got {len(activities)}", self.location)
        if not isinstance(select, Selection):
            raise ModelError("RULE032", f"select must be a Selection (e.g. Selection.EXACTLY_ONE), got {select!r}",
                             self.location)
        if id is not None and (not isinstance(id, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", id) or len(id) > 64):
            raise ModelError("RULE032", f"Choice id {id!r} must be kebab-case, at most 64 characters", self.location)
        if title is not None and not isinstance(title, str):
            raise ModelError("RULE032", f"Choice title must be text, got {title!r}", self.location)
        self.activities: list[Activity] = list(activities)
        self.select = select
        self.title = title
        self.id = id

    def __repr__(self) -> str:
        return f"Choice({len(self.activities)} activities, select={self.select.value})"
