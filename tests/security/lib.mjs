// Shared by the security tests (tests/security/): a test server, a raw HTTP client, each route
// family's error shape, what no response may ever contain, and run snapshots for "nothing changed".
import assert from "node:assert/strict";
import { adminToken, call, claim, createRun, newOrg, readReply } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

export { adminToken, call, claim, createRun, newOrg };
export { TIER, record } from "../reliability/lib/figures.mjs";

/**
 * @typedef {{status: number, headers: Headers, text: string, body: any}} Reply
 * @typedef {{orgId: string, user: string, executor: string}} Org
 * @typedef {"native" | "retab" | "extend" | "generic"} Family
 */

/**
 * A test server with a fresh admin token; `vars` are added to (or override) the defaults.
 * @param {Record<string, string>} [vars]
 */
export async function startServer(vars = {}) {
  const admin = adminToken();
  for (let attempt = 1; ; attempt++) {
    try {
      const server = await startDevServer({ vars: { ADMIN_TOKEN: admin, ...vars } });
      return { server, admin, url: server.url, ws: server.url.replace(/^http/, "ws") };
    } catch (err) {
      // The free port it picked was taken by another process before wrangler bound it: pick another.
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

/**
 * One raw request: any method, any headers, a string or byte body, no JSON help.
 * @param {string} base
 * @param {string} path
 * @param {{method?: string, headers?: Record<string, string>, body?: string | Uint8Array}} [o]
 * @returns {Promise<Reply>}
 */
export async function send(base, path, o = {}) {
  const res = await fetch(`${base}${path}`, {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: o.headers,
    body: /** @type {BodyInit | undefined} */ (o.body),
  });
  return readReply(res);
}

/** The route family (and so the error shape) a path belongs to. @param {string} path @returns {Family} */
export function familyOf(path) {
  const p = path.split("?")[0];
  if (p.startsWith("/v1/runs")) return "generic";
  if (p === "/workflow_runs" || p.startsWith("/workflow_runs/")) return "extend";
  if (p.startsWith("/v1/")) return "retab";
  return "native";
}

/**
 * Asserts an error reply is in its route family's own shape: problem+json for the native API,
 * FastAPI `{detail}` for Retab (000–002), `{code, message, retryable, requestId}` for Extend (003),
 * `{code, data: null, message, requestId}` for the generic contract (004).
 * @param {Family} family @param {Reply} res @param {string} what
 */
export function assertErrorShape(family, res, what) {
  const media = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const b = res.body;
  const show = `${what}: ${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(b && typeof b === "object" && !Array.isArray(b), `${show}: not a JSON object`);
  switch (family) {
    case "native":
      assert.equal(media, "application/problem+json", `${show}: content-type`);
      assert.match(String(b.type), /^https:\/\/runbrake\.dev\/problems\/[a-z_]+$/, `${show}: type`);
      assert.equal(typeof b.title, "string", `${show}: title`);
      assert.equal(b.status, res.status, `${show}: status field`);
      assert.equal(typeof b.code, "string", `${show}: code`);
      assert.equal(typeof b.detail, "string", `${show}: detail`);
      break;
    case "retab":
      assert.equal(media, "application/json", `${show}: content-type`);
      assert.deepEqual(Object.keys(b), ["detail"], `${show}: FastAPI bodies have only detail`);
      if (Array.isArray(b.detail)) {
        for (const d of b.detail) {
          assert.ok(Array.isArray(d.loc) && typeof d.msg === "string" && typeof d.type === "string", `${show}: detail item`);
        }
      } else {
        assert.equal(typeof b.detail, "string", `${show}: detail`);
      }
      break;
    case "extend":
      assert.equal(media, "application/json", `${show}: content-type`);
      assert.match(String(b.code), /^[A-Z_]+$/, `${show}: code`);
      assert.equal(typeof b.message, "string", `${show}: message`);
      assert.equal(typeof b.retryable, "boolean", `${show}: retryable`);
      assert.equal(typeof b.requestId, "string", `${show}: requestId`);
      assert.equal(res.headers.get("x-request-id"), b.requestId, `${show}: x-request-id`);
      break;
    case "generic":
      assert.equal(media, "application/json", `${show}: content-type`);
      assert.equal(b.code, res.status, `${show}: code`);
      assert.equal(b.data, null, `${show}: data`);
      assert.equal(typeof b.message, "string", `${show}: message`);
      assert.equal(typeof b.requestId, "string", `${show}: requestId`);
      break;
  }
}

/**
 * What no response body may contain: panics, stack traces, the runtime's and the code's internal
 * names, and full API keys (a key is shown once, by the admin route that creates it).
 */
export const LEAK_PATTERNS = [
  /panicked/i,
  /\bwasm\b/i,
  /\.rs\b/,
  /RuntimeError/,
  /\bDurable/i,
  /\bworkerd\b/i,
  /stack backtrace|\n\s+at [\w$.<>]+ \(/i,
  /RustError|JsValue|wasm-bindgen|unreachable executed/i,
  /internal JSON|\.internal\//i,
  /rbk_org_[A-Za-z0-9]{22}\.[A-Za-z0-9]{43}/,
];

/** The leak patterns a text matches. @param {string} text @returns {string[]} */
export function leaks(text) {
  return LEAK_PATTERNS.filter((re) => re.test(text)).map(String);
}

/**
 * A run's version and event log length, read through the native API (the run object's own record).
 * @param {string} base @param {string} key @param {string} runId
 */
export async function snapshot(base, key, runId) {
  const res = await call(base, `/api/runs/${runId}/events?limit=1000`, { key });
  assert.equal(res.status, 200, `snapshot ${runId}: ${res.status} ${res.text}`);
  const events = res.body.data;
  return { version: res.body.version, events: events.length, lastSeq: events.at(-1)?.seq ?? 0 };
}

/**
 * Runs `jobs` with at most `width` in flight.
 * @template T @param {number} width @param {(() => Promise<T>)[]} jobs @returns {Promise<T[]>}
 */
export async function pool(width, jobs) {
  /** @type {T[]} */
  const out = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

/**
 * A run of `kind` driven into `state` through the API (executor key for the lifecycle).
 * States: pending, queued, running, waiting, cancelling, completed, failed, rejected, cancelled.
 * @param {string} base @param {Org} org @param {string} state @param {Record<string, unknown>} [extra]
 * @returns {Promise<{id: string, state: string, leaseId?: string, commandId?: string}>}
 */
export async function runIn(base, org, state, extra = {}) {
  const initial = state === "pending" ? "pending" : "queued";
  const run = await createRun(base, org, { initial, ...extra });
  const id = run.id;
  const ok = async (/** @type {string} */ path, /** @type {string} */ key, /** @type {unknown} */ body) => {
    const res = await call(base, path, { key, body });
    assert.ok(res.status < 300, `${state}: ${path} → ${res.status} ${res.text}`);
    return res;
  };
  if (state === "pending" || state === "queued") return { id, state };
  if (state === "cancelled") {
    const commandId = `cmd-${id}`;
    await ok(`/api/runs/${id}/cancel`, org.user, { command_id: commandId, reason: "secret reason of this org" });
    return { id, state, commandId };
  }
  const leaseId = await claim(base, org, id);
  if (state === "running") return { id, state, leaseId };
  if (state === "waiting" || state === "rejected") {
    await ok(`/api/runs/${id}/wait`, org.executor, { lease_id: leaseId, reason: "human_review" });
    if (state === "rejected") await ok(`/api/runs/${id}/reject`, org.user, { note: "no" });
    return { id, state, leaseId };
  }
  if (state === "cancelling") {
    const commandId = `cmd-${id}`;
    await ok(`/api/runs/${id}/cancel`, org.user, { command_id: commandId, grace_ms: 3_600_000 });
    return { id, state, leaseId, commandId };
  }
  if (state === "completed") {
    await ok(`/api/runs/${id}/complete`, org.executor, { lease_id: leaseId, output: { secret: "output" } });
    return { id, state, leaseId };
  }
  if (state === "failed") {
    await ok(`/api/runs/${id}/fail`, org.executor, { lease_id: leaseId, message: "failure of this org" });
    return { id, state, leaseId };
  }
  throw new Error(`unknown state ${state}`);
}

export const STATES = ["pending", "queued", "running", "waiting", "cancelling", "completed", "failed", "rejected", "cancelled"];
