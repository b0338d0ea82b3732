// Bulk cancel jobs against the real service under `wrangler dev`: a job survives kill -9 of the
// whole server mid-job and resumes from storage after the restart (every run cancelled exactly
// once), and an abort stops the job within a second.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { adminToken, call, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN, TEST_CLOCK: "1" } });
});
after(async () => {
  await server?.stop();
});

/**
 * Creates `count` queued runs inside the Worker (the admin test-seed route).
 * @param {{orgId: string}} org @param {number} count @param {Record<string, unknown>} extra
 * @returns {Promise<string[]>}
 */
async function seed(org, count, extra = {}) {
  /** @type {string[]} */
  const ids = [];
  // In requests of 50: each stays short under a loaded machine.
  for (let left = count; left > 0; left -= 50) {
    const n = Math.min(50, left);
    const res = await call(server.url, "/api/admin/test-seed", { key: ADMIN, body: { org_id: org.orgId, count: n, ...extra } });
    assert.equal(res.status, 201, res.text);
    ids.push(...res.body.ids);
  }
  return ids;
}

/**
 * Polls `probe` until it returns a value (a condition, never a fixed sleep).
 * @template T @param {() => Promise<T | undefined>} probe @param {string} what @param {number} [ms]
 * @returns {Promise<T>}
 */
async function until(probe, what, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch((err) => {
      if (err instanceof assert.AssertionError) throw err;
      return undefined; // a connection reset by the server under load: ask again
    });
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await delay(50); // poll interval
  }
}

/** @param {any} org @param {string} id */
async function job(org, id) {
  const res = await call(server.url, `/api/bulk-cancels/${id}`, { key: org.user });
  assert.equal(res.status, 200, res.text);
  return res.body.job;
}

/** @param {any} j */
function assertAddsUp(j) {
  const p = j.progress;
  assert.equal(p.pending + p.in_flight + p.done + p.failed + p.skipped, j.total, JSON.stringify(j));
  const outcomes = Object.values(j.outcomes).reduce((a, b) => Number(a) + Number(b), 0);
  assert.equal(outcomes, p.done + p.failed + p.skipped, JSON.stringify(j));
}

/** Waits until the index lists `n` queued runs for the organisation. @param {any} org @param {number} n */
async function indexed(org, n) {
  await until(async () => {
    const res = await call(server.url, "/api/runs?limit=1", { key: org.user });
    return res.body.counts.queued >= n ? true : undefined;
  }, `${n} runs indexed`);
}

