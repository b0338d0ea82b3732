// A TypeScript consumer of the packed runbrake-core: proves the generated declarations are
// usable under `--strict`. package.test.mjs copies it into a scratch project where the tarball
// is installed and runs `tsc --noEmit --strict` on it, once with node16/nodenext resolution
// (the package's "node" export) and once with bundler resolution (the "bundler" build). Each
// `@ts-expect-error` line is misuse that must NOT compile: if it did, tsc reports the unused
// directive and the test fails.
import {
  ChildTable,
  applyOptimistic,
  canCancel,
  create,
  decide,
  displayStatus,
  evolve,
  mergeCancelReply,
  mergeEvent,
  newView,
  nextDeadline,
  type CancelOutcome,
  type Command,
  type Created,
  type Decision,
  type EventRecord,
  type MergeResult,
  type Millis,
  type RunState,
  type RunView,
  type StatusKind,
} from "runbrake-core";
import init, { decide as decideWeb, type InitOutput } from "runbrake-core/web";

const t0: Millis = Date.parse("2026-05-01T14:30:00Z");

const created: Created = create({ id: "run_1", kind: "workflow", initial: "queued" }, t0);
let state: RunState = created.state;

function step(cmd: Command, now: Millis): Decision {
  const d: Decision = decide(state, cmd, now);
  for (const e of d.events) state = evolve(state, e);
  return d;
}

step({ type: "claim", executor: "e", lease_id: "L1", lease_ms: 60_000 }, t0 + 1);
const enabled: boolean = canCancel(state);
const cmd: Command = { type: "cancel", by: { source: "dashboard", actor: "ada" }, grace_ms: 5_000 };
const d = step(cmd, t0 + 2);

// Tagged unions narrow.
if (d.reply.type === "cancel") {
  const outcome: CancelOutcome = d.reply.outcome;
  switch (outcome.kind) {
    case "requested": {
      const deadline: Millis = outcome.deadline;
      void deadline;
      break;
    }
    case "cancelled_now":
      void (outcome.forced satisfies boolean);
      break;
    default:
      break;
  }
}
if (state.status.type === "cancelling") {
  const by: string = state.status.by.source;
  void by;
}
const next: number | undefined = nextDeadline(state);
const alarm: Millis | null = d.next_deadline;

// The client view.
let view: RunView = applyOptimistic(newView(state), { requested_at: t0 + 3 });
const shown: StatusKind = displayStatus(view);
const event: EventRecord = { seq: state.version + 1, at: t0 + 4, event: { type: "enqueued" } };
const merged: MergeResult = mergeEvent(view, event);
view = merged.view;
if (d.reply.type === "cancel") view = mergeCancelReply(view, d.reply);

const table = new ChildTable();
for (const e of created.decision.events) table.apply(e);
const size: number = table.size;
table.free();

// The web build: same functions after init().
const ready: Promise<InitOutput> = init();
void ready.then(() => decideWeb(state, { type: "deadline_fired" }, t0 + 10));

// Misuse that must not compile.
// @ts-expect-error: `now` is a number of ms, not a Date
decide(state, { type: "deadline_fired" }, new Date());
// @ts-expect-error: unknown command type
decide(state, { type: "explode" }, t0);
// @ts-expect-error: a cancel needs `by`
decide(state, { type: "cancel" }, t0);
// @ts-expect-error: `source` is a closed set
decide(state, { type: "cancel", by: { source: "somebody" } }, t0);
// @ts-expect-error: a Decision is not a RunState
const wrong: RunState = decide(state, cmd, t0);
// @ts-expect-error: outcome kinds are a closed set
const kind: CancelOutcome["kind"] = "maybe_cancelled";
// @ts-expect-error: the status kind is a string union, not any string
const status: StatusKind = "exploded";

export { alarm, enabled, kind, next, shown, size, status, wrong };
