// Long-lived CQL-to-ELM translation server for the cpg Python client.
//
// Protocol: JSON lines. One request per stdin line, one response per stdout line.
//   {"id": n, "op": "ping"}                                   -> {"id": n, "ok": true, "translatorVersion": "..."}
//   {"id": n, "op": "translate", "libraries": {Name: cql}, "targets": [Name...]?, "options": {...}}
//                                                             -> {"id": n, "results": {Name: {"elm": {...}|null, "messages": [...]}},
//                                                                 "heapShare": 0.42}  (live heap / heap limit)
// `targets` (default: all) names the libraries to translate; the others only serve includes.
// With "session": "<id>" the request's libraries join those sent earlier in the same session
// (targets may name any of them) and compiled libraries are reused across its requests.
// A failing request answers {"id": n, "error": "..."}; the process exits 0 on stdin EOF.
//
// Why the stdout dance: the Kotlin/JS build logs (kotlin-logging's start-up banner, translator
// warnings) through console.log, which would corrupt the protocol channel. All console output
// and stray stdout writes are sent to stderr *before* the library is imported (by
// ../../node/protocol.mjs, imported first); protocol lines go through a writer saved beforehand.

import { findNodeModules, stdoutWrite } from "../../node/protocol.mjs";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import v8 from "node:v8";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const nodeModules = findNodeModules("@cqframework/cql", import.meta.url);
const esm = (rel) => import(pathToFileURL(path.join(nodeModules, rel)).href);
const require = createRequire(path.join(nodeModules, "noop.js"));

const cqlToElm = await esm("@cqframework/cql/cql-to-elm.mjs");
const { SystemModelInfoProvider } = await esm("@cqframework/cql/cql.mjs");
const { BigDecimal } = await esm("@cqframework/cql/shared.mjs");
const { Pair } = await esm("@cqframework/cql/kotlin-kotlin-stdlib.mjs");
const { UcumLhcUtils } = require("@lhncbc/ucum-lhc");
const {
  CqlTranslator,
  LibraryManager,
  ModelManager,
  LibraryBuilder,
  CqlCompilerOptions,
  createModelInfoProvider,
  createLibrarySourceProvider,
  createUcumService,
  stringAsSource,
} = cqlToElm;

const TRANSLATOR_VERSION = JSON.parse(fs.readFileSync(path.join(nodeModules, "@cqframework", "cql", "package.json"), "utf8")).version;
const FHIR_MODEL_INFO = {
  "4.0.1": path.join(nodeModules, "cql-exec-fhir", "lib", "modelInfos", "fhir-modelinfo-4.0.1.xml"),
  // Older published content (CPG and CDC examples) says `using FHIR version '4.0.0'`.
  "4.0.0": path.join(nodeModules, "cql-exec-fhir", "lib", "modelInfos", "fhir-modelinfo-4.0.0.xml"),
};

const DEFAULT_OPTIONS = {
  options: ["EnableAnnotations", "EnableLocators", "DisableListDemotion", "DisableListPromotion", "EnableResultTypes"],
  signatureLevel: "Overloads",
  compatibilityLevel: "1.5",
  validateUnits: true,
  errorLevel: "Info",
  analyzeDataRequirements: false,
  collapseDataRequirements: true,
};

// ---- UCUM over @lhncbc/ucum-lhc -------------------------------------------------------------
const ucum = UcumLhcUtils.getInstance();

function ucumConvert(value, sourceUnit, destUnit) {
  const r = ucum.convertUnitTo(sourceUnit, Number(value), destUnit);
  if (r.status !== "succeeded") throw new Error(`cannot convert ${value} '${sourceUnit}' to '${destUnit}': ${(r.msg || []).join("; ")}`);
  return String(r.toVal);
}

/** null when valid (the translator's contract), else the reason. */
function ucumValidate(unit) {
  const r = ucum.validateUnitString(unit, false);
  return r.status === "valid" ? null : (r.msg || []).join("; ") || `invalid UCUM unit '${unit}'`;
}

const unitTerm = (u) => (u === "1" || u === "" ? null : /[./]/.test(u) ? `(${u})` : u);

function ucumMultiply(left, right) {
  const units = [unitTerm(left.second), unitTerm(right.second)].filter(Boolean);
  return new Pair(left.first.multiply(right.first), units.length ? units.join(".") : "1");
}

