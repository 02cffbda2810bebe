"""Author mistakes caught where the object is built, each with a stable code.

Raising at once (during import of the definitions) points the author at the very line that
wrote the mistake; the LOAD phase turns the exception into a located diagnostic with this
code instead of a generic import failure.
"""

from __future__ import annotations

from generator.diagnostics import SourceLocation
from generator.model._location import caller_location

#: code -> what it rejects (documentation and tests enumerate this).
AUTHOR_ERRORS: dict[str, str] = {
    "LOGIC001": "Python `and` / `or` / `not`, `if`, or a chained comparison on a logic object (use & | ~)",
    "LOGIC002": "a comparison between incompatible kinds (an integer with a Quantity or Duration, a value with a Duration, ...)",
    "LOGIC003": "a wrong argument type where a logic object is built (a string where a Code or ValueSet is expected, ...)",
    "LOGIC004": "an unknown option value (administrative sex, clinical-status policy, comparison operator, ...)",
    "LOGIC005": "raw CQL names something that is not a feature, a declared code or value set, or FHIRHelpers",
    "UNIT001": "a unit that is not valid case-sensitive UCUM",
    "UNIT002": "one observation code compared in two different units (values are not converted)",
    "TERM001": "a code whose format cannot belong to its system (bad check digit, LOINC format under SNOMED, ...)",
    "TERM002": "a value set with neither codes nor rules",
    "TERM003": "a value-set rule on the wrong code system or with a malformed argument",
    "RULE014": "a wrong argument type on a recommendation (strength, direction, certainty, sources)",
}


class AuthorError(TypeError):
    """A mistake in a definition, raised where the object is built; `code` is stable."""

    def __init__(self, code: str, message: str, location: SourceLocation | None = None):
        assert code in AUTHOR_ERRORS, code
        super().__init__(message)
        self.code = code
        self.location = location if location is not None else caller_location()


def check_recommendation_arguments(rec: object) -> None:
    """strength=/direction=/certainty= are the enums, sources= Source objects (RULE014, at the author's line)."""
    from generator.model.recommendation import Certainty, Direction, Source, Strength

    for name, kind in (("strength", Strength), ("direction", Direction), ("certainty", Certainty)):
        value = getattr(rec, name)
        if value is not None and not isinstance(value, kind):
            options = ", ".join(f"{kind.__name__}.{m.name}" for m in kind)
            raise AuthorError("RULE014", f"{name}={value!r:.30} is not one of {options}", getattr(rec, "location", None))
    sources = getattr(rec, "sources")
    if not isinstance(sources, list) or not all(isinstance(s, Source) for s in sources):
        raise AuthorError("RULE014", "sources= is a list of Source(document, passage)", getattr(rec, "location", None))
    if not isinstance(getattr(rec, "id"), str):
        raise AuthorError("RULE014", f"a recommendation id is a string, got {getattr(rec, 'id')!r:.30}",
                          getattr(rec, "location", None))
