"""CPG `$apply` over built artifacts: pathway → strategy → recommendation → requests.

Two stages, so that many patients cost little:
  * `compile_plan` walks the PlanDefinition tree once (following `definitionCanonical`), resolves
    every condition and dynamic value to a (library, define) pair checked against the ELM, and
    refuses what it cannot execute — nothing is silently skipped (clinical-reasoning#271).
  * `realize` turns one patient's engine values into a Bundle: a RequestGroup per PlanDefinition
    that has applicable content, the request each applicable ActivityDefinition instantiates,
    and a CarePlan. Identity is the action's position in the tree, never the ActivityDefinition,
    so two actions sharing one definition give two requests (clinical-reasoning#779).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.apply._artifacts import ApplyError, Artifacts, plan_type
from generator.apply._engine import PatientValues
from generator.apply.explain import Explainer, Explanation, rationale_text
from generator.canonicals import CPG_RATIONALE, CQF_LIBRARY, REQUEST_DO_NOT_PERFORM, WORKFLOW_INSTANTIATES_CANONICAL

__all__ = ["Expr", "PlanNode", "ActionNode", "ActivityNode", "CompiledPlan", "compile_plan", "realize", "ApplyResult"]

IDENTIFIER_LANGUAGES = ("text/cql-identifier", "text/cql.identifier", "text/cql")
SUPPORTED_KINDS = ("MedicationRequest", "ServiceRequest", "CommunicationRequest", "Task")
_ID_NAMESPACE = uuid.UUID("5b0f3c1e-7a4d-5c2b-9e61-c0a7f1e2d3b4")

#: PlanDefinition.action elements that RequestGroup.action (R4) has with the same shape.
_CARRIED_ACTION_FIELDS = (
    "id", "extension", "prefix", "title", "description", "textEquivalent", "priority", "code", "documentation",
    "relatedAction", "timingDateTime", "timingAge", "timingPeriod", "timingDuration", "timingRange", "timingTiming",
    "type", "groupingBehavior", "selectionBehavior", "requiredBehavior", "precheckBehavior", "cardinalityBehavior",
)


@dataclass(frozen=True)
class Expr:
    """A define to evaluate: the ELM library name and the define name."""

    library: str
    define: str


@dataclass(frozen=True)
class ActivityNode:
    definition: dict[str, Any]
    canonical: str
    dynamic: tuple[tuple[str, Expr], ...]
    template: str = ""  # the request as JSON with patient fields left null; parsed per patient


@dataclass(frozen=True)
class ActionNode:
    action: dict[str, Any]
    key: str
    applicability: tuple[Expr, ...]
    dynamic: tuple[tuple[str, Expr], ...]
    plan: "PlanNode | None" = None
    activity: ActivityNode | None = None
    children: tuple["ActionNode", ...] = ()
    template: str = "{}"  # the RequestGroup action's copied elements as JSON; parsed per patient


@dataclass(frozen=True)
class PlanNode:
    definition: dict[str, Any]
    canonical: str
    key: str
    actions: tuple[ActionNode, ...]

    @property
    def id(self) -> str:
        return str(self.definition.get("id"))

    @property
    def type(self) -> str | None:
        return plan_type(self.definition)


@dataclass(frozen=True)
class CompiledPlan:
    """The pathway tree plus every define the engine must evaluate per patient."""

    root: PlanNode
    expressions: dict[str, tuple[str, ...]]
    #: Reads why each recommendation applied off the ELM; its feature defines are in `expressions`.
    explainer: Explainer | None = None

    def recommendations(self) -> list[PlanNode]:
        """Every eca-rule PlanDefinition reachable from the pathway, in tree order, once each."""
        found: dict[str, PlanNode] = {}

        def visit(plan: PlanNode) -> None:
            if plan.type == "eca-rule":
                found.setdefault(plan.canonical, plan)
            for action in plan.actions:
                visit_action(action)

        def visit_action(action: ActionNode) -> None:
            if action.plan is not None:
                visit(action.plan)
            for child in action.children:
                visit_action(child)

        visit(self.root)
        return list(found.values())


def _canonical(resource: Mapping[str, Any]) -> str:
    url = str(resource.get("url"))
    return f"{url}|{resource['version']}" if resource.get("version") else url


def _where(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


class _Compiler:
    """Walks the artifacts once; owns the define table it fills (no shared state)."""

    def __init__(self, artifacts: Artifacts) -> None:
        self.artifacts = artifacts
        self.needed: dict[str, list[str]] = {}
        self._defines: dict[str, set[str]] = {}
        for elm in artifacts.elm_libraries():
            name = str(elm["library"]["identifier"]["id"])
            statements = (elm["library"].get("statements") or {}).get("def", []) or []
            self._defines[name] = {str(s.get("name")) for s in statements}

    def libraries_of(self, resource: Mapping[str, Any]) -> list[str]:
        canonicals = list(resource.get("library", []) or [])
        canonicals += [e.get("valueCanonical") for e in resource.get("extension", []) or []
                       if e.get("url") == CQF_LIBRARY and e.get("valueCanonical")]
        return [self.artifacts.library_name(c, where=_where(resource)) for c in canonicals]

    def expression(self, expression: Mapping[str, Any], owner: Mapping[str, Any], path: str) -> Expr:
        """Resolve an Expression to a define of the owner's library (or of the library it names)."""
        language = str(expression.get("language", ""))
        text = str(expression.get("expression", "")).strip()
        where = _where(owner)
        if language not in IDENTIFIER_LANGUAGES:
            raise ApplyError("APPLY030", f"expression language {language!r} is not supported by apply "
                             "(use text/cql-identifier naming a define)", resource=where, path=path)
        match = re.fullmatch(r'(?:("?)([A-Za-z_][A-Za-z0-9_]*)\1\.)?"?([^"]+)"?', text)
        if not text or match is None:
            raise ApplyError("APPLY031", f"expression {text!r} is not a define name", resource=where, path=path)
        qualifier, define = match.group(2), match.group(3)
        candidates = [qualifier] if qualifier else self.libraries_of(owner)
        if not candidates:
            raise ApplyError("APPLY032", f"condition/dynamic value {text!r} needs a library, but {where} has none "
                             "(set `library`)", resource=where, path=path)
        for library in candidates:
            if define in self._defines.get(library, set()):
                defines = self.needed.setdefault(library, [])
                if define not in defines:
                    defines.append(define)
                return Expr(library, define)
        raise ApplyError("APPLY033", f"define {define!r} not found in library {', '.join(candidates)}",
                         resource=where, path=path)

    def plan(self, pd: dict[str, Any], key: str, stack: tuple[str, ...]) -> PlanNode:
        canonical = _canonical(pd)
        if canonical in stack:
            raise ApplyError("APPLY034", "PlanDefinitions reference each other in a cycle: "
                             + " → ".join((*stack, canonical)), resource=_where(pd))
        inner = (*stack, canonical)
        actions = tuple(self.action(pd, a, f"{key}.{i}", f"action[{i}]", inner)
                        for i, a in enumerate(pd.get("action", []) or []))
        return PlanNode(pd, canonical, key, actions)

    def action(self, pd: dict[str, Any], action: dict[str, Any], key: str, path: str,
               stack: tuple[str, ...]) -> ActionNode:
        applicability = tuple(
            self.expression(c.get("expression") or {}, pd, f"{path}.condition[{i}]")
            for i, c in enumerate(action.get("condition", []) or []) if c.get("kind") == "applicability"
        )
        dynamic = tuple(
            (str(dv.get("path")), self.expression(dv.get("expression") or {}, pd, f"{path}.dynamicValue[{i}]"))
            for i, dv in enumerate(action.get("dynamicValue", []) or [])
        )
        plan: PlanNode | None = None
        activity: ActivityNode | None = None
        target = action.get("definitionCanonical")
        if target:
            found = self.artifacts.resolve(str(target))
            if found is None:
                raise ApplyError("APPLY035", f"definitionCanonical {target} is not among the artifacts",
                                 resource=_where(pd), path=path)
            if found.get("resourceType") == "PlanDefinition":
                plan = self.plan(found, f"{key}/{found.get('id')}", stack)
            elif found.get("resourceType") == "ActivityDefinition":
                activity = self.activity(found)
            else:
                raise ApplyError("APPLY036", f"definitionCanonical {target} is a {found.get('resourceType')}; "
                                 "apply supports PlanDefinition and ActivityDefinition", resource=_where(pd), path=path)
        elif action.get("definitionUri"):
            raise ApplyError("APPLY036", "definitionUri is not supported by apply (use definitionCanonical)",
                             resource=_where(pd), path=path)
        children = tuple(self.action(pd, child, f"{key}.{i}", f"{path}.action[{i}]", stack)
                         for i, child in enumerate(action.get("action", []) or []))
        carried: dict[str, Any] = {k: action[k] for k in _CARRIED_ACTION_FIELDS if k in action}
        conditions = [c for c in action.get("condition", []) or [] if c.get("kind") != "applicability"]
        if conditions:
            carried["condition"] = conditions
        return ActionNode(action, key, applicability, dynamic, plan, activity, children, json.dumps(carried))

    def activity(self, ad: dict[str, Any]) -> ActivityNode:
        kind = ad.get("kind")
        if kind not in SUPPORTED_KINDS:
            raise ApplyError("APPLY037", f"ActivityDefinition kind {kind!r} is not supported by apply "
                             f"({', '.join(SUPPORTED_KINDS)})", resource=_where(ad))
        dynamic = tuple(
            (str(dv.get("path")), self.expression(dv.get("expression") or {}, ad, f"dynamicValue[{i}]"))
            for i, dv in enumerate(ad.get("dynamicValue", []) or [])
        )
        return ActivityNode(ad, _canonical(ad), dynamic, json.dumps(_request_template(ad, _canonical(ad))))