function ucumDivide(left, right) {
  const value = BigDecimal.fromString(String(left.first.toDouble() / right.first.toDouble()));
  const l = unitTerm(left.second) ?? "1";
  const r = unitTerm(right.second);
  return new Pair(value, r ? `${l}/${r}` : l);
}

const ucumService = createUcumService(ucumConvert, ucumValidate, ucumMultiply, ucumDivide);

// ---- Models: shared across requests (model loading is the expensive, immutable part) -----------
const modelXmlCache = new Map();
function modelInfoXml(id, _system, version) {
  if (id !== "FHIR") return null;
  const file = FHIR_MODEL_INFO[version ?? "4.0.1"];
  if (!file) return null;
  if (!modelXmlCache.has(file)) modelXmlCache.set(file, fs.readFileSync(file, "utf8"));
  return stringAsSource(modelXmlCache.get(file));
}

// One ModelManager per FHIR version: a ModelManager holds one version of a model, so a process that
// loaded FHIR 4.0.1 could not translate content written for 4.0.0 (and vice versa).
const modelManagers = new Map();
function modelManagerFor(fhirVersion) {
  if (!modelManagers.has(fhirVersion)) {
    const manager = new ModelManager();
    manager.modelInfoLoader.registerModelInfoProvider(new SystemModelInfoProvider());
    manager.modelInfoLoader.registerModelInfoProvider(createModelInfoProvider(modelInfoXml));
    modelManagers.set(fhirVersion, manager);
  }
  return modelManagers.get(fhirVersion);
}

// The FHIR version a request's targets use (`using FHIR version '…'`), 4.0.1 by default.
const USING_FHIR = /^\s*using\s+FHIR\s+version\s+'([^']*)'/m;
function requestFhirVersion(libraries, targets) {
  for (const key of targets) {
    const m = USING_FHIR.exec(libraries[key] ?? "");
    if (m && FHIR_MODEL_INFO[m[1]]) return m[1];
  }
  return "4.0.1";
}

// ---- Translation -------------------------------------------------------------------------------
function compilerOptions(requested) {
  const o = { ...DEFAULT_OPTIONS, ...(requested || {}) };
  const options = new CqlCompilerOptions();
  options.setOptions(o.options.map((name) => CqlCompilerOptions.Options.valueOf(name)));
  options.signatureLevel = LibraryBuilder.SignatureLevel.valueOf(o.signatureLevel);
  options.compatibilityLevel = o.compatibilityLevel;
  options.validateUnits = Boolean(o.validateUnits);
  options.errorLevel = cqlToElm.CqlCompilerException.ErrorSeverity.valueOf(o.errorLevel);
  options.analyzeDataRequirements = Boolean(o.analyzeDataRequirements);
  options.collapseDataRequirements = Boolean(o.collapseDataRequirements);
  return options;
}

const EXCEPTION_TYPES = {
  CqlSyntaxException: "syntax",
  CqlSemanticException: "semantic",
  CqlIncludeException: "include",
  CqlInternalException: "internal",
};

// TrackBack's fields are name-mangled in the JS build; its toString() is the stable surface:
// TrackBack{library='...', startLine=4, startChar=11, endLine=4, endChar=17}
const TRACKBACK = /startLine=(-?\d+), startChar=(-?\d+), endLine=(-?\d+), endChar=(-?\d+)/;

function locatorLibrary(locator) {
  // The library identifier is the one object-valued field (a VersionedIdentifier: id/version getters).
  for (const value of Object.values(locator)) {
    if (value && typeof value === "object" && "id" in value && "version" in value) {
      return { library: value.id ?? null, version: value.version ?? null };
    }
  }
  return { library: null, version: null };
}

function toMessage(exc) {
  const severity = (exc.severity?.name ?? "Error").toLowerCase();
  let type = EXCEPTION_TYPES[exc.constructor?.name];
  if (!type) type = "internal";
  const msg = {
    severity,
    type,
    message: String(exc.message ?? exc),
    library: null,
    version: null,
    line: null,
    column: null,
    endLine: null,
    endColumn: null,
  };
  const locator = exc.locator;
  if (locator) {
    Object.assign(msg, locatorLibrary(locator));
    const m = TRACKBACK.exec(String(locator));
    if (m) {
      [msg.line, msg.column, msg.endLine, msg.endColumn] = m.slice(1).map(Number);
      // Syntax errors carry ANTLR's 0-based column, semantic ones a 1-based column: report 1-based.
      if (type === "syntax") {
        msg.column += 1;
        msg.endColumn += 1;
      }
    }
  }
  return msg;
}

