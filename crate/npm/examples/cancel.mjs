// Cancelling a running run with a grace period, step by step, with runbrake-core.
//
//   node examples/cancel.mjs    (in the package folder, or in node_modules/runbrake-core)
//
// The core never reads a clock and never stores anything: we keep the run's state and event
// log, pass the time in, and apply the events each decision returns. The asserts make the
// example fail loudly if the package misbehaves.
import assert from "node:assert/strict";
import { canCancel, create, decide, evolve, formatRfc3339, nextDeadline } from "runbrake-core";

const t0 = Date.parse("2026-05-01T14:30:00Z");
const log = []; // what a real caller would persist, with the state, before acting

function show(label, now, d) {
  const events = d.events.map((e) => `#${e.seq} ${e.event.type}`).join(", ") || "none";
  const effects = d.effects.map((e) => e.type).join(", ") || "none";
  const next = d.next_deadline === null ? "none" : formatRfc3339(d.next_deadline);
  console.log(`${formatRfc3339(now)}  ${label}`);
  console.log(`  -> status ${run.status.type} (version ${run.version}); events: ${events}`);
  console.log(`     effects: ${effects}; next alarm: ${next}`);
}

/** decide (pure), then evolve the state with the decision's events. */
function step(label, command, now) {
  const d = decide(run, command, now);
  for (const e of d.events) run = evolve(run, e);
  log.push(...d.events);
  show(label, now, d);
  return d;
}

// 1. Create a run, queued for an executor.
let { state: run, decision } = create({ id: "run_1", kind: "workflow", initial: "queued" }, t0);
log.push(...decision.events);
show("create run_1 (queued)", t0, decision);

// 2. An executor claims it with a 60 s lease.
step(
  "claim by executor-7, lease 60 s",
  { type: "claim", executor: "executor-7", lease_id: "lease_1", lease_ms: 60_000 },
  t0 + 1_000,
);
assert.equal(run.status.type, "running");
console.log(`  canCancel: ${canCancel(run)}`);

// 3. The user cancels with a 10 s grace: the executor holds a live lease, so the run only
//    goes to `cancelling` and the executor is told to stop by the deadline.
const cancel = step(
  "cancel from the dashboard, grace 10 s",
  { type: "cancel", by: { source: "dashboard", actor: "ada" }, reason: "wrong input", grace_ms: 10_000 },
  t0 + 5_000,
);
assert.equal(cancel.reply.type, "cancel");
assert.equal(cancel.reply.outcome.kind, "requested");
const deadline = cancel.reply.outcome.deadline;
console.log(`  outcome: requested, deadline ${formatRfc3339(deadline)}`);
assert.equal(deadline, t0 + 15_000);
assert.equal(nextDeadline(run), deadline);

// 4. An alarm that fires early does nothing: alarms may fire early, late or twice.
const early = step("alarm fires early", { type: "deadline_fired" }, t0 + 9_000);
assert.equal(early.reply.type === "deadline" && early.reply.action, "nothing");

// 5. The executor never acknowledged; the deadline passes: cancelled, forced.
const fired = step("deadline passes (alarm)", { type: "deadline_fired" }, deadline);
assert.equal(fired.reply.type === "deadline" && fired.reply.action, "cancel_forced");
assert.equal(run.status.type, "cancelled");
assert.equal(run.status.type === "cancelled" && run.status.forced, true);
console.log(`  cancelled, forced: ${run.status.forced}; canCancel: ${canCancel(run)}`);

// 6. A second cancel is answered, not refused.
const again = decide(run, { type: "cancel", by: { source: "api" } }, deadline + 1_000);
console.log(`  a later cancel answers: ${again.reply.type === "cancel" && again.reply.outcome.kind}`);
console.log(`${log.length} events in the log: ${log.map((e) => e.event.type).join(" -> ")}`);
