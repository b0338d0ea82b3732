// T9: CANCELLING escalation. Runs whose executor holds a lease and never acknowledges are cancelled
// with a grace period; once the deadline passes, the run object's alarm must force the cancel.
// The Worker's test clock passes the deadline (no waiting): `POST /api/admin/test-clock` moves the
// Worker's "now", and the first request that reaches a run afterwards (the test's own poll of
// `GET /api/runs/{id}`) re-arms its alarm for the new time, which then fires at once.
//   (a) normal; (b) kill -9 of the server's process group while every run is cancelling, restart on
//   the same storage (the test clock's offset lives in memory and is gone with it), then pass the
//   deadlines; (d) a hot reload during the grace period is covered by (b)'s restart; (c), the alarm
//   handler run twice, is worker/tests/alarm_twice.test.ts (it needs runDurableObjectAlarm).
// Figures: 0 runs still CANCELLING 10 s after their deadline passed; exactly one forced `cancelled`
// (via the deadline) per run, never before its deadline; (b) as (a). CI: 50 runs each; long: 200.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claim, createRun } from "../lib/api.mjs";
import { record } from "./lib/figures.mjs";
import { count, logViolations, pool, readEvents, readRun, size, startReliabilityServer } from "./lib/harness.mjs";

const RUNS = size(50, 200);
const GRACE_MS = 30_000;
/** Local figure of the plan: nothing may still be cancelling this long after its deadline. */
const LATE_LIMIT_MS = 10_000;

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
/** @type {import("./lib/harness.mjs").Org} */
let org;

before(async () => {
  ctx = await startReliabilityServer();
  org = await ctx.newOrg("T9");
});
after(async () => {
  await ctx?.server.stop();
});

