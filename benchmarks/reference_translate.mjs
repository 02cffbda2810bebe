// The "reference" floor for benchmarks/cql_set.py: a plain, single-process translation of a folder of
// .cql files with the same translator (@cqframework/cql), the same FHIR model info and options, the
// way a command-line translator run over a folder does it: one LibraryManager serving includes from
// the folder, each file translated once with CqlTranslator.fromText and its ELM JSON produced.
// No protocol, no caching of our own.
//
//   node benchmarks/reference_translate.mjs DIR

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const dir = path.resolve(process.argv[2]);
const nodeModules = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "node_modules");
const esm = (rel) => import(pathToFileURL(path.join(nodeModules, rel)).href);
const console_log = console.log;
console.log = console.info = console.debug = console.warn = () => {};  // the translator's banner

const c = await esm("@cqframework/cql/cql-to-elm.mjs");
const { SystemModelInfoProvider } = await esm("@cqframework/cql/cql.mjs");
const { BigDecimal } = await esm("@cqframework/cql/shared.mjs");
const { Pair } = await esm("@cqframework/cql/kotlin-kotlin-stdlib.mjs");
const { UcumLhcUtils } = createRequire(path.join(nodeModules, "noop.js"))("@lhncbc/ucum-lhc");

// The translator needs a UCUM service for quantities (as in generator/cql/node/translator.mjs).
const ucum = UcumLhcUtils.getInstance();
const term = (u) => (u === "1" || u === "" ? null : /[./]/.test(u) ? `(${u})` : u);
const ucumService = c.createUcumService(
  (value, from, to) => String(ucum.convertUnitTo(from, Number(value), to).toVal),
  (unit) => (ucum.validateUnitString(unit, false).status === "valid" ? null : `invalid unit ${unit}`),
  (l, r) => new Pair(l.first.multiply(r.first), [term(l.second), term(r.second)].filter(Boolean).join(".") || "1"),
  (l, r) => new Pair(BigDecimal.fromString(String(l.first.toDouble() / r.first.toDouble())), `${term(l.second) ?? "1"}/${term(r.second) ?? "1"}`),
);
const modelInfo = fs.readFileSync(path.join(nodeModules, "cql-exec-fhir", "lib", "modelInfos", "fhir-modelinfo-4.0.1.xml"), "utf8");

const models = new c.ModelManager();
models.modelInfoLoader.registerModelInfoProvider(new SystemModelInfoProvider());
models.modelInfoLoader.registerModelInfoProvider(c.createModelInfoProvider((id) => (id === "FHIR" ? c.stringAsSource(modelInfo) : null)));

const options = new c.CqlCompilerOptions();
options.setOptions(["EnableAnnotations", "EnableLocators", "DisableListDemotion", "DisableListPromotion", "EnableResultTypes"]
  .map((name) => c.CqlCompilerOptions.Options.valueOf(name)));
options.signatureLevel = c.LibraryBuilder.SignatureLevel.valueOf("Overloads");
options.compatibilityLevel = "1.5";

const files = fs.readdirSync(dir).filter((f) => f.endsWith(".cql")).sort();
const byName = new Map(files.map((f) => [f.slice(0, -4), fs.readFileSync(path.join(dir, f), "utf8")]));
options.validateUnits = true;
const libraries = new c.LibraryManager(models, options, null, ucumService);
libraries.librarySourceLoader.registerProvider(c.createLibrarySourceProvider((id) => (byName.has(id) ? c.stringAsSource(byName.get(id)) : null)));

let errors = 0;
let bytes = 0;
for (const [, text] of byName) {
  const translator = c.CqlTranslator.fromText(text, libraries);
  errors += translator.errors.asJsReadonlyArrayView().length;
  bytes += translator.toJson().length;
}
console_log(JSON.stringify({ libraries: byName.size, errors, elmBytes: bytes }));
