// T10: eviction between steps. The lifecycle paths of the core's golden fixtures
// (crate/tests/fixtures/v1/logs, one per state path) are driven through the Worker's API twice:
// once plainly, once with the run's Durable Object evicted (`evictDurableObject`) before every
// step, so nothing may be trusted from an instance's memory. Every reply, the alarm's firing, the
// event log and the organisation list's entry must be the same (after ids and instants are
// replaced by placeholders: they are random, and real time passes between steps).
import { env, evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, api, newOrg, type Org } from "./helpers";

type Step =
  | { op: "claim"; lease_ms?: number }
  | { op: "heartbeat" | "complete" | "ack-cancel" }
  | { op: "complete-unleased" }
  | { op: "fail" }
  | { op: "wait"; reason: "human_review" | "sleep" }
  | { op: "resume" }
  | { op: "reject" }
  | { op: "cancel"; body?: Record<string, unknown> }
  | { op: "extend-cancel" }
  | { op: "alarm" }
  | { op: "advance"; ms: number };

interface Scenario {
  name: string;
  create: Record<string, unknown>;
  steps: Step[];
}

const claim = (lease_ms = 30_000): Step => ({ op: "claim", lease_ms });
const cancel = (body: Record<string, unknown> = {}): Step => ({ op: "cancel", body });
const withId = (id: string, more: Record<string, unknown> = {}): Step => cancel({ command_id: id, reason: "no longer needed", ...more });
const wait = (ms: number): Step => ({ op: "advance", ms });

/** One per fixture path (crate/tests/fixtures.rs), with the same commands and time steps. */
const SCENARIOS: Scenario[] = [
  { name: "pending_cancelled_now", create: { initial: "pending" }, steps: [wait(1_000), withId("c1")] },
  { name: "queued_cancelled_now", create: {}, steps: [wait(1_000), cancel()] },
  { name: "claim_complete", create: {}, steps: [claim(), wait(4_900), { op: "heartbeat" }, wait(4_000), { op: "complete" }] },
  { name: "claim_fail", create: {}, steps: [claim(), wait(8_900), { op: "fail" }] },
  { name: "running_unclaimed_complete", create: { initial: "running" }, steps: [wait(2_000), { op: "complete-unleased" }] },
  {
    name: "cancel_then_ack",
    create: {},
    steps: [claim(), wait(900), withId("c1"), wait(1_000), { op: "heartbeat" }, wait(1_000), { op: "ack-cancel" }],
  },
  {
    name: "deadline_escalation",
    create: {},
    steps: [claim(), wait(900), cancel({ grace_ms: 10_000 }), wait(4_000), { op: "alarm" }, wait(6_000), { op: "alarm" }, wait(500), { op: "alarm" }],
  },
  { name: "cancel_after_complete_lost_race", create: {}, steps: [claim(), wait(900), { op: "complete" }, wait(1_000), withId("c1")] },
  { name: "cancel_after_complete_long_ago", create: {}, steps: [claim(), wait(900), { op: "complete" }, wait(3_599_000), withId("c1")] },
  { name: "double_cancel", create: {}, steps: [claim(), wait(900), withId("c1"), wait(500), withId("c2")] },
  { name: "cancel_during_cancelling_replayed", create: {}, steps: [claim(), wait(900), withId("c1"), wait(200), withId("c1"), wait(100), cancel()] },
  { name: "cancel_after_cancelled", create: {}, steps: [wait(1_000), withId("c1"), wait(1_000), withId("c2")] },
  { name: "late_completion", create: {}, steps: [claim(), wait(900), withId("c1"), wait(1_000), { op: "complete" }, wait(500), { op: "complete" }] },
  { name: "late_failure", create: {}, steps: [claim(), wait(900), withId("c1"), wait(1_000), { op: "fail" }] },
  {
    name: "late_completion_after_forced",
    create: {},
    steps: [claim(), wait(900), cancel({ grace_ms: 1_000 }), wait(1_000), { op: "alarm" }, wait(2_000), { op: "complete" }],
  },
  { name: "lease_expiry_requeue", create: {}, steps: [claim(1_000), wait(1_000), { op: "alarm" }, wait(900), claim(), wait(1_000), { op: "complete" }] },
  { name: "cancel_with_expired_lease", create: {}, steps: [claim(1_000), wait(4_900), cancel()] },
  { name: "human_review_reject", create: {}, steps: [claim(), wait(900), { op: "wait", reason: "human_review" }, wait(60_000), { op: "reject" }] },
  {
    name: "human_review_resume_complete",
    create: {},
    steps: [claim(), wait(900), { op: "wait", reason: "human_review" }, wait(30_000), { op: "resume" }, wait(9_000), { op: "complete" }],
  },
  { name: "cancel_while_waiting_on_human", create: {}, steps: [claim(), wait(900), { op: "wait", reason: "human_review" }, wait(10_000), withId("c1")] },
  { name: "grace_zero_forced", create: {}, steps: [claim(), wait(900), withId("c1", { grace_ms: 0 })] },
  { name: "not_cancellable_needs_review", create: { kind: "extend_workflow" }, steps: [claim(), wait(900), { op: "wait", reason: "human_review" }, wait(1_000), { op: "extend-cancel" }] },
  { name: "precondition_failed", create: {}, steps: [claim(), wait(900), withId("c1", { if_version: 1 })] },
  {
    name: "children_cascade",
    create: {
      children: [
        { id: "step_1", status: "completed" },
        { id: "step_2", status: "running" },
        { id: "step_3", status: "pending" },
        { id: "step_4", status: "pending" },
      ],
    },
    steps: [claim(), wait(900), withId("c1", { grace_ms: 10_000 }), wait(1_000), { op: "ack-cancel" }],
  },
];

