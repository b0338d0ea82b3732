// Shared harness of the reliability tests (tests/reliability/): a test server with the test clock,
// an HTTP client that counts server errors, a bounded pool, event logs and their invariants.
import { adminToken, call, newOrg } from "../../lib/api.mjs";
import { startDevServer } from "../../lib/server.mjs";
import { TIER } from "./figures.mjs";

export { TIER };

/** The plan's size for this tier: CI by default, N with RELIABILITY_TIER=long. @param {number} ci @param {number} long */
export function size(ci, long) {
  return TIER === "long" ? long : ci;
}

/** Event types that end a run. */
export const TERMINAL_EVENTS = new Set(["completed", "failed", "rejected", "cancelled"]);
/** Event types that change a run's lifecycle; none may follow a terminal event. */
const LIFECYCLE_EVENTS = new Set([
  "created",
  "enqueued",
  "claimed",
  "lease_extended",
  "lease_expired",
  "wait_started",
  "resumed",
  "cancel_requested",
  ...TERMINAL_EVENTS,
]);

/**
 * @typedef {{orgId: string, user: string, executor: string}} Org
 * @typedef {{status: number, body: any, text: string, headers: Headers}} Reply
 * @typedef {{seq: number, at: number, event: {type: string, [k: string]: any}}} EventRecord
 */

/**
 * A test server (wrangler dev, test clock on unless `testClock: false`) and a client that remembers
 * every status ≥ 500.
 * `selfHosted`: bare workerd (`make serve`) instead of `wrangler dev`.
 * @param {{vars?: Record<string, string>, name?: string, testClock?: boolean, selfHosted?: boolean}} [o]
 */
export async function startReliabilityServer(o = {}) {
  const admin = adminToken();
  /** @type {Record<string, string>} */
  const clock = o.testClock === false ? {} : { TEST_CLOCK: "1" };
  const server = await startDevServer({ vars: { ADMIN_TOKEN: admin, ...clock, ...o.vars }, selfHosted: o.selfHosted });
  /** @type {string[]} */
  const serverErrors = [];
  let requests = 0;
  const ctx = {
    server,
    admin,
    url: server.url,
    ws: server.url.replace(/^http/, "ws"),
    serverErrors,
    get requests() {
      return requests;
    },
    /**
     * `call` against this server; every reply ≥ 500 is remembered (the tests assert there are none).
     * @param {string} path @param {Parameters<typeof call>[2]} [opts] @returns {Promise<Reply>}
     */
    async call(path, opts = {}) {
      requests++;
      const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
      /** @type {Reply} */
      let res;
      for (let attempt = 1; ; attempt++) {
        try {
          res = await call(server.url, path, opts);
          break;
        } catch (err) {
          // A pooled connection to a server killed and restarted by the test: reads are safe to resend.
          if (method !== "GET" || attempt >= 3) throw err;
        }
      }
      if (res.status >= 500) serverErrors.push(`${method} ${path} → ${res.status} ${res.text.slice(0, 300)}`);
      return res;
    },
    /** @param {string} [name] @returns {Promise<Org>} */
    newOrg(name = o.name ?? "reliability") {
      return newOrg(server.url, admin, name);
    },
    /**
     * Moves the Worker's clock forward (TEST_CLOCK); returns the Worker's new `now`.
     * @param {number} ms
     * @returns {Promise<number>}
     */
    async advance(ms) {
      const res = await ctx.call("/api/admin/test-clock", { key: admin, body: { advance_ms: Math.max(0, Math.ceil(ms)) } });
      if (res.status !== 200) throw new Error(`test clock: ${res.status} ${res.text}`);
      return res.body.now;
    },
    /** The Worker's clock now (an advance of 0). */
    now() {
      return ctx.advance(0);
    },
  };
  return ctx;
}

/** @typedef {Awaited<ReturnType<typeof startReliabilityServer>>} Ctx */

