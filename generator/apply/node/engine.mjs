// Long-lived CQL evaluation server for `cpg apply` / `cpg test` (cql-execution + cql-exec-fhir, FHIR 4.0.1).
//
// Why a server: loading the libraries (ELM of the guideline and FHIRHelpers, the FHIR model
// info, the value sets) costs far more than evaluating one patient. The Python client loads
// them once and then streams patients through the same process.
//
// Protocol: JSON lines, one request per stdin line, one reply per stdout line.
//   {"id": n, "op": "ping"}
//       -> {"id": n, "ok": true, "engine": "cql-execution x.y.z", "dataProvider": "cql-exec-fhir x.y.z"}
//   {"id": n, "op": "load", "libraries": [<ELM JSON>...], "valueSets": {url: {version: [{code, system, version?}]}}}
//       -> {"id": n, "key": "k1", "libraries": [{"name", "version"}]}
//   {"id": n, "op": "evaluate", "key": "k1", "executionDateTime": "2026-03-01T00:00:00.000Z",
//    "expressions": {LibraryName: [define, ...]}, "patients": [<Bundle>...]}
//       -> {"id": n, "elapsedMs": t, "results": [{"patient": id, "values": {LibraryName: {define: value}}}
//                                               | {"patient": id, "error": "..."}]}
//   {"id": n, "op": "unload", "key": "k1"} -> {"id": n, "ok": true}
// Values come back as FHIR-shaped JSON: Code -> Coding, Concept -> CodeableConcept, Quantity ->
// Quantity, Interval -> {start, end}, DateTime/Date -> string, FHIR objects -> their JSON.
// A failing request answers {"id": n, "error": "..."}; the process exits 0 on stdin EOF.
//
// stdout is the protocol channel: every console method and stray stdout write goes to stderr
// (../../node/protocol.mjs, imported first).

import { findNodeModules, stdoutWrite } from "../../node/protocol.mjs";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { createRequire } from "node:module";

const nodeModules = findNodeModules("cql-execution", import.meta.url);
const require = createRequire(path.join(nodeModules, "noop.js"));
const cql = require("cql-execution");
const cqlfhir = require("cql-exec-fhir");
const versionOf = (pkg) => JSON.parse(fs.readFileSync(path.join(nodeModules, pkg, "package.json"), "utf8")).version;
const ENGINE = `cql-execution ${versionOf("cql-execution")}`;
const DATA_PROVIDER = `cql-exec-fhir ${versionOf("cql-exec-fhir")}`;

/**
 * A faster, exact `toDistinctList` for what guideline queries return.
 *
 * cql-execution makes every query result distinct (also queries without a return clause), and it
 * does so by normalising each element into an immutable Map: for a FHIR resource that walks every
 * element, wrapping each in a new FHIRObject. Profiling the VCF guideline put half the evaluation
 * time there. Yet two resources with different (resourceType, id) differ in their `id` element, so
 * they can never be duplicates; likewise tuples that hold different resources in one field. When
 * every element has such an identity and no two identities collide, the list is already distinct
 * and is returned as is (same order). Anything else goes to the original function unchanged.
 * Installed on the engine's module object because query.js looks the function up there per call.
 */
function installFastDistinct(listModule) {
  const original = listModule.toDistinctList;
  if (typeof original !== "function") return false;
  const resourceKey = (value) => {
    const json = value != null && typeof value === "object" && "_json" in value && "_typeInfo" in value ? value._json : null;
    return json && typeof json.resourceType === "string" && json.id != null ? `${json.resourceType}/${json.id}` : null;
  };
  const identity = (item) => {
    const direct = resourceKey(item);
    if (direct !== null) return direct;
    if (item == null || typeof item !== "object" || Object.getPrototypeOf(item) !== Object.prototype) return null;
    const parts = [];
    for (const [field, value] of Object.entries(item)) {
      const key = resourceKey(value);
      if (key !== null) parts.push(`${field}=${key}`);
    }
    return parts.length ? `{${parts.join(",")}}` : null;
  };
  listModule.toDistinctList = (list) => {
    if (list.length <= 1) return list.slice();
    const seen = new Set();
    for (const item of list) {
      const key = identity(item);
      if (key === null || seen.has(key)) return original(list);
      seen.add(key);
    }
    return list.slice();
  };
  return true;
}

const FAST_DISTINCT = !process.argv.includes("--exact-distinct") && installFastDistinct(require("cql-execution/lib/elm/list"));

/** Loaded library sets by key; owned by this process, created by "load", dropped by "unload". */
const loaded = new Map();
let nextKey = 0;

// One patient source for every loaded set: making one parses the FHIR model info (~0.1 s), and it
// only ever holds the bundles of the evaluate call running (requests are handled one at a time).
// It is made as soon as the process is first idle, so the first load does not wait for it.
let sharedPatientSource = null;
const patientSourceOf = () => (sharedPatientSource ??= cqlfhir.PatientSource.FHIRv401());

function load(request) {
  const elms = request.libraries || [];
  if (!Array.isArray(elms) || elms.length === 0) throw new Error("load: no libraries given");
  const byName = {};
  for (const elm of elms) {
    const ident = elm && elm.library && elm.library.identifier;
    if (!ident || !ident.id) throw new Error("load: an entry is not ELM JSON (library.identifier.id missing)");
    byName[ident.id] = elm;
  }
  const repository = new cql.Repository(byName);
  const libraries = {};
  for (const [name, elm] of Object.entries(byName)) libraries[name] = new cql.Library(elm, repository);
  const codeService = new cql.CodeService(request.valueSets || {});
  const patientSource = patientSourceOf(); // each evaluate call swaps its bundles in and out
  nextKey += 1;
  const key = `k${nextKey}`;
  loaded.set(key, { libraries, codeService, patientSource });
  return {
    key,
    libraries: Object.values(byName).map((elm) => ({ name: elm.library.identifier.id, version: elm.library.identifier.version ?? null })),
  };
}