function runStub(orgId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${orgId}/${runId}`));
}

const TIME_KEYS = /(^at$|_at$|^deadline$|^now$|^since$|duration_ms$|waiting_ms$)/;

/**
 * Replaces what legitimately differs between two drives of one scenario: random ids (the same id
 * gets the same placeholder) and instants (real time passes between steps; the test clock moves
 * both drives by the same amounts).
 */
function normalise(value: unknown, ids: Map<string, string>, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, ids));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalise(v, ids, k)]));
  }
  if (typeof value === "number" && (TIME_KEYS.test(key) || value > 1e12)) return "<time>";
  if (typeof value === "string") {
    if (TIME_KEYS.test(key) || /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return "<time>";
    // Ids, alone or inside a message.
    return value.replace(/\b[a-z][a-z_]*_[A-Za-z0-9]{12,}\b|\b[0-9a-f]{8}-[0-9a-f-]{27}\b/g, (id) => {
      if (!ids.has(id)) ids.set(id, `<id${ids.size}>`);
      return ids.get(id) ?? id;
    });
  }
  return value;
}

/** Drives one scenario; returns what a client and an auditor see, normalised. */
async function drive(org: Org, s: Scenario, evict: boolean, tag: string): Promise<{ seen: unknown; raw: any[] }> {
  const ids = new Map<string, string>();
  const seen: unknown[] = [];
  const created = await api("/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", tags: [tag], ...s.create } });
  expect(created.status).toBe(201);
  const id: string = created.body.run.id;
  const stub = runStub(org.orgId, id);
  seen.push({ create: created.status, body: created.body });
  let lease: string | undefined;
  for (const step of s.steps) {
    if (step.op === "advance") {
      await advance(step.ms);
      continue;
    }
    if (evict) await evictDurableObject(stub);
    let res: { status: number; body: any };
    switch (step.op) {
      case "claim":
        res = await api(`/api/runs/${id}/claim`, { key: org.executor, body: { executor: "exec-1", lease_ms: step.lease_ms } });
        if (res.status === 200) lease = res.body.lease.id;
        break;
      case "resume":
        res = await api(`/api/runs/${id}/resume`, { key: org.executor, body: { executor: "exec-1", lease_ms: 30_000 } });
        if (res.status === 200) lease = res.body.lease?.id ?? res.body.run.state.status.lease?.id;
        break;
      case "heartbeat":
      case "complete":
      case "ack-cancel":
        res = await api(`/api/runs/${id}/${step.op}`, { key: org.executor, body: { lease_id: lease } });
        break;
      case "complete-unleased":
        res = await api(`/api/runs/${id}/complete`, { key: org.executor, body: {} });
        break;
      case "fail":
        res = await api(`/api/runs/${id}/fail`, { key: org.executor, body: { lease_id: lease, message: "OCR failed on page 3", code: "OCR_ERROR" } });
        break;
      case "wait":
        res = await api(`/api/runs/${id}/wait`, { key: org.executor, body: { lease_id: lease, reason: step.reason } });
        break;
      case "reject":
        res = await api(`/api/runs/${id}/reject`, { key: org.user, body: { note: "Invalid invoice format" } });
        break;
      case "cancel":
        res = await api(`/api/runs/${id}/cancel`, { key: org.user, body: step.body ?? {} });
        break;
      case "extend-cancel":
        res = await api(`/workflow_runs/${id}/cancel`, { key: org.user, method: "POST", headers: { "x-extend-api-version": "2026-02-09" } });
        break;
      case "alarm":
        res = { status: 0, body: { fired: await runDurableObjectAlarm(stub) } };
        break;
    }
    expect(res.status).toBeLessThan(500);
    seen.push({ step: step.op, status: res.status, body: res.body });
  }
  if (evict) await evictDurableObject(stub);
  const events = await api(`/api/runs/${id}/events?limit=1000`, { key: org.user });
  const run = await api(`/api/runs/${id}`, { key: org.user });
  // The list is fed after each commit; wait until it shows the run as it is (a condition).
  let listed: any;
  for (let i = 0; i < 400; i++) {
    const list = await api(`/api/runs?tag=${tag}`, { key: org.user });
    listed = list.body.data.find((r: { id: string }) => r.id === id);
    if (listed?.status === run.body.run.status) break;
    await new Promise((resolve) => setTimeout(resolve, 10)); // poll interval, not a wait for time
  }
  seen.push({ events: events.body, run: run.body, listed });
  return { seen: normalise(seen, ids), raw: events.body.data };
}

/** Checks a log against the T1 invariants and the instants normalisation hides. */
function checkLog(events: { seq: number; at: number; event: Record<string, any> }[]) {
  events.forEach((e, i) => expect(e.seq).toBe(i + 1));
  const terminal = events.filter((e) => ["completed", "failed", "rejected", "cancelled"].includes(e.event.type));
  expect(terminal.length).toBeLessThanOrEqual(1);
  for (const e of events) {
    if (e.event.type === "cancelled" && e.event.via === "deadline") {
      const requested = events.find((r) => r.event.type === "cancel_requested");
      if (requested && requested.event.deadline) expect(e.at).toBeGreaterThanOrEqual(requested.event.deadline);
    }
  }
}

describe(`T10: eviction between every step, ${SCENARIOS.length} scenarios`, () => {
  SCENARIOS.forEach((s, i) => {
    it(`${s.name}: the same replies, log and list entry with and without evictions`, async () => {
      const org = await newOrg(`T10 ${s.name}`);
      const plain = await drive(org, s, false, `t10-${i}`);
      const evicted = await drive(org, s, true, `t10-${i}`);
      expect(evicted.seen).toEqual(plain.seen);
      const last = (plain.seen as any[])[(plain.seen as any[]).length - 1];
      expect(last.listed, "the list shows the run").toBeTruthy();
      checkLog(plain.raw);
      checkLog(evicted.raw);
    });
  });
});
