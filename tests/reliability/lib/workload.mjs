// The crash tests' workload (T7 and T22): clients that take runs along random paths of the
// protocol (create, claim, heartbeats, complete, cancel with repeated command_ids, ack), every op
// classified ok / fail / info, and the audit that checks a server's logs against those ops.
import assert from "node:assert/strict";
import { count, logViolations, pool, readEvents } from "./harness.mjs";

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

/** The decision a cancel reply carries (its own, or the replayed original). @param {any} reply */
export function storedReply(reply) {
  return reply?.outcome?.kind === "replayed" ? reply.outcome.original : reply?.cancel;
}

/**
 * The events a cancel decision put in the log: `requested` → its `cancel_requested`, `cancelled_now`
 * → its `cancelled` (an ack or deadline later adds a `cancelled` with the same command_id).
 * @param {import("./harness.mjs").EventRecord[]} log @param {string} cmd @param {string} kind
 */
export function effectsOf(log, cmd, kind) {
  const type = kind === "requested" ? "cancel_requested" : "cancelled";
  return log.filter((e) => e.event.type === type && e.event.command_id === cmd).length;
}

/**
 * The workload against one server and organisation.
 * @param {import("./harness.mjs").Ctx} ctx @param {import("./harness.mjs").Org} org
 * @param {{tag: string, executors: number, graceMs: number, opTimeoutMs: number}} o
 *   `tag` names runs and command_ids; `graceMs` is the grace of the cancels that give one.
 */
export function workload(ctx, org, { tag, executors, graceMs, opTimeoutMs }) {
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
        signal: AbortSignal.timeout(opTimeoutMs),
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
      const created = await op("create", "/api/runs", org.user, { body: { kind: "workflow", initial: "queued", name: `${tag} ${round}.${client}.${n}` } });
      if (n === 1) started();
      if (created.cls !== "ok") continue;
      const run = created.reply.run.id;
      created.run = run;
      const cmd = `${tag.toLowerCase()}-${round}-${client}-${n}`;
      const path = Math.random();
      if (path < 0.2) {
        // Cancelled before any executor claims it; the user repeats the cancel.
        for (let i = 0; i < 2 && !dead(); i++) await op("cancel", `/api/runs/${run}/cancel`, org.user, { run, cmd, body: { command_id: cmd } });
        continue;
      }
      const claimed = await op("claim", `/api/runs/${run}/claim`, org.executor, { run, body: { executor: `client-${client % executors}`, lease_ms: 600_000 } });
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
      const grace = path < 0.6 ? 0 : graceMs;
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

  return { client, warmUp, audit };
}