#: The define a generated logic library lists unusable record values in (generator/cql/render.py).
DATA_PROBLEMS = "Data Problems"


def compile_plan(artifacts: Artifacts, pathway: dict[str, Any] | None = None) -> CompiledPlan:
    """Prepare the pathway (the only clinical-protocol PlanDefinition unless one is given)."""
    if pathway is None:
        pathways = artifacts.pathways
        if len(pathways) != 1:
            names = ", ".join(_where(p) for p in pathways) or "none"
            raise ApplyError("APPLY004", f"expected exactly one pathway PlanDefinition in {artifacts.source}, found {names}")
        pathway = pathways[0]
    compiler = _Compiler(artifacts)
    root = compiler.plan(pathway, str(pathway.get("id")), ())
    draft = CompiledPlan(root, {})
    rules = [(rec.id, str(rec.definition.get("title") or rec.id), expr.library, expr.define)
             for rec in draft.recommendations() for expr in _applicability_of(rec)[:1]]
    explainer = Explainer(artifacts.elm_libraries(), rules)
    for library, defines in explainer.expressions().items():
        needed = compiler.needed.setdefault(library, [])
        needed.extend(d for d in defines if d not in needed)
    for elm in artifacts.elm_libraries():  # values the logic could not use, per resource (DATA001)
        library = str(elm["library"]["identifier"]["id"])
        statements = (elm["library"].get("statements") or {}).get("def") or []
        if library in compiler.needed and any(s.get("name") == DATA_PROBLEMS for s in statements):
            compiler.needed[library].append(DATA_PROBLEMS)
    return CompiledPlan(root, {lib: tuple(defines) for lib, defines in compiler.needed.items()}, explainer)