function isFhirObject(value) {
  return value != null && typeof value === "object" && "_json" in value && "_typeInfo" in value;
}

/** CQL runtime value -> FHIR-shaped JSON (see the protocol note above). */
function toJson(value) {
  if (value == null) return null;
  if (typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(toJson);
  if (isFhirObject(value)) return value._json ?? null;
  if (value instanceof cql.DateTime || value instanceof cql.Date) return value.toString();
  if (value instanceof cql.Quantity) {
    const q = { value: value.value };
    if (value.unit && value.unit !== "1") Object.assign(q, { unit: value.unit, system: "http://unitsofmeasure.org", code: value.unit });
    return q;
  }
  if (value instanceof cql.Code) {
    const c = {};
    if (value.system != null) c.system = value.system;
    if (value.version != null) c.version = value.version;
    if (value.code != null) c.code = value.code;
    if (value.display != null) c.display = value.display;
    return c;
  }
  if (value instanceof cql.Concept) {
    const cc = { coding: (value.codes || []).map(toJson) };
    if (value.display != null) cc.text = value.display;
    return cc;
  }
  if (value instanceof cql.Interval) {
    const p = {};
    if (value.low != null) p.start = toJson(value.low);
    if (value.high != null) p.end = toJson(value.high);
    return p;
  }
  if (value instanceof cql.Ratio) return { numerator: toJson(value.numerator), denominator: toJson(value.denominator) };
  if (value instanceof cql.CQLValueSet) return { url: value.id, version: value.version ?? undefined };
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return String(value);
}

/**
 * Memoise one patient's retrieves and the element reads on the retrieved resources.
 *
 * cql-exec-fhir wraps every resource of the requested type in a fresh FHIRObject on each
 * retrieve, and a guideline retrieves the same type many times (each `[Condition: "X"]` scans all
 * Conditions, decoding each one's code again); every element read builds new wrappers and
 * re-parses date strings. The wrappers are read-only, so one set per type per patient serves every
 * retrieve, and each resource answers a given element read once. The caches are own properties of
 * this patient's objects and die with them.
 */
function memoizeRetrieves(patient) {
  const findRecords = patient.findRecords.bind(patient);
  const cache = new Map();
  patient.findRecords = (profile, retrieveDetails) => {
    const key = `${profile}|${(retrieveDetails && retrieveDetails.datatype) || ""}`;
    let records = cache.get(key);
    if (records === undefined) {
      records = findRecords(profile, retrieveDetails);
      records.forEach(memoizeReads);
      cache.set(key, records);
    }
    return records.slice();
  };
  return patient;
}

function memoizeReads(record) {
  for (const method of ["get", "getCode"]) {
    const read = record[method].bind(record);
    const answers = new Map();
    Object.defineProperty(record, method, {
      enumerable: false,
      value: (field) => {
        if (!answers.has(field)) answers.set(field, read(field));
        return answers.get(field);
      },
    });
  }
}

async function evaluate(request) {
  const state = loaded.get(request.key);
  if (!state) throw new Error(`evaluate: unknown library set '${request.key}' (load it first)`);
  if (!request.executionDateTime) throw new Error("evaluate: executionDateTime is required (the engine never uses the wall clock)");
  const when = cql.DateTime.parse(request.executionDateTime);
  if (when == null) throw new Error(`evaluate: cannot parse executionDateTime '${request.executionDateTime}'`);
  const wanted = Object.entries(request.expressions || {});
  for (const [name, defines] of wanted) {
    const library = state.libraries[name];
    if (!library) throw new Error(`evaluate: library '${name}' is not loaded`);
    for (const define of defines) {
      if (!library.expressions[define]) throw new Error(`evaluate: library '${name}' has no define '${define}'`);
    }
  }
  const started = process.hrtime.bigint();
  const { patientSource, codeService } = state;
  patientSource.reset();
  patientSource.loadBundles(request.patients || []);
  const results = [];
  for (let current = patientSource.currentPatient(); current; current = patientSource.nextPatient()) {
    const patient = memoizeRetrieves(current);
    const patientId = patient._json ? patient._json.id ?? null : null;
    try {
      const values = {};
      for (const [name, defines] of wanted) {
        const library = state.libraries[name];
        const context = new cql.PatientContext(library, patient, codeService, {}, when);
        const out = {};
        for (const define of defines) out[define] = toJson(await library.expressions[define].execute(context));
        values[name] = out;
      }
      results.push({ patient: patientId, values });
    } catch (err) {
      results.push({ patient: patientId, error: err && err.message ? err.message : String(err) });
    }
  }
  patientSource.reset();
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { elapsedMs, results };
}

async function handle(request) {
  switch (request.op) {
    case "ping":
      return { ok: true, engine: ENGINE, dataProvider: DATA_PROVIDER, fastDistinct: FAST_DISTINCT };
    case "load":
      return load(request);
    case "evaluate":
      return evaluate(request);
    case "unload":
      loaded.delete(request.key);
      return { ok: true };
    default:
      throw new Error(`unknown op '${request.op}'`);
  }
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let id = null;
  let reply;
  try {
    const request = JSON.parse(line);
    id = request.id ?? null;
    reply = { id, ...(await handle(request)) };
  } catch (err) {
    reply = { id, error: err && err.message ? err.message : String(err) };
  }
  stdoutWrite(JSON.stringify(reply) + "\n");
  if (sharedPatientSource === null) setImmediate(patientSourceOf);
}