/** Leased runs, each cancelled with a grace period its executor never uses. @param {string} tag */
async function cancellingRuns(tag) {
  return pool(RUNS, 8, async (i) => {
    const run = await createRun(ctx.url, org, { name: `T9 ${tag} ${i}` });
    await claim(ctx.url, org, run.id, 3_600_000);
    const res = await ctx.call(`/api/runs/${run.id}/cancel`, { key: org.user, body: { command_id: `t9-${tag}-${i}`, grace_ms: GRACE_MS } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.outcome.kind, "requested", res.text);
    return { id: run.id, deadline: /** @type {number} */ (res.body.outcome.deadline) };
  });
}

/**
 * Moves the clock past every deadline, then polls each run until it is cancelled (or the limit
 * passes); returns per run the wall time from the deadline passing to the cancel being seen.
 * @param {{id: string, deadline: number}[]} runs
 */
async function passDeadlines(runs) {
  const now = await ctx.now();
  const last = Math.max(...runs.map((r) => r.deadline));
  await ctx.advance(last - now + 1);
  const passedAt = performance.now();
  return pool(runs.length, 8, async (i) => {
    const { id, deadline } = runs[i];
    for (;;) {
      const run = await readRun(ctx, org, id);
      const waited = performance.now() - passedAt;
      if (run.status !== "cancelling" || waited > LATE_LIMIT_MS + 5_000) {
        const log = await readEvents(ctx, org, id);
        return { id, deadline, status: run.status, lateMs: waited, log, forced: run.cancel?.forced };
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // poll interval of a condition
    }
  });
}

/**
 * What is wrong with the runs after their deadlines passed.
 * @param {Awaited<ReturnType<typeof passDeadlines>>} results
 */
function problems(results) {
  return results.flatMap(({ id, deadline, status, lateMs, log, forced }) => {
    /** @type {string[]} */
    const bad = logViolations(log).map((v) => `${id}: ${v}`);
    if (status !== "cancelled") bad.push(`${id}: still ${status} ${Math.round(lateMs)} ms after its deadline passed`);
    else if (lateMs > LATE_LIMIT_MS) bad.push(`${id}: cancelled ${Math.round(lateMs)} ms after its deadline passed`);
    const cancelled = log.filter((e) => e.event.type === "cancelled");
    if (cancelled.length !== 1) bad.push(`${id}: ${cancelled.length} cancelled events`);
    const c = cancelled[0];
    if (c && (c.event.via !== "deadline" || c.event.forced !== true || forced !== true)) bad.push(`${id}: cancelled via ${c.event.via}, forced ${c.event.forced}`);
    if (c && c.at < deadline) bad.push(`${id}: forced at ${c.at}, before its deadline ${deadline}`);
    if (count(log, "cancel_requested") !== 1) bad.push(`${id}: ${count(log, "cancel_requested")} cancel_requested events`);
    return bad;
  });
}

/** @param {Awaited<ReturnType<typeof passDeadlines>>} results */
function lateness(results) {
  const ms = results.map((r) => r.lateMs).sort((a, b) => a - b);
  return { max: Math.round(ms[ms.length - 1] ?? 0), p50: Math.round(ms[Math.floor(ms.length / 2)] ?? 0) };
}

describe(`T9: CANCELLING escalation, ${RUNS} runs per variant`, () => {
  /** @type {import("./lib/figures.mjs").FigureRow[]} */
  const rows = [];
  after(async () => {
    rows.push({ figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 });
    await record("T9", "CANCELLING escalation by the alarm", rows);
  });

  it("(a) the alarm forces every unacknowledged cancel once its deadline passed", async () => {
    const runs = await cancellingRuns("a");
    // Before the deadline nothing is forced: the grace period is the executor's.
    const early = await pool(runs.length, 8, (i) => readRun(ctx, org, runs[i].id));
    assert.deepEqual(early.filter((r) => r.status !== "cancelling").map((r) => `${r.id} ${r.status}`), []);
    const results = await passDeadlines(runs);
    const bad = problems(results);
    const stuck = results.filter((r) => r.status === "cancelling" || r.lateMs > LATE_LIMIT_MS).length;
    const late = lateness(results);
    rows.push(
      { figure: "(a) runs still CANCELLING 10 s after their deadline", target: "0", value: `${stuck} of ${RUNS}`, pass: stuck === 0 },
      { figure: "(a) time from deadline to cancelled seen (p50 / max)", target: `≤ ${LATE_LIMIT_MS} ms`, value: `${late.p50} / ${late.max} ms`, pass: late.max <= LATE_LIMIT_MS },
      { figure: "(a) runs with exactly one forced cancel, never early, valid log", target: "100 %", value: `${RUNS - new Set(bad.map((b) => b.split(":")[0])).size} of ${RUNS}`, pass: bad.length === 0 },
    );
    assert.deepEqual(bad.slice(0, 10), []);
  });

  it("(b) kill -9 while every run is cancelling: after the restart the deadlines still force them", async () => {
    const runs = await cancellingRuns("b");
    await ctx.server.kill9();
    await ctx.server.restart();
    // The crash changed nothing: every run is still cancelling, with the deadline it was given.
    const after = await pool(runs.length, 8, (i) => readRun(ctx, org, runs[i].id));
    const changed = after.filter((r, i) => r.status !== "cancelling" || Date.parse(r.cancel?.deadline) !== runs[i].deadline);
    assert.deepEqual(changed.map((r) => `${r.id}: ${r.status} ${r.cancel?.deadline}`), []);
    const results = await passDeadlines(runs);
    const bad = problems(results);
    const stuck = results.filter((r) => r.status === "cancelling" || r.lateMs > LATE_LIMIT_MS).length;
    const late = lateness(results);
    rows.push(
      { figure: "(b) runs changed by the kill -9 (before their deadline)", target: "0", value: changed.length, pass: changed.length === 0 },
      { figure: "(b) runs still CANCELLING 10 s after their deadline", target: "0", value: `${stuck} of ${RUNS}`, pass: stuck === 0 },
      { figure: "(b) time from deadline to cancelled seen (p50 / max)", target: `≤ ${LATE_LIMIT_MS} ms`, value: `${late.p50} / ${late.max} ms`, pass: late.max <= LATE_LIMIT_MS },
      { figure: "(b) runs with exactly one forced cancel, never early, valid log", target: "100 %", value: `${RUNS - new Set(bad.map((b) => b.split(":")[0])).size} of ${RUNS}`, pass: bad.length === 0 },
    );
    assert.deepEqual(bad.slice(0, 10), []);
  });

  it("answered no request with a status ≥ 500", () => {
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });
});