/** @param {any} org @param {string} id @returns {Promise<any[]>} */
async function allItems(org, id) {
  const out = [];
  let cursor = "";
  for (;;) {
    const res = await call(server.url, `/api/bulk-cancels/${id}/items?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { key: org.user });
    assert.equal(res.status, 200, res.text);
    out.push(...res.body.data);
    if (!res.body.next_cursor) return out;
    cursor = res.body.next_cursor;
  }
}

describe("bulk cancel jobs", () => {
  it("resume after kill -9 of the server mid-job: every run cancelled exactly once", async () => {
    const org = await newOrg(server.url, ADMIN, "bulk kill");
    const ids = await seed(org, 300, { tags: ["kill-9"] });
    await indexed(org, 300);
    const dry = await call(server.url, "/api/bulk-cancels/dry-run", { key: org.user, body: { selection: { tag: "kill-9" }, reason: "e2e" } });
    assert.equal(dry.status, 201, dry.text);
    assert.equal(dry.body.count, 300);
    const started = await call(server.url, "/api/bulk-cancels", {
      key: org.user,
      body: { dry_run_id: dry.body.dry_run_id, rate_per_s: 40, concurrency: 4, idempotency_key: "kill-job" },
    });
    assert.equal(started.status, 201, started.text);
    const id = started.body.job.id;

    const before = await until(async () => {
      const j = await job(org, id);
      return j.processed >= 40 ? j : undefined;
    }, "40 items processed");
    assert.ok(before.processed < 300, `the job must still be running when killed (${before.processed})`);
    await server.kill9();
    await server.restart();

    // Nothing but alarms drives the job: these reads only watch it finish.
    const done = await until(async () => {
      const j = await job(org, id);
      return j.status === "completed" ? j : undefined;
    }, "job completed after the restart", 120_000);
    assert.ok(done.processed >= before.processed);
    assert.deepEqual(done.progress, { pending: 0, in_flight: 0, done: 300, failed: 0, skipped: 0 });
    assert.equal(done.outcomes.cancelled, 300);
    assertAddsUp(done);

    const items = await allItems(org, id);
    assert.equal(items.length, 300);
    assert.deepEqual([...new Set(items.map((i) => i.run_id))].sort(), [...ids].sort());
    for (const item of items) assert.equal(item.outcome, "cancelled", JSON.stringify(item));

    // Exactly one cancel per run, including those in flight at the kill (retried idempotently).
    const retried = items.filter((i) => i.attempts > 1).map((i) => i.run_id);
    for (const run of [...retried, ...ids.slice(0, 10), ...ids.slice(-10)]) {
      const events = await call(server.url, `/api/runs/${run}/events`, { key: org.user });
      const cancels = events.body.data.filter((/** @type {any} */ e) => e.event.type === "cancelled");
      assert.equal(cancels.length, 1, `${run}: ${events.text}`);
    }
    // The same key after the restart answers with the same job.
    const again = await call(server.url, "/api/bulk-cancels", { key: org.user, body: { dry_run_id: dry.body.dry_run_id, idempotency_key: "kill-job" } });
    assert.equal(again.status, 200);
    assert.equal(again.body.job.id, id);
  });

  it("abort stops the job within a second", async () => {
    const org = await newOrg(server.url, ADMIN, "bulk abort");
    await seed(org, 200, { batch_id: "abort-me" });
    await indexed(org, 200);
    const dry = await call(server.url, "/api/bulk-cancels/dry-run", { key: org.user, body: { selection: { batch_id: "abort-me" } } });
    assert.equal(dry.body.count, 200);
    const started = await call(server.url, "/api/bulk-cancels", { key: org.user, body: { dry_run_id: dry.body.dry_run_id, rate_per_s: 25, concurrency: 4 } });
    const id = started.body.job.id;
    await until(async () => ((await job(org, id)).processed >= 20 ? true : undefined), "20 processed");

    const t0 = Date.now();
    const res = await call(server.url, `/api/bulk-cancels/${id}/abort`, { key: org.user, method: "POST" });
    const replyMs = Date.now() - t0;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.job.status, "aborted");
    const startedAtAbort = res.body.job.progress.done + res.body.job.progress.failed + res.body.job.progress.in_flight;

    // Within a second of the reply: nothing in flight, nothing new started, the job finished.
    const settled = await until(async () => {
      const j = await job(org, id);
      return j.finished_at !== null && j.progress.in_flight === 0 ? j : undefined;
    }, "the abort to settle", 5_000);
    const settledMs = Date.now() - t0;
    assert.ok(settledMs < 1_000 + replyMs, `settled ${settledMs} ms after the abort was sent`);
    assert.ok(Date.parse(settled.finished_at) - Date.parse(settled.aborted_at) < 1_000, JSON.stringify(settled));
    assert.ok(settled.progress.done + settled.progress.failed <= startedAtAbort, JSON.stringify({ startedAtAbort, settled }));
    assert.equal(settled.progress.pending, 0);
    assert.ok(settled.outcomes.aborted >= 100, JSON.stringify(settled.outcomes));
    assertAddsUp(settled);

    await delay(1_500); // the claim under test: after the abort, no item changes any more
    const later = await job(org, id);
    assert.deepEqual(later.progress, settled.progress);

    // Skipped runs were never touched.
    const items = await call(server.url, `/api/bulk-cancels/${id}/items?outcome=aborted&limit=5`, { key: org.user });
    for (const item of items.body.data) {
      const run = await call(server.url, `/api/runs/${item.run_id}`, { key: org.user });
      assert.equal(run.body.run.status, "queued");
    }
  });
});