def _applicability_of(plan: PlanNode) -> list[Expr]:
    """The applicability defines of a recommendation's own actions (CPG: one action)."""
    return [expr for action in plan.actions for expr in action.applicability]


# -- per patient -------------------------------------------------------------------------------

@dataclass
class ApplyResult:
    """One patient's `$apply` outcome: the Bundle and the applicable recommendation ids."""

    patient_id: str
    bundle: dict[str, Any]
    applicable: list[str] = field(default_factory=list)
    _values: PatientValues | None = field(default=None, repr=False)
    _explainer: Explainer | None = field(default=None, repr=False)

    @property
    def data_problems(self) -> list[str]:
        """`DATA001 Observation/<id>: ...` for each record whose value the logic could not use (sorted)."""
        if self._values is None:
            return []
        found = [str(p) for lib in self._values.values.values() for p in (lib.get(DATA_PROBLEMS) or [])]
        return sorted(set(found))

    @property
    def explanation(self) -> Explanation | None:
        """Every feature's value and why each recommendation did or did not apply (computed on demand)."""
        if self._explainer is None or self._values is None:
            return None
        return self._explainer.explain(self._values, self.patient_id, self.applicable)


_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def set_path(target: dict[str, Any], path: str, value: Any, where: str) -> None:
    """Set a simple FHIRPath-like location (`payload[0].contentString`), creating what is missing."""
    segments = path.split(".")
    node: Any = target
    for position, segment in enumerate(segments):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ApplyError("APPLY038", f"dynamicValue path {path!r} is not a simple element path", resource=where)
        name, index = match.group(1), match.group(2)
        last = position == len(segments) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            items = node.setdefault(name, [])
            while len(items) <= int(index):
                items.append({})
            if last:
                items[int(index)] = value
            else:
                node = items[int(index)]


