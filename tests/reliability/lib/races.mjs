// The race checks of T4 (duplicate cancels with one command_id) and T6 (cancel against complete),
// shared by the real tests and by the mutation check (mutant.test.mjs), which runs them against a
// deliberately broken Worker and must see them fail.
import { claim, createRun } from "../../lib/api.mjs";
import { TERMINAL_EVENTS, count, firstTerminal, logViolations, readEvents, readRun, skew } from "./harness.mjs";

/**
 * @typedef {import("./harness.mjs").Ctx} Ctx
 * @typedef {import("./harness.mjs").Org} Org
 * @typedef {import("./harness.mjs").EventRecord} EventRecord
 */

/** The states T4 cancels from: every non-terminal state, one already cancelling, and a completed run. */
export const T4_STATES = /** @type {const} */ (["pending", "queued", "running", "leased", "waiting", "cancelling", "completed"]);
/** @typedef {typeof T4_STATES[number]} T4State */

/** States where a cancel takes effect (its command_id is on the one cancel event). */
const EFFECTIVE = new Set(["pending", "queued", "running", "leased", "waiting"]);

/**
 * @param {Ctx} ctx @param {Org} org @param {string} id @param {string} action @param {unknown} body
 */
async function act(ctx, org, id, action, body) {
  const res = await ctx.call(`/api/runs/${id}/${action}`, { key: org.executor, body });
  if (res.status !== 200) throw new Error(`${action} ${id}: ${res.status} ${res.text}`);
}

/**
 * Creates a run through the API and moves it into `state` with the executor protocol.
 * @param {Ctx} ctx @param {Org} org @param {T4State} state
 * @returns {Promise<{id: string, lease?: string}>}
 */
export async function prepareRun(ctx, org, state) {
  const initial = state === "pending" ? "pending" : state === "running" ? "running" : "queued";
  const run = await createRun(ctx.url, org, { kind: "workflow", initial });
  if (state === "pending" || state === "queued" || state === "running") return { id: run.id };
  const lease = await claim(ctx.url, org, run.id, 600_000);
  if (state === "waiting") await act(ctx, org, run.id, "wait", { lease_id: lease, reason: "human_review" });
  if (state === "completed") await act(ctx, org, run.id, "complete", { lease_id: lease });
  if (state === "cancelling") {
    const res = await ctx.call(`/api/runs/${run.id}/cancel`, { key: org.user, body: { command_id: "earlier-cancel", grace_ms: 600_000 } });
    if (res.status !== 200 || res.body.run.status !== "cancelling") throw new Error(`cancelling ${run.id}: ${res.status} ${res.text}`);
  }
  return { id: run.id, lease };
}

/** The decision a cancel reply carries: its own outcome, or the replayed original's. @param {any} body */
function decided(body) {
  const o = body?.outcome;
  return o?.kind === "replayed" ? o.original.outcome : o;
}

/**
 * T4, one trial: `n` concurrent cancels with one command_id on a run in `state`.
 * @param {Ctx} ctx @param {Org} org @param {T4State} state @param {number} n
 */
export async function duplicateCancelTrial(ctx, org, state, n) {
  const { id } = await prepareRun(ctx, org, state);
  const command_id = `dup-${state}-${Math.random().toString(36).slice(2, 10)}`;
  const replies = await Promise.all(
    Array.from({ length: n }, () => ctx.call(`/api/runs/${id}/cancel`, { key: org.user, body: { command_id, reason: "T4", grace_ms: 600_000 } })),
  );
  const log = await readEvents(ctx, org, id);
  /** @type {string[]} */
  const violations = [];
  // Exactly one request decided; every other one replays that decision.
  const deciders = replies.filter((r) => r.body?.outcome?.kind !== "replayed").length;
  if (deciders !== 1) violations.push(`${deciders} replies decided (not replayed)`);
  const first = replies[0];
  const same = replies.every(
    (r) =>
      r.status === first.status &&
      JSON.stringify(decided(r.body)) === JSON.stringify(decided(first.body)) &&
      r.body?.run?.status === first.body?.run?.status,
  );
  if (!same) {
    const kinds = [...new Set(replies.map((r) => `${r.status} ${decided(r.body)?.kind} ${r.body?.run?.status}`))];
    violations.push(`replies differ: ${kinds.join(" | ")}`);
  }
  // The one cancel event of the run carries this command_id when the cancel took effect.
  const cancelEvents = log.filter((e) => (e.event.type === "cancel_requested" || e.event.type === "cancelled") && e.event.command_id === command_id);
  const expected = EFFECTIVE.has(state) ? 1 : 0;
  if (cancelEvents.length !== expected) violations.push(`${cancelEvents.length} cancel events with this command_id (want ${expected})`);
  const receipts = log.filter((e) => e.event.type === "cancel_recorded" && e.event.command_id === command_id).length;
  if (receipts !== 1) violations.push(`${receipts} receipts for the command_id`);
  violations.push(...logViolations(log));
  return {
    id,
    state,
    status: first.status,
    outcome: decided(first.body)?.kind,
    cancelEvents: cancelEvents.length,
    allCancelEvents: count(log, "cancel_requested") + count(log, "cancelled"),
    receipts,
    violations,
  };
}

