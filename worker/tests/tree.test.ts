import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, api, claim, createRun, newOrg, type Org } from "./helpers";

function runStub(orgId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${orgId}/${runId}`));
}

/** Polls the tree until `done` holds (the cascade travels through outboxes and alarms). */
async function treeUntil(org: Org, root: string, done: (t: any) => boolean, what: string): Promise<any> {
  let last: any;
  for (let i = 0; i < 400; i++) {
    const res = await api(`/api/runs/${root}/tree`, { key: org.user });
    expect(res.status).toBe(200);
    last = res.body;
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10)); // poll interval, not a wait for time
  }
  throw new Error(`tree never reached ${what}: ${JSON.stringify(last)}`);
}

/** Every tree answer's counts add up. */
function expectCountsAddUp(t: any) {
  const c = t.counts;
  expect(c.cancelled + c.already_finished + c.cancelling + c.active + c.missing).toBe(c.total);
  const statuses = Object.values(t.by_status as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(statuses + c.missing).toBe(c.total);
}

describe("run trees", () => {
  it("a cancel of the root reaches sub-runs created before and after it, level by level", async () => {
    const org = await newOrg();
    const early = await createRun(org, { name: "early" });
    const root = await createRun(org, { name: "root", sub_runs: [early.id] });
    const a = await createRun(org, { name: "a", parent_run_id: root.id });
    const b = await createRun(org, { name: "b", parent_run_id: root.id });
    const a1 = await createRun(org, { name: "a1", parent_run_id: a.id });
    const a2 = await createRun(org, { name: "a2", parent_run_id: a.id, initial: "running" });
    expect(a.parent_run_id).toBe(root.id);

    const before = await api(`/api/runs/${root.id}/tree`, { key: org.user });
    expect(before.status).toBe(200);
    expect(before.body.counts).toMatchObject({ total: 6, active: 6, cancelled: 0 });
    expect(before.body.depth).toBe(2);
    expect(before.body.nodes.map((n: any) => n.id)).toEqual([root.id, early.id, a.id, b.id, a1.id, a2.id]);
    expect(before.body.nodes[4]).toMatchObject({ parent_id: a.id, depth: 2, outcome: "active", status: "queued" });
    expectCountsAddUp(before.body);

    const res = await api(`/api/runs/${root.id}/cancel`, { key: org.user, body: { reason: "tree", command_id: "tree-1" } });
    expect(res.body.outcome.kind).toBe("cancelled_now");
    const after = await treeUntil(org, root.id, (t) => t.all_terminal, "all terminal");
    expect(after.counts).toMatchObject({ total: 6, cancelled: 6, active: 0, cancelling: 0, missing: 0 });
    for (const n of after.nodes) expect(n).toMatchObject({ status: "cancelled", outcome: "cancelled", forced: false });
    expectCountsAddUp(after);

    const leaf = await api(`/api/runs/${a1.id}`, { key: org.user });
    expect(leaf.body.run.cancel.by.source).toBe("cascade");
    expect(leaf.body.run.cancel.command_id).toBe("tree-1:cascade:cascade");
    expect(leaf.body.run.cancel.reason).toBe("tree");
  });

  it("a sub-run created under a cancelled parent is cancelled in the reply that creates it", async () => {
    const org = await newOrg();
    const root = await createRun(org);
    await api(`/api/runs/${root.id}/cancel`, { key: org.user, body: { command_id: "stop-all", reason: "too late" } });
    const late = await api("/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", parent_run_id: root.id } });
    expect(late.status).toBe(201);
    expect(late.body.run.status).toBe("cancelled");
    expect(late.body.run.cancel).toMatchObject({ forced: false, reason: "too late", command_id: "stop-all:cascade" });
    expect(late.body.run.cancel.by).toEqual({ source: "cascade", actor: root.id });
    // It never was claimable: the same write created and cancelled it.
    const claimRes = await api(`/api/runs/${late.body.run.id}/claim`, { key: org.executor, body: { executor: "x" } });
    expect(claimRes.status).toBe(409);
    const events = await api(`/api/runs/${late.body.run.id}/events`, { key: org.user });
    expect(events.body.data.map((e: any) => e.event.type)).toEqual(["created", "cancelled", "cancel_recorded"]);
    // The parent lists it, and its cascade (the same command) is a replay at most.
    const rootEvents = await api(`/api/runs/${root.id}/events`, { key: org.user });
    expect(rootEvents.body.data.map((e: any) => e.event.type)).toContain("sub_run_attached");
    const t = await api(`/api/runs/${root.id}/tree`, { key: org.user });
    expect(t.body.counts).toMatchObject({ total: 2, cancelled: 2 });
    expect(t.body.all_terminal).toBe(true);
  });

  it("leased sub-runs stay cancelling until the root's deadline, then are forced", async () => {
    const org = await newOrg();
    const root = await createRun(org);
    const child = await createRun(org, { parent_run_id: root.id });
    await claim(org, root.id);
    await claim(org, child.id);
    const res = await api(`/api/runs/${root.id}/cancel`, { key: org.user, body: { grace_ms: 10_000 } });
    expect(res.body.outcome.kind).toBe("requested");
    const deadline = res.body.cancel.deadline;

    const mid = await treeUntil(org, root.id, (t) => t.counts.cancelling === 2, "both cancelling");
    expect(mid.all_terminal).toBe(false);
    expect(mid.nodes.map((n: any) => n.outcome)).toEqual(["cancelling", "cancelling"]);
    // The sub-run follows the root's deadline (its cascade carries the same grace, so its
    // deadline is the root's plus the cascade's delivery time).
    const [rootDeadline, childDeadline] = mid.nodes.map((n: any) => Date.parse(n.deadline));
    expect(rootDeadline).toBe(deadline);
    expect(childDeadline - rootDeadline).toBeGreaterThanOrEqual(0);
    expect(childDeadline - rootDeadline).toBeLessThan(1_000);
    expect(Date.parse(mid.latest_deadline)).toBe(childDeadline);
    expectCountsAddUp(mid);

    // A sub-run created now (no executor yet) is cancelled at once.
    const late = await createRun(org, { parent_run_id: root.id });
    expect(late.status).toBe("cancelled");

    await advance(12_000);
    await runDurableObjectAlarm(runStub(org.orgId, root.id));
    await runDurableObjectAlarm(runStub(org.orgId, child.id));
    const end = await treeUntil(org, root.id, (t) => t.all_terminal, "all terminal");
    expect(end.counts).toMatchObject({ total: 3, cancelled: 3 });
    expect(end.nodes.filter((n: any) => n.forced).length).toBe(2);
  });

  it("finished sub-runs are reported as already finished; unknown ones as missing", async () => {
    const org = await newOrg();
    const done = await createRun(org, { initial: "running" });
    const fin = await api(`/api/runs/${done.id}/complete`, { key: org.executor, body: {} });
    expect(fin.status).toBe(200);
    const root = await createRun(org, { sub_runs: [done.id, "run_neverexisted"] });
    await api(`/api/runs/${root.id}/cancel`, { key: org.user, body: {} });
    const t = await treeUntil(org, root.id, (x) => x.counts.cancelled === 1, "root cancelled");
    expect(t.counts).toMatchObject({ total: 3, cancelled: 1, already_finished: 1, missing: 1, active: 0 });
    expect(t.nodes[2]).toEqual({ id: "run_neverexisted", parent_id: root.id, depth: 1, status: null, outcome: "missing" });
    expect(t.all_terminal).toBe(true);
    expectCountsAddUp(t);
  });

  it("refuses parents that ended, do not exist or belong to another organisation", async () => {
    const org = await newOrg();
    const other = await newOrg("other");
    const done = await createRun(org, { initial: "running" });
    await api(`/api/runs/${done.id}/complete`, { key: org.executor, body: {} });
    const ended = await api("/api/runs", { key: org.user, body: { kind: "workflow", parent_run_id: done.id } });
    expect(ended.status).toBe(409);
    expect(ended.body).toMatchObject({ code: "parent_ended", field: "parent_run_id" });
    const unknown = await api("/api/runs", { key: org.user, body: { kind: "workflow", parent_run_id: "run_nope" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.field).toBe("parent_run_id");
    const foreign = await api("/api/runs", { key: other.user, body: { kind: "workflow", parent_run_id: done.id } });
    expect(foreign.status).toBe(400);
    expect((await api(`/api/runs/${done.id}/tree`, { key: other.user })).status).toBe(404);
  });

  it("pages the node list while the counts cover the whole tree", async () => {
    const org = await newOrg();
    const root = await createRun(org);
    for (let i = 0; i < 5; i++) await createRun(org, { parent_run_id: root.id });
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 10; page++) {
      const res = await api(`/api/runs/${root.id}/tree?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: org.user });
      expect(res.status).toBe(200);
      expect(res.body.counts.total).toBe(6);
      seen.push(...res.body.nodes.map((n: any) => n.id));
      if (!res.body.next_cursor) break;
      cursor = res.body.next_cursor;
    }
    expect(seen.length).toBe(6);
    expect(new Set(seen).size).toBe(6);
    const shallow = await api(`/api/runs/${root.id}/tree?max_depth=0`, { key: org.user });
    expect(shallow.body.counts.total).toBe(1);
    expect(shallow.body.truncated).toBe(true);
    const bad = await api(`/api/runs/${root.id}/tree?limit=0`, { key: org.user });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("limit");
  });

  it("cancels a run with 10,000 child items in one request whose reply carries the counts", async () => {
    const org = await newOrg();
    const items = Array.from({ length: 10_000 }, (_, i) => ({ id: `c${i}`, status: i < 10 ? "running" : "pending" }));
    const run = await createRun(org, { children: items });
    await claim(org, run.id);
    const res = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 5_000 } });
    expect(res.status).toBe(200);
    expect(res.body.cancel.children).toEqual({ pending: 0, running: 0, cancelling: 10, completed: 0, failed: 0, cancelled: 9_990 });
    const page = await api(`/api/runs/${run.id}/children?status=cancelling`, { key: org.user });
    expect(page.body.data.length).toBe(10);
  });
});
