"""One negative case per rule (the rule must fire) and, where the baseline is not enough,
an explicit positive case (the rule must stay silent). The test module parametrizes over
`RULES`, so a rule added without a case here fails the suite."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Callable
from typing import Any

from generator.diagnostics import Diagnostic
from generator.validate import _base
from generator.validate._definitions import DefinitionsUnavailable
from tests.validate.conftest import BASE, CONFORMANT, Env, find

Res = list[dict[str, Any]]
Case = Callable[[Env], list[Diagnostic]]

PD_PATH = "PlanDefinition/diabetes-pathway"
PD_STRAT = "PlanDefinition/diabetes-monitoring"
PD_REC = "PlanDefinition/order-hba1c"
AD = "ActivityDefinition/order-hba1c-test"
LIB = "Library/DiabetesLogic"
VS = "ValueSet/type-2-diabetes"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


def tgz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(name: str, data: bytes = b"", **kw: Any) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    return info, (data if info.isfile() else None)


def conformant_package() -> bytes:
    members = [member("package/package.json", b'{"name": "example.cpg.test", "version": "1.0.0"}')]
    for p in sorted(CONFORMANT.glob("*.json")):
        members.append(member(f"package/{p.name}", p.read_bytes()))
    return tgz(members)


def _cql_with(env: Env, cql: str, *, name: str = "DiabetesLogic") -> list[Diagnostic]:
    res = env.resources()
    lib = find(res, LIB)
    lib["content"][0]["data"] = base64.b64encode(cql.encode()).decode()
    lib["name"] = name
    return env.run(res, cql=True)


class _FakeTranslator:
    """Stands in for the bridge when a case needs a translator outcome the real one won't give on demand."""

    def __init__(self, exc: Exception | None = None, messages: list[Any] | None = None):
        self.exc, self.messages = exc, messages or []

    def translate(self, libraries: dict[str, str], targets: list[str] | None = None, *,
                  session: str | None = None) -> dict[str, Any]:
        from generator.cql.translator import Translation

        if self.exc is not None:
            raise self.exc
        return {n: Translation(name=n, version=None, elm=None, elm_json="", messages=self.messages) for n in targets or libraries}


def _set(ref: str, **values: Any) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        find(res, ref).update(values)

    return change


def _fake_translator_unavailable(env: Env) -> list[Diagnostic]:
    from generator.cql.translator import TranslatorUnavailable

    return env.run(env.resources(), cql=True, translator=_FakeTranslator(TranslatorUnavailable("node not found")))


def _fake_translator_crash(env: Env) -> list[Diagnostic]:
    from generator.cql.translator import TranslatorError

    return env.run(env.resources(), cql=True,
                   translator=_FakeTranslator(TranslatorError("the translator process exited unexpectedly")))


def _fake_translator_warning(env: Env) -> list[Diagnostic]:
    from generator.cql.translator import CqlMessage

    msg = CqlMessage(severity="warning", type="semantic", message="list promotion used", library="DiabetesLogic", line=3, column=1)
    return env.run(env.resources(), cql=True, translator=_FakeTranslator(messages=[msg]))


def _ig_loader(env: Env, *, with_file: bool) -> list[Diagnostic]:
    """The Library's CQL replaced by an IG Publisher placeholder; the .cql file in input/cql/ or not."""
    from generator.validate import ValidationOptions, validate

    res = env.resources()
    lib = find(res, LIB)
    text = base64.b64decode(lib["content"][0]["data"]).decode()
    lib["content"] = [{"id": "ig-loader-DiabetesLogic.cql"}]
    if with_file:
        env.write("input/cql/DiabetesLogic.cql", text)
    return validate(res, ValidationOptions(translator=env.translator, source_root=env.tmp_path))


def _definitions_missing(env: Env) -> list[Diagnostic]:
    def boom() -> Any:
        raise DefinitionsUnavailable("not installed")

    env.monkeypatch.setattr(_base, "load_definitions", boom)
    return env.run(env.resources())


def _add_coding(ref: str, coding: dict[str, Any]) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        find(res, ref)["code"]["coding"].append(coding)

    return change


