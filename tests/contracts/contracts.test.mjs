// Contract tests for the five vendor cancel routes (seeds 000–004) against `wrangler dev`: every reply,
// success or error, is validated against a JSON Schema written from its seed document (seed 002's own
// OpenAPI fragment for its cancel reply and 422), in every outcome the design's table names, and the
// values are checked against what the native API says happened.
//
//   source scripts/env.sh && SKIP_WORKER_BUILD=1 node --test tests/contracts/contracts.test.mjs
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";
import { CONTRACTS, SEEDS, act, events, native, prepare } from "./fixtures.mjs";
import { SCHEMAS, contractSchemas } from "./schemas.mjs";

const ADMIN = adminToken();
const { check } = contractSchemas();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {{orgId: string, user: string, executor: string}} */
let org;
/** @type {{orgId: string, user: string, executor: string}} */
let other;
/** Every requestId seen (003 errors, 004 replies): each must be new. */
const requestIds = new Set();

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN } });
  org = await newOrg(server.url, ADMIN, "contracts");
  other = await newOrg(server.url, ADMIN, "another organisation");
});
after(async () => {
  await server?.stop();
});

/**
 * @typedef {{status: number, text: string, body: any, headers: Headers}} Reply
 * @typedef {"000" | "001" | "002" | "003" | "004"} Seed
 */

/**
 * One HTTP request, body and headers exactly as given.
 * @param {string} method @param {string} path
 * @param {{headers?: Record<string, string>, body?: string | Uint8Array}} [o]
 * @returns {Promise<Reply>}
 */
