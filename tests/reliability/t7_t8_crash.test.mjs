// T7 (Jepsen-style crash test) and T8 (retry after ambiguity).
//
// T7: 8 clients (each driving 4 runs at a time) create runs, move them (claim, heartbeats,
// complete, ack-cancel) and cancel them with command_ids (repeating some cancels). At a
// uniform-random 1.5–4 s, counted from when every client has its first run, the test kill -9s the
// server's whole process group, restarts it on the same storage and reads every run. Each op is
// classified: ok (2xx), fail (connection refused before sending, or 4xx), info (timeout, reset,
// 5xx — a 503 from the dying server is info). No ok op may be missing, no fail op present, every
// log valid (the T1 invariants), and each round holds ≥ 200 ok ops: on a machine too loaded to get
// there by the drawn time, the kill waits for the 200th ok op. CI: 3 rounds; long: 10.
// T7_SERVER=selfhost runs it against bare workerd (`make serve`) instead of `wrangler dev`.
//
// T8: after the last restart every info cancel and complete is sent again with the same
// command_id (or lease): each converges to exactly one event, and a replayed reply matches the
// stored receipt.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { record } from "./lib/figures.mjs";
import { count, logViolations, pool, readEvents, size, startReliabilityServer } from "./lib/harness.mjs";
import { effectsOf, storedReply, workload } from "./lib/workload.mjs";

const ROUNDS = size(3, 10);
const CLIENTS = 8;
/** Runs each client drives at once (an executor works on several runs; 8 strictly serial clients
 * cannot reach the 200-op guard before an early kill on a loaded 2-core machine). */
const RUNS_PER_CLIENT = 4;
const MIN_OK_OPS = 200;
const OP_TIMEOUT_MS = 5_000;

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
/** @type {import("./lib/harness.mjs").Org} */
let org;
/** @type {ReturnType<typeof workload>} */
let work;

before(async () => {
  ctx = await startReliabilityServer({ selfHosted: process.env.T7_SERVER === "selfhost" });
  org = await ctx.newOrg("T7");
  work = workload(ctx, org, { tag: "T7", executors: CLIENTS, graceMs: 600_000, opTimeoutMs: OP_TIMEOUT_MS });
});
after(async () => {
  await ctx?.server.stop();
});

