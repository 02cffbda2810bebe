"""CQL phase, part 1: render a guideline's logic Library from the resolved model.

Builder nodes become CQL through the jinja2 snippets in `templates/`. Each define is a
block that remembers the author object it came from, so a translator message on CQL
line N can be reported at `definitions/...py:<line>` (see `RenderedLibrary.origin`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, singledispatchmethod
from pathlib import Path

import jinja2

from generator.canonicals import CONDITION_CATEGORY, CONDITION_CLINICAL
from generator.canonicals import CONDITION_VER_STATUS as CONDITION_VERIFICATION
from generator.diagnostics import SourceLocation
from generator.model.logic import (
    CONDITION_CATEGORIES,
    AgeInYears,
    AllOf,
    AnyOf,
    AtLeast,
    BooleanLogic,
    ClinicalStatus,
    Compare,
    ConditionRecords,
    Count,
    Elapsed,
    EventDate,
    Exists,
    Feature,
    FeatureName,
    LatestValue,
    MedicationRecords,
    MedicationUse,
    Not,
    ObservationRecords,
    OnsetBefore,
    OnsetWithin,
    PerformedWithin,
    ProcedureRecords,
    RawCql,
    RecordedWithin,
    Records,
    SexIs,
)
from generator.model.terminology import KNOWN_SYSTEM_NAMES, Code, Quantity, ValueSet, unit_spellings
from generator.resolve import ResolvedGuideline
from generator import templating


#: Status codes the Condition filter compares against (name, system, code, display).
CONDITION_STATUS_CODES = [
    ("Condition Active", CONDITION_CLINICAL, "active", "Active"),
    ("Condition Recurrence", CONDITION_CLINICAL, "recurrence", "Recurrence"),
    ("Condition Relapse", CONDITION_CLINICAL, "relapse", "Relapse"),
    ("Condition Refuted", CONDITION_VERIFICATION, "refuted", "Refuted"),
    ("Condition Entered In Error", CONDITION_VERIFICATION, "entered-in-error", "Entered in Error"),
]
STATUS_SYSTEM_NAMES = {CONDITION_CLINICAL: "ConditionClinicalStatusCodes", CONDITION_VERIFICATION: "ConditionVerificationStatusCodes",
                       CONDITION_CATEGORY: "ConditionCategoryCodes"}


def cql_identifier(name: str) -> str:
    """A quoted CQL identifier (Initial Case names may contain spaces)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _environment() -> jinja2.Environment:
    env = templating.environment(
        Path(__file__).parent / "templates",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # CQL, not HTML: quoting is done by the filters below
    )
    env.filters["ident"] = cql_identifier
    env.filters["string_literal"] = cql_string
    return env


_ENV = _environment()
_SNIPPETS = _ENV.get_template("expressions.cql.j2").module
_FUNCTIONS = _ENV.get_template("functions.cql.j2").module


@dataclass(frozen=True)
class Block:
    """A piece of the library and the author object it came from."""

    text: str
    location: SourceLocation | None = None
    subject: str | None = None
    body_offset: int = 0  # raw CQL: the block line where the author's text starts ...
    body_location: SourceLocation | None = None  # ... and where that text starts in the author's file


@dataclass
class RenderedLibrary:
    name: str
    version: str
    text: str
    spans: list[tuple[int, int, Block]] = field(default_factory=list)  # (first line, last line, block), 1-based

    def locate(self, line: int | None) -> SourceLocation | None:
        """The author's file:line for CQL line `line`: inside a raw `cql=` string when it came from one."""
        if line is None:
            return None
        for first, last, block in self.spans:
            if first <= line <= last:
                if block.body_location is not None and line - first >= block.body_offset:
                    return SourceLocation(block.body_location.file, block.body_location.line + line - first - block.body_offset)
                return block.location
        return None

    def origin(self, line: int | None) -> Block | None:
        """The block that produced CQL line `line` (for locating translator messages)."""
        if line is None:
            return None
        for first, last, block in self.spans:
            if first <= line <= last:
                return block
        return None


