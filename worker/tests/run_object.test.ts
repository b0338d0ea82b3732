import { env, runDurableObjectAlarm, runInDurableObject, evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, api, claim, createRun, newOrg, ownTables } from "./helpers";

function runStub(orgId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${orgId}/${runId}`));
}

/** Polls the organisation's list until `pred` holds (the index is fed right after each commit). */
async function listUntil(key: string, query: string, pred: (ids: string[]) => boolean): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const res = await api(`/api/runs?${query}`, { key });
    const ids = (res.body.data as { id: string }[]).map((r) => r.id);
    if (pred(ids)) return ids;
  }
  throw new Error(`the index never satisfied the condition for ${query}`);
}

async function eventTypes(orgId: string, runId: string): Promise<string[]> {
  const rows = await runInDurableObject(runStub(orgId, runId), (_i, state) =>
    state.storage.sql.exec("SELECT type FROM events ORDER BY seq").toArray(),
  );
  return rows.map((r) => String(r.type));
}

describe("RunObject", () => {
  it("cancels a run without a lease at once and stores exactly one cancel in its log", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    const res = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { reason: "wrong input" } });
    expect(res.status).toBe(200);
    expect(res.body.outcome.kind).toBe("cancelled_now");
    expect(res.body.run.status).toBe("cancelled");
    expect(res.body.run.cancel.reason).toBe("wrong input");
    const types = await eventTypes(org.orgId, run.id);
    expect(types.filter((t) => t === "cancelled")).toHaveLength(1);
  });

  it("gives a leased run its grace, then the alarm forces the cancel after the deadline", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    const lease = await claim(org, run.id);
    const res = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 5_000 } });
    expect(res.body.outcome.kind).toBe("requested");
    expect(res.body.run.status).toBe("cancelling");

    // The alarm fires early (before the deadline): nothing changes.
    expect(await runDurableObjectAlarm(runStub(org.orgId, run.id))).toBe(true);
    expect((await api(`/api/runs/${run.id}`, { key: org.user })).body.run.status).toBe("cancelling");

    // The executor learns about the cancel from its heartbeat.
    const hb = await api(`/api/runs/${run.id}/heartbeat`, { key: org.executor, body: { lease_id: lease } });
    expect(hb.body.reply.cancel_requested).toBe(true);

    await advance(6_000);
    expect(await runDurableObjectAlarm(runStub(org.orgId, run.id))).toBe(true);
    const after = await api(`/api/runs/${run.id}`, { key: org.user });
    expect(after.body.run.status).toBe("cancelled");
    expect(after.body.run.cancel.forced).toBe(true);

    // Running the alarm again changes nothing: still one terminal event.
    await runDurableObjectAlarm(runStub(org.orgId, run.id));
    const types = await eventTypes(org.orgId, run.id);
    expect(types.filter((t) => t === "cancelled")).toHaveLength(1);
    expect(types.filter((t) => t === "cancel_requested")).toHaveLength(1);

    // The revoked lease is refused from now on.
    const late = await api(`/api/runs/${run.id}/heartbeat`, { key: org.executor, body: { lease_id: lease } });
    expect(late.status).toBe(409);
  });

  it("keeps state across an eviction: nothing is trusted from memory", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    await claim(org, run.id);
    await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 60_000, command_id: "c-1" } });
    await evictDurableObject(runStub(org.orgId, run.id));
    const again = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 60_000, command_id: "c-1" } });
    expect(again.body.outcome.kind).toBe("replayed");
    expect(again.body.outcome.original.outcome.kind).toBe("requested");
    expect((await eventTypes(org.orgId, run.id)).filter((t) => t === "cancel_requested")).toHaveLength(1);
  });

  it("cancels 10,000 children with bulk updates and counts that add up", async () => {
    const org = await newOrg();
    const children = Array.from({ length: 10_000 }, (_, i) => ({ id: `c${i}`, status: i < 100 ? "running" : "pending" }));
    const run = await createRun(org, { initial: "queued", children });
    await claim(org, run.id);
    const res = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 1_000 } });
    expect(res.body.cancel.children).toMatchObject({ pending: 0, running: 0, cancelling: 100, cancelled: 9_900 });
    const rows = await runInDurableObject(runStub(org.orgId, run.id), (_i, state) =>
      state.storage.sql.exec("SELECT status, COUNT(*) AS n FROM children GROUP BY status ORDER BY status").toArray(),
    );
    expect(rows).toEqual([
      { status: "cancelled", n: 9_900 },
      { status: "cancelling", n: 100 },
    ]);
  });

  it("feeds the organisation index right after the commit, with the alarm only as a fallback", async () => {
    const org = await newOrg();
    const run = await createRun(org, { name: "indexed run", tags: ["alpha"] });
    expect(await listUntil(org.user, "tag=alpha", (ids) => ids.length > 0)).toEqual([run.id]);
    const stub = runStub(org.orgId, run.id);
    // Delivery needed no alarm: the only one is the fallback, half a minute out.
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 20_000);
    // The fallback finds the row delivered and clears it without sending it again.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const outbox = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec("SELECT key FROM outbox").toArray(),
    );
    expect(outbox).toEqual([]);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });

  it("does not touch the index for a heartbeat", async () => {
    const org = await newOrg();
    const run = await createRun(org, { tags: ["beta"] });
    const lease = await claim(org, run.id);
    await listUntil(org.user, "tag=beta&status=running", (ids) => ids.includes(run.id));
    const hb = await api(`/api/runs/${run.id}/heartbeat`, { key: org.executor, body: { lease_id: lease } });
    expect(hb.status).toBe(200);
    const outbox = await runInDurableObject(runStub(org.orgId, run.id), (_i, state) =>
      state.storage.sql.exec("SELECT key FROM outbox").toArray(),
    );
    expect(outbox).toEqual([]);
  });

  it("answers an unknown run id not found on every route and writes no table into its object", async () => {
    const org = await newOrg();
    const id = "run_" + "Z".repeat(22);
    for (const path of [`/api/runs/${id}`, `/api/runs/${id}/events`, `/api/runs/${id}/children`]) {
      expect((await api(path, { key: org.user })).status, path).toBe(404);
    }
    expect((await api(`/api/runs/${id}/cancel`, { key: org.user, body: {} })).status).toBe(404);
    expect((await api(`/api/runs/${id}/heartbeat`, { key: org.executor, body: { lease_id: "l" } })).status).toBe(404);
    const tables = await ownTables(runStub(org.orgId, id));
    expect(tables).toEqual([]);
  });

  it("rolls back every write of an operation that fails part-way, and the retry applies it once", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    const stub = runStub(org.orgId, run.id);
    // The outbox write comes after the event and the state: without it the cancel cannot finish.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("DROP TABLE outbox");
    });
    const failed = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { command_id: "c-1" } });
    expect(failed.status).toBe(500);
    expect((await api(`/api/runs/${run.id}`, { key: org.user })).body.run.status).toBe("queued");
    expect(await eventTypes(org.orgId, run.id)).toEqual(["created"]);
    // The object looks at its schema again after a rollback (and restores the missing table).
    const retried = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { command_id: "c-1" } });
    expect(retried.status).toBe(200);
    expect(retried.body.outcome.kind).toBe("cancelled_now");
    // One cancel and one idempotency record for c-1: nothing of the failed attempt remains.
    expect(await eventTypes(org.orgId, run.id)).toEqual(["created", "cancelled", "cancel_recorded"]);
  });
});
