"""Patient logic in plain words, for reviewers who read the guideline rather than its CQL.

A clinician signing off a recommendation needs "creatinine clearance (latest final result) below
30 mL/min", not the feature name "Low Creatinine Clearance". This walks the author's logic tree
(the same nodes the CQL renderer walks) and says, for every node, what it asks of the record:
the resource type, the statuses counted, the codes or value set, thresholds with units and time
windows. Features are expanded where they are used, so every threshold is visible at the
recommendation; a node kind this module does not know is said to be so (never guessed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator import canonicals
from generator.model import logic as L
from generator.model.terminology import Code, Duration, Quantity, ValueSet

_OPS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "=": "equal to"}


@dataclass(frozen=True)
class Clause:
    """One line of "applies when", and the clauses it is made of."""

    text: str
    children: tuple["Clause", ...] = ()
    feature: str | None = None  # the feature this clause spells out (for linking to its define)
    code: str | None = None  # author-written CQL shown verbatim


def describe(node: Any, features: Mapping[str, L.Feature]) -> Clause:
    """The clause tree of `node`; `features` resolves features referred to by name."""
    return _Describer(features).clause(node, ())


def clause_texts(clause: Clause) -> list[str]:
    """Every text of a clause tree, depth first (tests and search)."""
    return [clause.text, *(t for child in clause.children for t in clause_texts(child))]


class _Describer:
    def __init__(self, features: Mapping[str, L.Feature]) -> None:
        self.features = features

    def clause(self, node: Any, trail: tuple[str, ...]) -> Clause:
        if isinstance(node, L.FeatureName):
            target = self.features.get(node.name)
            if target is None:
                return Clause(f"“{node.name}” (unknown feature)")
            node = target
        if isinstance(node, L.Feature):
            return self._feature(node, trail)
        if isinstance(node, L.AllOf):
            return Clause("all of:", tuple(self.clause(p, trail) for p in node.parts))
        if isinstance(node, L.AnyOf):
            return Clause("any of:", tuple(self.clause(p, trail) for p in node.parts))
        if isinstance(node, L.Not):
            return Clause("not known to be the case:", (self.clause(node.part, trail),))
        if isinstance(node, L.RawCql):
            return Clause("author-written CQL:", code=node.text.strip())
        words = _leaf_words(node)
        if words is not None:
            return Clause(words)
        return Clause(f"logic of kind {type(node).__name__} (not described in words; see the CQL)")

    def _feature(self, feature: L.Feature, trail: tuple[str, ...]) -> Clause:
        if feature.name in trail:  # a cycle is an author error reported elsewhere; never loop here
            return Clause(f"“{feature.name}” (refers back to itself)", feature=feature.name)
        expression = feature.expression
        inner = self.clause(expression, (*trail, feature.name)) if expression is not None else None
        label = f"“{feature.name}”"
        if feature.description:
            label += f" ({feature.description.rstrip('.')})"
        if inner is None:
            return Clause(label, feature=feature.name)
        if inner.children or inner.code is not None:
            return Clause(f"{label}: {inner.text}", inner.children, feature.name, inner.code)
        return Clause(f"{label}: {inner.text}", feature=feature.name)


# ---- leaves: what each builder node asks of the record ---------------------------------------

def terminology_words(term: Code | ValueSet) -> str:
    """`SNOMED CT 42942008 “Compression fracture …”` or `a code in value set “X” (12 codes)`."""
    if isinstance(term, ValueSet):
        count, rules = len(term.codes), len(term.rules)
        parts = [f"{count} code{'s' if count != 1 else ''}"] if count or not rules else []
        if rules:
            parts.append(f"{rules} rule{'s' if rules != 1 else ''}")
        return f"a code in value set “{term.title}” ({' and '.join(parts)})"
    return f"{system_name(term.system)} {term.code} “{term.display}”"


#: Reader-facing names of the code systems guidelines use most; others are shown by their URI.
SYSTEM_NAMES: dict[str, str] = {
    canonicals.SNOMED: "SNOMED CT",
    canonicals.LOINC: "LOINC",
    canonicals.RXNORM: "RxNorm",
    canonicals.UCUM: "UCUM",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
}


def system_name(uri: str) -> str:
    return SYSTEM_NAMES.get(uri, uri)


def duration_words(duration: Duration) -> str:
    return str(duration)


def quantity_words(quantity: Quantity | int) -> str:
    if isinstance(quantity, Quantity):
        return f"{quantity.value:g} {quantity.unit}"
    return str(quantity)


_RECORDS: dict[str, str] = {
    "Condition": "a Condition (clinical status active, recurrence or relapse; not refuted or entered in error)",
    "Observation": "an Observation (status final, amended or corrected)",
    "Procedure": "a completed Procedure",
    "Medication": "medication use (a MedicationRequest not do-not-perform, or a MedicationStatement)",
}
_HISTORY = "a Condition (any or no clinical status, also resolved; not refuted or entered in error)"


def records_words(records: L.Records) -> str:
    kind = _RECORDS.get(records.resource_type, f"a {records.resource_type}")
    if isinstance(records, L.ConditionRecords) and records.status is L.ClinicalStatus.HISTORY:
        kind = _HISTORY
    text = f"{kind} coded with {terminology_words(records.terminology)}"
    if records.category is not None:
        text += f", category {records.category}"
    if records.body_site is not None:
        text += f", body site {terminology_words(records.body_site)}"
    if records.value_filter is not None:
        op, quantity = records.value_filter
        text += f", value {_OPS.get(op, op)} {quantity_words(quantity)}"
    if records.window is not None:
        text += f", dated within the last {duration_words(records.window)}"
    if records.before_event is not None:
        text += f", dated before {event_words(records.before_event)}"
    return text


def event_words(event: L.EventDate) -> str:
    return f"the {event.which} date of {records_words(event.records)}"


def _exists(node: L.Exists) -> str:
    return records_words(node.records)


def _onset_within(node: L.OnsetWithin) -> str:
    return f"{records_words(node.records)}, with onset (or recorded date) within the last {duration_words(node.duration)}"


def _onset_before(node: L.OnsetBefore) -> str:
    return f"{records_words(node.records)}, with onset at least {duration_words(node.duration)} ago"


def _performed_within(node: L.PerformedWithin) -> str:
    return f"{records_words(node.records)}, performed within the last {duration_words(node.duration)}"


def _recorded_within(node: L.RecordedWithin) -> str:
    return f"{records_words(node.records)}, recorded within the last {duration_words(node.duration)}"


_MEDICATION_USE = {
    "taking": "currently taken (active or on-hold, not ended)",
    "taking_for": "currently taken, started at least {d} ago",
    "started_within": "started within the last {d}",
    "stopped_within": "stopped (period end) within the last {d}",
}


def _medication_use(node: L.MedicationUse) -> str:
    when = _MEDICATION_USE[node.kind].format(d=duration_words(node.duration) if node.duration else "")
    return f"{records_words(node.records)}, {when}"


def _at_least(node: L.AtLeast) -> str:
    apart = f", two of them at least {duration_words(node.apart)} apart" if node.apart is not None else ""
    return f"at least {node.n} of {records_words(node.records)}{apart}"


def _sex_is(node: L.SexIs) -> str:
    return f"administrative sex (Patient.gender) is {node.value} (false when missing)"


def _compare(node: L.Compare) -> str:
    op = _OPS.get(node.op, node.op)
    left = node.left
    if isinstance(left, L.LatestValue):
        return (f"the latest usable value of {records_words(left.records)} is {op} {quantity_words(node.right)}"
                " (false when there is no such value)")
    if isinstance(left, L.AgeInYears):
        return f"age is {op} {quantity_words(node.right)} {left.unit} (false when the birth date is missing)"
    if isinstance(left, L.Count):
        return f"the number of {records_words(left.records)} is {op} {node.right}"
    if isinstance(left, L.Elapsed):
        end = event_words(left.end) if left.end is not None else "now"
        return (f"the time from {event_words(left.start)} to {end} is {op} {duration_words(node.right)}"
                " (false when a date is missing)")  # type: ignore[arg-type]
    return f"{type(left).__name__} is {op} {quantity_words(node.right)}"  # type: ignore[arg-type]


_LEAVES: dict[type, Callable[[Any], str]] = {
    L.Exists: _exists,
    L.MedicationUse: _medication_use,
    L.OnsetWithin: _onset_within,
    L.OnsetBefore: _onset_before,
    L.RecordedWithin: _recorded_within,
    L.PerformedWithin: _performed_within,
    L.AtLeast: _at_least,
    L.SexIs: _sex_is,
    L.Compare: _compare,
}


def _leaf_words(node: Any) -> str | None:
    describe_leaf = _LEAVES.get(type(node))
    return describe_leaf(node) if describe_leaf is not None else None