describe(`T7/T8: kill -9 mid-workload, ${ROUNDS} full rounds of ${CLIENTS} clients × ${RUNS_PER_CLIENT} runs`, () => {
  /** @type {import("./lib/workload.mjs").Op[]} */
  const all = [];
  /** @type {{round: number, killAt: number, killedAfter: number, ok: number, fail: number, info: number, info503: number, runs: number, missingOk: number, presentFail: number, problems: string[], okCancels: number}[]} */
  const rounds = [];

  it(`T7: no ok op lost, no failed op present, every log valid, rounds of ≥ ${MIN_OK_OPS} ok ops`, async () => {
    await work.warmUp();
    for (let round = 1; round <= ROUNDS; round++) {
      /** @type {import("./lib/workload.mjs").Op[]} */
      const ops = [];
      let dead = false;
      const killAt = 1_500 + Math.random() * 2_500;
      // The kill clock starts once the workload runs: every session has its first run (right after
      // a restart the first creates are slow while workerd warms up).
      let running = 0;
      /** @type {() => void} */
      let allRunning = () => {};
      const workload = new Promise((resolve) => (allRunning = () => resolve(undefined)));
      let since = performance.now();
      let killedAfter = 0;
      const started = () => {
        if (++running === CLIENTS * RUNS_PER_CLIENT) {
          since = performance.now();
          allRunning();
        }
      };
      /** @type {() => void} */
      let reached = () => {};
      const watch = setInterval(() => {
        if (ops.filter((o) => o.cls === "ok").length >= MIN_OK_OPS) reached();
      }, 10);
      // On a machine too loaded to reach MIN_OK_OPS by the drawn time, the kill waits for the
      // MIN_OK_OPS-th ok op (still mid-workload: the other clients' ops are in flight).
      const enoughOk = new Promise((resolve) => (reached = () => resolve(undefined)));
      const killer = workload
        .then(() => Promise.all([new Promise((resolve) => setTimeout(resolve, killAt)), enoughOk]))
        .then(async () => {
          killedAfter = Math.round(performance.now() - since);
          dead = true;
          await ctx.server.kill9();
        });
      const sessions = Array.from({ length: CLIENTS * RUNS_PER_CLIENT }, (_, i) => work.client(round, i, () => dead, ops, started));
      await Promise.all([...sessions, killer]);
      clearInterval(watch);
      await ctx.server.restart();
      await work.warmUp();
      const found = await work.audit(ops);
      all.push(...ops);
      const stats = {
        round,
        killAt: Math.round(killAt),
        killedAfter,
        ok: ops.filter((o) => o.cls === "ok").length,
        fail: ops.filter((o) => o.cls === "fail").length,
        info: ops.filter((o) => o.cls === "info").length,
        info503: ops.filter((o) => o.status === 503).length,
        runs: found.runs,
        missingOk: found.missingOk,
        presentFail: found.presentFail,
        problems: found.problems,
        okCancels: found.okCancelsChecked,
      };
      rounds.push(stats);
      const lat = ["create", "claim", "heartbeat", "cancel", "complete", "ack"].map((k) => {
        const ms = ops.filter((o) => o.kind === k && o.cls === "ok").map((o) => o.ms ?? 0).sort((x, y) => x - y);
        return `${k} ${ms.length}× p50 ${Math.round(ms[Math.floor(ms.length / 2)] ?? 0)} ms`;
      });
      console.log(`# round ${round} latencies: ${lat.join("; ")}`);
      console.log(`# round ${round}: kill drawn at ${stats.killAt} ms, done at ${killedAfter} ms; ok ${stats.ok}, fail ${stats.fail}, info ${stats.info}; ${stats.runs} runs; ${found.problems.length} problems`);
      // A 5xx other than the dying server's 503 is a bug, not an ambiguity.
      const other5xx = ops.filter((o) => (o.status ?? 0) >= 500 && o.status !== 503);
      assert.deepEqual(other5xx.map((o) => `${o.kind} ${o.run}: ${o.status} ${JSON.stringify(o.reply).slice(0, 200)}`), []);
    }
    const problems = rounds.flatMap((r) => r.problems);
    const missing = rounds.reduce((a, r) => a + r.missingOk, 0);
    const present = rounds.reduce((a, r) => a + r.presentFail, 0);
    const okCancels = rounds.reduce((a, r) => a + r.okCancels, 0);
    const full = rounds.filter((r) => r.ok >= MIN_OK_OPS);
    await record("T7", "crash test: kill -9 mid-workload, restart, read every run", [
      { figure: "rounds", target: `${ROUNDS}`, value: rounds.length, pass: rounds.length === ROUNDS },
      { figure: "ok ops per round (min; each)", target: `≥ ${MIN_OK_OPS}`, value: `${Math.min(...rounds.map((r) => r.ok))}; ${rounds.map((r) => r.ok).join(", ")}`, pass: full.length === rounds.length },
      { figure: "ok ops missing after restart (ok cancels checked)", target: "0", value: `${missing} (${okCancels})`, pass: missing === 0 },
      { figure: "fail ops present after restart", target: "0", value: present, pass: present === 0 },
      { figure: "runs whose log breaks a T1 invariant", target: "0", value: problems.filter((p) => !/ ok | events for /.test(p)).length, pass: problems.length === 0 },
      { figure: "info ops (in flight at the kill; of them 503)", target: "info", value: `${rounds.reduce((a, r) => a + r.info, 0)} (${rounds.reduce((a, r) => a + r.info503, 0)})`, pass: true },
      {
        figure: "kill times drawn; killed at (ms after every client was running)",
        target: "1500–4000; later only to reach 200 ok ops",
        value: `${rounds.map((r) => r.killAt).join(", ")}; ${rounds.map((r) => r.killedAfter).join(", ")}`,
        pass: rounds.every((r) => r.killAt >= 1_500 && r.killAt <= 4_000 && r.killedAfter >= r.killAt),
      },
      { figure: "responses with status ≥ 500 outside the kill", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 },
    ]);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
    assert.equal(full.length, rounds.length, `a round held fewer than ${MIN_OK_OPS} ok ops`);
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });

  it("T8: every info cancel and complete, sent again, converges to exactly one event", async () => {
    const retry = all.filter((o) => o.cls === "info" && o.run && (o.kind === "cancel" || o.kind === "complete"));
    const unretried = all.filter((o) => o.cls === "info" && !(o.run && (o.kind === "cancel" || o.kind === "complete")));
    /** @type {string[]} */
    const problems = [];
    const results = await pool(retry.length, 8, async (i) => {
      const o = retry[i];
      const res = await ctx.call(o.kind === "cancel" ? `/api/runs/${o.run}/cancel` : `/api/runs/${o.run}/complete`, {
        key: o.kind === "cancel" ? org.user : org.executor,
        body: o.body,
      });
      const log = await readEvents(ctx, org, /** @type {string} */ (o.run));
      return { o, res, log };
    });
    let converged = 0;
    for (const { o, res, log } of results) {
      const where = `${o.kind} ${o.run}`;
      const before = problems.length;
      problems.push(...logViolations(log).map((v) => `${where}: ${v}`));
      if (res.status >= 500) problems.push(`${where}: retry answered ${res.status}`);
      if (o.kind === "cancel") {
        const receipts = log.filter((e) => e.event.type === "cancel_recorded" && e.event.command_id === o.cmd);
        if (receipts.length !== 1) problems.push(`${where}: ${receipts.length} receipts for ${o.cmd}`);
        if (count(log, "cancel_requested") > 1 || count(log, "cancelled") > 1) problems.push(`${where}: duplicate cancel events for ${o.cmd}`);
        // The retry's answer is the stored decision, and the run is as that decision left it or later.
        const stored = storedReply(res.body);
        if (JSON.stringify(stored) !== JSON.stringify(receipts[0]?.event.reply)) problems.push(`${where}: retry answered ${JSON.stringify(stored)}, receipt ${JSON.stringify(receipts[0]?.event.reply)}`);
        const kind = stored?.outcome?.kind;
        if ((kind === "cancelled_now" || kind === "requested") && effectsOf(log, /** @type {string} */ (o.cmd), kind) !== 1) problems.push(`${where}: ${kind} but not one cancel event`);
        if (res.body?.run?.status && !["cancelled", "cancelling", "completed"].includes(res.body.run.status)) problems.push(`${where}: run ${res.body.run.status} after a cancel`);
      } else {
        const done = count(log, "completed") + count(log, "late_completion");
        if (res.status !== 200 || done !== 1) problems.push(`${where}: retry ${res.status} ${res.text.slice(0, 300)}, ${done} completion events; log ${log.map((e) => e.event.type).join(" ")}`);
      }
      if (problems.length === before) converged++;
    }
    // Nothing acknowledged in any round was lost by a later crash.
    const final = await work.audit(all);
    problems.push(...final.problems.map((p) => `final audit: ${p}`));
    await record("T8", "retry after ambiguity (the info ops of T7)", [
      { figure: "info cancels/completes re-sent", target: "all", value: retry.length, pass: true },
      { figure: "re-sent ops that converged to exactly one event, reply = state", target: "100 %", value: `${converged} of ${retry.length}`, pass: converged === retry.length },
      { figure: "info ops without an idempotent retry (creates, claims, heartbeats, acks)", target: "info", value: unretried.length, pass: true },
      { figure: "ok ops of every round missing at the end (runs audited)", target: "0", value: `${final.missingOk} (${final.runs})`, pass: final.missingOk === 0 && final.presentFail === 0 },
      { figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 },
    ]);
    console.log(`# T8: ${retry.length} info ops re-sent, ${converged} converged`);
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });
});