@dataclass(frozen=True)
class _CodeDecl:
    name: str
    code: str
    system_name: str
    display: str


class LibraryRenderer:
    """Turns one resolved guideline into the text of its logic Library."""

    def __init__(self, rg: ResolvedGuideline):
        self.rg = rg
        self._data_defines: dict[str, Block] = {}  # name -> block, in first-use order
        self._functions: dict[str, str] = {}
        self._uses_condition_status = False
        self._categories: dict[str, str] = {}  # CQL code name -> condition-category code, when used
        self._data_problems: list[tuple[str, str]] = []  # (records define, unit) of latest values

    # --- names -----------------------------------------------------------------------

    @cached_property
    def _code_names(self) -> dict[Code, str]:
        names: dict[Code, str] = {}
        taken: set[str] = set()
        for code in self._all_codes:
            name = code.display
            if name in taken:
                name = f"{code.display} ({self._system_name(code.system)} {code.code})"
            taken.add(name)
            names[code] = name
        return names

    @cached_property
    def _all_codes(self) -> list[Code]:
        return [t for t in self.rg.logic_terms if isinstance(t, Code)]

    @staticmethod
    def _system_name(uri: str) -> str:
        if uri in KNOWN_SYSTEM_NAMES:
            return KNOWN_SYSTEM_NAMES[uri]
        if uri in STATUS_SYSTEM_NAMES:
            return STATUS_SYSTEM_NAMES[uri]
        tail = re.split(r"[/:]", uri.rstrip("/"))[-1]
        return re.sub(r"[^A-Za-z0-9]", "", tail.title()) or "CodeSystem"

    def term_name(self, term: Code | ValueSet) -> str:
        return term.title if isinstance(term, ValueSet) else self._code_names[term]

    # --- data defines ----------------------------------------------------------------

    _KINDS = {"Condition": "Conditions", "Observation": "Observations", "Procedure": "Procedures",
              "Medication": "Medication Use"}

    def _records_define(self, records: Records) -> str:
        """The define listing `records` (one per distinct filter combination), created on first use."""
        name = f"{self.term_name(records.terminology)} {self._KINDS[records.resource_type]}"
        if isinstance(records, ConditionRecords) and records.status is ClinicalStatus.HISTORY:
            name += " Ever Recorded"
        if records.category is not None:
            name += f" As {CONDITION_CATEGORIES[records.category]}"
        if records.body_site is not None:
            name += f" At {self.term_name(records.body_site)}"
        if records.value_filter is not None:
            op, quantity = records.value_filter
            name += f" With Value {op} {quantity.value} {quantity.unit}"
        if records.window is not None:
            name += f" Within {records.window}"
        if records.before_event is not None:
            name += f" Before {self._event_define(records.before_event)}"
        if name not in self._data_defines:
            self._data_defines[name] = Block(_SNIPPETS.define(name, self._records_body(records)), subject=f"data:{name}")
        return name

    def _date_of(self, records: Records, alias: str) -> str:
        """The CQL date a record of this kind is placed in time by (README: builder vocabulary)."""
        if isinstance(records, ConditionRecords):
            self._functions["Onset Date"] = _FUNCTIONS.onset_date()
            return f'"Onset Date"({alias})'
        if isinstance(records, ObservationRecords):
            self._functions["Observation Date"] = _FUNCTIONS.observation_date()
            return f'"Observation Date"({alias})'
        if isinstance(records, ProcedureRecords):
            self._functions["Performed Date"] = _FUNCTIONS.performed_date()
            return f'"Performed Date"({alias})'
        return f"{alias}.start"

    def _filters(self, records: Records, alias: str) -> list[str]:
        filters: list[str] = []
        if records.category is not None:
            code_name = f"Condition Category {CONDITION_CATEGORIES[records.category]}"
            self._categories[code_name] = records.category
            filters.append(f"exists ({alias}.category K where K ~ {cql_identifier(code_name)})")
        site = records.body_site
        if site is not None:
            filters.append(_SNIPPETS.body_site(alias, self.term_name(site), isinstance(site, ValueSet)))
        if records.value_filter is not None:
            op, quantity = records.value_filter
            filters.append(f"{self._value_of(alias, quantity.unit)} {op} {quantity.to_cql()}")
        if records.window is not None:
            filters.append(_SNIPPETS.within(self._date_of(records, alias), records.window.to_cql()))
        if records.before_event is not None:
            filters.append(f"{self._date_of(records, alias)} < {cql_identifier(self._event_define(records.before_event))}")
        return filters

    def _records_body(self, records: Records) -> str:
        term = self.term_name(records.terminology)
        if isinstance(records, ConditionRecords):
            self._uses_condition_status = True
            return _SNIPPETS.condition_records(term, records.status is ClinicalStatus.ACTIVE, self._filters(records, "C"))
        if isinstance(records, ObservationRecords):
            return _SNIPPETS.observation_records(term, self._filters(records, "O"))
        if isinstance(records, ProcedureRecords):
            return _SNIPPETS.procedure_records(term, self._filters(records, "P"))
        if isinstance(records, MedicationRecords):
            self._functions["Medication Use"] = _FUNCTIONS.medication_use()
            self._functions["Medication Request Use"] = _FUNCTIONS.medication_request_use()
            self._functions["Medication Statement Use"] = _FUNCTIONS.medication_statement_use()
            return _SNIPPETS.medication_use(term, isinstance(records.terminology, ValueSet), self._filters(records, "U"))
        raise TypeError(f"unsupported records {type(records).__name__}")

    def _value_of(self, alias: str, unit: str) -> str:
        """CQL for an observation's value read in `unit` (one shared function; the unit's spellings inline)."""
        self._functions["Value In Unit"] = _FUNCTIONS.value_in()
        self._functions["Quantity In Unit"] = _FUNCTIONS.quantity_in()
        spellings = ", ".join(cql_string(s) for s in unit_spellings(unit))
        return f'"Value In Unit"({alias}, {cql_string(unit)}, {{ {spellings} }})'

    def _latest_define(self, latest: LatestValue, unit: str) -> str:
        records = self._records_define(latest.records)
        name = f"Latest {records} Value In {unit}"
        if name not in self._data_defines:
            self._date_of(latest.records, "O")
            self._data_problems.append((records, unit))
            self._data_defines[name] = Block(
                _SNIPPETS.define(name, _SNIPPETS.latest_observation(records, self._value_of("O", unit))),
                subject=f"data:{name}")
        return name

    def _event_define(self, event: EventDate) -> str:
        records = self._records_define(event.records)
        name = f"{event.which.title()} {records} Date"
        if name not in self._data_defines:
            body = _SNIPPETS.event_date(records, self._date_of(event.records, "X"), event.which)
            self._data_defines[name] = Block(_SNIPPETS.define(name, body), subject=f"data:{name}")
        return name

    # --- expressions -----------------------------------------------------------------

    @singledispatchmethod
    def expr(self, node: object) -> str:
        raise TypeError(f"cannot render {type(node).__name__} as CQL")

    @expr.register
    def _(self, node: Feature) -> str:
        return cql_identifier(node.name)

    @expr.register
    def _(self, node: FeatureName) -> str:
        return cql_identifier(node.name)

    @expr.register
    def _(self, node: AllOf) -> str:
        return "(" + " and ".join(self.expr(p) for p in node.parts) + ")"

    @expr.register
    def _(self, node: AnyOf) -> str:
        return "(" + " or ".join(self.expr(p) for p in node.parts) + ")"

    @expr.register
    def _(self, node: Not) -> str:
        return f"not ({self.expr(node.part)})"

    @expr.register
    def _(self, node: RawCql) -> str:
        return f"({node.text.strip()})"

    @expr.register
    def _(self, node: Exists) -> str:
        return _SNIPPETS.exists(self._records_define(node.records))

    @expr.register
    def _(self, node: MedicationUse) -> str:
        duration = node.duration.to_cql() if node.duration is not None else None
        return _SNIPPETS.medication_use_test(self._records_define(node.records), node.kind, duration)

    @expr.register
    def _(self, node: OnsetWithin) -> str:
        self._functions["Onset Date"] = _FUNCTIONS.onset_date()
        return _SNIPPETS.onset_within(self._records_define(node.records), node.duration.to_cql())

    @expr.register
    def _(self, node: OnsetBefore) -> str:
        self._functions["Onset Date"] = _FUNCTIONS.onset_date()
        return _SNIPPETS.onset_before(self._records_define(node.records), node.duration.to_cql())

    @expr.register
    def _(self, node: RecordedWithin) -> str:
        return _SNIPPETS.recorded_within(self._records_define(node.records), node.duration.to_cql())

    @expr.register
    def _(self, node: PerformedWithin) -> str:
        self._functions["Performed Date"] = _FUNCTIONS.performed_date()
        return _SNIPPETS.performed_within(self._records_define(node.records), node.duration.to_cql())

    @expr.register
    def _(self, node: AtLeast) -> str:
        records = self._records_define(node.records)
        if node.apart is None:
            return f"{_SNIPPETS.count(records)} >= {node.n}"
        return _SNIPPETS.apart(records, None, self._date_of(node.records, "A"), self._date_of(node.records, "B"),
                               node.apart.to_cql())

    @expr.register
    def _(self, node: SexIs) -> str:
        return _SNIPPETS.sex_is(node.value)

    @expr.register
    def _(self, node: Compare) -> str:
        left = node.left
        if isinstance(left, AgeInYears):
            function = "AgeInMonths" if left.unit == "months" else "AgeInYears"
            return _SNIPPETS.age_compare(function, node.op, node.right)
        if isinstance(left, Count):
            return f"{_SNIPPETS.count(self._records_define(left.records))} {node.op} {node.right}"
        if isinstance(left, Elapsed):
            start = cql_identifier(self._event_define(left.start))
            end = cql_identifier(self._event_define(left.end)) if left.end is not None else "Now()"
            # elapsed >= D  <=>  start + D <= end (no unit conversion between calendar units)
            flipped = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "=": "="}[node.op]
            return _SNIPPETS.coalesce_false(f"{start} + {node.right.to_cql()} {flipped} {end}")  # type: ignore[union-attr]
        assert isinstance(left, LatestValue) and isinstance(node.right, Quantity)
        latest = self._latest_define(left, node.right.unit)
        return _SNIPPETS.latest_value_compare(latest, node.op, node.right.to_cql())

    def _data_problems_block(self) -> Block | None:
        """DATA001: observations whose value could not be used, per resource (never a whole-patient failure)."""
        if not self._data_problems:
            return None
        parts = [
            f"({cql_identifier(records)} O where O.value is not null and {self._value_of('O', unit)} is null\n"
            f"  return 'DATA001 Observation/' + O.id + ': value not usable in ' + {cql_string(unit)})"
            for records, unit in self._data_problems
        ]
        body = "\nunion\n".join(parts) if len(parts) > 1 else parts[0]
        text = _SNIPPETS.define("Data Problems", body, "Values in records the logic could not use (DATA001), one line per resource")
        return Block(text, subject="data:Data Problems")

    # --- the library -----------------------------------------------------------------

    def render(self) -> RenderedLibrary:
        rg = self.rg
        blocks: list[Block] = []
        for feature in rg.features:
            if feature.cql is not None:
                blocks.append(_raw_block(feature))
                continue
            body = self.expr(feature.expression) if feature.expression is not None else "null"
            blocks.append(Block(_SNIPPETS.define(feature.name, body, feature.description), feature.location,
                                f"feature:{feature.name}"))
        for rr in rg.recommendations:
            rec = rr.recommendation
            body = self.expr(rec.applicability) if rec.applicability is not None else "true"
            blocks.append(Block(_SNIPPETS.define(rr.applicability_define, body, f"Applicability of '{rec.title}'"),
                                rec.location, f"rec:{rr.id}"))
            for ra in rr.activities:
                if ra.message_define:
                    message = getattr(ra.activity, "message")
                    blocks.append(Block(_SNIPPETS.define(ra.message_define, cql_string(message)), ra.activity.location,
                                        f"activity:{ra.id}"))

        header = _ENV.get_template("logic_library.cql.j2").render(
            name=rg.library_name,
            version=rg.guideline.version,
            code_systems=self._code_systems(),
            value_sets=[{"name": vs.title, "url": rg.value_set_url(vs)} for vs in rg.value_sets if vs in self.rg.logic_terms],
            codes=self._code_declarations(),
        )
        function_blocks = [Block(text, subject=f"function:{name}") for name, text in sorted(self._functions.items())]
        problems = self._data_problems_block()
        ordered = ([Block(header, rg.guideline.location, "library")] + function_blocks + list(self._data_defines.values())
                   + blocks + ([problems] if problems else []))
        return _assemble(rg.library_name, rg.guideline.version, ordered)

    def _code_declarations(self) -> list[_CodeDecl]:
        decls = [_CodeDecl(self._code_names[c], c.code, self._system_name(c.system), c.display) for c in self._all_codes]
        if self._uses_condition_status:
            decls += [_CodeDecl(n, code, STATUS_SYSTEM_NAMES[s], d) for n, s, code, d in CONDITION_STATUS_CODES]
        decls += [_CodeDecl(n, code, STATUS_SYSTEM_NAMES[CONDITION_CATEGORY], CONDITION_CATEGORIES[code])
                  for n, code in sorted(self._categories.items())]
        return decls

    def _code_systems(self) -> list[dict[str, str]]:
        uris = {c.system for c in self._all_codes}
        if self._uses_condition_status:
            uris |= {CONDITION_CLINICAL, CONDITION_VERIFICATION}
        if self._categories:
            uris.add(CONDITION_CATEGORY)
        return [{"name": self._system_name(u), "uri": u} for u in sorted(uris, key=self._system_name)]