/**
 * Runs `task(i)` for i in 0..n with at most `limit` at once.
 * @template T @param {number} n @param {number} limit @param {(i: number) => Promise<T>} task @returns {Promise<T[]>}
 */
export async function pool(n, limit, task) {
  /** @type {T[]} */
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/** Resolves after `ms` (a race's skew, never a wait for time to pass). @param {number} ms */
export function skew(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `intervalMs` until it returns a truthy value or `timeoutMs` passes.
 * @template T @param {() => Promise<T>} probe @param {number} timeoutMs @param {number} [intervalMs]
 * @returns {Promise<T | undefined>}
 */
export async function pollUntil(probe, timeoutMs, intervalMs = 50) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() >= until) return undefined;
    await skew(intervalMs); // poll interval of a condition
  }
}

/**
 * A run's whole event log, page by page (`GET /api/runs/{id}/events`).
 * @param {{call: Ctx["call"]}} ctx @param {Org} org @param {string} id @returns {Promise<EventRecord[]>}
 */
export async function readEvents(ctx, org, id) {
  /** @type {EventRecord[]} */
  const all = [];
  let after = 0;
  for (;;) {
    const res = await ctx.call(`/api/runs/${id}/events?after_seq=${after}&limit=1000`, { key: org.user });
    if (res.status !== 200) throw new Error(`events of ${id}: ${res.status} ${res.text}`);
    all.push(...res.body.data);
    if (res.body.next_after_seq == null) return all;
    after = res.body.next_after_seq;
  }
}

/** The run as the native API shows it. @param {{call: Ctx["call"]}} ctx @param {Org} org @param {string} id */
export async function readRun(ctx, org, id) {
  const res = await ctx.call(`/api/runs/${id}`, { key: org.user });
  if (res.status !== 200) throw new Error(`run ${id}: ${res.status} ${res.text}`);
  return res.body.run;
}

/** @param {EventRecord[]} log @param {string} type */
export function count(log, type) {
  return log.filter((e) => e.event.type === type).length;
}

/**
 * The T1 invariants on a run's log as the API serves it; returns what is wrong (empty: valid).
 * seq 1, 2, 3… with no gap; `created` first; at most one terminal event and no lifecycle event
 * after it; at most one `cancel_requested` and one `cancelled`; one receipt per command_id.
 * @param {EventRecord[]} log
 * @returns {string[]}
 */
export function logViolations(log) {
  /** @type {string[]} */
  const bad = [];
  log.forEach((e, i) => {
    if (e.seq !== i + 1) bad.push(`seq ${e.seq} at position ${i + 1}`);
  });
  if (log[0]?.event.type !== "created") bad.push(`first event ${log[0]?.event.type}`);
  const terminal = log.findIndex((e) => TERMINAL_EVENTS.has(e.event.type));
  if (terminal >= 0) {
    const after = log.slice(terminal + 1).filter((e) => LIFECYCLE_EVENTS.has(e.event.type));
    if (after.length) bad.push(`after ${log[terminal].event.type}: ${after.map((e) => e.event.type).join(", ")}`);
  }
  for (const type of ["cancel_requested", "cancelled"]) {
    if (count(log, type) > 1) bad.push(`${count(log, type)} ${type} events`);
  }
  /** @type {Map<string, number>} */
  const receipts = new Map();
  for (const e of log) {
    if (e.event.type === "cancel_recorded") receipts.set(e.event.command_id, (receipts.get(e.event.command_id) ?? 0) + 1);
  }
  for (const [id, n] of receipts) if (n > 1) bad.push(`${n} receipts for command_id ${id}`);
  return bad;
}

/** The type of the first terminal event of a log (undefined while the run lives). @param {EventRecord[]} log */
export function firstTerminal(log) {
  return log.find((e) => TERMINAL_EVENTS.has(e.event.type))?.event.type;
}

/** A percentage with one decimal. @param {number} part @param {number} whole */
export function pct(part, whole) {
  return whole === 0 ? 0 : Math.round((1000 * part) / whole) / 10;
}