class _Realizer:
    """Builds one patient's resources; holds only that patient's values and identity seed."""

    def __init__(self, plan: CompiledPlan, values: PatientValues, patient_id: str, moment: str, authored: str) -> None:
        self.plan = plan
        self.values = values
        self.subject = {"reference": f"Patient/{patient_id}"}
        self.authored = authored
        self.seed = f"{plan.root.canonical}|{patient_id}|{moment}"
        self.patient_id = patient_id
        self._recommendation: PlanNode | None = None  # the eca-rule being realized
        self._reasons: dict[str, str] = {}

    def reason(self) -> str | None:
        """Why the current recommendation's requests are proposed: the features that decided it."""
        rec, explainer = self._recommendation, self.plan.explainer
        if rec is None or explainer is None:
            return None
        if rec.id not in self._reasons:
            explained = explainer.why(self.values, rec.id)
            self._reasons[rec.id] = rationale_text(explained) if explained is not None else ""
        return self._reasons[rec.id] or None

    def ident(self, key: str, resource_type: str) -> str:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.seed}|{key}|{resource_type}"))

    def holds(self, expr: Expr) -> bool:
        return self.values.get(expr.library, expr.define) is True

    def value(self, expr: Expr) -> Any:
        return self.values.get(expr.library, expr.define)

    def plan_group(self, node: PlanNode, root: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        actions: list[dict[str, Any]] = []
        resources: list[dict[str, Any]] = []
        for child in node.actions:
            realized = self.action(child)
            if realized is not None:
                actions.append(realized[0])
                resources.extend(realized[1])
        if not actions and not root:
            return None  # nothing of this plan applies to the patient
        group: dict[str, Any] = {
            "resourceType": "RequestGroup",
            "id": self.ident(node.key, "RequestGroup"),
            "instantiatesCanonical": [node.canonical],
            "status": "draft",
            "intent": "proposal",
            "subject": dict(self.subject),
            "authoredOn": self.authored,
        }
        if actions:
            group["action"] = actions
        return group, [group, *resources]

    def action(self, node: ActionNode) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        if not all(self.holds(expr) for expr in node.applicability):
            return None  # null or false: the condition is not met
        source = node.action
        out: dict[str, Any] = json.loads(node.template)  # a fresh copy: results never share objects
        resources: list[dict[str, Any]] = []
        if node.plan is not None:
            outer = self._recommendation
            if node.plan.type == "eca-rule":
                self._recommendation = node.plan
            try:
                nested = self.plan_group(node.plan)
            finally:
                self._recommendation = outer
            if nested is None:
                return None
            out["resource"] = {"reference": f"urn:uuid:{nested[0]['id']}"}
            resources.extend(nested[1])
        request: dict[str, Any] | None = None
        if node.activity is not None:
            request = self.request(node.activity, node.key)
            out["resource"] = {"reference": f"urn:uuid:{request['id']}"}
            resources.append(request)
        for path, expr in node.dynamic:
            value = self.value(expr)
            if value is None:
                continue
            if path.startswith("action."):
                set_path(out, path[len("action."):], value, _where(node.action))
            else:
                set_path(request if request is not None else out, path, value, _where(node.action))
        if node.children:
            kept: list[dict[str, Any]] = []
            for child in node.children:
                realized = self.action(child)
                if realized is not None:
                    kept.append(realized[0])
                    resources.extend(realized[1])
            if not _selection_allows(source.get("selectionBehavior"), len(kept), len(node.children)):
                return None
            out["action"] = kept
        return out, resources

    def request(self, node: ActivityNode, key: str) -> dict[str, Any]:
        request: dict[str, Any] = json.loads(node.template)
        request["id"] = self.ident(key, request["resourceType"])
        request["for" if request["resourceType"] == "Task" else "subject"] = dict(self.subject)
        request["authoredOn"] = self.authored
        reason = self.reason()
        if reason:
            # CPG request profiles carry the why of a proposal in cpg-rationale (markdown): the
            # features are Boolean defines, not codes (reasonCode) or records (reasonReference).
            request.setdefault("extension", []).append({"url": CPG_RATIONALE, "valueMarkdown": reason})
        for path, expr in node.dynamic:
            value = self.value(expr)
            if value is not None:
                set_path(request, path, copy.deepcopy(value), _where(node.definition))
        return request


def _request_template(ad: Mapping[str, Any], canonical: str) -> dict[str, Any]:
    """What an ActivityDefinition gives every request it instantiates; patient fields are null."""
    kind = str(ad["kind"])
    request: dict[str, Any] = {"resourceType": kind, "id": None}
    if ad.get("profile"):
        request["meta"] = {"profile": [ad["profile"]]}
    if kind == "CommunicationRequest":
        # R4 CommunicationRequest has neither intent nor instantiatesCanonical.
        request["extension"] = [{"url": WORKFLOW_INSTANTIATES_CANONICAL, "valueCanonical": canonical}]
    else:
        request["instantiatesCanonical"] = [canonical]
    request["status"] = "draft"
    if kind != "CommunicationRequest":
        request["intent"] = ad.get("intent") or "proposal"
    if ad.get("priority"):
        request["priority"] = ad["priority"]
    do_not_perform = ad.get("doNotPerform")
    if kind == "Task":
        if do_not_perform:
            request["modifierExtension"] = [{"url": REQUEST_DO_NOT_PERFORM, "valueBoolean": True}]
        if ad.get("code"):
            request["code"] = ad["code"]
        request["for"] = None
    else:
        if do_not_perform is not None:
            request["doNotPerform"] = bool(do_not_perform)
        _kind_fields(kind, ad, request)
        request["subject"] = None
    request["authoredOn"] = None
    return request


def _kind_fields(kind: str, ad: Mapping[str, Any], request: dict[str, Any]) -> None:
    timing = {k[len("timing"):]: ad[k] for k in ad if k.startswith("timing")}
    if kind == "MedicationRequest":
        if ad.get("productCodeableConcept"):
            request["medicationCodeableConcept"] = ad["productCodeableConcept"]
        elif ad.get("productReference"):
            request["medicationReference"] = ad["productReference"]
        if ad.get("dosage"):
            request["dosageInstruction"] = ad["dosage"]
        if "Timing" in timing:
            request["dosageInstruction"] = _with_timing(request.get("dosageInstruction"), timing["Timing"])
    elif kind == "ServiceRequest":
        if ad.get("code"):
            request["code"] = ad["code"]
        if ad.get("quantityQuantity") or ad.get("quantity"):
            request["quantityQuantity"] = ad.get("quantityQuantity") or ad.get("quantity")
        if ad.get("bodySite"):
            request["bodySite"] = ad["bodySite"]
    elif kind == "CommunicationRequest":
        if ad.get("code"):
            request["category"] = [ad["code"]]
    # R4 occurrence[x]: ServiceRequest dateTime | Period | Timing; CommunicationRequest dateTime | Period only
    # (a Timing stays on the RequestGroup action, copied from the recommendation's action).
    allowed = {"ServiceRequest": ("DateTime", "Period", "Timing"), "CommunicationRequest": ("DateTime", "Period")}
    for suffix in allowed.get(kind, ()):
        if suffix in timing:
            request[f"occurrence{suffix}"] = timing[suffix]
            break


def _with_timing(dosages: list[dict[str, Any]] | None, timing: dict[str, Any]) -> list[dict[str, Any]]:
    """The activity's Timing on every dosage instruction (a dosage's own timing wins where it says more)."""
    if not dosages:
        return [{"text": str((timing.get("code") or {}).get("text", "")), "timing": timing}]
    out = []
    for dosage in dosages:
        merged = dict(dosage)
        own = dict(merged.get("timing") or {})
        repeat = {**(timing.get("repeat") or {}), **(own.get("repeat") or {})}
        combined: dict[str, Any] = {k: v for k, v in timing.items() if k not in ("repeat", "code")}
        combined.update({k: v for k, v in own.items() if k not in ("repeat", "code")})
        if repeat:
            combined["repeat"] = repeat
        combined["code"] = own.get("code") or timing.get("code")
        if not combined["code"]:
            del combined["code"]
        merged["timing"] = combined
        out.append(merged)
    return out


def _selection_allows(behavior: str | None, kept: int, total: int) -> bool:
    """Whether a group survives given how many of its sub-actions apply (CPG process patterns)."""
    if kept == 0:
        return False
    if behavior == "all-or-none":
        return kept == total
    return True  # any / all / at-most-one / exactly-one / one-or-more: the clinician chooses among them


def realize(plan: CompiledPlan, values: PatientValues, patient_id: str, moment: str, authored: str) -> ApplyResult:
    """One patient's Bundle: pathway RequestGroup first, then the CarePlan, then nested groups and requests."""
    realizer = _Realizer(plan, values, patient_id, moment, authored)
    realized = realizer.plan_group(plan.root, root=True)
    assert realized is not None
    group, resources = realized
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": realizer.ident(plan.root.key, "CarePlan"),
        "instantiatesCanonical": [plan.root.canonical],
        "status": "draft",
        "intent": "proposal",
        "subject": dict(realizer.subject),
        "created": authored,
        "activity": [{"reference": {"reference": f"urn:uuid:{group['id']}"}}],
    }
    if plan.root.definition.get("title"):
        care_plan["title"] = plan.root.definition["title"]
    ordered = [resources[0], care_plan, *resources[1:]]
    bundle = {
        "resourceType": "Bundle",
        "id": realizer.ident(plan.root.key, "Bundle"),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in ordered],
    }
    # Read applicability off what was kept: a group dropped by its parent's selection does not count.
    recommendations = {rec.canonical: rec.id for rec in plan.recommendations()}
    applicable = [recommendations[r["instantiatesCanonical"][0]] for r in resources
                  if r["resourceType"] == "RequestGroup" and r["instantiatesCanonical"][0] in recommendations]
    return ApplyResult(patient_id, bundle, list(dict.fromkeys(applicable)), values, plan.explainer)
