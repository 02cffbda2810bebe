"""CQL phase, part 2: translate the rendered libraries and check them against the model.

Translator messages are mapped back to the author's definition (file:line) through the
rendered library's spans, keeping the CQL line in the message. Every applicability and
dynamicValue define must exist and be Boolean (or, for messages, a String).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.cql import elm as elm_analysis
from generator.cql.fhirhelpers import fhirhelpers_cql
from generator.cql.render import Block, RenderedLibrary, render_library
from generator.cql.translator import Translation, Translator
from generator.diagnostics import Diagnostic, DiagnosticBag, Severity, SourceLocation
from generator.resolve import ResolvedGuideline

FHIRHELPERS = "FHIRHelpers"


@dataclass
class CompiledLogic:
    library: RenderedLibrary
    fhirhelpers: str
    translations: dict[str, Translation]

    @property
    def main(self) -> Translation:
        return self.translations[self.library.name]


def compile_logic(rg: ResolvedGuideline, translator: Translator, bag: DiagnosticBag,
                  library: RenderedLibrary | None = None) -> CompiledLogic | None:
    """Translate the guideline's library (`library` when the caller rendered it already)."""
    library = library or render_library(rg)
    helpers = fhirhelpers_cql()
    translations = translator.translate({library.name: library.text, FHIRHELPERS: helpers})
    compiled = CompiledLogic(library, helpers, translations)
    _report_messages(compiled, bag)
    main = translations.get(library.name)
    if main is None or main.elm is None or not main.ok:
        return None
    summary = main.summary
    for rr in rg.recommendations:
        problem = elm_analysis.condition_check(summary, rr.applicability_define)
        if problem:
            bag.error("CQL003", f"applicability of '{rr.id}': {problem}", location=rr.recommendation.location,
                      subject=f"{rg.guideline.id}/rec:{rr.id}")
        for ra in rr.activities:
            if ra.message_define and ra.message_define not in summary.defines:
                bag.error("CQL004", f"dynamic value define '{ra.message_define}' is missing",
                          location=ra.activity.location)
    return compiled


def _report_messages(compiled: CompiledLogic, bag: DiagnosticBag) -> None:
    for name, translation in sorted(compiled.translations.items()):
        for message in translation.messages:
            if message.severity == "info":
                continue
            severity = Severity.ERROR if message.is_error else Severity.WARNING
            in_main = (message.library or name) == compiled.library.name
            block = compiled.library.origin(message.line) if in_main else None
            location = compiled.library.locate(message.line) if in_main else None
            where = f"{message.library or name}.cql:{message.line}:{message.column}"
            code = "CQL001" if message.is_error else "CQL002"
            bag.add(_diag(code, f"{where}: {message.message}", severity, block, location))


def _diag(code: str, text: str, severity: Severity, block: Block | None, location: SourceLocation | None) -> Diagnostic:
    return Diagnostic(code, text, severity, location=location, subject=block.subject if block else None)
