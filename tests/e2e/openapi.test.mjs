// The OpenAPI document against the real service: every response of a realistic session (admin,
// users, executors, errors) is matched to its operation by method + path template and validated
// with ajv (draft 2020-12) against the schema the document gives for that status.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import WebSocket from "ws";
import { ROOT, startDevServer } from "../lib/server.mjs";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const DOC_ID = "https://runbrake.test/openapi.json";
const ADMIN_TOKEN = randomBytes(24).toString("base64url"); // 32 characters
const RUN = randomBytes(4).toString("hex"); // keeps this session's batch, tag and names apart

/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {any} the document as the service serves it */
let doc;
/** @type {import("ajv").default} */
let ajv;
/** JSON pointer of a schema in the document → its compiled validator. */
/** @type {Map<string, import("ajv").ValidateFunction>} */
const validators = new Map();
/** "operationId status" → how many responses were validated against it. */
/** @type {Map<string, number>} */
const coverage = new Map();

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN, TEST_CLOCK: "1" } });
});
after(async () => {
  await server?.stop();
});

// ------------------------------------------------------------------ document helpers

/** @param {string} s */
const escapePointer = (s) => s.replace(/~/g, "~0").replace(/\//g, "~1");
/** @param {string} s */
const unescapePointer = (s) => s.replace(/~1/g, "/").replace(/~0/g, "~");

/**
 * The value at a local JSON pointer (`#/a/b`) of the document, or undefined.
 * @param {string} pointer
 * @returns {any}
 */
function at(pointer) {
  assert.ok(pointer.startsWith("#"), `only local references are used: ${pointer}`);
  if (pointer === "#") return doc;
  /** @type {any} */
  let node = doc;
  for (const part of pointer.slice(2).split("/")) {
    if (node === null || typeof node !== "object") return undefined;
    node = node[unescapePointer(part)];
  }
  return node;
}

/**
 * Follows `$ref`s of OpenAPI objects (responses, parameters, headers).
 * @param {any} value
 * @param {string} pointer where `value` sits
 * @returns {{ value: any, pointer: string }}
 */
function deref(value, pointer) {
  const seen = new Set();
  while (value && typeof value.$ref === "string") {
    assert.ok(!seen.has(value.$ref), `reference cycle at ${value.$ref}`);
    seen.add(value.$ref);
    pointer = value.$ref;
    value = at(pointer);
    assert.ok(value !== undefined, `dangling $ref ${pointer}`);
  }
  return { value, pointer };
}

/**
 * The compiled validator of the schema at `pointer`.
 * @param {string} pointer
 */
function validatorAt(pointer) {
  let v = validators.get(pointer);
  if (!v) {
    v = ajv.getSchema(`${DOC_ID}${pointer}`);
    assert.ok(v, `no schema at ${pointer}`);
    validators.set(pointer, v);
  }
  return v;
}

/**
 * The path template of the document that `path` matches, preferring literal segments.
 * @param {string} path
 * @returns {string | undefined}
 */
function templateOf(path) {
  const segs = path.split("/");
  /** @type {string | undefined} */
  let best;
  let bestScore = -1;
  for (const tpl of Object.keys(doc.paths)) {
    const t = tpl.split("/");
    if (t.length !== segs.length) continue;
    let score = 0;
    let fits = true;
    for (let i = 0; i < t.length; i++) {
      if (/^\{[^}]+\}$/.test(t[i])) {
        if (segs[i] === "") fits = false;
      } else if (t[i] === segs[i]) {
        score++;
      } else {
        fits = false;
      }
      if (!fits) break;
    }
    if (fits && score > bestScore) {
      best = tpl;
      bestScore = score;
    }
  }
  return best;
}

/**
 * @param {string} pointer
 * @param {unknown} body
 * @param {string} what
 * @param {string} text
 */
function assertValid(pointer, body, what, text) {
  const validate = validatorAt(pointer);
  if (!validate(body)) {
    assert.fail(
      `${what}: the body does not match ${pointer}\n` +
        `${ajv.errorsText(validate.errors, { separator: "\n" })}\n` +
        `errors: ${JSON.stringify(validate.errors, null, 1).slice(0, 6000)}\n` +
        `body: ${text.slice(0, 6000)}`,
    );
  }
}

/**
 * @param {string} operationId
 * @param {number} status
 */
function cover(operationId, status) {
  const key = `${operationId} ${status}`;
  coverage.set(key, (coverage.get(key) ?? 0) + 1);
}

/**
 * Checks one real response against the document and returns the operation it belongs to.
 * @param {string} method
 * @param {string} url path and query
 * @param {Response} res
 * @param {string} text
 * @param {any} body parsed JSON (undefined if not JSON)
 * @param {unknown} sent the JSON request body, if any
 */
function checkAgainstDocument(method, url, res, text, body, sent) {
  const [path, query = ""] = url.split("?");
  const what = `${method} ${url} → ${res.status}`;
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const tpl = templateOf(path);
  if (!tpl) {
    assert.equal(res.status, 404, `${what}: a path the document does not have must answer 404\n${text}`);
    const r = deref(doc.components.responses.NotFound, "#/components/responses/NotFound");
    assert.ok(r.value.content[mediaType], `${what}: undocumented media type ${mediaType}`);
    assertValid(`${r.pointer}/content/${escapePointer(mediaType)}/schema`, body, what, text);
    cover("(unknown path)", 404);
    return "(unknown path)";
  }
  const item = doc.paths[tpl];
  const op = item[method.toLowerCase()];
  if (!op) {
    // A method the path does not define: 405 with the path's methods in `Allow`.
    assert.equal(res.status, 405, `${what}: ${tpl} has no ${method}, so 405 is due\n${text}`);
    const r = deref(doc.components.responses.MethodNotAllowed, "#/components/responses/MethodNotAllowed");
    assert.ok(r.value.content[mediaType], `${what}: undocumented media type ${mediaType}`);
    assertValid(`${r.pointer}/content/${escapePointer(mediaType)}/schema`, body, what, text);
    const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort();
    const allow = (res.headers.get("allow") ?? "").split(",").map((m) => m.trim()).filter(Boolean).sort();
    assert.deepEqual(allow, documented, `${what}: Allow must list the methods the document gives ${tpl}`);
    cover(`(405) ${tpl}`, 405);
    return `(405) ${tpl}`;
  }
  const opPointer = `#/paths/${escapePointer(tpl)}/${method.toLowerCase()}`;
  const listed = Object.keys(op.responses);
  const key = [String(res.status), `${String(res.status)[0]}XX`, "default"].find((k) => op.responses[k]);
  assert.ok(key, `${what}: ${op.operationId} does not document status ${res.status} (it lists ${listed.join(", ")})\n${text}`);
  const r = deref(op.responses[key], `${opPointer}/responses/${key}`);
  if (r.value.content) {
    assert.ok(
      r.value.content[mediaType],
      `${what}: ${op.operationId} ${key} is documented as ${Object.keys(r.value.content).join(", ")}, got ${mediaType}`,
    );
    assertValid(`${r.pointer}/content/${escapePointer(mediaType)}/schema`, body, `${what} (${op.operationId})`, text);
  } else {
    assert.equal(text, "", `${what}: ${op.operationId} ${key} documents no body`);
  }
  for (const [name, h] of Object.entries(r.value.headers ?? {})) {
    const header = deref(h, "").value;
    const got = res.headers.get(name);
    if (header.required) assert.ok(got !== null, `${what}: header ${name} is documented as required`);
    if (got !== null && header.schema && "const" in header.schema) {
      assert.equal(got, header.schema.const, `${what}: header ${name}`);
    }
  }
  if (res.status < 300) {
    // What the server accepted, the document must accept too.
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(p, "").value);
    for (const name of new URLSearchParams(query).keys()) {
      assert.ok(
        params.some((p) => p.in === "query" && p.name === name),
        `${what}: query parameter ${name} is not documented for ${op.operationId}`,
      );
    }
    if (sent !== undefined && op.requestBody) {
      assertValid(`${opPointer}/requestBody/content/application~1json/schema`, sent, `${what}: request body`, JSON.stringify(sent));
    }
  }
  cover(op.operationId, res.status);
  return op.operationId;
}

/**
 * @typedef {object} Reply
 * @property {number} status
 * @property {Headers} headers
 * @property {string} text the raw body
 * @property {any} body the parsed JSON body
 * @property {string} op the operation it was validated against
 */

/**
 * @typedef {object} CallOptions
 * @property {string} [key] an API key or the admin token
 * @property {"bearer" | "api-key"} [as] how to present it (default bearer)
 * @property {unknown} [json] a JSON body
 * @property {string} [raw] a body sent as is
 * @property {Record<string, string>} [headers]
 */

/**
 * One request to the service; its response is checked against the document before returning.
 * @param {string} method
 * @param {string} url
 * @param {CallOptions} [opts]
 * @returns {Promise<Reply>}
 */