def _raw_block(feature: Feature) -> Block:
    """A raw-CQL feature's define, remembering where its text starts in the author's `cql=` string."""
    raw = feature.cql or ""
    body = raw.strip()
    lead = raw[: len(raw) - len(raw.lstrip())].count("\n")
    start = feature.cql_location
    body_location = SourceLocation(start.file, start.line + lead) if start is not None else None
    return Block(_SNIPPETS.define(feature.name, body, feature.description), feature.location, f"feature:{feature.name}",
                 body_offset=2 if feature.description else 1, body_location=body_location)


def _assemble(name: str, version: str, blocks: list[Block]) -> RenderedLibrary:
    lines: list[str] = []
    spans: list[tuple[int, int, Block]] = []
    for block in blocks:
        text = block.text.strip("\n")
        first = len(lines) + 1
        lines.extend(text.split("\n"))
        spans.append((first, len(lines), block))
        lines.append("")
    return RenderedLibrary(name, version, "\n".join(lines).rstrip("\n") + "\n", spans)


def render_library(rg: ResolvedGuideline) -> RenderedLibrary:
    """Render the logic Library of a resolved guideline (deterministic)."""
    return LibraryRenderer(rg).render()


__all__ = ["RenderedLibrary", "Block", "render_library", "cql_identifier", "cql_string", "BooleanLogic"]
