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

before(async () => {
  ctx = await startReliabilityServer({ selfHosted: process.env.T7_SERVER === "selfhost" });
  org = await ctx.newOrg("T7");
});
after(async () => {
  await ctx?.server.stop();
});

/**
 * @typedef {"create" | "claim" | "heartbeat" | "cancel" | "complete" | "ack"} OpKind
 * @typedef {{round: number, kind: OpKind, run?: string, lease?: string, cmd?: string, body: any,
 *   cls: "ok" | "fail" | "info", status?: number, reply?: any, note?: string, ms?: number}} Op
 */

/** @param {unknown} err */
function errorCode(err) {
  const e = /** @type {any} */ (err);
  return String(e?.cause?.code ?? e?.code ?? e?.name ?? e);
}

/**
 * Sends one op and classifies its result. Refused before sending → fail; timeout or reset → info.
 * @param {Op} op @param {string} path @param {string} key
 * @returns {Promise<Op>}
 */
async function send(op, path, key) {
  const t0 = performance.now();
  try {
    const res = await fetch(`${ctx.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(op.body),
      signal: AbortSignal.timeout(OP_TIMEOUT_MS),
    });
    op.status = res.status;
    const text = await res.text();
    try {
      op.reply = JSON.parse(text);
    } catch {
      op.reply = text;
    }
    op.cls = res.status < 300 ? "ok" : res.status < 500 ? "fail" : "info";
  } catch (err) {
    const code = errorCode(err);
    op.note = code;
    op.cls = code === "ECONNREFUSED" ? "fail" : "info";
  }
  op.ms = performance.now() - t0;
  return op;
}

/** The decision a cancel reply carries (its own, or the replayed original). @param {any} reply */
function storedReply(reply) {
  return reply?.outcome?.kind === "replayed" ? reply.outcome.original : reply?.cancel;
}

/**
 * The events a cancel decision put in the log: `requested` → its `cancel_requested`, `cancelled_now`
 * → its `cancelled` (an ack or deadline later adds a `cancelled` with the same command_id).
 * @param {import("./lib/harness.mjs").EventRecord[]} log @param {string} cmd @param {string} kind
 */
function effectsOf(log, cmd, kind) {
  const type = kind === "requested" ? "cancel_requested" : "cancelled";
  return log.filter((e) => e.event.type === type && e.event.command_id === cmd).length;
}

/**
 * One client's work until the server dies: runs taken along random paths of the protocol.
 * @param {number} round @param {number} client @param {() => boolean} dead @param {Op[]} ops
 */
async function client(round, client, dead, ops, started = () => {}) {
  let n = 0;
  /** @param {OpKind} kind @param {string} path @param {string} key @param {Partial<Op>} fields */
  const op = async (kind, path, key, fields) => {
    const o = await send({ round, kind, cls: "info", body: {}, ...fields }, path, key);
    ops.push(o);
    return o;
  };
  while (!dead()) {
    n++;
    const created = await op("create", "/api/runs", org.user, { body: { kind: "workflow", initial: "queued", name: `T7 ${round}.${client}.${n}` } });
    if (n === 1) started();
    if (created.cls !== "ok") continue;
    const run = created.reply.run.id;
    created.run = run;
    const cmd = `t7-${round}-${client}-${n}`;
    const path = Math.random();
    if (path < 0.2) {
      // Cancelled before any executor claims it; the user repeats the cancel.
      for (let i = 0; i < 2 && !dead(); i++) await op("cancel", `/api/runs/${run}/cancel`, org.user, { run, cmd, body: { command_id: cmd } });
      continue;
    }
    const claimed = await op("claim", `/api/runs/${run}/claim`, org.executor, { run, body: { executor: `client-${client % CLIENTS}`, lease_ms: 600_000 } });
    if (claimed.cls !== "ok") continue;
    const lease = claimed.reply.lease.id;
    claimed.lease = lease;
    // The executor works and heartbeats a few times.
    let beating = true;
    for (let beats = 1 + Math.floor(Math.random() * 8); beats > 0 && beating && !dead(); beats--) {
      const beat = await op("heartbeat", `/api/runs/${run}/heartbeat`, org.executor, { run, lease, body: { lease_id: lease, lease_ms: 600_000 } });
      beating = beat.cls === "ok";
    }
    if (!beating || dead()) continue;
    if (path < 0.45) {
      await op("complete", `/api/runs/${run}/complete`, org.executor, { run, lease, body: { lease_id: lease } });
      continue;
    }
    const grace = path < 0.6 ? 0 : 600_000;
    const cancel = await op("cancel", `/api/runs/${run}/cancel`, org.user, { run, cmd, body: { command_id: cmd, grace_ms: grace } });
    if (cancel.cls !== "ok" || dead()) continue;
    await op("cancel", `/api/runs/${run}/cancel`, org.user, { run, cmd, body: { command_id: cmd, grace_ms: grace } });
    if (dead()) continue;
    if (path < 0.8) await op("ack", `/api/runs/${run}/ack-cancel`, org.executor, { run, lease, body: { lease_id: lease } });
    else await op("complete", `/api/runs/${run}/complete`, org.executor, { run, lease, body: { lease_id: lease } });
  }
}

/** After a (re)start: the Worker compiled and both keys known, so a round measures the service, not its boot. */
async function warmUp() {
  for (const key of [org.user, org.executor]) {
    const me = await ctx.call("/api/me", { key });
    assert.equal(me.status, 200, me.text);
  }
  const list = await ctx.call("/api/runs?limit=1", { key: org.user });
  assert.equal(list.status, 200, list.text);
}

/**
 * Checks a round's ops against what the restarted server holds; returns what is wrong.
 * @param {Op[]} ops
 */
async function audit(ops) {
  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, Op[]>} */
  const byRun = new Map();
  for (const o of ops) {
    if (!o.run) continue;
    byRun.set(o.run, [...(byRun.get(o.run) ?? []), o]);
  }
  let missingOk = 0;
  let presentFail = 0;
  let okCancelsChecked = 0;
  const runs = [...byRun.keys()];
  const logs = await pool(runs.length, 8, async (i) => ({ run: runs[i], log: await readEvents(ctx, org, runs[i]) }));
  for (const { run, log } of logs) {
    const mine = /** @type {Op[]} */ (byRun.get(run));
    const where = `${run}`;
    for (const v of logViolations(log)) problems.push(`${where}: ${v}`);
    /** How many ops of `kind` were ok / info. @param {OpKind} kind @param {(o: Op) => boolean} [also] */
    const tally = (kind, also = () => true) => {
      const of = mine.filter((o) => o.kind === kind && also(o));
      return { ok: of.filter((o) => o.cls === "ok").length, info: of.filter((o) => o.cls === "info").length, fail: of.filter((o) => o.cls === "fail").length };
    };
    /** ok ≤ events ≤ ok + info: every ok op is there, no fail op is. @param {string} what @param {number} events @param {{ok: number, info: number, fail: number}} t */
    const bounded = (what, events, t) => {
      if (events < t.ok) {
        missingOk += t.ok - events;
        problems.push(`${where}: ${t.ok} ok ${what} but ${events} events`);
      }
      if (events > t.ok + t.info) {
        presentFail += events - t.ok - t.info;
        problems.push(`${where}: ${events} ${what} events for ${t.ok} ok + ${t.info} info (${t.fail} fail)`);
      }
    };
    bounded("claim", count(log, "claimed"), tally("claim"));
    for (const lease of new Set(mine.map((o) => o.lease).filter(Boolean))) {
      const extended = log.filter((e) => e.event.type === "lease_extended" && e.event.lease_id === lease).length;
      bounded("heartbeat", extended, tally("heartbeat", (o) => o.lease === lease));
    }
    // A complete takes effect once (completed, or late_completion after a cancel); its repeats are no-ops.
    const completes = tally("complete");
    const completeEvents = count(log, "completed") + count(log, "late_completion");
    bounded("complete", completeEvents, { ...completes, ok: Math.min(1, completes.ok), info: completes.ok ? 0 : Math.min(1, completes.info) });
    const acks = tally("ack");
    const acked = log.filter((e) => e.event.type === "cancelled" && e.event.via === "ack").length;
    bounded("ack-cancel", acked, acks);
    for (const cmd of new Set(mine.flatMap((o) => (o.cmd ? [o.cmd] : [])))) {
      const t = tally("cancel", (o) => o.cmd === cmd);
      const receipts = log.filter((e) => e.event.type === "cancel_recorded" && e.event.command_id === cmd);
      const effects = log.filter((e) => (e.event.type === "cancel_requested" || e.event.type === "cancelled") && e.event.command_id === cmd);
      bounded(`cancel ${cmd} receipt`, receipts.length, { ...t, ok: Math.min(1, t.ok), info: t.ok ? 0 : Math.min(1, t.info) });
      for (const o of mine.filter((x) => x.cmd === cmd && x.cls === "ok")) {
        okCancelsChecked++;
        const stored = storedReply(o.reply);
        if (!receipts[0] || JSON.stringify(receipts[0].event.reply) !== JSON.stringify(stored)) {
          problems.push(`${where}: ok cancel ${cmd} answered ${JSON.stringify(stored)} but the log holds ${JSON.stringify(receipts[0]?.event.reply)}`);
        }
        const kind = stored?.outcome?.kind;
        if ((kind === "cancelled_now" || kind === "requested") && effectsOf(log, cmd, kind) !== 1) {
          missingOk++;
          problems.push(`${where}: ok cancel ${cmd} (${kind}) has ${effectsOf(log, cmd, kind)} ${kind === "requested" ? "cancel_requested" : "cancelled"} events`);
        }
      }
      if (t.ok === 0 && t.info === 0 && effects.length + receipts.length > 0) {
        presentFail++;
        problems.push(`${where}: failed cancel ${cmd} is in the log`);
      }
    }
    // Every ok create is there (the log was read), and an executor's ok claim names its lease.
    for (const o of mine.filter((x) => x.kind === "claim" && x.cls === "ok")) {
      if (!log.some((e) => e.event.type === "claimed" && e.event.lease.id === o.lease)) {
        missingOk++;
        problems.push(`${where}: ok claim ${o.lease} is not in the log`);
      }
    }
  }
  return { problems, missingOk, presentFail, okCancelsChecked, runs: runs.length };
}

describe(`T7/T8: kill -9 mid-workload, ${ROUNDS} full rounds of ${CLIENTS} clients × ${RUNS_PER_CLIENT} runs`, () => {
  /** @type {Op[]} */
  const all = [];
  /** @type {{round: number, killAt: number, killedAfter: number, ok: number, fail: number, info: number, info503: number, runs: number, missingOk: number, presentFail: number, problems: string[], okCancels: number}[]} */
  const rounds = [];

  it(`T7: no ok op lost, no failed op present, every log valid, rounds of ≥ ${MIN_OK_OPS} ok ops`, async () => {
    await warmUp();
    for (let round = 1; round <= ROUNDS; round++) {
      /** @type {Op[]} */
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
      const sessions = Array.from({ length: CLIENTS * RUNS_PER_CLIENT }, (_, i) => client(round, i, () => dead, ops, started));
      await Promise.all([...sessions, killer]);
      clearInterval(watch);
      await ctx.server.restart();
      await warmUp();
      const found = await audit(ops);
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
    const final = await audit(all);
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
