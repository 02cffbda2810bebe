// Reference for `cpg apply --patients`: the same built ELM evaluated by stock cql-execution +
// cql-exec-fhir (no changes to the engine), every define of the guideline's library, for every
// patient of an NDJSON file, at one evaluation date. Prints one JSON line: {"patients", "seconds"}.
//
//   node benchmarks/node/stock_apply.mjs <built guideline folder> <patients.ndjson> <YYYY-MM-DD>
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [folder, patientsFile, date] = process.argv.slice(2);
const require = createRequire(path.join(process.cwd(), "node_modules", "noop.js"));
const cql = require("cql-execution");
const cqlfhir = require("cql-exec-fhir");

const began = process.hrtime.bigint();
const elmDir = path.join(folder, "elm");
const byName = {};
for (const file of fs.readdirSync(elmDir)) {
  const elm = JSON.parse(fs.readFileSync(path.join(elmDir, file), "utf8"));
  byName[elm.library.identifier.id] = elm;
}
const valueSets = {};
for (const file of fs.readdirSync(path.join(folder, "resources"))) {
  if (!file.startsWith("ValueSet-")) continue;
  const vs = JSON.parse(fs.readFileSync(path.join(folder, "resources", file), "utf8"));
  const codes = [];
  for (const include of vs.compose?.include ?? []) {
    for (const concept of include.concept ?? []) codes.push({ code: concept.code, system: include.system });
  }
  for (const item of vs.expansion?.contains ?? []) codes.push({ code: item.code, system: item.system });
  valueSets[vs.url] = { [vs.version ?? ""]: codes };
}
const repository = new cql.Repository(byName);
const main = Object.keys(byName).find((name) => name !== "FHIRHelpers");
const executor = new cql.Executor(new cql.Library(byName[main], repository), new cql.CodeService(valueSets));
const when = cql.DateTime.parse(`${date}T23:59:59.999Z`);
const bundles = fs.readFileSync(patientsFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
let evaluated = 0;
const batch = 64;
for (let start = 0; start < bundles.length; start += batch) {
  const source = cqlfhir.PatientSource.FHIRv401();
  source.loadBundles(bundles.slice(start, start + batch));
  const results = await executor.exec(source, when);
  evaluated += Object.keys(results.patientResults).length;
}
const seconds = Number(process.hrtime.bigint() - began) / 1e9;
process.stdout.write(JSON.stringify({ patients: evaluated, seconds, library: main }) + "\n");