function libraryDeclaration(text) {
  // Only used to label results when the translator produced no identifier (e.g. syntax errors).
  const m = /^\s*library\s+("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(?:\s+version\s+'([^']*)')?/m.exec(text);
  return m ? { name: m[1].replace(/"/g, ""), version: m[2] ?? null } : { name: null, version: null };
}

// Compiled libraries without includes (FHIRHelpers above all) are kept across requests, keyed by
// options + name + version and reused only when the served source text is identical. Libraries with
// includes are never reused: their compiled form depends on the included sources.
const compiledCache = new Map();
const INCLUDE = /^\s*include\s/m;
const cacheKey = (optionsKey, id, version) => `${optionsKey}\u0000${id}\u0000${version ?? ""}`;

// A session translates one set of libraries over several requests (`cpg cql`, `cpg validate` on a
// folder): each request sends only sources not sent before, and every library compiled without
// errors, includes or not, is reused by the later requests of the session, so each library is
// compiled once per run. The caller guarantees a name means one text within a session. Only the
// latest session is kept (a new id drops the previous one); a process restart drops it too.
let session = null;

function sessionLibraries(request, optionsKey) {
  if (!session || session.id !== request.session || session.optionsKey !== optionsKey) {
    session = { id: request.session, optionsKey, sources: {}, compiled: new Map() };
  }
  Object.assign(session.sources, request.libraries || {});
  return session.sources;
}

// The names a library includes (`include X version '1' called Y` -> X), for ordering targets.
const INCLUDES = /^\s*include\s+("[^"]+"|[A-Za-z_][A-Za-z0-9_.]*)/gm;

/**
 * `targets` with every target another target includes before it (otherwise in the order given).
 * Why: a target's compiled library is reused by the targets translated after it that include it;
 * translated the other way round, an included library (FHIRHelpers above all) is compiled twice,
 * once as an include and once as a target (~0.2 s of a cold VCF build). The ELM is the same.
 */
function includedFirst(targets, libraries, declared) {
  const byName = new Map(targets.map((key) => [declared.get(key)?.name ?? key, key]));
  const done = new Set();
  const order = [];
  const visit = (key, path) => {
    if (done.has(key) || path.has(key)) return; // a cycle is the translator's to report
    path.add(key);
    for (const match of String(libraries[key] ?? "").matchAll(INCLUDES)) {
      const included = byName.get(match[1].replace(/"/g, ""));
      if (included !== undefined) visit(included, path);
    }
    path.delete(key);
    done.add(key);
    order.push(key);
  };
  for (const key of targets) visit(key, new Set());
  return order;
}

function translate(request) {
  const inSession = typeof request.session === "string";
  const requestTargets = Array.isArray(request.targets) ? request.targets : Object.keys(request.libraries || {});
  const fhirVersion = requestFhirVersion({ ...(inSession && session ? session.sources : {}), ...(request.libraries || {}) }, requestTargets);
  const optionsKey = JSON.stringify({ ...DEFAULT_OPTIONS, ...(request.options || {}), fhirVersion });
  const libraries = inSession ? sessionLibraries(request, optionsKey) : request.libraries || {};
  const options = compilerOptions(request.options);
  const libraryManager = new LibraryManager(modelManagerFor(fhirVersion), options, null, ucumService);
  const compiled = libraryManager.compiledLibraries.asJsMapView();
  // Serve every library of the request by name; a requested version must match the declared one.
  const declared = new Map(Object.entries(libraries).map(([key, text]) => [key, libraryDeclaration(text)]));
  for (const [key, text] of Object.entries(libraries)) {
    const decl = declared.get(key);
    const hit = compiledCache.get(cacheKey(optionsKey, decl.name ?? key, decl.version));
    if (hit && hit.text === text) compiled.set(hit.identifier, hit.compiled);
  }
  if (inSession) for (const { identifier, compiled: library } of session.compiled.values()) compiled.set(identifier, library);
  const served = new Map();
  libraryManager.librarySourceLoader.registerProvider(
    createLibrarySourceProvider((id, _system, version) => {
      for (const [key, text] of Object.entries(libraries)) {
        const decl = declared.get(key);
        const name = decl.name ?? key;
        if (name !== id && key !== id) continue;
        if (version && decl.version && version !== decl.version) continue;
        served.set(`${id}\u0000${version ?? ""}`, text);
        return stringAsSource(text);
      }
      return null;
    }),
  );

  const results = {};
  const targets = Array.isArray(request.targets) ? request.targets : Object.keys(libraries);
  for (const key of includedFirst(targets, libraries, declared)) {
    const text = libraries[key];
    if (typeof text !== "string") throw new Error(`target ${JSON.stringify(key)} is not among the request's libraries`);
    let elm = null;
    let messages;
    try {
      const translator = CqlTranslator.fromText(text, libraryManager);
      messages = translator.exceptions.asJsReadonlyArrayView().map(toMessage);
      const decl = declared.get(key);
      for (const m of messages) {
        if (m.library === null) {
          m.library = decl.name ?? key;
          m.version = decl.version;
        }
      }
      elm = JSON.parse(translator.toJson());
      // A target compiled cleanly serves the later targets that include it (translated after it,
      // see includedFirst), in this request and, in a session, in the session's later requests.
      if (!messages.some((m) => m.severity === "error")) {
        const identifier = translator.toELM()?.identifier;
        if (identifier) compiled.set(identifier, translator.translatedLibrary);
      }
    } catch (err) {
      messages = [{
        severity: "error", type: "internal", message: `translator failure: ${err?.message ?? err}`,
        library: declared.get(key).name ?? key, version: declared.get(key).version,
        line: null, column: null, endLine: null, endColumn: null,
      }];
    }
    results[key] = { elm, messages };
  }
  const ordered = Object.fromEntries(targets.map((key) => [key, results[key]])); // the order asked for

  // Only error-free compilations land in compiledLibraries (the translator's own rule).
  if (inSession) {
    for (const [identifier, library] of compiled) {
      session.compiled.set(`${identifier.id}\u0000${identifier.version ?? ""}`, { identifier, compiled: library });
    }
  }
  for (const [identifier, library] of compiled) {
    const text = served.get(`${identifier.id}\u0000${identifier.version ?? ""}`);
    if (text === undefined || INCLUDE.test(text)) continue;
    compiledCache.set(cacheKey(optionsKey, identifier.id, identifier.version), { text, identifier, compiled: library });
  }
  return { results: ordered, heapShare: heapShareInUse(Number(request.collectAbove ?? 0.6)) };
}

// The translator retains a little of every library it compiles (somewhere inside the Kotlin/JS
// runtime: a fresh LibraryManager or ModelManager per request does not release it), so a process
// that translates hundreds of libraries eventually exhausts its heap. Each reply says what share
// of the heap limit live objects use; the Python client restarts the process when it is high.
// A full collection (node --expose-gc) runs only when the heap is above the client's restart share
// (`collectAbove`), so that garbage alone never causes a restart.
const HEAP_LIMIT = v8.getHeapStatistics().heap_size_limit;
function heapShareInUse(collectAbove) {
  let used = v8.getHeapStatistics().used_heap_size;
  if (used > collectAbove * HEAP_LIMIT && typeof globalThis.gc === "function") {
    globalThis.gc();
    used = v8.getHeapStatistics().used_heap_size;
  }
  return used / HEAP_LIMIT;
}

function handle(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (err) {
    return { id: null, error: `invalid JSON request: ${err.message}` };
  }
  const id = request.id ?? null;
  try {
    switch (request.op) {
      case "ping":
        return { id, ok: true, translatorVersion: TRANSLATOR_VERSION, node: process.version };
      case "translate":
        return { id, ...translate(request) };
      default:
        return { id, error: `unknown op ${JSON.stringify(request.op)}` };
    }
  } catch (err) {
    return { id, error: String(err?.stack ?? err) };
  }
}

const input = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
input.on("line", (line) => {
  if (!line.trim()) return;
  stdoutWrite(JSON.stringify(handle(line)) + "\n");
});
input.on("close", () => process.exit(0));
