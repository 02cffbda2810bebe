"""Author mistakes caught where the object is built, each with a stable code.

Raising at once (during import of the definitions) points the author at the very line that
wrote the mistake; the LOAD phase turns the exception into a located diagnostic with this
code instead of a generic import failure. The exception is the model's `ModelError` (the
activities raise it too); this module registers the logic and terminology codes.
"""

from __future__ import annotations

from generator.diagnostics import SourceLocation
from generator.model._errors import ModelError
from generator.model._location import caller_location

#: code -> what it rejects (documentation and tests enumerate this).
AUTHOR_ERRORS: dict[str, str] = {
    "LOGIC001": "Python `and` / `or` / `not`, `if`, or a chained comparison on a logic object (use & | ~)",
    "LOGIC002": "a comparison between incompatible kinds (an integer with a Quantity or Duration, a value with a Duration, ...)",
    "ARG001": "a value of the wrong kind where a logic or terminology object is built (a string where a Code or ValueSet "
              "is expected, ...); the same code as generator/argcheck.py's LOAD-phase net",
    "LOGIC004": "an unknown option value (administrative sex, clinical-status policy, comparison operator, ...)",
    "LOGIC005": "raw CQL names something that is not a feature, a declared code or value set, or FHIRHelpers",
    "UNIT001": "a unit that is not valid case-sensitive UCUM",
    "UNIT002": "one observation code compared in two different units (values are not converted)",
    "TERM001": "a code whose format cannot belong to its system (bad check digit, LOINC format under SNOMED, ...)",
    "TERM002": "a value set with neither codes nor rules",
    "TERM003": "a value-set rule on the wrong code system or with a malformed argument",
}


class AuthorError(ModelError):
    """A logic/terminology mistake raised where the object is built; its code is registered above."""

    def __init__(self, code: str, message: str, location: SourceLocation | None = None):
        assert code in AUTHOR_ERRORS, code
        super().__init__(code, message, location or caller_location())
