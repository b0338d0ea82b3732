// T9 (c): the alarm handler run twice — one after the other, at the same time, and racing the
// executor's ack or late completion. Whatever the order, a run gets exactly one terminal event.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { advance, api, claim, createRun, newOrg, type Org } from "./helpers";

const RUNS = 10;

function runStub(orgId: string, runId: string) {
  return env.RUNS.get(env.RUNS.idFromName(`${orgId}/${runId}`));
}

async function eventTypes(orgId: string, runId: string): Promise<string[]> {
  const rows = await runInDurableObject(runStub(orgId, runId), (_i, state) =>
    state.storage.sql.exec("SELECT type FROM events ORDER BY seq").toArray(),
  );
  return rows.map((r) => String(r.type));
}

const TERMINAL = new Set(["completed", "failed", "rejected", "cancelled"]);

/** Runs whose executor holds a lease and has a cancel pending with a 5 s grace, then past it. */
async function pastDeadline(org: Org, n: number): Promise<{ id: string; lease: string }[]> {
  const runs: { id: string; lease: string }[] = [];
  for (let i = 0; i < n; i++) {
    const run = await createRun(org);
    const lease = await claim(org, run.id, 3_600_000);
    const res = await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 5_000, command_id: `c-${i}` } });
    expect(res.body.outcome.kind).toBe("requested");
    runs.push({ id: run.id, lease });
  }
  await advance(6_000);
  return runs;
}

async function expectOneForcedCancel(org: Org, id: string): Promise<string[]> {
  const types = await eventTypes(org.orgId, id);
  expect(types.filter((t) => TERMINAL.has(t))).toEqual(["cancelled"]);
  expect(types.filter((t) => t === "cancel_requested")).toHaveLength(1);
  return types;
}

describe("T9 (c): the alarm handler run twice", () => {
  it(`one after the other: ${RUNS} runs, one forced cancel each`, async () => {
    const org = await newOrg();
    for (const { id } of await pastDeadline(org, RUNS)) {
      const stub = runStub(org.orgId, id);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      await runDurableObjectAlarm(stub);
      const run = (await api(`/api/runs/${id}`, { key: org.user })).body.run;
      expect(run.status).toBe("cancelled");
      expect(run.cancel.forced).toBe(true);
      await expectOneForcedCancel(org, id);
    }
  });

  it(`at the same time: ${RUNS} runs, one forced cancel each`, async () => {
    const org = await newOrg();
    for (const { id } of await pastDeadline(org, RUNS)) {
      const stub = runStub(org.orgId, id);
      await Promise.all([runDurableObjectAlarm(stub), runDurableObjectAlarm(stub)]);
      await expectOneForcedCancel(org, id);
    }
  });

  it(`racing the executor's ack: ${RUNS} runs, one cancel each, the ack's reply names the winner`, async () => {
    const org = await newOrg();
    for (const { id, lease } of await pastDeadline(org, RUNS)) {
      const stub = runStub(org.orgId, id);
      const [, ack] = await Promise.all([
        runDurableObjectAlarm(stub),
        api(`/api/runs/${id}/ack-cancel`, { key: org.executor, body: { lease_id: lease } }),
        runDurableObjectAlarm(stub),
      ]);
      const types = await eventTypes(org.orgId, id);
      expect(types.filter((t) => TERMINAL.has(t))).toEqual(["cancelled"]);
      const run = (await api(`/api/runs/${id}`, { key: org.user })).body.run;
      // An ack that won ends the cancel unforced; one that lost is refused (its lease is revoked).
      if (ack.status === 200) expect(run.cancel.forced).toBe(false);
      else {
        expect(ack.status).toBe(409);
        expect(run.cancel.forced).toBe(true);
      }
    }
  });

  it(`racing a late completion: ${RUNS} runs, one terminal event, the completion logged once`, async () => {
    const org = await newOrg();
    for (const { id, lease } of await pastDeadline(org, RUNS)) {
      const stub = runStub(org.orgId, id);
      const [, done] = await Promise.all([
        runDurableObjectAlarm(stub),
        api(`/api/runs/${id}/complete`, { key: org.executor, body: { lease_id: lease } }),
        runDurableObjectAlarm(stub),
      ]);
      expect(done.status).toBeLessThan(500);
      const types = await eventTypes(org.orgId, id);
      expect(types.filter((t) => TERMINAL.has(t))).toEqual(["cancelled"]);
      expect(types.filter((t) => t === "late_completion").length).toBeLessThanOrEqual(1);
      expect((await api(`/api/runs/${id}`, { key: org.user })).body.run.status).toBe("cancelled");
    }
  });

  it("an alarm before the deadline, twice, changes nothing", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    await claim(org, run.id, 3_600_000);
    await api(`/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 60_000 } });
    const stub = runStub(org.orgId, run.id);
    await runDurableObjectAlarm(stub);
    await runDurableObjectAlarm(stub);
    expect((await api(`/api/runs/${run.id}`, { key: org.user })).body.run.status).toBe("cancelling");
    const types = await eventTypes(org.orgId, run.id);
    expect(types.filter((t) => TERMINAL.has(t))).toEqual([]);
  });
});
