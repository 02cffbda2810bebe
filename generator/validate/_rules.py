"""The rule registry: every check the validator can report, with a stable id.

Rule ids are part of the tool's interface (users filter on them, the docs and the
tests enumerate them), so they are declared once here as data and never renamed.
Layers refer to them by id; `rule()` fails loudly on a typo instead of inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.diagnostics import Diagnostic, Severity


@dataclass(frozen=True)
class Rule:
    id: str
    layer: str
    severity: Severity  # the usual severity; some rules take the severity of their source (e.g. an invariant)
    description: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

_RULE_LIST: tuple[Rule, ...] = (
    # 1. input
    Rule("input.missing", "input", _E, "The path to validate does not exist."),
    Rule("input.unreadable", "input", _E, "A file cannot be read or is not UTF-8 text."),
    Rule("input.not-regular", "input", _E, "A path is a FIFO, device, socket or directory where a file is expected; refused before opening."),
    Rule("input.too-large", "input", _E, "A JSON file exceeds the size limit (50 MB) and is not parsed."),
    Rule("input.invalid-json", "input", _E, "A file is not valid JSON (reported with line and column): lone surrogates, NaN and Infinity included."),
    Rule("input.too-deep", "input", _E, "JSON nested deeper than 1,024 levels, or a resource nested deeper than 128; not validated further."),
    Rule("input.not-fhir", "input", _E, "JSON that is not a FHIR resource (not an object, or no resourceType)."),
    Rule("input.unknown-type", "input", _E, "resourceType is not a FHIR R4 resource type."),
    Rule("input.package-invalid", "input", _E, "A package file is not a readable gzip tar archive."),
    Rule("input.package-unsafe", "input", _E, "A package member has an absolute path, '..' segments, or is a link/device."),
    Rule("input.package-limit", "input", _E, "A package exceeds a limit (file or unpacked 200 MB, member 20 MB, 10,000 members, 64 KiB per PAX/long-name header)."),
    Rule("input.package-manifest", "input", _E, "A package has no package/package.json, or it is not a JSON object with name and version."),
    Rule("input.duplicate-id", "input", _E, "Two resources share resourceType and id."),
    Rule("input.no-resources", "input", _W, "No FHIR resources were found at the path."),
    Rule("input.resource-size", "input", _W, "A resource is over 1 MB as compact JSON: servers commonly refuse such "
         "requests or strings (R4 sets no limit on base64Binary, so a warning)."),
    # 2. structure
    Rule("structure.unknown-element", "structure", _E, "An element is not defined for the resource (model check)."),
    Rule("structure.missing-required", "structure", _E, "A mandatory (min 1) element of the base resource is missing."),
    Rule("structure.invalid-value", "structure", _E, "A value has the wrong type or format for its element."),
    # 3. base R4
    Rule("base.element-unknown", "base", _E, "An element is not defined in FHIR R4 4.0.1 (e.g. R4B-only elements)."),
    Rule("base.binding", "base", _E, "A code is not in the value set of a required binding in R4."),
    Rule("base.code-unknown", "base", _E, "A Coding claims a complete code system (an HL7 one, or a CodeSystem of the validated set) that does not define its code."),
    Rule("base.json-null", "base", _E, "JSON null where R4 JSON forbids it (only allowed inside an array aligned with its _name array)."),
    Rule("base.json-type", "base", _E, "A value has the wrong JSON type: a string for a boolean/number, a number for a date, an array for a single value, a single value for a repeating element."),
    Rule("base.primitive-format", "base", _E, "A primitive breaks its R4 lexical rule: whitespace-only string, string over 1 MB, id over 64 characters, uri with whitespace, invalid date, code, integer range."),
    Rule("base.unsafe-link", "base", _E, "A related artifact or citation link uses a javascript:, vbscript: or data: URL (after decoding as a browser would)."),
    Rule("base.unavailable", "base", _I, "Part of the base layer was skipped (definitions not installed, or constraints fhirpathpy cannot evaluate)."),
    Rule("base.invariant", "base", _E, "An R4 FHIRPath constraint (ele-1, dom-*, pdf-0, ...) is not met; severity follows the constraint."),
    # 4. profiles
    Rule("profile.unknown", "profile", _W, "meta.profile claims a profile this validator has no rules for."),
    Rule("profile.cardinality", "profile", _E, "An element required by a claimed profile is missing or repeats too often."),
    Rule("profile.prohibited", "profile", _E, "An element the claimed profile prohibits (0..0) is present."),
    Rule("profile.fixed", "profile", _E, "An element differs from the value the claimed profile fixes."),
    Rule("profile.pattern", "profile", _E, "A coded element does not carry the pattern code the claimed profile requires."),
    Rule("profile.binding", "profile", _E, "A code is outside a required binding of the claimed profile."),
    Rule("profile.target", "profile", _E, "definitionCanonical points to a resource that conforms to none of the allowed profiles (checked, not just claimed)."),
    Rule("profile.invariant", "profile", _E, "A profile invariant (clb-1/2, ejl-1/2, mnf-1/2, ...) is not met."),
    # 5. references
    Rule("reference.unresolved", "reference", _E, "A canonical is missing where it should be: under the set's own canonical base, a cached dependency's base, or a contained #id."),
    Rule("reference.outside-set", "reference", _W, "A canonical is published outside the validated set (another IG, VSAC) and not checked; an error with --closed."),
    Rule("reference.version-mismatch", "reference", _E, "canonical|version names a version the target resource does not have."),
    Rule("reference.wrong-type", "reference", _E, "A canonical resolves to a resource of the wrong type."),
    Rule("reference.duplicate-canonical", "reference", _E, "Two resources declare the same url and version."),
    # 6. CQL
    Rule("cql.unavailable", "cql", _I, "The CQL layer was skipped (translator not available)."),
    Rule("cql.translator-failed", "cql", _E, "The translator failed while checking the CQL (crashed, timed out); not checked."),
    Rule("cql.bad-content", "cql", _E, "Library CQL content cannot be decoded (base64/UTF-8) or is referenced by url only."),
    Rule("cql.compile-error", "cql", _E, "The CQL-to-ELM translator reports an error."),
    Rule("cql.compile-warning", "cql", _W, "The CQL-to-ELM translator reports a warning."),
    Rule("cql.name-mismatch", "cql", _E, "Library.name differs from the CQL library name (engines resolve by name)."),
    Rule("cql.no-library", "cql", _E, "An action uses CQL expressions but the PlanDefinition has no resolvable CQL library."),
    Rule("cql.missing-define", "cql", _E, "A condition or dynamicValue names a define absent from the library of its PlanDefinition or ActivityDefinition."),
    Rule("cql.not-boolean", "cql", _E, "A condition names a define (or is a text/cql expression) whose result type is not System.Boolean."),
    Rule("cql.expression-error", "cql", _E, "A text/cql expression does not compile in the context of its library."),
    Rule("cql.source-file", "cql", _I, "A Library's CQL was read from a .cql file of the folder (IG loader placeholder or same-name pairing)."),
    Rule("cql.source-missing", "cql", _E, "An IG loader placeholder (ig-loader-<Name>.cql) names a .cql file not in the validated folder."),
    # 7. terminology
    Rule("term.unknown-system", "terminology", _W, "A Coding system is not a known URI or not an absolute http(s)/urn URI."),
    Rule("term.snomed-id", "terminology", _E, "A SNOMED CT identifier fails the Verhoeff check digit or partition rules."),
    Rule("term.loinc-code", "terminology", _E, "A LOINC code fails the mod-10 check digit."),
    Rule("term.rxnorm-code", "terminology", _E, "An RxNorm code is not numeric."),
    Rule("term.missing-display", "terminology", _W, "A Coding has no display."),
    Rule("term.ucum", "terminology", _E, "A UCUM unit code is not syntactically valid."),
    Rule("term.expansion-compose", "terminology", _E, "A ValueSet expansion disagrees with its compose (a code no include admits, a listed code or is-a root missing)."),
    # 8. metadata
    Rule("meta.missing-identity", "metadata", _W, "A canonical resource lacks url, name or version."),
    Rule("meta.version-format", "metadata", _W, "version is not a semantic version (major.minor.patch[-label])."),
    Rule("meta.version-mixed", "metadata", _W, "Artifacts in the set carry different versions."),
    Rule("meta.status-mixed", "metadata", _W, "Artifacts in the set carry different status values."),
    Rule("meta.name-format", "metadata", _W, "name does not match R4's pattern [A-Z]([A-Za-z0-9_]){0,254} (an identifier starting upper-case)."),
    Rule("meta.url-format", "metadata", _W, "url does not follow {base}/{resourceType}/{id}."),
    # 9. activity
    Rule("activity.codings-differ", "activity", _E, "A product or service concept lists different codes of one system (different drugs as one concept)."),
    Rule("activity.related-action", "activity", _E, "relatedAction.actionId does not name another action of the same PlanDefinition."),
    Rule("activity.group-empty", "activity", _W, "selectionBehavior or groupingBehavior on an action without sub-actions."),
    Rule("activity.no-recommendation", "activity", _E, "A 'no recommendation' statement carries a direction or proposes something other than a message."),
)

RULES: dict[str, Rule] = {r.id: r for r in _RULE_LIST}
LAYERS: tuple[str, ...] = ("input", "structure", "base", "profile", "reference", "cql", "terminology", "metadata",
                           "activity")


def diag(
    rule_id: str,
    message: str,
    *,
    resource: str | None = None,
    path: str | None = None,
    severity: Severity | None = None,
    location: object | None = None,
) -> Diagnostic:
    """Make a Diagnostic for a registered rule (KeyError on an unregistered id, on purpose)."""
    rule = RULES[rule_id]
    return Diagnostic(
        code=rule.id,
        message=message,
        severity=severity or rule.severity,
        resource=resource,
        path=path,
        location=location,  # type: ignore[arg-type]
    )