async function call(method, url, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (opts.key) {
    if (opts.as === "api-key") headers["api-key"] = opts.key;
    else headers.authorization = `Bearer ${opts.key}`;
  }
  /** @type {string | undefined} */
  let payload;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (opts.json !== undefined) {
    payload = JSON.stringify(opts.json);
    headers["content-type"] = "application/json";
  }
  Object.assign(headers, opts.headers ?? {});
  const res = await fetch(`${server.url}${url}`, { method, headers, body: payload });
  const text = await res.text();
  /** @type {any} */
  let body;
  if (/json/.test(res.headers.get("content-type") ?? "")) {
    try {
      body = JSON.parse(text);
    } catch {
      assert.fail(`${method} ${url} → ${res.status}: declared JSON but is not: ${text.slice(0, 500)}`);
    }
  }
  const op = checkAgainstDocument(method, url, res, text, body, opts.raw === undefined ? opts.json : undefined);
  return { status: res.status, headers: res.headers, text, body, op };
}

/**
 * Asserts a status, showing the body when it differs.
 * @param {Reply} r
 * @param {number} status
 */
function expectStatus(r, status) {
  assert.equal(r.status, status, `${r.op} answered ${r.status}, expected ${status}: ${r.text.slice(0, 2000)}`);
}

/**
 * Asserts a problem+json answer.
 * @param {Reply} r
 * @param {number} status
 * @param {string} code
 * @param {string} [field]
 */
function expectProblem(r, status, code, field) {
  expectStatus(r, status);
  assert.equal(r.headers.get("content-type"), "application/problem+json");
  assert.equal(r.body.status, status);
  assert.equal(r.body.code, code, r.text);
  assert.equal(r.body.type, `https://runbrake.dev/problems/${code}`);
  if (field !== undefined) assert.equal(r.body.field, field, `the problem names the field: ${r.text}`);
}

/**
 * Retries `probe` until it returns a value (the run list is fed asynchronously).
 * @template T
 * @param {() => Promise<T | undefined>} probe
 * @param {string} what
 * @param {number} [deadlineMs]
 * @returns {Promise<T>}
 */
async function eventually(probe, what, deadlineMs = 20_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await delay(100); // poll interval while the index catches up, not a wait for time to pass
  }
}

/**
 * Structural checks of the document that a JSON Schema of OpenAPI 3.1 would make, plus this
 * service's conventions.
 * @param {any} d
 */
function checkStructure(d) {
  assert.match(d.openapi, /^3\.1\.\d+$/, "OpenAPI 3.1");
  assert.equal(typeof d.info?.title, "string");
  assert.equal(typeof d.info?.version, "string");
  assert.ok(d.paths && typeof d.paths === "object");
  const schemes = d.components?.securitySchemes ?? {};
  assert.deepEqual(schemes.bearerAuth, { ...schemes.bearerAuth, type: "http", scheme: "bearer" });
  assert.deepEqual(schemes.apiKeyHeader, { ...schemes.apiKeyHeader, type: "apiKey", in: "header", name: "Api-Key" });
  const tags = new Set((d.tags ?? []).map((/** @type {any} */ t) => t.name));
  /** @param {any[] | undefined} reqs @param {string} where */
  const checkSecurity = (reqs, where) => {
    for (const req of reqs ?? []) {
      for (const name of Object.keys(req)) assert.ok(schemes[name], `${where}: unknown security scheme ${name}`);
    }
  };
  checkSecurity(d.security, "root");

  // Every $ref resolves.
  /** @param {any} node @param {string} where */
  const walk = (node, where) => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}/${i}`));
    else if (node && typeof node === "object") {
      if (typeof node.$ref === "string") assert.ok(at(node.$ref) !== undefined, `${where}: dangling $ref ${node.$ref}`);
      for (const [k, v] of Object.entries(node)) walk(v, `${where}/${escapePointer(k)}`);
    }
  };
  walk(d, "#");

  /** @type {Map<string, { tpl: string, op: any, item: any }>} */
  const operations = new Map();
  for (const [tpl, item] of Object.entries(d.paths)) {
    assert.ok(tpl.startsWith("/"), `path ${tpl} starts with /`);
    const templated = [...tpl.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    for (const method of Object.keys(item)) {
      assert.ok(
        [...METHODS, "parameters", "summary", "description", "servers"].includes(method),
        `${tpl}: unexpected key ${method}`,
      );
    }
    for (const method of METHODS.filter((m) => item[m])) {
      const op = item[method];
      const where = `${method.toUpperCase()} ${tpl}`;
      assert.equal(typeof op.operationId, "string", `${where}: operationId`);
      assert.ok(!operations.has(op.operationId), `${where}: duplicate operationId ${op.operationId}`);
      operations.set(op.operationId, { tpl, op, item });
      for (const t of op.tags ?? []) assert.ok(tags.has(t), `${where}: undeclared tag ${t}`);
      checkSecurity(op.security, where);
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(p, "").value);
      for (const p of params) {
        assert.ok(["query", "header", "path", "cookie"].includes(p.in), `${where}: parameter ${p.name} in ${p.in}`);
        assert.ok(p.schema || p.content, `${where}: parameter ${p.name} has a schema`);
        if (p.in === "path") assert.equal(p.required, true, `${where}: path parameter ${p.name} is required`);
      }
      const pathParams = params.filter((p) => p.in === "path").map((p) => p.name).sort();
      assert.deepEqual(pathParams, templated, `${where}: path parameters match the template`);
      if (op.requestBody) {
        const rb = deref(op.requestBody, "").value;
        assert.ok(rb.content?.["application/json"]?.schema, `${where}: request body schema`);
      }
      assert.ok(Object.keys(op.responses ?? {}).length > 0, `${where}: responses`);
      for (const [status, r] of Object.entries(op.responses)) {
        assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/, `${where}: status key ${status}`);
        const resp = deref(r, "").value;
        assert.equal(typeof resp.description, "string", `${where} ${status}: description`);
        for (const [media, m] of Object.entries(resp.content ?? {})) {
          assert.ok(/** @type {any} */ (m).schema, `${where} ${status} ${media}: schema`);
          if (Number(status) >= 400 && media !== "application/json") {
            assert.equal(media, "application/problem+json", `${where} ${status}: errors are problem+json`);
          }
        }
      }
    }
  }
  // Links name real operations and their parameters.
  for (const { tpl, op } of operations.values()) {
    for (const [status, r] of Object.entries(op.responses)) {
      for (const [name, link] of Object.entries(deref(r, "").value.links ?? {})) {
        const l = /** @type {any} */ (link);
        const target = operations.get(l.operationId);
        assert.ok(target, `${op.operationId} ${status} link ${name}: unknown operation ${l.operationId}`);
        const targetParams = [...(target.item.parameters ?? []), ...(target.op.parameters ?? [])].map((p) => deref(p, "").value.name);
        for (const [p, expr] of Object.entries(l.parameters ?? {})) {
          assert.ok(targetParams.includes(p), `${tpl} link ${name}: ${l.operationId} has no parameter ${p}`);
          assert.match(String(expr), /^\$(response|request)\.(body#\/|header\.|path\.|query\.)/, `link ${name}: runtime expression`);
        }
      }
    }
  }
  // Discriminators: every branch requires the property with a constant that the mapping names.
  for (const [name, schema] of Object.entries(d.components.schemas)) {
    const s = /** @type {any} */ (schema);
    if (!s.discriminator) continue;
    const prop = s.discriminator.propertyName;
    const mapping = s.discriminator.mapping ?? {};
    assert.equal(Object.keys(mapping).length, s.oneOf.length, `${name}: one mapping entry per branch`);
    for (const [tag, target] of Object.entries(mapping)) {
      const branch = at(String(target));
      assert.ok(s.oneOf.some((/** @type {any} */ o) => o.$ref === target), `${name}: ${target} is one of the branches`);
      assert.ok(branch.required?.includes(prop), `${target} requires ${prop}`);
      assert.equal(branch.properties?.[prop]?.const, tag, `${target}: ${prop} is the constant ${tag}`);
    }
  }
  return operations;
}

// ------------------------------------------------------------------ the session

/** State shared by the steps below (node:test runs them in order). */
const s = {
  /** @type {string} */ orgId: "",
  /** @type {string} */ userKey: "",
  /** @type {string} */ userKeyId: "",
  /** @type {string} */ execKey: "",
  /** @type {string} */ otherOrgKey: "",
  /** @type {Record<string, any>} runs by label, as last read */
  runs: {},
  batch: `batch-${RUN}`,
  tag: `e2e-${RUN}`,
};

/**
 * Creates a run with the user key and returns its view.
 * @param {string} label
 * @param {Record<string, unknown>} body
 */
async function createRun(label, body) {
  const r = await call("POST", "/api/runs", { key: s.userKey, json: { batch_id: s.batch, ...body } });
  expectStatus(r, 201);
  assert.equal(r.headers.get("location"), `/api/runs/${r.body.run.id}`);
  s.runs[label] = r.body.run;
  return r.body.run;
}

/** @param {string} id */
async function getRun(id) {
  const r = await call("GET", `/api/runs/${id}`, { key: s.userKey });
  expectStatus(r, 200);
  return r.body.run;
}

/**
 * An executor action.
 * @param {string} id
 * @param {string} action
 * @param {unknown} [json]
 */
const act = (id, action, json) => call("POST", `/api/runs/${id}/${action}`, { key: s.execKey, json });

/**
 * A user cancel.
 * @param {string} id
 * @param {unknown} [json]
 * @param {Record<string, string>} [headers]
 */
const cancel = (id, json, headers) => call("POST", `/api/runs/${id}/cancel`, { key: s.userKey, json, headers });

/** @type {Map<string, { tpl: string, op: any, item: any }>} */
let operations;

describe("the OpenAPI document", () => {
  it("is served at /openapi.json, as written in worker/openapi.json", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    doc = await res.json();
    const onDisk = JSON.parse(await readFile(join(ROOT, "worker/openapi.json"), "utf8"));
    assert.deepEqual(doc, onDisk, "the served document differs from worker/openapi.json: rebuild the Worker");
  });

  it("is a structurally valid OpenAPI 3.1 document", () => {
    operations = checkStructure(doc);
    assert.ok(operations.size >= 25, `${operations.size} operations`);
  });

  it("compiles every schema with ajv (draft 2020-12, strict)", () => {
    const Ajv = Ajv2020.default;
    ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
    addFormats.default(ajv);
    ajv.addKeyword({ keyword: "discriminator", schemaType: "object" }); // an annotation: oneOf + const decide
    // The document is added whole so that `#/components/...` references resolve; its top-level
    // OpenAPI fields become no-op keywords (ajv compiles the root, which validates nothing).
    for (const field of Object.keys(doc)) ajv.addKeyword(field);
    ajv.addSchema({ ...doc, $id: DOC_ID });
    let compiled = 0;
    for (const name of Object.keys(doc.components.schemas)) {
      validatorAt(`#/components/schemas/${escapePointer(name)}`);
      compiled++;
    }
    for (const [tpl, item] of Object.entries(doc.paths)) {
      for (const method of METHODS.filter((m) => /** @type {any} */ (item)[m])) {
        const op = /** @type {any} */ (item)[method];
        const base = `#/paths/${escapePointer(tpl)}/${method}`;
        if (op.requestBody) validatorAt(`${base}/requestBody/content/application~1json/schema`);
        for (const [status, r] of Object.entries(op.responses)) {
          const { value, pointer } = deref(r, `${base}/responses/${status}`);
          for (const media of Object.keys(value.content ?? {})) {
            validatorAt(`${pointer}/content/${escapePointer(media)}/schema`);
            compiled++;
          }
        }
      }
    }
    assert.ok(compiled > 150, `${compiled} schemas compiled`);
  });
});

