// A small client of runbrake's native API for end-to-end tests and benchmarks.
import { randomBytes } from "node:crypto";
import WebSocket from "ws";

/** A random admin token for a test server (never a committed secret). */
export function adminToken() {
  return randomBytes(24).toString("hex");
}

/**
 * @param {string} base
 * @param {string} path
 * @param {{method?: string, key?: string, body?: unknown, headers?: Record<string, string>}} [o]
 * @returns {Promise<{status: number, body: any, text: string, headers: Headers}>}
 */
export async function call(base, path, o = {}) {
  const res = await fetch(`${base}${path}`, {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: {
      ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
      ...(o.body === undefined ? {} : { "content-type": "application/json" }),
      ...o.headers,
    },
    body: o.body === undefined ? undefined : typeof o.body === "string" ? o.body : JSON.stringify(o.body),
  });
  return readReply(res);
}

/**
 * A reply as the tests look at it: its text, and its body parsed as JSON when it is JSON.
 * @param {Response} res
 */
export async function readReply(res) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, text, headers: res.headers };
}

/**
 * Creates an organisation through the admin API.
 * @param {string} base @param {string} admin
 * @returns {Promise<{orgId: string, user: string, executor: string}>}
 */
export async function newOrg(base, admin, name = "e2e org") {
  const res = await call(base, "/api/admin/orgs", { key: admin, body: { name } });
  if (res.status !== 201) throw new Error(`create org: ${res.status} ${res.text}`);
  /** @type {{role: string, key: string}[]} */
  const keys = res.body.keys;
  const find = (/** @type {string} */ role) => {
    const k = keys.find((x) => x.role === role);
    if (!k) throw new Error(`no ${role} key`);
    return k.key;
  };
  return { orgId: res.body.org.org_id, user: find("user"), executor: find("executor") };
}

/**
 * @param {string} base @param {{user: string}} org @param {Record<string, unknown>} [body]
 * @returns {Promise<any>} the created run's view
 */
export async function createRun(base, org, body = {}) {
  const res = await call(base, "/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", ...body } });
  if (res.status !== 201) throw new Error(`create run: ${res.status} ${res.text}`);
  return res.body.run;
}

/** @param {string} base @param {{executor: string}} org @param {string} runId @returns {Promise<string>} lease id */
export async function claim(base, org, runId, leaseMs = 60_000) {
  const res = await call(base, `/api/runs/${runId}/claim`, { key: org.executor, body: { executor: "e2e-exec", lease_ms: leaseMs } });
  if (res.status !== 200) throw new Error(`claim: ${res.status} ${res.text}`);
  return res.body.lease.id;
}

/**
 * Opens a WebSocket and collects its JSON messages.
 * @param {string} url
 * @param {Record<string, string>} [headers]
 */
export async function openSocket(url, headers = {}) {
  const ws = new WebSocket(url, { headers });
  /** @type {any[]} */
  const messages = [];
  /** @type {(() => void)[]} */
  const waiters = [];
  ws.on("message", (d) => {
    messages.push(JSON.parse(String(d)));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
  return {
    ws,
    messages,
    /**
     * Resolves with the first message matching `pred` (already received or still to come).
     * @param {(m: any) => boolean} pred
     * @param {number} [timeoutMs]
     */
    async next(pred, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(pred);
        if (found) return found;
        const left = until - Date.now();
        if (left <= 0) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
        await new Promise((resolve) => {
          const timer = setTimeout(() => resolve(undefined), left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
    },
    close() {
      ws.close();
    },
  };
}

/**
 * The HTTP status with which a WebSocket upgrade is refused (0 if it opened).
 * @param {string} url @param {Record<string, string>} [headers]
 * @returns {Promise<number>}
 */
export function upgradeStatus(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => {
      ws.close();
      resolve(0);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? -1));
    ws.once("error", (e) => reject(e));
  });
}
