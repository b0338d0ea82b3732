// Loads the contract schemas into one ajv (JSON Schema 2020-12) with ajv-formats, and gives tests a
// `check(ref, body)` that fails with every schema error spelled out.
//
// Seed 002 ships an OpenAPI 3.1 fragment; 002-openapi.json is that fragment as it is (its YAML
// copy sits beside it). OpenAPI's own document keywords and the `discriminator` annotation are
// registered as annotation-only vocabulary: ajv's discriminator support refuses `mapping`, and the
// `oneOf` next to it already decides, since every variant pins `status` with `const`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "schemas");
export const BASE = "https://runbrake.dev/contracts/";

/** @param {string} name */
const load = (name) => JSON.parse(readFileSync(join(DIR, name), "utf8"));

/** The ajv constructor and the formats plugin, whatever their module shape. */
const Ajv = /** @type {any} */ (Ajv2020).default ?? Ajv2020;
const addFormats = /** @type {any} */ (addFormatsModule).default ?? addFormatsModule;

/** @returns {{ ajv: any, check: (ref: string, body: unknown, context?: string) => void }} */
export function contractSchemas() {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(["openapi", "info", "servers", "paths", "components", "security", "discriminator"]);
  for (const name of [
    "common.schema.json",
    "000-workflow-runs.schema.json",
    "001-workflow-test-runs.schema.json",
    "002-experiment-runs.schema.json",
    "003-extend-workflow-runs.schema.json",
    "004-generic-runs.schema.json",
  ]) {
    ajv.addSchema(load(name));
  }
  // The vendor's document is used unmodified; the key gives it an address for $ref.
  ajv.addSchema(load("002-openapi.json"), `${BASE}002-openapi.json`);

  /** @type {Map<string, any>} */
  const compiled = new Map();
  return {
    ajv,
    check(ref, body, context = "") {
      const full = ref.startsWith("http") ? ref : `${BASE}${ref}`;
      let validate = compiled.get(full);
      if (!validate) {
        validate = ajv.compile({ $ref: full });
        compiled.set(full, validate);
      }
      if (!validate(body)) {
        assert.fail(
          `${context} reply does not match ${ref}:\n${ajv.errorsText(validate.errors, { separator: "\n" })}\n${JSON.stringify(body, null, 2)}`,
        );
      }
    },
  };
}

/** Schema of each contract's replies: success (cancel and read) and errors. */
export const SCHEMAS = {
  "000": {
    cancel: "000-workflow-runs.schema.json#/$defs/CancelWorkflowResponse",
    read: "000-workflow-runs.schema.json#/$defs/WorkflowRun",
    error: "common.schema.json#/$defs/fastapiError",
    invalid: "common.schema.json#/$defs/fastapiValidationError",
  },
  "001": {
    cancel: "001-workflow-test-runs.schema.json#/$defs/WorkflowTestRun",
    read: "001-workflow-test-runs.schema.json#/$defs/WorkflowTestRun",
    error: "common.schema.json#/$defs/fastapiError",
    invalid: "common.schema.json#/$defs/fastapiValidationError",
  },
  "002": {
    cancel: "002-experiment-runs.schema.json#/$defs/CancelReply",
    read: "002-experiment-runs.schema.json#/$defs/ExperimentRun",
    error: "common.schema.json#/$defs/fastapiError",
    // The seed's own 422 schema.
    invalid: "002-openapi.json#/components/schemas/HTTPValidationError",
  },
  "003": {
    cancel: "003-extend-workflow-runs.schema.json#/$defs/WorkflowRun",
    read: "003-extend-workflow-runs.schema.json#/$defs/WorkflowRun",
    error: "003-extend-workflow-runs.schema.json#/$defs/Error",
    invalid: "003-extend-workflow-runs.schema.json#/$defs/Error",
  },
  "004": {
    cancel: "004-generic-runs.schema.json#/$defs/Ok",
    read: "004-generic-runs.schema.json#/$defs/Ok",
    error: "004-generic-runs.schema.json#/$defs/Error",
    invalid: "004-generic-runs.schema.json#/$defs/Error",
  },
};