describe("a session against the document", () => {
  it("health and the document itself", async () => {
    const h = await call("GET", "/healthz");
    expectStatus(h, 200);
    assert.equal(h.body.status, "ok");
    assert.equal(h.headers.get("cache-control"), "no-store");
    const deep = await call("GET", "/healthz/deep");
    expectStatus(deep, 200);
    assert.ok(deep.body.probes >= 1);
    const self = await call("GET", "/openapi.json");
    expectStatus(self, 200);
    assert.equal(self.body.openapi, "3.1.0");
  });

  it("admin creates organisations and keys", async () => {
    expectProblem(await call("POST", "/api/admin/orgs", { json: { name: "Acme" } }), 401, "unauthorized");
    const wrong = await call("POST", "/api/admin/orgs", { key: `${ADMIN_TOKEN}x`, json: { name: "Acme" } });
    expectProblem(wrong, 401, "unauthorized");
    assert.equal(wrong.headers.get("www-authenticate"), 'Bearer realm="runbrake"');

    expectProblem(await call("POST", "/api/admin/orgs", { key: ADMIN_TOKEN, json: { name: "   " } }), 400, "invalid_argument", "name");
    expectProblem(
      await call("POST", "/api/admin/orgs", { key: ADMIN_TOKEN, json: { name: "Acme", plan: "pro" } }),
      400,
      "invalid_body",
      "plan",
    );

    const created = await call("POST", "/api/admin/orgs", { key: ADMIN_TOKEN, json: { name: `Acme ${RUN}` } });
    expectStatus(created, 201);
    const { org, keys } = created.body;
    assert.equal(org.name, `Acme ${RUN}`);
    assert.match(org.org_id, /^org_[A-Za-z0-9]{22}$/);
    assert.equal(created.headers.get("location"), `/api/admin/orgs/${org.org_id}/keys`);
    assert.deepEqual(keys.map((/** @type {any} */ k) => k.role), ["user", "executor"]);
    for (const k of keys) {
      assert.ok(k.key.startsWith(`rbk_${org.org_id}.`));
      assert.equal(k.revoked_at, null);
    }
    s.orgId = org.org_id;
    s.userKey = keys[0].key;
    s.userKeyId = keys[0].key_id;
    s.execKey = keys[1].key;

    // The admin token also works as Api-Key.
    const other = await call("POST", "/api/admin/orgs", { key: ADMIN_TOKEN, as: "api-key", json: { name: "Other Co" } });
    expectStatus(other, 201);
    s.otherOrgKey = other.body.keys[0].key;

    const key = await call("POST", `/api/admin/orgs/${s.orgId}/keys`, { key: ADMIN_TOKEN, json: { role: "user", label: "ci" } });
    expectStatus(key, 201);
    assert.equal(key.body.label, "ci");
    assert.equal(key.body.role, "user");

    expectProblem(
      await call("POST", `/api/admin/orgs/org_${"Z".repeat(22)}/keys`, { key: ADMIN_TOKEN, json: { role: "user" } }),
      404,
      "org_not_found",
    );
    expectProblem(
      await call("POST", `/api/admin/orgs/${s.orgId}/keys`, { key: ADMIN_TOKEN, json: { role: "admin" } }),
      400,
      "invalid_body",
      "role",
    );

    const list = await call("GET", `/api/admin/orgs/${s.orgId}/keys`, { key: ADMIN_TOKEN });
    expectStatus(list, 200);
    assert.equal(list.body.data.length, 3); // the schema also proves neither secret nor hash is listed
    assert.ok(list.body.data.some((/** @type {any} */ k) => k.key_id === key.body.key_id));

    // A revoked key stops working at once.
    const ok = await call("GET", "/api/me", { key: key.body.key });
    expectStatus(ok, 200);
    const revoked = await call("POST", `/api/admin/orgs/${s.orgId}/keys/${key.body.key_id}/revoke`, { key: ADMIN_TOKEN });
    expectStatus(revoked, 200);
    assert.equal(revoked.body.key_id, key.body.key_id);
    assert.ok(Math.abs(revoked.body.revoked_at - Date.now()) < 60_000);
    expectProblem(await call("GET", "/api/me", { key: key.body.key }), 401, "unauthorized");
    expectProblem(
      await call("POST", `/api/admin/orgs/${s.orgId}/keys/key_nope/revoke`, { key: ADMIN_TOKEN }),
      404,
      "key_not_found",
    );

    const clock = await call("POST", "/api/admin/test-clock", { key: ADMIN_TOKEN, json: { advance_ms: 0 } });
    expectStatus(clock, 200);
    assert.ok(Math.abs(clock.body.now - Date.now()) < 60_000);
  });

  it("admin key labels are validated before a key is shown", async () => {
    const r = await call("POST", `/api/admin/orgs/${s.orgId}/keys`, { key: ADMIN_TOKEN, json: { role: "user", label: "x".repeat(201) } });
    expectProblem(r, 400, "invalid_argument", "label");
  });

  it("me and tickets", async () => {
    const me = await call("GET", "/api/me", { key: s.userKey });
    expectStatus(me, 200);
    assert.deepEqual(me.body, { org_id: s.orgId, key_id: s.userKeyId, role: "user" });
    const exec = await call("GET", "/api/me", { key: s.execKey, as: "api-key" });
    expectStatus(exec, 200);
    assert.equal(exec.body.role, "executor");

    const t = await call("POST", "/api/tickets", { key: s.userKey });
    expectStatus(t, 201);
    const ttl = Date.parse(t.body.expires_at) - Date.now();
    assert.ok(ttl > 30_000 && ttl <= 61_000, `ticket lives about a minute (${ttl} ms)`);
  });

  it("refuses missing, invalid and URL-borne keys", async () => {
    const missing = await call("GET", "/api/runs");
    expectProblem(missing, 401, "unauthorized");
    assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="runbrake"');
    expectProblem(await call("POST", "/api/runs", { json: { kind: "generic" } }), 401, "unauthorized");
    expectProblem(await call("GET", "/api/me", { key: `rbk_${s.orgId}.${"A".repeat(43)}` }), 401, "unauthorized");
    expectProblem(await call("GET", "/api/me", { key: "sk_live_not_ours" }), 401, "unauthorized");
    const inUrl = await call("GET", `/api/me?api_key=${encodeURIComponent(s.userKey)}`, { key: s.userKey });
    expectProblem(inUrl, 401, "unauthorized");
    assert.ok(inUrl.headers.get("x-runbrake-hint"));
  });

  it("creates runs in every starting state", async () => {
    const a = await createRun("pending", {
      kind: "generic",
      name: `Nightly export ${RUN}`,
      workflow: { id: "wf_export", version_id: "wfv_3", version: "3", name: "Export" },
      trigger: { type: "schedule", actor: "cron" },
      metadata: { customer: "acme", priority: 2, nested: { ok: true } },
      tags: [s.tag, "nightly"],
      attributes: { workflowDefinition: { steps: 2 } },
    });
    assert.match(a.id, /^grun_[A-Za-z0-9]{22}$/);
    assert.equal(a.status, "pending");
    assert.equal(a.version, 1);
    assert.equal(a.name, `Nightly export ${RUN}`);
    assert.deepEqual(a.workflow, { id: "wf_export", version_id: "wfv_3", version: "3", name: "Export" });
    assert.deepEqual(a.trigger, { type: "schedule", actor: "cron" });
    assert.deepEqual(a.metadata, { customer: "acme", priority: 2, nested: { ok: true } });
    assert.deepEqual(a.tags, [s.tag, "nightly"]);
    assert.equal(a.batch_id, s.batch);
    assert.equal(a.cancel, null);
    assert.equal(a.timing.started_at, null);
    assert.equal(a.timing.duration_ms, null);
    assert.ok(Math.abs(Date.parse(a.timing.created_at) - Date.now()) < 60_000);
    assert.deepEqual(a.vocabulary, { "000": "pending", "001": "pending", "002": "pending", "003": "PENDING", "004": "running" });

    const b = await createRun("queuedWithItems", {
      kind: "workflow_test",
      name: `Regression suite ${RUN}`,
      initial: "queued",
      children: [
        { id: "case-01", name: "Invoice A", status: "completed" },
        { id: "case-02", name: "Invoice B" },
        { id: "case-03", status: "running" },
      ],
    });
    assert.match(b.id, /^wftestrun_/);
    assert.equal(b.status, "queued");
    assert.equal(b.vocabulary["001"], "queued");
    assert.deepEqual(b.children, { pending: 1, running: 1, cancelling: 0, completed: 1, failed: 0, cancelled: 0, total: 3 });

    const c = await createRun("runningWithCounts", {
      kind: "experiment",
      initial: "running",
      tags: [s.tag],
      children: { pending: 5, running: 2, completed: 1 },
    });
    assert.match(c.id, /^exprun_/);
    assert.equal(c.status, "running");
    assert.deepEqual(c.state.status, { type: "running", lease: null });
    assert.ok(c.timing.started_at, "a run created running has started");
    assert.equal(c.children.total, 8);

    for (const [label, kind] of /** @type {const} */ ([
      ["executor", "workflow"],
      ["deadline", "workflow"],
      ["completed", "extend_workflow"],
      ["review", "workflow"],
      ["sleeper", "generic"],
      ["replay", "generic"],
    ])) {
      const r = await createRun(label, { kind, initial: "queued", name: `${label} ${RUN}`, default_grace_ms: 20_000 });
      assert.equal(r.status, "queued");
      assert.equal(r.state.default_grace_ms, 20_000);
    }
    const d = s.runs.executor;
    assert.match(d.id, /^run_/);
    assert.match(s.runs.completed.id, /^workflow_run_/);
    await createRun("toEnqueue", { kind: "generic" });

    const got = await getRun(a.id);
    assert.equal(got.id, a.id);
    assert.equal(got.version, a.version);
    assert.deepEqual(got.state, a.state);
  });

  it("refuses bad create bodies with the field at fault", async () => {
    const unknown = await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", colour: "red" } });
    expectProblem(unknown, 400, "invalid_body", "colour");
    assert.match(unknown.body.detail, /colour/);
    assert.equal(validatorAt("#/components/schemas/CreateRunRequest")({ kind: "generic", colour: "red" }), false, "the document refuses it too");

    expectProblem(await call("POST", "/api/runs", { key: s.userKey, json: { kind: "nope" } }), 400, "invalid_body", "kind");
    expectProblem(await call("POST", "/api/runs", { key: s.userKey, json: {} }), 400, "invalid_body");
    expectProblem(await call("POST", "/api/runs", { key: s.userKey, raw: '{"kind": "generic",', headers: { "content-type": "application/json" } }), 400, "invalid_body");
    expectProblem(
      await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", tags: ["ok", "bad\u0001tag"] } }),
      400,
      "invalid_argument",
      "tags",
    );
    expectProblem(
      await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", trigger: { type: "telepathy" } } }),
      400,
      "invalid_argument",
      "trigger.type",
    );
    expectProblem(
      await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", children: [{ id: "x" }, { id: "x" }] } }),
      400,
      "invalid_argument",
      "children",
    );
    expectProblem(
      await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", default_grace_ms: 86_400_001 } }),
      400,
      "invalid_argument",
      "default_grace_ms",
    );
    expectProblem(
      await call("POST", "/api/runs", { key: s.userKey, raw: "kind=generic", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
    const huge = await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", metadata: { blob: "x".repeat(1_100_000) } } });
    expectProblem(huge, 413, "payload_too_large");
    expectProblem(await call("POST", "/api/runs", { key: s.execKey, json: { kind: "generic" } }), 403, "forbidden");
  });

  it("reads events and children page by page", async () => {
    const a = s.runs.pending;
    const all = await call("GET", `/api/runs/${a.id}/events`, { key: s.userKey });
    expectStatus(all, 200);
    assert.equal(all.body.version, 1);
    assert.equal(all.body.next_after_seq, null);
    assert.equal(all.body.data.length, 1);
    const [created] = all.body.data;
    assert.equal(created.seq, 1);
    assert.equal(created.event.type, "created");
    assert.equal(created.event.id, a.id);
    assert.deepEqual(created.event.status, { type: "pending" });

    const b = s.runs.queuedWithItems;
    const ev = await call("GET", `/api/runs/${b.id}/events?limit=1`, { key: s.userKey });
    expectStatus(ev, 200);
    assert.equal(ev.body.data.length, 1);
    assert.equal(ev.body.next_after_seq, 1);
    const rest = await call("GET", `/api/runs/${b.id}/events?after_seq=1&limit=1000`, { key: s.userKey });
    expectStatus(rest, 200);
    assert.equal(rest.body.data[0].event.type, "children_added");
    assert.equal(rest.body.next_after_seq, null);
    expectProblem(await call("GET", `/api/runs/${b.id}/events?limit=0`, { key: s.userKey }), 400, "invalid_argument", "limit");
    expectProblem(await call("GET", `/api/runs/${b.id}/events?after_seq=-1`, { key: s.userKey }), 400, "invalid_argument", "after_seq");

    const kids = await call("GET", `/api/runs/${b.id}/children`, { key: s.userKey });
    expectStatus(kids, 200);
    assert.deepEqual(kids.body.data, [
      { id: "case-01", status: "completed", name: "Invoice A" },
      { id: "case-02", status: "pending", name: "Invoice B" },
      { id: "case-03", status: "running", name: null },
    ]);
    assert.equal(kids.body.total, 3);
    assert.equal(kids.body.next_after, null);
    const page = await call("GET", `/api/runs/${b.id}/children?limit=2`, { key: s.userKey });
    expectStatus(page, 200);
    assert.equal(page.body.next_after, "case-02");
    const next = await call("GET", `/api/runs/${b.id}/children?after=case-02&limit=2`, { key: s.userKey });
    expectStatus(next, 200);
    assert.deepEqual(next.body.data.map((/** @type {any} */ c) => c.id), ["case-03"]);
    const pending = await call("GET", `/api/runs/${b.id}/children?status=pending`, { key: s.execKey });
    expectStatus(pending, 200);
    assert.deepEqual(pending.body.data.map((/** @type {any} */ c) => c.id), ["case-02"]);
    expectProblem(await call("GET", `/api/runs/${b.id}/children?status=done`, { key: s.userKey }), 400, "invalid_argument", "status");
    expectProblem(await call("GET", `/api/runs/${b.id}/children?colour=red`, { key: s.userKey }), 400, "invalid_argument", "colour");
    expectProblem(await call("GET", `/api/runs/${b.id}/children?limit=1001`, { key: s.userKey }), 400, "invalid_argument", "limit");
  });

  it("an executor claims, heartbeats, is told of a cancel with grace, and acknowledges it", async () => {
    const d = s.runs.executor;
    expectProblem(await call("POST", `/api/runs/${d.id}/claim`, { key: s.userKey, json: { executor: "exec-1" } }), 403, "forbidden");
    expectProblem(await act(d.id, "claim", { executor: "exec 1" }), 400, "invalid_argument", "executor");
    expectProblem(await act(d.id, "claim", { executor: "exec-1", lease_ms: 0 }), 400, "invalid_argument", "lease_ms");
    const added = await act(d.id, "children", { items: [{ id: "step-1", status: "running" }, { id: "step-2" }] });
    expectStatus(added, 200);
    assert.equal(added.body.reply.type, "children");

    const claim = await act(d.id, "claim", { executor: "exec-1", lease_ms: 60_000 });
    expectStatus(claim, 200);
    assert.equal(claim.body.reply.type, "executor");
    assert.equal(claim.body.reply.outcome.kind, "applied");
    assert.equal(claim.body.reply.status, "running");
    assert.equal(claim.body.reply.cancel_requested, false);
    const lease = claim.body.lease;
    assert.match(lease.id, /^lease_/);
    assert.equal(lease.executor, "exec-1");
    assert.equal(Date.parse(lease.expires_at), lease.expires_at_ms);
    assert.ok(lease.expires_at_ms > Date.now() + 50_000);
    assert.equal(claim.body.run.state.status.lease.id, lease.id);
    assert.ok(claim.body.run.timing.started_at);

    const held = await call("POST", `/api/runs/${d.id}/claim`, { key: s.execKey, json: { executor: "exec-2" } });
    expectProblem(held, 409, "lease_held");
    assert.equal(held.body.error.code, "lease_held");
    assert.equal(held.body.run.status, "running");

    const hb = await act(d.id, "heartbeat", { lease_id: lease.id, lease_ms: 60_000 });
    expectStatus(hb, 200);
    assert.equal(hb.body.reply.cancel_requested, false);
    assert.equal(hb.body.reply.deadline, undefined);
    assert.ok(hb.body.reply.lease_expires_at >= lease.expires_at_ms);

    expectProblem(await call("POST", `/api/runs/${d.id}/cancel`, { key: s.execKey, json: {} }), 403, "forbidden");

    const before = Date.now();
    const c = await cancel(d.id, { command_id: `cancel-${d.id}`, reason: "user asked", grace_ms: 30_000 });
    expectStatus(c, 200);
    assert.equal(c.body.outcome.kind, "requested");
    const deadline = c.body.outcome.deadline;
    assert.ok(deadline > Date.now(), "the cancel deadline is in the future");
    assert.ok(deadline >= before + 25_000 && deadline <= Date.now() + 31_000, `deadline ≈ now + 30 s (${deadline - before} ms)`);
    assert.deepEqual(c.body.cancel.outcome, c.body.outcome);
    assert.equal(c.body.cancel.status, "cancelling");
    assert.equal(c.body.cancel.deadline, deadline);
    const run = c.body.run;
    assert.equal(run.status, "cancelling");
    assert.equal(Date.parse(run.cancel.deadline), deadline);
    assert.equal(run.cancel.reason, "user asked");
    assert.equal(run.cancel.command_id, `cancel-${d.id}`);
    assert.deepEqual(run.cancel.by, { source: "api", actor: s.userKeyId });
    assert.equal(run.vocabulary["003"], "CANCELLING");
    assert.equal(run.vocabulary["000"], "running");
    // Pending children are cancelled at once; running ones follow the deadline.
    assert.deepEqual(run.children, { pending: 0, running: 0, cancelling: 1, completed: 0, failed: 0, cancelled: 1, total: 2 });

    const hb2 = await act(d.id, "heartbeat", { lease_id: lease.id });
    expectStatus(hb2, 200);
    assert.equal(hb2.body.reply.cancel_requested, true, "the heartbeat carries the cancel");
    assert.equal(hb2.body.reply.deadline, deadline);
    assert.equal(hb2.body.reply.status, "cancelling");

    const again = await cancel(d.id, { reason: "still want it stopped" });
    expectStatus(again, 200);
    assert.equal(again.body.outcome.kind, "already_requested");
    assert.equal(again.body.outcome.deadline, deadline);

    const ack = await act(d.id, "ack-cancel", { lease_id: lease.id });
    expectStatus(ack, 200);
    assert.equal(ack.body.reply.status, "cancelled");
    assert.equal(ack.body.reply.outcome.kind, "applied");

    const done = await getRun(d.id);
    assert.equal(done.status, "cancelled");
    assert.equal(done.cancel.forced, false, "the executor stopped in time");
    assert.equal(done.cancel.command_id, `cancel-${d.id}`);
    assert.ok(done.timing.completed_at);
    assert.equal(done.children.cancelled, 2);
    assert.equal(done.vocabulary["004"], "cancelled");

    const events = await call("GET", `/api/runs/${d.id}/events`, { key: s.userKey });
    expectStatus(events, 200);
    const types = events.body.data.map((/** @type {any} */ e) => e.event.type);
    for (const t of ["claimed", "lease_extended", "cancel_requested", "children_cancelled", "children_cancelling", "cancel_recorded", "cancelled"]) {
      assert.ok(types.includes(t), `event log has ${t}: ${types.join(", ")}`);
    }
    assert.equal(events.body.data.find((/** @type {any} */ e) => e.event.type === "cancelled").event.via, "ack");
    assert.deepEqual(events.body.data.map((/** @type {any} */ e) => e.seq), types.map((/** @type {any} */ _, /** @type {number} */ i) => i + 1));

    // The lease is gone; a late completion is recorded, never a status flip.
    const revoked = await act(d.id, "heartbeat", { lease_id: lease.id });
    expectProblem(revoked, 409, "lease_revoked");
    assert.equal(revoked.body.run.status, "cancelled");
    const late = await act(d.id, "complete", { lease_id: lease.id, output: { rows: 10 } });
    expectStatus(late, 200);
    assert.equal(late.body.reply.outcome.kind, "late");
    assert.equal(late.body.reply.outcome.state, "cancelled");
    assert.equal(late.body.run.status, "cancelled");
    assert.equal(late.body.run.late.kind, "completion");
    const claimAgain = await act(d.id, "claim", { executor: "exec-1" });
    expectProblem(claimAgain, 409, "invalid_transition");
    assert.deepEqual(claimAgain.body.error, { code: "invalid_transition", command: "claim", status: "cancelled" });
  });

  it("a deadline that passes forces the cancel, and a connected executor hears of it at once", async () => {
    const k = s.runs.deadline;
    const claim = await act(k.id, "claim", { executor: "exec-9", lease_ms: 60_000 });
    expectStatus(claim, 200);
    const leaseId = claim.body.lease.id;

    const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/runs/${k.id}/executor?lease_id=${leaseId}`, {
      headers: { authorization: `Bearer ${s.execKey}` },
    });
    /** @type {Promise<any>} */
    const message = new Promise((resolve, reject) => {
      ws.once("message", (data) => resolve(JSON.parse(String(data))));
      ws.once("error", reject);
    });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`executor socket answered ${res.statusCode}`)));
    });
    assert.ok(doc.paths["/api/runs/{run_id}/executor"].get.responses["101"]);
    cover("executorStream", 101);

    const c = await cancel(k.id, { grace_ms: 1_000, reason: "too slow" });
    expectStatus(c, 200);
    assert.equal(c.body.outcome.kind, "requested");
    const told = await message;
    assert.equal(told.type, "cancel_requested");
    assert.equal(told.lease_id, leaseId);
    assert.equal(told.deadline, c.body.outcome.deadline);
    ws.close();

    const forced = await eventually(async () => {
      const run = await getRun(k.id);
      return run.status === "cancelled" ? run : undefined;
    }, "the deadline alarm to cancel the run");
    assert.equal(forced.cancel.forced, true);
    assert.ok(Date.parse(forced.cancel.effective_at) >= c.body.outcome.deadline);
    const events = await call("GET", `/api/runs/${k.id}/events`, { key: s.userKey });
    expectStatus(events, 200);
    assert.equal(events.body.data.find((/** @type {any} */ e) => e.event.type === "cancelled").event.via, "deadline");
    expectProblem(await act(k.id, "heartbeat", { lease_id: leaseId }), 409, "lease_revoked");
  });

  it("cancels runs without a lease at once, cascading to children", async () => {
    const b = s.runs.queuedWithItems;
    const cb = await cancel(b.id, { reason: "superseded" });
    expectStatus(cb, 200);
    assert.deepEqual(cb.body.outcome.kind, "cancelled_now");
    assert.equal(cb.body.outcome.forced, false);
    assert.ok(Math.abs(cb.body.outcome.effective_at - Date.now()) < 60_000);
    assert.equal(cb.body.run.status, "cancelled");
    assert.deepEqual(cb.body.cancel.children, { pending: 0, running: 0, cancelling: 0, completed: 1, failed: 0, cancelled: 2 });
    assert.equal(cb.body.run.timing.duration_ms, null, "a run cancelled while queued never started");

    const c = s.runs.runningWithCounts;
    const cc = await cancel(c.id, {});
    expectStatus(cc, 200);
    assert.equal(cc.body.outcome.kind, "cancelled_now");
    assert.equal(cc.body.outcome.forced, false, "no executor held it");
    assert.deepEqual(cc.body.cancel.children, { pending: 0, running: 0, cancelling: 0, completed: 1, failed: 0, cancelled: 7 });
    assert.equal(typeof cc.body.run.timing.duration_ms, "number");

    const again = await cancel(c.id);
    expectStatus(again, 200);
    assert.equal(again.body.outcome.kind, "already_cancelled");
    assert.equal(again.body.outcome.effective_at, cc.body.outcome.effective_at);
  });

  it("preconditions: if_version and if_status_in answer 412 and change nothing", async () => {
    const a = s.runs.pending;
    const v = await cancel(a.id, { if_version: 999 });
    expectStatus(v, 412);
    assert.deepEqual(v.body.outcome, {
      kind: "precondition_failed",
      expected_version: 999,
      actual_status: "pending",
      actual_version: a.version,
    });
    assert.equal(v.body.run.status, "pending");
    const st = await cancel(a.id, { if_status_in: ["running", "queued"] });
    expectStatus(st, 412);
    assert.deepEqual(st.body.outcome.expected_status_in, ["queued", "running"]);
    assert.equal((await getRun(a.id)).version, a.version, "nothing changed");

    const ok = await cancel(a.id, { if_status_in: ["pending"], if_version: a.version, reason: "cleanup", source: "dashboard" });
    expectStatus(ok, 200);
    assert.equal(ok.body.outcome.kind, "cancelled_now");
    assert.deepEqual(ok.body.run.cancel.by, { source: "dashboard", actor: s.userKeyId });
    assert.equal(ok.body.run.cancel.reason, "cleanup");
  });

  it("command_id: a retry replays the first answer byte for byte; other parameters are refused", async () => {
    const f = s.runs.replay;
    const cmd = `cmd:${RUN}:f.1`;
    const first = await cancel(f.id, { command_id: cmd, reason: "duplicate upload" });
    expectStatus(first, 200);
    assert.equal(first.body.outcome.kind, "cancelled_now");
    const original = JSON.stringify(first.body.cancel);
    assert.ok(first.text.includes(`"cancel":${original}`), "serde's bytes are JSON.stringify's");

    const replay = await cancel(f.id, { command_id: cmd, reason: "duplicate upload" });
    expectStatus(replay, 200);
    assert.equal(replay.body.outcome.kind, "replayed");
    assert.ok(replay.text.includes(`"original":${original}`), `the original reply, byte for byte:\n${replay.text}`);
    const viaHeader = await cancel(f.id, { reason: "duplicate upload" }, { "idempotency-key": cmd });
    expectStatus(viaHeader, 200);
    assert.equal(viaHeader.text, replay.text, "every replay is the same bytes");

    const conflict = await cancel(f.id, { command_id: cmd, reason: "another reason" });
    expectProblem(conflict, 422, "idempotency_conflict");
    assert.deepEqual(conflict.body.error, { code: "idempotency_conflict", command_id: cmd });
    assert.equal(conflict.body.run.status, "cancelled");

    expectProblem(
      await cancel(f.id, { command_id: "a" }, { "idempotency-key": "b" }),
      400,
      "invalid_argument",
      "command_id",
    );
    expectProblem(await cancel(f.id, { command_id: "has space" }), 400, "invalid_argument", "command_id");

    const receipt = await call("GET", `/api/runs/${f.id}/cancellations/${cmd}`, { key: s.userKey });
    expectStatus(receipt, 200);
    assert.equal(receipt.body.command_id, cmd);
    assert.equal(receipt.body.parameters.reason, "duplicate upload");
    assert.equal(receipt.body.parameters.policy.cancellable.length, 6);
    assert.deepEqual(receipt.body.reply, first.body.cancel);
    expectProblem(await call("GET", `/api/runs/${f.id}/cancellations/nope`, { key: s.userKey }), 404, "receipt_not_found");
  });

  it("a cancel of a completed run answers 409, naming the winner", async () => {
    const e = s.runs.completed;
    const claim = await act(e.id, "claim", { executor: "exec-3" });
    expectStatus(claim, 200);
    const done = await act(e.id, "complete", { lease_id: claim.body.lease.id, output: { pages: 3 } });
    expectStatus(done, 200);
    assert.equal(done.body.reply.status, "completed");
    assert.equal(done.body.run.vocabulary["003"], "PROCESSED");
    const dup = await act(e.id, "complete", { lease_id: claim.body.lease.id, output: { pages: 3 } });
    expectStatus(dup, 200);
    assert.equal(dup.body.reply.outcome.kind, "duplicate");

    const c = await cancel(e.id, { reason: "too late" });
    expectStatus(c, 409);
    assert.equal(c.headers.get("content-type"), "application/json");
    assert.equal(c.body.outcome.kind, "already_terminal");
    assert.equal(c.body.outcome.state, "completed");
    assert.equal(c.body.outcome.lost_race, true, "it completed moments ago");
    assert.ok(c.body.outcome.since <= Date.now());
    assert.equal(c.body.run.status, "completed");
    assert.equal(c.body.run.cancel, null);
  });

  it("wait, review rejection, resume, failure, enqueue and children reports", async () => {
    const g = s.runs.review;
    const claim = await act(g.id, "claim", { executor: "exec-4" });
    expectStatus(claim, 200);
    const wait = await act(g.id, "wait", { lease_id: claim.body.lease.id, reason: "human_review" });
    expectStatus(wait, 200);
    assert.equal(wait.body.run.status, "waiting");
    assert.equal(wait.body.run.wait_reason, "human_review");
    assert.equal(wait.body.run.vocabulary["003"], "NEEDS_REVIEW");
    assert.ok(wait.body.run.timing.human_waiting_started_at);
    expectProblem(await call("POST", `/api/runs/${g.id}/reject`, { key: s.execKey, json: {} }), 403, "forbidden");
    const reject = await call("POST", `/api/runs/${g.id}/reject`, { key: s.userKey, json: { note: "blurry scan" } });
    expectStatus(reject, 200);
    assert.deepEqual(reject.body.reply, { type: "run", status: "rejected", version: reject.body.run.version });
    assert.deepEqual(reject.body.run.state.status, { type: "rejected", note: "blurry scan" });
    const late = await cancel(g.id);
    expectStatus(late, 409);
    assert.equal(late.body.outcome.state, "rejected");

    const h = s.runs.sleeper;
    const c2 = await act(h.id, "claim", { executor: "exec-5" });
    expectStatus(c2, 200);
    expectStatus(await act(h.id, "wait", { lease_id: c2.body.lease.id, reason: "sleep" }), 200);
    const resume = await act(h.id, "resume", { executor: "exec-6", lease_ms: 45_000 });
    expectStatus(resume, 200);
    assert.equal(resume.body.lease.executor, "exec-6");
    assert.notEqual(resume.body.lease.id, c2.body.lease.id);
    const fail = await act(h.id, "fail", { lease_id: resume.body.lease.id, message: "OCR crashed", code: "E_OCR" });
    expectStatus(fail, 200);
    assert.equal(fail.body.run.status, "failed");
    assert.deepEqual(fail.body.run.state.status, { type: "failed", message: "OCR crashed", code: "E_OCR" });
    const noMessage = await act(h.id, "fail", { lease_id: resume.body.lease.id });
    expectProblem(noMessage, 400, "invalid_body");
    assert.match(noMessage.body.detail, /message/);

    const i = s.runs.toEnqueue;
    const enq = await act(i.id, "enqueue");
    expectStatus(enq, 200);
    assert.deepEqual(enq.body.reply, { type: "run", status: "queued", version: 2 });
    const twice = await act(i.id, "enqueue", {});
    expectProblem(twice, 409, "invalid_transition");
    assert.equal(twice.body.error.command, "enqueue");
    const add = await act(i.id, "children", { items: [{ id: "p1" }, { id: "p2", status: "running" }] });
    expectStatus(add, 200);
    assert.deepEqual(add.body.reply.children, { pending: 1, running: 1, cancelling: 0, completed: 0, failed: 0, cancelled: 0 });
    const move = await call("POST", `/api/runs/${i.id}/children/p1`, { key: s.execKey, json: { to: "running" } });
    expectStatus(move, 200);
    assert.equal(move.body.reply.children.running, 2);
    const fin = await call("POST", `/api/runs/${i.id}/children/p2`, { key: s.execKey, json: { to: "completed" } });
    expectStatus(fin, 200);
    expectProblem(
      await call("POST", `/api/runs/${i.id}/children/nope`, { key: s.execKey, json: { to: "running" } }),
      400,
      "invalid_argument",
      "child_id",
    );
    expectProblem(await act(i.id, "children", { items: [] }), 400, "invalid_argument", "items");
    // A child id the run already has (T13 found it left an event without its state behind, and
    // every later write of the run failed): refused, nothing written, the run still moves.
    const before = await getRun(i.id);
    const again = await act(i.id, "children", { items: [{ id: "p3" }, { id: "p1" }] });
    expectProblem(again, 409, "child_exists", "items");
    const after = await getRun(i.id);
    assert.equal(after.version, before.version, "a refused report wrote nothing");
    assert.deepEqual(after.children, before.children);
    expectStatus(await act(i.id, "children", { items: [{ id: "p3" }] }), 200);
  });

  it("lists the organisation's runs with filters and cursors", async () => {
    const ids = Object.values(s.runs).map((r) => r.id);
    const expected = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await getRun(id)])));
    // The index is fed by the runs' outboxes whenever what a list shows changes (status,
    // children; not heartbeats): wait until it shows every run as it is now.
    const full = await eventually(async () => {
      const r = await call("GET", `/api/runs?batch_id=${s.batch}&limit=200`, { key: s.userKey });
      expectStatus(r, 200);
      const byId = new Map(r.body.data.map((/** @type {any} */ x) => [x.id, x]));
      const caughtUp = ids.every((id) => {
        const row = byId.get(id);
        return (
          row !== undefined &&
          row.seq <= expected[id].version &&
          row.status === expected[id].status &&
          JSON.stringify(row.children) === JSON.stringify(expected[id].state.children)
        );
      });
      return caughtUp && r.body.data.length === ids.length ? r.body : undefined;
    }, "the run list to show every run as it is now");
    for (const row of full.data) {
      const run = expected[row.id];
      assert.equal(row.status, run.status);
      assert.equal(row.kind, run.kind);
      assert.equal(row.created_at, Date.parse(run.timing.created_at));
      assert.equal(row.batch_id, s.batch);
      assert.deepEqual(row.children, { ...run.state.children });
    }
    const created = full.data.map((/** @type {any} */ r) => r.created_at);
    assert.deepEqual(created, [...created].sort((x, y) => y - x), "newest first");
    const counts = full.counts;
    const sum = ["pending", "queued", "running", "waiting", "cancelling", "completed", "failed", "rejected", "cancelled"].reduce(
      (n, k) => n + counts[k],
      0,
    );
    assert.equal(sum, counts.total);
    assert.ok(counts.total >= ids.length);

    // Cursor pagination, both orders: every run exactly once.
    for (const order of ["desc", "asc"]) {
      /** @type {string[]} */
      const seen = [];
      /** @type {string | null} */
      let cursor = null;
      let pages = 0;
      do {
        const q = `/api/runs?batch_id=${s.batch}&limit=3&order=${order}${cursor ? `&cursor=${cursor}` : ""}`;
        const page = await call("GET", q, { key: s.userKey });
        expectStatus(page, 200);
        assert.ok(page.body.data.length <= 3);
        seen.push(...page.body.data.map((/** @type {any} */ r) => r.id));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      assert.equal(new Set(seen).size, seen.length, "no run twice");
      assert.deepEqual(new Set(seen), new Set(ids));
      if (order === "asc") assert.deepEqual(seen, full.data.map((/** @type {any} */ r) => r.id).reverse());
    }

    /**
     * @param {string} query
     * @returns {Promise<string[]>}
     */
    const idsOf = async (query) => {
      const r = await call("GET", `/api/runs?${query}`, { key: s.userKey });
      expectStatus(r, 200);
      return r.body.data.map((/** @type {any} */ x) => x.id).sort();
    };
    const pick = (/** @type {(r: any) => boolean} */ f) => Object.values(expected).filter(f).map((r) => r.id).sort();
    assert.deepEqual(await idsOf(`batch_id=${s.batch}&status=cancelled`), pick((r) => r.status === "cancelled"));
    assert.deepEqual(await idsOf(`batch_id=${s.batch}&status=completed,failed,rejected`), pick((r) => ["completed", "failed", "rejected"].includes(r.status)));
    assert.deepEqual(await idsOf(`batch_id=${s.batch}&kind=workflow`), pick((r) => r.kind === "workflow"));
    assert.deepEqual(await idsOf(`tag=${s.tag}`), pick((r) => r.tags.includes(s.tag)));
    assert.deepEqual(await idsOf(`q=${encodeURIComponent(`NIGHTLY EXPORT ${RUN}`)}`), [s.runs.pending.id]);
    const from = Math.min(...full.data.map((/** @type {any} */ r) => r.created_at));
    const to = Math.max(...full.data.map((/** @type {any} */ r) => r.created_at)) + 1;
    assert.deepEqual(await idsOf(`batch_id=${s.batch}&created_from=${from}&created_to=${to}`), [...ids].sort());
    assert.deepEqual(await idsOf(`batch_id=${s.batch}&created_from=${to}`), []);
    // Reads are open to executor keys too.
    const asExec = await call("GET", `/api/runs?batch_id=${s.batch}&limit=1`, { key: s.execKey });
    expectStatus(asExec, 200);

    expectProblem(await call("GET", "/api/runs?limit=0", { key: s.userKey }), 400, "invalid_query");
    expectProblem(await call("GET", "/api/runs?status=done", { key: s.userKey }), 400, "invalid_query");
    expectProblem(await call("GET", "/api/runs?colour=red", { key: s.userKey }), 400, "invalid_query");
    expectProblem(await call("GET", "/api/runs?cursor=!!!", { key: s.userKey }), 400, "invalid_query");
    expectProblem(await call("GET", "/api/runs?kind=workflow&kind=generic", { key: s.userKey }), 400, "invalid_query");
  });

  it("watches a run over a WebSocket, with a key or a ticket", async () => {
    const a = s.runs.pending;
    expectProblem(await call("GET", `/api/runs/${a.id}/watch`, { key: s.userKey }), 426, "upgrade_required");
    expectProblem(await call("GET", `/api/runs/${a.id}/executor`, { key: s.execKey }), 426, "upgrade_required");
    const ticket = await call("POST", "/api/tickets", { key: s.userKey });
    expectStatus(ticket, 201);
    for (const [url, headers] of /** @type {const} */ ([
      [`/api/runs/${a.id}/watch?after_seq=0`, { authorization: `Bearer ${s.userKey}` }],
      [`/api/runs/${a.id}/watch?ticket=${encodeURIComponent(ticket.body.ticket)}`, {}],
    ])) {
      const ws = new WebSocket(`${server.url.replace("http", "ws")}${url}`, { headers });
      /** @type {any[]} */
      const messages = [];
      const snapshot = new Promise((resolve, reject) => {
        ws.on("message", (data) => {
          const m = JSON.parse(String(data));
          messages.push(m);
          if (m.type === "snapshot") resolve(m);
        });
        ws.once("error", reject);
        ws.once("unexpected-response", (_req, res) => reject(new Error(`watch answered ${res.statusCode}`)));
      });
      const snap = /** @type {any} */ (await snapshot);
      cover("watchRun", 101);
      assert.equal(snap.run.state.id, a.id);
      assert.equal(snap.seq, snap.run.state.version);
      if (url.includes("after_seq=0")) {
        assert.deepEqual(messages.filter((m) => m.type === "event").map((m) => m.seq), Array.from({ length: snap.seq }, (_, i) => i + 1));
      }
      ws.close();
    }
    assert.ok(doc.paths["/api/runs/{run_id}/watch"].get.responses["101"]);
  });

  it("unknown runs, other organisations' runs and malformed ids are all 404", async () => {
    const unknown = `grun_${"Q".repeat(22)}`;
    expectProblem(await call("GET", `/api/runs/${unknown}`, { key: s.userKey }), 404, "run_not_found");
    expectProblem(await cancel(unknown, {}), 404, "run_not_found");
    expectProblem(await call("GET", `/api/runs/${unknown}/events`, { key: s.userKey }), 404, "run_not_found");
    expectProblem(await act(unknown, "heartbeat", { lease_id: "lease_x" }), 404, "run_not_found");
    expectProblem(await call("GET", "/api/runs/bad.id", { key: s.userKey }), 404, "run_not_found");
    const foreign = s.runs.pending.id;
    expectProblem(await call("GET", `/api/runs/${foreign}`, { key: s.otherOrgKey }), 404, "run_not_found");
    expectProblem(await call("POST", `/api/runs/${foreign}/cancel`, { key: s.otherOrgKey, json: {} }), 404, "run_not_found");
    expectProblem(await call("GET", "/api/nothing-here", { key: s.userKey }), 404, "not_found");
  });

  it("bad cancel bodies: malformed, unknown field, wrong media type, too large, out of range", async () => {
    const id = s.runs.toEnqueue.id;
    expectProblem(
      await call("POST", `/api/runs/${id}/cancel`, { key: s.userKey, raw: "{not json", headers: { "content-type": "application/json" } }),
      400,
      "invalid_body",
    );
    const unknown = await cancel(id, { reasn: "typo" });
    expectProblem(unknown, 400, "invalid_body", "reasn");
    assert.equal(validatorAt("#/components/schemas/CancelRequest")({ reasn: "typo" }), false, "the document refuses it too");
    expectProblem(await cancel(id, { grace_ms: -1 }), 400, "invalid_body", "grace_ms");
    expectProblem(await cancel(id, { grace_ms: 86_400_001 }), 400, "invalid_argument", "grace_ms");
    expectProblem(await cancel(id, { source: "cascade" }), 400, "invalid_argument", "source");
    expectProblem(await cancel(id, { reason: "r".repeat(513) }), 400, "invalid_argument", "reason");
    expectProblem(
      await call("POST", `/api/runs/${id}/cancel`, { key: s.userKey, raw: "reason=please", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    expectProblem(await cancel(id, { reason: "x".repeat(70_000) }), 413, "payload_too_large");
    assert.equal((await getRun(id)).status, "queued", "none of these changed the run");
  });

  it("wrong methods answer 405 with the path's methods in Allow", async () => {
    const id = s.runs.pending.id;
    for (const [method, url] of [
      ["DELETE", `/api/runs/${id}`],
      ["PUT", "/api/runs"],
      ["GET", `/api/runs/${id}/cancel`],
      ["DELETE", `/api/runs/${id}/events`],
      ["POST", `/api/runs/${id}/cancellations/x`],
      ["GET", `/api/runs/${id}/claim`],
      ["GET", `/api/runs/${id}/ack-cancel`],
      ["PATCH", `/api/runs/${id}/reject`],
      ["POST", `/api/runs/${id}/watch`],
      ["POST", "/api/me"],
      ["GET", "/api/tickets"],
      ["POST", "/healthz"],
      ["DELETE", "/healthz/deep"],
      ["PUT", "/openapi.json"],
    ]) {
      const r = await call(method, url, { key: s.userKey });
      expectProblem(r, 405, "method_not_allowed");
    }
  });

  it("wrong methods on child routes list the right methods", async () => {
    const id = s.runs.pending.id;
    expectProblem(await call("PUT", `/api/runs/${id}/children`, { key: s.userKey }), 405, "method_not_allowed");
    expectProblem(await call("GET", `/api/runs/${id}/children/p1`, { key: s.userKey }), 405, "method_not_allowed");
  });

  it("wrong methods on admin routes answer 405", async () => {
    expectProblem(await call("GET", "/api/admin/orgs", { key: ADMIN_TOKEN }), 405, "method_not_allowed");
    expectProblem(await call("DELETE", `/api/admin/orgs/${s.orgId}/keys`, { key: ADMIN_TOKEN }), 405, "method_not_allowed");
  });

  it("JSON bodies must be objects", async () => {
    expectProblem(await call("POST", "/api/runs", { key: s.userKey, json: ["generic", "positional name"] }), 400, "invalid_body");
    const fresh = await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic" } });
    expectStatus(fresh, 201);
    expectProblem(await cancel(fresh.body.run.id, ["cmd-positional", "positional reason", 0]), 400, "invalid_body");
  });

  it("children counts refuse unknown buckets", async () => {
    const r = await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", children: { pendng: 5 } } });
    expectProblem(r, 400, "invalid_body", "children");
  });

  it("a missing required field is named in `field`", async () => {
    expectProblem(await call("POST", "/api/runs", { key: s.userKey, json: {} }), 400, "invalid_body", "kind");
    expectProblem(await act(s.runs.pending.id, "claim", {}), 400, "invalid_body", "executor");
  });

  it("run trees: sub-runs attached after their parent, the cascade's outcome per node", async () => {
    const root = await createRun("treeRoot", { kind: "generic", initial: "queued" });
    const sub = await createRun("treeSub", { kind: "generic", initial: "queued", parent_run_id: root.id });
    assert.equal(sub.parent_run_id, root.id);
    const tree = await call("GET", `/api/runs/${root.id}/tree?max_depth=4&limit=10`, { key: s.userKey });
    expectStatus(tree, 200);
    assert.equal(tree.body.counts.total, 2);
    expectStatus(await cancel(root.id, { command_id: `tree-${RUN}` }), 200);
    const after = await eventually(async () => {
      const t = await call("GET", `/api/runs/${root.id}/tree`, { key: s.userKey });
      return t.body.all_terminal ? t : undefined;
    }, "the cascade to reach the sub-run");
    assert.deepEqual(after.body.nodes.map((/** @type {any} */ n) => n.outcome), ["cancelled", "cancelled"]);
    // Under a cancelled parent a new sub-run is born cancelled; a finished parent takes none.
    const late = await createRun("treeLate", { kind: "generic", parent_run_id: root.id });
    assert.equal(late.status, "cancelled");
    const events = await call("GET", `/api/runs/${root.id}/events`, { key: s.userKey });
    assert.ok(events.body.data.some((/** @type {any} */ e) => e.event.type === "sub_run_attached"));
    const done = await createRun("treeDone", { kind: "generic", initial: "running" });
    expectStatus(await act(done.id, "complete", {}), 200);
    expectProblem(await call("POST", "/api/runs", { key: s.userKey, json: { kind: "generic", parent_run_id: done.id } }), 409, "parent_ended", "parent_run_id");
    expectProblem(await call("GET", `/api/runs/${root.id}/tree?limit=0`, { key: s.userKey }), 400, "invalid_argument", "limit");
    expectProblem(await call("GET", `/api/runs/${root.id}/tree`, { key: s.otherOrgKey }), 404, "run_not_found");
  });

  it("bulk cancels: dry run, job, progress, items, abort, idempotency", async () => {
    const a = await createRun("bulkA", { kind: "generic", initial: "queued", tags: [`bulk-${RUN}`] });
    const b = await createRun("bulkB", { kind: "generic", initial: "queued", tags: [`bulk-${RUN}`] });
    const dry = await call("POST", "/api/bulk-cancels/dry-run", {
      key: s.userKey,
      json: { selection: { ids: [a.id, b.id, "run_unknown"] }, reason: "bulk e2e", grace_ms: 1000, sample_size: 2 },
    });
    expectStatus(dry, 201);
    assert.equal(dry.body.count, 3);
    const byTag = await eventually(async () => {
      const r = await call("POST", "/api/bulk-cancels/dry-run", { key: s.userKey, json: { selection: { filter: { tag: `bulk-${RUN}`, kind: "generic", created_from: 0 } } } });
      return r.body.count === 2 ? r : undefined;
    }, "the index to list the tagged runs");
    expectStatus(byTag, 201);
    const started = await call("POST", "/api/bulk-cancels", { key: s.userKey, json: { dry_run_id: dry.body.dry_run_id, concurrency: 2 }, headers: { "idempotency-key": `bulk-${RUN}` } });
    expectStatus(started, 201);
    const id = started.body.job.id;
    const replay = await call("POST", "/api/bulk-cancels", { key: s.userKey, json: { dry_run_id: dry.body.dry_run_id, idempotency_key: `bulk-${RUN}` } });
    expectStatus(replay, 200);
    assert.equal(replay.body.job.id, id);
    const job = await eventually(async () => {
      const r = await call("GET", `/api/bulk-cancels/${id}`, { key: s.userKey });
      return r.body.job.status === "completed" ? r : undefined;
    }, "the job to complete");
    assert.equal(job.body.job.outcomes.cancelled + job.body.job.outcomes.not_found, 3);
    const items = await call("GET", `/api/bulk-cancels/${id}/items?limit=2&state=done`, { key: s.userKey });
    expectStatus(items, 200);
    assert.equal(items.body.data.length, 2);
    expectStatus(await call("GET", `/api/bulk-cancels/${id}/items?outcome=not_found`, { key: s.userKey }), 200);
    expectStatus(await call("POST", `/api/bulk-cancels/${id}/abort`, { key: s.userKey }), 200);
    const list = await call("GET", "/api/bulk-cancels?limit=5", { key: s.userKey });
    expectStatus(list, 200);
    assert.equal(list.body.data[0].id, id);
    // Errors, each in its documented shape.
    const other = await call("POST", "/api/bulk-cancels", { key: s.userKey, json: { dry_run_id: byTag.body.dry_run_id, idempotency_key: `bulk-${RUN}` } });
    expectProblem(other, 422, "idempotency_conflict");
    expectProblem(await call("POST", "/api/bulk-cancels", { key: s.userKey, json: { dry_run_id: dry.body.dry_run_id, idempotency_key: `bulk2-${RUN}` } }), 409, "dry_run_started");
    expectProblem(await call("POST", "/api/bulk-cancels", { key: s.userKey, json: { dry_run_id: "bdr_unknown" } }), 404, "dry_run_not_found");
    expectProblem(await call("GET", `/api/bulk-cancels/${id}`, { key: s.otherOrgKey }), 404, "job_not_found");
    expectProblem(await call("POST", `/api/bulk-cancels/${id}/abort`, { key: s.otherOrgKey }), 404, "job_not_found");
    expectProblem(await call("GET", `/api/bulk-cancels/${id}/items`, { key: s.otherOrgKey }), 404, "job_not_found");
    expectProblem(await call("GET", `/api/bulk-cancels/${id}`, { key: s.execKey }), 403, "forbidden");
    expectProblem(await call("POST", "/api/bulk-cancels/dry-run", { key: s.userKey, json: { selection: {} } }), 400, "invalid_argument", "selection");
    expectProblem(await call("GET", "/api/bulk-cancels?sort=x", { key: s.userKey }), 400, "invalid_argument", "sort");
    expectProblem(await call("GET", "/api/bulk-cancels/dry-run", { key: s.userKey }), 405, "method_not_allowed");
    expectProblem(await call("DELETE", `/api/bulk-cancels/${id}`, { key: s.userKey }), 405, "method_not_allowed");
  });

  it("the five contracts' routes answer in their own documented shapes", async () => {
    /** @type {Record<string, {kind: string, create: Record<string, unknown>}>} */
    const seeds = JSON.parse(await readFile(join(ROOT, "tests/contracts/runs.json"), "utf8"));
    const bases = {
      "000": "/v1/workflows/runs",
      "001": "/v1/workflows/tests/runs",
      "002": "/v1/workflows/experiments/runs",
      "003": "/workflow_runs",
      "004": "/v1/runs",
    };
    for (const [seed, base] of Object.entries(bases)) {
      const run = await createRun(`contract ${seed}`, { ...seeds[seed].create, kind: seeds[seed].kind, initial: "queued" });
      expectStatus(await call("GET", `${base}/${run.id}`, { key: s.userKey }), 200);
      expectStatus(await call("POST", `${base}/${run.id}/cancel`, { key: s.userKey, as: "api-key" }), 200);
      expectStatus(await call("GET", `${base}/${run.id}`, { key: s.userKey }), 200);
      expectStatus(await call("GET", `${base}/${run.id}`), 401);
      expectStatus(await call("POST", `${base}/${run.id}/cancel`, { key: s.execKey }), 403);
      expectStatus(await call("GET", `${base}/nope_${RUN}`, { key: s.userKey }), 404);
      expectStatus(await call("POST", `${base}/nope_${RUN}/cancel`, { key: s.userKey, raw: "[1]", headers: { "content-type": "application/json" } }), seed < "003" ? 422 : 400);
    }
  });

  it("every operation was exercised against its schema", (t) => {
    const exercised = new Set([...coverage.keys()].map((k) => k.split(" ")[0]));
    const missing = [...operations.keys()].filter((id) => !exercised.has(id));
    t.diagnostic(`validated responses: ${[...coverage.values()].reduce((a, b) => a + b, 0)}`);
    for (const [k, n] of [...coverage.entries()].sort()) t.diagnostic(`${k} ×${n}`);
    assert.deepEqual(missing, [], "operations never exercised");
  });
});
