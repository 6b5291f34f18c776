// Validates Kubernetes manifests (YAML, one or more documents) with the validators that kubernetes-models compiles from
// Kubernetes' OpenAPI schemas: types, required fields, enums (completionMode: Indexed), nested pod spec. Not caught: unknown
// (misspelt) fields, which the schemas allow and an API server with strict field validation refuses. Offline once `npm ci` ran.
// Exit code 0 valid, 1 invalid.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Job } from "kubernetes-models/batch/v1";

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    const object = doc.toJSON();
    if (object.kind !== "Job") {
      console.error(`${file}: ${object.kind} is not checked here (only batch/v1 Job)`);
      failed = true;
      continue;
    }
    try {
      new Job(object).validate();
      console.log(`${file}: ${object.kind} ${object.metadata.name} is valid`);
    } catch (e) {
      console.error(`${file}: ${object.kind} ${object.metadata?.name}: ${e.message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
