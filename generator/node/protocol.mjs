// Shared set-up for the JSON-lines servers (generator/cql/node/translator.mjs,
// generator/apply/node/engine.mjs) run by generator/_node.py.
//
// stdout is the protocol channel. Importing this module (first, before any library is loaded)
// sends every console method and stray stdout write to stderr, so library logging (e.g. the
// Kotlin/JS translator's start-up banner) cannot corrupt it; protocol lines go through
// `stdoutWrite`, the real writer saved beforehand.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const stdoutWrite = process.stdout.write.bind(process.stdout);
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = toStderr;
process.stdout.write = (chunk, encoding, callback) => process.stderr.write(chunk, encoding, callback);

/**
 * Find node_modules: --node-modules DIR, else $CPG_NODE_MODULES, else walk up from `scriptUrl`
 * (the caller's import.meta.url) to the first node_modules holding the package `marker`.
 */
export function findNodeModules(marker, scriptUrl) {
  const flag = process.argv.indexOf("--node-modules");
  if (flag >= 0 && process.argv[flag + 1]) return path.resolve(process.argv[flag + 1]);
  if (process.env.CPG_NODE_MODULES) return path.resolve(process.env.CPG_NODE_MODULES);
  let dir = path.dirname(fileURLToPath(scriptUrl));
  for (;;) {
    const candidate = path.join(dir, "node_modules");
    if (fs.existsSync(path.join(candidate, marker))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`node_modules with ${marker} not found above ` + fileURLToPath(scriptUrl));
    dir = parent;
  }
}