/**
 * T6, one run: the executor's `complete` and the user's `cancel` in flight together, the second
 * leaving `skewMs` after the first (negative: the cancel leaves first). Grace 0 (the cancel is
 * final at once) or a long grace (the cancel asks the executor first) alternate.
 * @param {Ctx} ctx @param {Org} org @param {number} skewMs @param {number} graceMs
 */
export async function cancelVsCompleteTrial(ctx, org, skewMs, graceMs) {
  const { id, lease } = await prepareRun(ctx, org, "leased");
  const complete = () => ctx.call(`/api/runs/${id}/complete`, { key: org.executor, body: { lease_id: lease, output: { ok: true } } });
  const cancel = () => ctx.call(`/api/runs/${id}/cancel`, { key: org.user, body: { command_id: `race-${id}`, grace_ms: graceMs } });
  const gap = Math.abs(skewMs);
  const [done, cancelled] =
    skewMs >= 0
      ? await Promise.all([complete(), skew(gap).then(cancel)])
      : await Promise.all([skew(gap).then(complete), cancel()]);
  const [run, log] = await Promise.all([readRun(ctx, org, id), readEvents(ctx, org, id)]);
  /** @type {string[]} */
  const violations = [];
  const terminal = log.filter((e) => TERMINAL_EVENTS.has(e.event.type));
  if (terminal.length !== 1) violations.push(`${terminal.length} terminal events: ${terminal.map((e) => e.event.type).join(", ")}`);
  const first = firstTerminal(log);
  if (run.status !== first) violations.push(`final state ${run.status} but first terminal event ${first}`);
  // Every reply agrees with how the run ended.
  const cancelSaysCancelled = cancelled.status === 200 && ["cancelled_now", "requested"].includes(cancelled.body?.outcome?.kind);
  const completeSaysCompleted = done.status === 200 && done.body?.reply?.outcome?.kind === "applied";
  if (run.status === "completed") {
    if (!completeSaysCompleted) violations.push(`run completed but complete answered ${done.status} ${done.text.slice(0, 200)}`);
    if (cancelled.status !== 409 || cancelled.body?.outcome?.kind !== "already_terminal") {
      violations.push(`run completed but the cancel answered ${cancelled.status} ${cancelled.body?.outcome?.kind}`);
    }
  } else if (run.status === "cancelled") {
    if (!cancelSaysCancelled) violations.push(`run cancelled but the cancel answered ${cancelled.status} ${cancelled.body?.outcome?.kind}`);
    if (completeSaysCompleted) violations.push(`run cancelled but complete answered applied`);
    if (done.status !== 200 || done.body?.reply?.outcome?.kind !== "late") violations.push(`run cancelled but complete answered ${done.status} ${done.text.slice(0, 200)}`);
    if (count(log, "late_completion") !== 1) violations.push(`${count(log, "late_completion")} late_completion events`);
  } else {
    violations.push(`run ended ${run.status}`);
  }
  violations.push(...logViolations(log));
  return { id, skewMs, graceMs, winner: run.status === "completed" ? "complete" : run.status === "cancelled" ? "cancel" : run.status, violations };
}
