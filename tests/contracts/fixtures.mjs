// Runs of each contract's kind, created through the native API with the fields that contract shows
// (runs.json), and put into a given state with the real executor protocol. Shared by the contract and race tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { call, claim, createRun } from "../lib/api.mjs";

/**
 * @typedef {"000" | "001" | "002" | "003" | "004"} Seed
 * @typedef {{ user: string, executor: string, orgId: string }} Org
 */

/**
 * What each contract's runs are created with (kind and native create body): one file shared with the
 * Python SDK suite, so both drive the same runs.
 * @type {Record<Seed, { kind: string, name: string, create: Record<string, any> }>}
 */
export const RUNS = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "runs.json"), "utf8"));

/** Each contract's routes. */
const ROUTES = {
  "000": { cancel: (/** @type {string} */ id) => `/v1/workflows/runs/${id}/cancel`, read: (/** @type {string} */ id) => `/v1/workflows/runs/${id}` },
  "001": { cancel: (/** @type {string} */ id) => `/v1/workflows/tests/runs/${id}/cancel`, read: (/** @type {string} */ id) => `/v1/workflows/tests/runs/${id}` },
  "002": {
    cancel: (/** @type {string} */ id) => `/v1/workflows/experiments/runs/${id}/cancel`,
    read: (/** @type {string} */ id) => `/v1/workflows/experiments/runs/${id}`,
  },
  "003": { cancel: (/** @type {string} */ id) => `/workflow_runs/${id}/cancel`, read: (/** @type {string} */ id) => `/workflow_runs/${id}` },
  "004": { cancel: (/** @type {string} */ id) => `/v1/runs/${id}/cancel`, read: (/** @type {string} */ id) => `/v1/runs/${id}` },
};

/** @type {Record<Seed, { kind: string, name: string, cancel: (id: string) => string, read: (id: string) => string, create: Record<string, any> }>} */
export const CONTRACTS = /** @type {any} */ (
  Object.fromEntries(Object.entries(RUNS).map(([seed, r]) => [seed, { ...r, ...ROUTES[/** @type {Seed} */ (seed)] }]))
);

/** @type {Seed[]} */
export const SEEDS = ["000", "001", "002", "003", "004"];

/** The states a test can put a run in. */
export const STATES = /** @type {const} */ ([
  "pending",
  "queued",
  "running",
  "waiting",
  "sleeping",
  "leased",
  "completed",
  "failed",
  "rejected",
]);

/**
 * @param {string} base @param {Org} org @param {string} id @param {string} action @param {unknown} body
 */
export async function act(base, org, id, action, body = {}) {
  const res = await call(base, `/api/runs/${id}/${action}`, { key: org.executor, body });
  assert.equal(res.status, 200, `${action} ${id}: ${res.text}`);
  return res.body;
}

/**
 * Creates a run of `seed`'s kind and puts it in `state`.
 * @param {string} base @param {Org} org @param {Seed} seed @param {typeof STATES[number]} state
 * @param {Record<string, unknown>} [extra]
 * @returns {Promise<{ id: string, lease?: string }>}
 */
export async function prepare(base, org, seed, state, extra = {}) {
  const c = CONTRACTS[seed];
  const initial = state === "pending" ? "pending" : state === "running" ? "running" : "queued";
  const run = await createRun(base, org, { kind: c.kind, ...structuredClone(c.create), ...extra, initial });
  const id = run.id;
  if (["pending", "queued", "running"].includes(state)) return { id };
  const lease = await claim(base, org, id, 60_000);
  switch (state) {
    case "leased":
      break;
    case "waiting":
      await act(base, org, id, "wait", { lease_id: lease, reason: "human_review" });
      break;
    case "sleeping":
      await act(base, org, id, "wait", { lease_id: lease, reason: "sleep" });
      break;
    case "completed":
      await act(base, org, id, "complete", { lease_id: lease });
      break;
    case "failed":
      await act(base, org, id, "fail", { lease_id: lease, message: "OCR failed on page 3", code: "OCR_ERROR" });
      break;
    case "rejected": {
      await act(base, org, id, "wait", { lease_id: lease, reason: "human_review" });
      const res = await call(base, `/api/runs/${id}/reject`, { key: org.user, body: { note: "Invalid invoice format" } });
      assert.equal(res.status, 200, `reject: ${res.text}`);
      break;
    }
    default:
      throw new Error(`unknown state ${state}`);
  }
  return { id, lease };
}

/** The run as the native API shows it. @param {string} base @param {Org} org @param {string} id */
export async function native(base, org, id) {
  const res = await call(base, `/api/runs/${id}`, { key: org.user });
  assert.equal(res.status, 200, res.text);
  return res.body.run;
}

/** The run's event log. @param {string} base @param {Org} org @param {string} id @returns {Promise<any[]>} */
export async function events(base, org, id) {
  const res = await call(base, `/api/runs/${id}/events?limit=1000`, { key: org.user });
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

/** Event types that end a run. */
export const TERMINAL_EVENTS = new Set(["completed", "failed", "rejected", "cancelled"]);