def _duplicate(res: Res) -> None:
    copy = json.loads(json.dumps(find(res, AD)))
    copy["title"] = "Same id, different content"
    res.append(copy)


def _duplicate_canonical(res: Res) -> None:
    copy = json.loads(json.dumps(find(res, AD)))
    copy["id"] = "order-hba1c-test-copy"
    res.append(copy)


def _action(ref: str, **values: Any) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        find(res, ref)["action"][0].update(values)

    return change


def _del_action(ref: str, key: str) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        del find(res, ref)["action"][0][key]

    return change


def _direction(res: Res) -> None:
    ext = find(res, PD_REC)["action"][0]["extension"][2]
    ext["valueCodeableConcept"]["coding"][0]["code"] = "maybe"


def _second_cql(res: Res) -> None:
    lib = find(res, LIB)
    lib["content"].append(dict(lib["content"][0]))


def _exp1(res: Res) -> None:
    del find(res, PD_REC)["action"][0]["condition"][0]["expression"]["expression"]


def _drop_display(res: Res) -> None:
    del find(res, AD)["code"]["coding"][1]["display"]


NEGATIVE: dict[str, Case] = {
    "input.missing": lambda e: e.load(e.tmp_path / "does-not-exist"),
    "input.unreadable": lambda e: e.load(e.write("bad.json", b"\xff\xfe\x00{")),
    "input.too-large": lambda e: e.load(_sparse(e)),
    "input.invalid-json": lambda e: e.load(e.write("trunc.json", '{"resourceType": "Library", "id": ')),
    "input.not-fhir": lambda e: e.load(e.write("x.json", '{"hello": "world"}')),
    "input.unknown-type": lambda e: e.run([{"resourceType": "Guideline", "id": "x"}]),
    "input.package-invalid": lambda e: e.load(e.write("p.tgz", b"not a tarball at all")),
    "input.package-unsafe": lambda e: e.load(e.write("p.tgz", tgz([member("../evil.json", b"{}")]))),
    "input.package-limit": lambda e: e.load(e.write("p.tgz", tgz([member("package/huge.json", b" " * (20 * 2**20 + 1))]))),
    "input.package-manifest": lambda e: e.load(e.write("p.tgz", tgz([member("package/package.json", b"{not json")]))),
    "input.not-regular": lambda e: e.load(_fifo(e)),
    "input.too-deep": lambda e: e.mutate(_deep_extension),
    "input.duplicate-id": lambda e: e.mutate(_duplicate),
    "input.no-resources": lambda e: e.load(e.tmp_path),
    "input.resource-size": lambda e: e.run([{"resourceType": "Binary", "id": "big", "contentType": "text/plain",
                                             "data": "QUFB" * 300_000}]),
    "structure.unknown-element": lambda e: e.mutate(_set(PD_REC, foo=1)),
    "structure.missing-required": lambda e: e.mutate(lambda r: find(r, AD).pop("status")),
    "structure.invalid-value": lambda e: e.mutate(_action(PD_REC, title=3)),
    "base.element-unknown": lambda e: e.mutate(_set(PD_REC, subjectCanonical=f"{BASE}/StructureDefinition/x")),
    "base.binding": lambda e: e.mutate(_set(PD_REC, status="bogus")),
    "base.code-unknown": lambda e: e.mutate(lambda r: find(r, LIB)["type"]["coding"][0].update(code="logic-librarie")),
    "base.unavailable": _definitions_missing,
    "base.json-null": lambda e: e.mutate(_set(AD, title=None)),
    "base.json-type": lambda e: e.mutate(_set(AD, experimental="false")),
    "base.primitive-format": lambda e: e.mutate(_set(AD, title="   ")),
    "base.unsafe-link": lambda e: e.mutate(_set(AD, relatedArtifact=[{"type": "citation", "url": "JaVa\tScript:alert(1)"}])),
    "base.invariant": lambda e: e.mutate(_exp1),
    "profile.unknown": lambda e: e.mutate(lambda r: find(r, AD)["meta"]["profile"].append("http://example.org/StructureDefinition/mystery")),
    "profile.cardinality": lambda e: e.mutate(_del_action(PD_STRAT, "title")),
    "profile.prohibited": lambda e: e.mutate(_action(PD_PATH, selectionBehavior="any")),
    "profile.fixed": lambda e: e.mutate(_set(AD, intent="order")),
    "profile.pattern": lambda e: e.mutate(lambda r: find(r, PD_REC)["type"]["coding"][0].update(code="order-set", display="Order Set")),
    "profile.binding": lambda e: e.mutate(_direction),
    "profile.target": lambda e: e.mutate(_action(PD_PATH, definitionCanonical=f"{BASE}/PlanDefinition/order-hba1c|1.0.0")),
    "profile.invariant": lambda e: e.mutate(_second_cql),
    "reference.unresolved": lambda e: e.mutate(_set(PD_REC, library=[f"{BASE}/Library/Missing|1.0.0"])),
    "reference.outside-set": lambda e: e.mutate(_set(PD_REC, library=["http://other.example.org/Library/Shared|1.0.0"])),
    "reference.version-mismatch": lambda e: e.mutate(_set(PD_REC, library=[f"{BASE}/Library/DiabetesLogic|2.0.0"])),
    "reference.wrong-type": lambda e: e.mutate(_set(PD_REC, library=[f"{BASE}/ValueSet/type-2-diabetes|1.0.0"])),
    "reference.duplicate-canonical": lambda e: e.mutate(_duplicate_canonical),
    "cql.unavailable": _fake_translator_unavailable,
    "cql.translator-failed": _fake_translator_crash,
    "cql.bad-content": lambda e: e.mutate(lambda r: find(r, LIB)["content"][0].update(data="!!not base64!!"), cql=True),
    "cql.compile-error": lambda e: _cql_with(e, "library DiabetesLogic version '1.0.0'\ndefine \"X\": 1 +\n"),
    "cql.compile-warning": _fake_translator_warning,
    "cql.name-mismatch": lambda e: e.mutate(_set(LIB, name="DiabetesRules"), cql=True),
    "cql.no-library": lambda e: e.mutate(lambda r: find(r, PD_REC).pop("library"), cql=True),
    "cql.missing-define": lambda e: e.mutate(
        lambda r: find(r, PD_REC)["action"][0]["condition"][0]["expression"].update(expression="Is Applicable"), cql=True),
    "cql.expression-error": lambda e: e.mutate(
        lambda r: find(r, PD_REC)["action"][0]["condition"][0]["expression"].update(
            language="text/cql", expression='"Is Recommendation Applicabel" and true'), cql=True),
    "cql.source-file": lambda e: _ig_loader(e, with_file=True),
    "cql.source-missing": lambda e: _ig_loader(e, with_file=False),
    "cql.not-boolean": lambda e: e.mutate(
        lambda r: find(r, PD_REC)["action"][0]["condition"][0]["expression"].update(expression="Recommendation Description"),
        cql=True),
    "term.unknown-system": lambda e: e.mutate(_add_coding(AD, {"system": "local-codes", "code": "x", "display": "X"})),
    "term.snomed-id": lambda e: e.mutate(_add_coding(AD, {"system": SNOMED, "code": "44054007", "display": "typo"})),
    "term.loinc-code": lambda e: e.mutate(lambda r: find(r, AD)["code"]["coding"][1].update(code="4548-5")),
    "term.rxnorm-code": lambda e: e.mutate(
        _add_coding(AD, {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "RX123", "display": "x"})),
    "term.missing-display": lambda e: e.mutate(_drop_display),
    "term.ucum": lambda e: e.mutate(_set(AD, quantity={"value": 1, "system": UCUM, "code": "mg//dL"})),
    "term.expansion-compose": lambda e: e.mutate(_set(VS, expansion={"timestamp": "2026-01-01", "contains": [
        {"system": SNOMED, "code": "44054006", "display": "Diabetes mellitus type 2"},
        {"system": SNOMED, "code": "46635009", "display": "Diabetes mellitus type 1"}]})),
    "meta.missing-identity": lambda e: e.mutate(lambda r: find(r, AD).pop("name")),
    "meta.version-format": lambda e: e.mutate(_set(AD, version="v1")),
    "meta.version-mixed": lambda e: e.mutate(_set(AD, version="1.0.1")),
    "meta.status-mixed": lambda e: e.mutate(_set(AD, status="draft")),
    "meta.name-format": lambda e: e.mutate(_set(AD, name="order_hba1c")),
    "meta.url-format": lambda e: e.mutate(_set(VS, url=f"{BASE}/vs/t2d")),
    "activity.codings-differ": lambda e: e.mutate(_add_code_coding(AD, "http://loinc.org", "17856-6", "Hemoglobin A1c")),
    "activity.related-action": lambda e: e.mutate(_first_action(PD_REC, relatedAction=[
        {"actionId": "nowhere", "relationship": "after-start"}])),
    "activity.group-empty": lambda e: e.mutate(_first_action(PD_REC, selectionBehavior="exactly-one")),
    "activity.no-recommendation": lambda e: e.mutate(_first_action(PD_REC, textEquivalent="No recommendation for or "
                                                                    "against HbA1c testing.")),
}