async function raw(method, path, o = {}) {
  const res = await fetch(`${server.url}${path}`, { method, headers: o.headers ?? {}, body: /** @type {any} */ (o.body) });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text}`);
  }
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  const rid = body && typeof body === "object" ? body.requestId : undefined;
  if (rid !== undefined) {
    assert.ok(!requestIds.has(rid), `requestId ${rid} repeated`);
    requestIds.add(rid);
    assert.equal(res.headers.get("x-request-id"), rid);
  }
  return { status: res.status, text, body, headers: res.headers };
}

/** @param {string | null | undefined} key @returns {Record<string, string>} */
const bearer = (key) => (key ? { authorization: `Bearer ${key}` } : {});

/**
 * A cancel as each contract's real client sends it: 000 the Retab SDK's `{}` (JSON), 002 the Retab
 * SDK's empty body still declared JSON, 001 and 004 plain bodiless POSTs, 003 the Extend SDK's
 * bodiless POST with its version header.
 * @param {Seed} seed @param {string} id
 * @param {{key?: string | null, headers?: Record<string, string>, body?: string | Uint8Array, query?: string}} [o]
 */
function cancel(seed, id, o = {}) {
  const auth = bearer(o.key === undefined ? org.user : o.key);
  /** @type {Record<string, Record<string, string>>} */
  const sdkHeaders = {
    "000": { "content-type": "application/json" },
    "001": {},
    "002": { "content-type": "application/json" },
    "003": { "x-extend-api-version": "2026-02-09" },
    "004": {},
  };
  const body = o.body !== undefined ? o.body : seed === "000" ? "{}" : undefined;
  return raw("POST", `${CONTRACTS[seed].cancel(id)}${o.query ?? ""}`, {
    headers: { ...sdkHeaders[seed], ...auth, ...o.headers },
    body,
  });
}

/** @param {Seed} seed @param {string} id @param {{key?: string | null, headers?: Record<string, string>}} [o] */
function read(seed, id, o = {}) {
  return raw("GET", CONTRACTS[seed].read(id), { headers: { ...bearer(o.key === undefined ? org.user : o.key), ...o.headers } });
}

/** The status word a success body carries. @param {Seed} seed @param {any} body @param {"cancel" | "read"} route */
function word(seed, body, route) {
  switch (seed) {
    case "000":
      return route === "cancel" ? body.run.lifecycle.status : body.lifecycle.status;
    case "003":
      return body.status;
    case "004":
      return body.data.status;
    default:
      return body.lifecycle.status;
  }
}

/** Checks that a success body echoes what the run was created with. @param {Seed} seed @param {any} body @param {"cancel" | "read"} route */
function checkEcho(seed, body, route) {
  const created = /** @type {any} */ (CONTRACTS[seed].create);
  switch (seed) {
    case "000": {
      const run = route === "cancel" ? body.run : body;
      assert.equal(run.workflow_id, created.workflow.id);
      assert.equal(run.workflow_version_id, created.workflow.version_id);
      assert.deepEqual(run.workflow, {
        workflow_id: created.workflow.id,
        snapshot_id: created.workflow.version_id,
        name_at_run_time: created.workflow.name,
      });
      assert.equal(run.organization_id, created.attributes.organization_id);
      assert.deepEqual(run.inputs, created.attributes.inputs);
      assert.deepEqual(run.metadata, created.metadata);
      assert.deepEqual(run.trigger, { type: "api" });
      assert.equal(run.lifecycle.kind, run.lifecycle.status);
      const t = run.timing;
      assert.ok(Date.parse(t.created_at) <= Date.parse(t.completed_at ?? t.created_at));
      if (t.completed_at && t.started_at) {
        assert.equal(t.duration_ms, Date.parse(t.completed_at) - Date.parse(t.started_at));
        assert.equal(t.active_duration_ms, t.duration_ms - t.accumulated_human_waiting_ms);
      } else {
        assert.equal(t.duration_ms, null);
      }
      break;
    }
    case "001": {
      assert.deepEqual(body.workflow, {
        workflow_id: created.workflow.id,
        version_id: created.workflow.version_id,
        name: created.workflow.name,
      });
      assert.deepEqual(body.target, created.attributes.target);
      assert.equal(body.test_id, created.attributes.test_id);
      assert.equal(body.trigger.type, "manual");
      assert.equal(body.total_tests, created.children.length);
      const c = body.counts.lifecycle_counts;
      assert.equal(c.pending + c.queued + c.running + c.completed + c.error + c.cancelled, body.total_tests);
      break;
    }
    case "002": {
      if (route === "cancel") {
        assert.deepEqual(Object.keys(body).sort(), ["id", "lifecycle", "timing"]);
        break;
      }
      for (const k of ["experiment_id", "block_id", "block_type", "n_consensus", "block_execution_fingerprint", "documents_fingerprint", "block_version_id", "score"]) {
        assert.deepEqual(body[k], created.attributes[k], k);
      }
      assert.equal(body.workflow_id, created.workflow.id);
      assert.equal(body.workflow_version_id, created.workflow.version_id);
      assert.equal(body.total_document_count, created.children.length);
      break;
    }
    case "003": {
      const a = created.attributes;
      assert.deepEqual(body.workflow, {
        object: "workflow",
        id: created.workflow.id,
        name: created.workflow.name,
        createdAt: a.workflow.createdAt,
        updatedAt: a.workflow.updatedAt,
      });
      assert.deepEqual(body.workflowVersion, {
        object: "workflow_version",
        id: created.workflow.version_id,
        version: created.workflow.version,
        name: a.workflowVersion.name,
        createdAt: a.workflowVersion.createdAt,
      });
      assert.deepEqual(body.metadata, created.metadata);
      assert.equal(body.batchId, created.batch_id);
      assert.deepEqual(body.files, a.files);
      assert.deepEqual(body.stepRuns, a.stepRuns);
      assert.deepEqual(body.usage, a.usage);
      assert.equal(body.reviewedByUser, null);
      assert.ok(body.dashboardUrl.endsWith(body.id));
      break;
    }
    case "004": {
      const d = body.data;
      for (const [k, v] of Object.entries(created.attributes)) assert.deepEqual(d[k], v, k);
      assert.equal(d.workflowId, created.workflow.id);
      assert.equal(d.workflowVersion, 42);
      assert.equal(d.organizationId, org.orgId);
      break;
    }
  }
}

/**
 * What a cancel in each state does, per contract: the run is cancelled in the reply, a cancel is
 * requested (the executor holds a lease and gets the default grace), or the contract refuses.
 * @type {Record<Seed, Record<string, "cancelled" | "requested" | "refused">>}
 */
const EXPECTED = {
  "000": { pending: "cancelled", queued: "cancelled", running: "cancelled", waiting: "cancelled", sleeping: "cancelled", leased: "requested", completed: "refused", failed: "refused", rejected: "refused" },
  // Grace 0: a leased run is cancelled in the reply. Waiting shows as `running` in 001/002.
  "001": { pending: "cancelled", queued: "cancelled", running: "cancelled", waiting: "cancelled", sleeping: "cancelled", leased: "cancelled", completed: "refused", failed: "refused", rejected: "refused" },
  "002": { pending: "cancelled", queued: "cancelled", running: "cancelled", waiting: "cancelled", sleeping: "cancelled", leased: "cancelled", completed: "refused", failed: "refused", rejected: "refused" },
  // NEEDS_REVIEW is not cancellable in Extend; a run sleeping on a timer is PROCESSING and is.
  "003": { pending: "cancelled", queued: "cancelled", running: "cancelled", waiting: "refused", sleeping: "cancelled", leased: "requested", completed: "refused", failed: "refused", rejected: "refused" },
  "004": { pending: "cancelled", queued: "cancelled", running: "cancelled", waiting: "cancelled", sleeping: "cancelled", leased: "requested", completed: "refused", failed: "refused", rejected: "refused" },
};

/** The HTTP status of a refusal in each contract. */
const REFUSED_STATUS = { "000": 200, "001": 404, "002": 404, "003": 400, "004": 409 };

/** The status word a cancel reply carries for each expectation. */
const WORDS = {
  "000": { cancelled: "cancelled", requested: "running" },
  "001": { cancelled: "cancelled", requested: "running" },
  "002": { cancelled: "cancelled", requested: "running" },
  "003": { cancelled: "CANCELLED", requested: "CANCELLING" },
  "004": { cancelled: "cancelled", requested: "running" },
};

/**
 * Validates a refusal body and its values.
 * @param {Seed} seed @param {Reply} res @param {string} state @param {any} before the native run before the cancel
 */
function checkRefusal(seed, res, state, before) {
  assert.equal(res.status, REFUSED_STATUS[seed], res.text);
  if (seed === "000") {
    check(SCHEMAS[seed].cancel, res.body, `000 ${state}`);
    assert.equal(res.body.cancellation_status, "cancellation_failed");
    // The real run, as it is.
    assert.equal(res.body.run.lifecycle.status, before.vocabulary["000"]);
    if (state === "failed") assert.equal(res.body.run.lifecycle.message, "OCR failed on page 3");
    if (state === "rejected") assert.equal(res.body.run.lifecycle.message, "Invalid invoice format");
    checkEcho(seed, res.body, "cancel");
    return;
  }
  check(SCHEMAS[seed].error, res.body, `${seed} ${state}`);
  if (seed === "003") {
    assert.equal(res.body.code, "INVALID_REQUEST");
    assert.equal(res.body.retryable, false);
    assert.match(res.body.message, new RegExp(before.vocabulary["003"]));
  }
  if (seed === "004") assert.equal(res.body.code, 409);
}

for (const seed of SEEDS) {
  const c = CONTRACTS[seed];
  describe(`seed ${seed}: ${c.name} (${c.cancel("{id}")})`, () => {
    for (const [state, expected] of Object.entries(EXPECTED[seed])) {
      it(`cancel when ${state}: ${expected}`, async () => {
        const { id, lease } = await prepare(server.url, org, seed, /** @type {any} */ (state));
        const before = await native(server.url, org, id);
        const res = await cancel(seed, id);
        const afterRun = await native(server.url, org, id);
        if (expected === "refused") {
          checkRefusal(seed, res, state, before);
          assert.equal(afterRun.version, before.version, "a refused cancel changes nothing");
          assert.equal(afterRun.status, before.status);
        } else {
          assert.equal(res.status, 200, res.text);
          check(SCHEMAS[seed].cancel, res.body, `${seed} ${state}`);
          assert.equal(word(seed, res.body, "cancel"), WORDS[seed][expected]);
          if (seed === "000") {
            assert.equal(res.body.cancellation_status, expected === "cancelled" ? "cancelled" : "cancellation_requested");
            assert.equal(res.body.redis_available, true);
          }
          checkEcho(seed, res.body, "cancel");
          assert.equal(afterRun.status, expected === "cancelled" ? "cancelled" : "cancelling");
          assert.equal(afterRun.state.status.by.source, { "000": "retab_workflow", "001": "retab_workflow_test", "002": "retab_experiment", "003": "extend_workflow", "004": "generic" }[seed]);
        }
        // The read route agrees with the run, in the same shape as the cancel reply.
        const got = await read(seed, id);
        assert.equal(got.status, 200, got.text);
        check(SCHEMAS[seed].read, got.body, `${seed} read after ${state}`);
        assert.equal(word(seed, got.body, "read"), afterRun.vocabulary[seed]);
        checkEcho(seed, got.body, "read");
        if (seed === "001" && expected === "cancelled") {
          const counts = got.body.counts.lifecycle_counts;
          assert.equal(counts.pending + counts.running, 0, "the cancel reached every test case");
          assert.equal(counts.cancelled, 3);
        }
        if (seed === "002" && expected === "cancelled") assert.equal(got.body.completed_document_count, 0);

        if (expected === "requested") {
          // The executor stops: a client polling the read route sees the cancel complete.
          assert.ok(lease);
          await act(server.url, org, id, "ack-cancel", { lease_id: lease });
          const done = await read(seed, id);
          check(SCHEMAS[seed].read, done.body, `${seed} read after ack`);
          assert.equal(word(seed, done.body, "read"), WORDS[seed].cancelled);
          if (seed === "000") assert.ok(done.body.timing.completed_at);
          if (seed === "003") assert.ok(done.body.endTime);
          if (seed === "004") assert.ok(done.body.data.finishedAt);
        }
        if (seed === "001" || seed === "002") {
          if (state === "leased") assert.equal(afterRun.state.status.forced, true, "grace 0 forces a leased run");
        }
      });
    }

    it("repeated cancel: the contract's answer, and one cancel in the log", async () => {
      const { id } = await prepare(server.url, org, seed, "queued");
      const first = await cancel(seed, id);
      assert.equal(first.status, 200);
      const before = await native(server.url, org, id);
      const second = await cancel(seed, id);
      if (seed === "000") {
        assert.equal(second.status, 200);
        check(SCHEMAS[seed].cancel, second.body, "000 repeated");
        assert.equal(second.body.cancellation_status, "cancelled");
        assert.equal(second.text, first.text, "the run is unchanged");
      } else {
        checkRefusal(seed, second, "cancelled", before);
      }
      assert.equal((await native(server.url, org, id)).version, before.version);
      const log = await events(server.url, org, id);
      assert.equal(log.filter((e) => e.event.type === "cancelled").length, 1);
    });

    if (seed === "000" || seed === "003" || seed === "004") {
      it("repeated cancel while the executor stops: still requested, one request in the log", async () => {
        const { id } = await prepare(server.url, org, seed, "leased");
        const first = await cancel(seed, id);
        const second = await cancel(seed, id);
        for (const res of [first, second]) {
          assert.equal(res.status, 200, res.text);
          check(SCHEMAS[seed].cancel, res.body, `${seed} repeated while cancelling`);
          assert.equal(word(seed, res.body, "cancel"), WORDS[seed].requested);
        }
        if (seed === "000") assert.equal(second.text, first.text);
        const log = await events(server.url, org, id);
        assert.equal(log.filter((e) => e.event.type === "cancel_requested").length, 1);
      });
    }

    if (seed === "001" || seed === "002") {
      it("a cancel already in progress (sent elsewhere with a grace) is answered with the run as it is", async () => {
        const { id, lease } = await prepare(server.url, org, seed, "leased");
        const elsewhere = await call(server.url, `/api/runs/${id}/cancel`, { key: org.user, body: { grace_ms: 60_000 } });
        assert.equal(elsewhere.body.outcome.kind, "requested");
        const res = await cancel(seed, id);
        assert.equal(res.status, 200, res.text);
        check(SCHEMAS[seed].cancel, res.body, `${seed} while cancelling`);
        assert.equal(res.body.lifecycle.status, "running");
        await act(server.url, org, id, "ack-cancel", { lease_id: lease });
        const done = await read(seed, id);
        assert.equal(done.body.lifecycle.status, "cancelled");
      });
    }

    it("unknown id, a run of another kind and another organisation's run: one 404", async () => {
      const otherSeed = seed === "000" ? "001" : "000";
      const wrongKind = await prepare(server.url, org, otherSeed, "queued");
      const foreign = await prepare(server.url, other, seed, "queued");
      const prefix = { "000": "run_", "001": "wftestrun_", "002": "exprun_", "003": "workflow_run_", "004": "grun_" }[seed];
      const ids = [`${prefix}doesnotexist0000000000`, wrongKind.id, foreign.id, "bad.id"];
      /** @type {string[]} */
      const bodies = [];
      for (const id of ids) {
        for (const res of [await cancel(seed, id), await read(seed, id)]) {
          assert.equal(res.status, 404, `${id}: ${res.text}`);
          check(SCHEMAS[seed].error, res.body, `${seed} 404 ${id}`);
          const { requestId: _r, ...rest } = res.body;
          bodies.push(JSON.stringify(rest));
        }
      }
      assert.equal(new Set(bodies).size, 1, `one 404 body for all: ${[...new Set(bodies)].join(" | ")}`);
      // Nothing happened to either run.
      assert.equal((await native(server.url, org, wrongKind.id)).status, "queued");
      assert.equal((await native(server.url, other, foreign.id)).status, "queued");
    });

    it("missing key and bad key: 401 in the contract's shape, nothing changes", async () => {
      const { id } = await prepare(server.url, org, seed, "queued");
      const forged = `rbk_${org.orgId}.${"x".repeat(43)}`;
      for (const key of [null, "nope", forged]) {
        for (const res of [await cancel(seed, id, { key }), await read(seed, id, { key })]) {
          assert.equal(res.status, 401, res.text);
          check(SCHEMAS[seed].error, res.body, `${seed} 401`);
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
          if (seed === "003") assert.equal(res.body.code, "UNAUTHORIZED");
          if (seed === "004") assert.equal(res.body.code, 401);
        }
      }
      // Another organisation's valid key only finds its own runs.
      assert.equal((await cancel(seed, id, { key: other.user })).status, 404);
      // An executor key may not cancel.
      const exec = await cancel(seed, id, { key: org.executor });
      assert.equal(exec.status, 403, exec.text);
      check(SCHEMAS[seed].error, exec.body, `${seed} 403`);
      assert.equal((await native(server.url, org, id)).status, "queued");
      // The seeds list an `Api-Key` header; the SDKs send Bearer. Both work.
      const viaApiKey = await cancel(seed, id, { key: null, headers: { "api-key": org.user } });
      assert.equal(viaApiKey.status, 200, viaApiKey.text);
    });

    it("malformed body: bad input in the contract's shape, nothing changes", async () => {
      const { id } = await prepare(server.url, org, seed, "queued");
      const bad = [
        { body: "{not json", headers: { "content-type": "application/json" } },
        { body: "[1, 2]", headers: { "content-type": "application/json" } },
        { body: "command_id=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
      ];
      if (seed === "000") {
        bad.push({ body: JSON.stringify({ command_id: 5 }), headers: { "content-type": "application/json" } });
        bad.push({ body: JSON.stringify({ command_id: "has spaces/slash" }), headers: { "content-type": "application/json" } });
        bad.push({ body: JSON.stringify({ command_id: "" }), headers: { "content-type": "application/json" } });
      }
      for (const o of bad) {
        const res = await cancel(seed, id, o);
        const want = seed === "003" || seed === "004" ? 400 : 422;
        assert.equal(res.status, want, `${o.body}: ${res.text}`);
        check(SCHEMAS[seed].invalid, res.body, `${seed} bad input`);
        if (want === 422) {
          check("common.schema.json#/$defs/fastapiValidationError", res.body, `${seed} bad input`);
          assert.equal(res.body.detail[0].loc[0], "body");
        }
        if (seed === "003") assert.equal(res.body.code, "INVALID_REQUEST");
        if (seed === "004") assert.equal(res.body.code, 400);
      }
      if (seed === "000") {
        const res = await cancel(seed, id, { body: JSON.stringify({ command_id: 5 }), headers: { "content-type": "application/json" } });
        assert.deepEqual(res.body.detail[0].loc, ["body", "command_id"]);
        assert.equal(res.body.detail[0].type, "string_type");
      }
      const run = await native(server.url, org, id);
      assert.equal(run.status, "queued");
      assert.equal((await events(server.url, org, id)).length, run.version);
    });

    it("oversized body: 413 in the contract's shape, nothing changes", async () => {
      const { id } = await prepare(server.url, org, seed, "queued");
      const big = JSON.stringify({ command_id: "cmd_big", pad: "x".repeat(64 * 1024) });
      const res = await cancel(seed, id, { body: big, headers: { "content-type": "application/json" } });
      assert.equal(res.status, 413, res.text);
      check(SCHEMAS[seed].error, res.body, `${seed} 413`);
      assert.equal((await native(server.url, org, id)).status, "queued");
    });

    it("unknown routes and methods answer in the contract's shape", async () => {
      const { id } = await prepare(server.url, org, seed, "queued");
      const wrongMethod = await raw("GET", c.cancel(id), { headers: bearer(org.user) });
      assert.equal(wrongMethod.status, 405);
      assert.equal(wrongMethod.headers.get("allow"), "POST");
      check(SCHEMAS[seed].error, wrongMethod.body, `${seed} 405`);
      const noRoute = await raw("POST", `${c.read(id)}/pause`, { headers: bearer(org.user) });
      assert.equal(noRoute.status, 404);
      check(SCHEMAS[seed].error, noRoute.body, `${seed} no route`);
      assert.equal((await native(server.url, org, id)).status, "queued");
    });
  });
}

describe("seed 000: body, idempotency key and access_token", () => {
  it("accepts no body, {}, null and a null command_id", async () => {
    // A Uint8Array body goes out without a Content-Type (fetch labels strings text/plain); FastAPI
    // reads an undeclared body as JSON, and so does runbrake.
    for (const [body, headers] of /** @type {[string | Uint8Array | undefined, Record<string, string>][]} */ ([
      [undefined, {}],
      ["", { "content-type": "application/json" }],
      ["{}", { "content-type": "application/json" }],
      ["null", { "content-type": "application/json" }],
      ['{"command_id": null}', { "content-type": "application/json" }],
      [new TextEncoder().encode('{"command_id": "cmd_extra", "ignored": true}'), {}],
    ])) {
      const { id } = await prepare(server.url, org, "000", "queued");
      const res = await raw("POST", CONTRACTS["000"].cancel(id), { headers: { ...bearer(org.user), ...headers }, body });
      assert.equal(res.status, 200, `${body}: ${res.text}`);
      check(SCHEMAS["000"].cancel, res.body, `000 body ${body}`);
      assert.equal(res.body.cancellation_status, "cancelled");
    }
  });

  for (const state of /** @type {const} */ (["queued", "leased", "completed"])) {
    it(`command_id replay (${state}): byte-identical reply, one cancel in the event log`, async () => {
      const { id } = await prepare(server.url, org, "000", state);
      const body = JSON.stringify({ command_id: `cmd_replay_${state}` });
      const headers = { "content-type": "application/json" };
      const first = await cancel("000", id, { body, headers });
      const version = (await native(server.url, org, id)).version;
      const again = await cancel("000", id, { body, headers });
      const third = await cancel("000", id, { body, headers });
      assert.equal(first.status, 200);
      check(SCHEMAS["000"].cancel, first.body, "000 replay");
      assert.equal(again.text, first.text);
      assert.equal(third.text, first.text);
      assert.equal((await native(server.url, org, id)).version, version, "a replay writes nothing");
      const log = await events(server.url, org, id);
      const cancels = log.filter((e) => e.event.type === "cancelled" || e.event.type === "cancel_requested");
      assert.equal(cancels.length, state === "completed" ? 0 : 1);
      const receipts = log.filter((e) => e.event.type === "cancel_recorded");
      assert.equal(receipts.length, 1);
      assert.equal(receipts[0].event.command_id, `cmd_replay_${state}`);
      const want = { queued: "cancelled", leased: "cancellation_requested", completed: "cancellation_failed" }[state];
      assert.equal(first.body.cancellation_status, want);
      // The receipt is visible through the native API too.
      const receipt = await call(server.url, `/api/runs/${id}/cancellations/cmd_replay_${state}`, { key: org.user });
      assert.equal(receipt.status, 200);
    });
  }

  it("a second command_id on a run already cancelling is answered, not enqueued", async () => {
    const { id } = await prepare(server.url, org, "000", "leased");
    const headers = { "content-type": "application/json" };
    const a = await cancel("000", id, { body: '{"command_id":"cmd_a"}', headers });
    const b = await cancel("000", id, { body: '{"command_id":"cmd_b"}', headers });
    assert.equal(a.body.cancellation_status, "cancellation_requested");
    assert.equal(b.body.cancellation_status, "cancellation_requested");
    const log = await events(server.url, org, id);
    assert.equal(log.filter((e) => e.event.type === "cancel_requested").length, 1);
  });

  it("takes the key from access_token when no header carries one", async () => {
    const { id } = await prepare(server.url, org, "000", "queued");
    const bad = await cancel("000", id, { key: null, query: "?access_token=rbk_nope" });
    assert.equal(bad.status, 401);
    check(SCHEMAS["000"].error, bad.body, "000 access_token 401");
    const ok = await cancel("000", id, { key: null, query: `?access_token=${encodeURIComponent(org.user)}` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.cancellation_status, "cancelled");
    // Only this contract's cancel documents it.
    const elsewhere = await read("000", id, { key: null });
    assert.equal(elsewhere.status, 401);
    const other003 = await prepare(server.url, org, "003", "queued");
    const res = await raw("POST", `${CONTRACTS["003"].cancel(other003.id)}?access_token=${encodeURIComponent(org.user)}`);
    assert.equal(res.status, 401);
  });
});

describe("seed 003: x-extend-api-version", () => {
  it("missing means current, 2026-02-09 is served, anything else is a 400 that changes nothing", async () => {
    const { id } = await prepare(server.url, org, "003", "queued");
    for (const version of ["2024-01-01", "2026-02-10", "latest", ""]) {
      for (const res of [
        await cancel("003", id, { headers: { "x-extend-api-version": version } }),
        await read("003", id, { headers: { "x-extend-api-version": version } }),
      ]) {
        assert.equal(res.status, 400, `${version}: ${res.text}`);
        check(SCHEMAS["003"].error, res.body, "003 bad version");
        assert.equal(res.body.code, "INVALID_REQUEST");
        assert.match(res.body.message, /x-extend-api-version/);
      }
    }
    assert.equal((await native(server.url, org, id)).status, "queued");
    // Without the header (a client that predates versioning) the current version answers.
    const res = await raw("POST", CONTRACTS["003"].cancel(id), { headers: bearer(org.user) });
    assert.equal(res.status, 200, res.text);
    check(SCHEMAS["003"].cancel, res.body, "003 without version");
    assert.equal(res.body.status, "CANCELLED");
    const got = await read("003", id, { headers: { "x-extend-api-version": "2026-02-09" } });
    assert.equal(got.status, 200);
    assert.equal(got.body.status, "CANCELLED");
  });

  it("shows a failed run's failure and a rejected run's review", async () => {
    const failed = await prepare(server.url, org, "003", "failed");
    const f = await read("003", failed.id);
    check(SCHEMAS["003"].read, f.body, "003 failed");
    assert.equal(f.body.status, "FAILED");
    assert.equal(f.body.failureReason, "OCR_ERROR");
    assert.equal(f.body.failureMessage, "OCR failed on page 3");
    const rejected = await prepare(server.url, org, "003", "rejected");
    const r = await read("003", rejected.id);
    check(SCHEMAS["003"].read, r.body, "003 rejected");
    assert.equal(r.body.status, "REJECTED");
    assert.equal(r.body.reviewed, true);
    assert.equal(r.body.rejectionNote, "Invalid invoice format");
    assert.ok(r.body.reviewedAt);
  });
});

describe("seed 004: envelope", () => {
  it("every reply carries a new requestId", async () => {
    const { id } = await prepare(server.url, org, "004", "queued");
    const seen = new Set();
    for (let i = 0; i < 5; i++) {
      const res = await read("004", id);
      assert.ok(!seen.has(res.body.requestId));
      seen.add(res.body.requestId);
    }
  });
});

describe("the schemas themselves", () => {
  // Guards against a schema that accepts anything: the seeds' own examples, and near misses.
  const fails = (/** @type {string} */ ref, /** @type {unknown} */ body) =>
    assert.throws(() => check(ref, body), /does not match/, `${ref} accepted ${JSON.stringify(body)}`);

  it("seed 002's example passes its own OpenAPI component; a status outside it does not", () => {
    const example = {
      id: "exprun_2",
      lifecycle: { status: "cancelled" },
      timing: { created_at: "2026-05-18T10:00:00Z", started_at: "2026-05-18T10:00:01Z", completed_at: "2026-05-18T10:00:04Z" },
    };
    check(SCHEMAS["002"].cancel, example);
    fails(SCHEMAS["002"].cancel, { ...example, lifecycle: { status: "cancelling" } });
    fails(SCHEMAS["002"].cancel, { id: "exprun_2", lifecycle: { status: "cancelled" } });
  });

  it("seed 000's example needs the fields the SDK requires", () => {
    const example = {
      run: {
        id: "run_abc123",
        organization_id: "org_123",
        workflow: { workflow_id: "wf_abc123xyz", snapshot_id: "snap_abc123", name_at_run_time: "Invoice Processing" },
        trigger: { type: "api" },
        lifecycle: { kind: "cancelled", reason: "user requested cancellation" },
        timing: {
          created_at: "2026-05-01T14:30:00Z",
          started_at: "2026-05-01T14:30:00Z",
          completed_at: "2026-05-01T14:30:08Z",
          human_waiting_started_at: null,
          accumulated_human_waiting_ms: 0,
          duration_ms: 8000,
          active_duration_ms: 8000,
        },
        inputs: { documents: {}, json_data: {} },
      },
      cancellation_status: "cancelled",
    };
    fails(SCHEMAS["000"].cancel, example); // as printed: no workflow_id, no lifecycle.status
    const fixed = structuredClone(example);
    Object.assign(fixed.run, { workflow_id: "wf_abc123xyz", workflow_version_id: "snap_abc123", metadata: null });
    Object.assign(fixed.run.lifecycle, { status: "cancelled" });
    Object.assign(fixed, { redis_available: true });
    check(SCHEMAS["000"].cancel, fixed);
    fails(SCHEMAS["000"].cancel, { ...fixed, run: { ...fixed.run, lifecycle: { status: "queued", kind: "queued" } } });
    fails(SCHEMAS["000"].cancel, { ...fixed, run: { ...fixed.run, lifecycle: { status: "error", kind: "error" } } });
    fails(SCHEMAS["000"].cancel, { ...fixed, run: { ...fixed.run, timing: { ...fixed.run.timing, created_at: "2026-05-01T16:30:00+02:00" } } });
  });

  it("seed 003 and 004 refuse words outside their vocabularies", () => {
    fails(SCHEMAS["003"].error, { code: "INVALID_REQUEST", message: "x" });
    fails(SCHEMAS["004"].cancel, { code: 200, data: { id: "grun_1", status: "done", organizationId: "o" }, message: "success", requestId: "r" });
    check(SCHEMAS["004"].cancel, { code: 200, data: { id: "grun_1", status: "waiting", organizationId: "o" }, message: "success", requestId: "r" });
  });
});