def _add_code_coding(ref: str, system: str, code: str, display: str) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        find(res, ref)["code"]["coding"].append({"system": system, "code": code, "display": display})

    return change


def _first_action(ref: str, **values: Any) -> Callable[[Res], None]:
    def change(res: Res) -> None:
        find(res, ref)["action"][0].update(values)

    return change


def _fifo(env: Env) -> Any:
    import os

    path = env.tmp_path / "pipe.json"
    os.mkfifo(path)
    return path


def _deep_extension(res: Res, depth: int = 300) -> None:
    ext: dict[str, Any] = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(depth):
        ext = {"url": "http://example.org/x", "extension": [ext]}
    find(res, AD)["extension"] = [ext]


def _sparse(env: Env) -> Any:
    path = env.tmp_path / "big.json"
    with path.open("wb") as f:
        f.truncate(50 * 2**20 + 1)
    return path


POSITIVE: dict[str, Case] = {
    # package loading works on a clean package: none of the package rules fire
    "input.package-invalid": lambda e: e.load(e.write("ok.tgz", conformant_package())),
    "input.package-unsafe": lambda e: e.load(e.write("ok.tgz", conformant_package())),
    "input.package-limit": lambda e: e.load(e.write("ok.tgz", conformant_package())),
    "input.package-manifest": lambda e: e.load(e.write("ok.tgz", conformant_package())),
    "input.too-deep": lambda e: e.mutate(lambda r: _deep_extension(r, 60)),
    "term.ucum": lambda e: e.mutate(_set(AD, quantity={"value": 1, "system": UCUM, "code": "mL/min/{1.73_m2}"})),
    "term.expansion-compose": lambda e: e.mutate(_set(VS, expansion={"timestamp": "2026-01-01", "contains": [
        {"system": SNOMED, "code": "44054006", "display": "Diabetes mellitus type 2"}]})),
    "base.json-null": lambda e: e.mutate(lambda r: find(r, AD).update(
        topic=[{"text": "a"}, {"text": "b"}], _title={"extension": [{"url": "http://example.org/x", "valueString": "x"}]})),
    "base.json-type": lambda e: e.mutate(_set(AD, experimental=False, quantity={"value": 2.5, "unit": "mg"})),
    "base.primitive-format": lambda e: e.mutate(_set(AD, title=" padded but not empty ", id="a" * 64,
                                                     effectivePeriod={"start": "2020-01-01", "end": "2020-01-01T10:00:00Z"})),
    "base.unsafe-link": lambda e: e.mutate(_set(AD, relatedArtifact=[{"type": "citation", "url": "https://example.org/a?javascript:x"}])),
    "meta.name-format": lambda e: e.mutate(_set(AD, name="Order_HbA1c")),
    "term.snomed-id": lambda e: e.mutate(_add_coding(AD, {"system": SNOMED, "code": "44054006", "display": "Diabetes mellitus type 2"})),
    "term.rxnorm-code": lambda e: e.mutate(
        _add_coding(AD, {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975", "display": "x"})),
    "base.invariant": lambda e: e.mutate(
        lambda r: find(r, LIB).update(contained=[{"resourceType": "Parameters", "id": "options"}],
                                      extension=[{"url": "http://hl7.org/fhir/StructureDefinition/cqf-cqlOptions",
                                                  "valueReference": {"reference": "#options"}}])),
}
