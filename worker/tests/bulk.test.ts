import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, advance, api, claim, createRun, newOrg, type Org } from "./helpers";

const tick = () => new Promise((resolve) => setTimeout(resolve, 10)); // poll interval, not a wait for time

/** Waits until the index lists `n` runs for `query` (it is fed right after each commit). */
async function indexed(org: Org, query: string, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const res = await api(`/api/runs?${query}&limit=200`, { key: org.user });
    if (res.body.data.length >= n) return;
    await tick();
  }
  throw new Error(`the index never listed ${n} runs for ${query}`);
}

async function jobUntil(org: Org, id: string, done: (job: any) => boolean, what: string): Promise<any> {
  let last: any;
  for (let i = 0; i < 1_000; i++) {
    const res = await api(`/api/bulk-cancels/${id}`, { key: org.user });
    expect(res.status).toBe(200);
    last = res.body.job;
    if (done(last)) return last;
    await tick();
  }
  throw new Error(`job never reached ${what}: ${JSON.stringify(last)}`);
}

function expectProgressAddsUp(job: any) {
  const p = job.progress;
  expect(p.pending + p.in_flight + p.done + p.failed + p.skipped).toBe(job.total);
  const outcomes = Object.values(job.outcomes as Record<string, number>).reduce((a, b) => a + b, 0);
  expect(outcomes).toBe(p.done + p.failed + p.skipped);
  expect(job.processed).toBe(p.done + p.failed + p.skipped);
}

async function allItems(org: Org, job: string, query = ""): Promise<any[]> {
  const out: any[] = [];
  let cursor = "";
  for (let i = 0; i < 100; i++) {
    const res = await api(`/api/bulk-cancels/${job}/items?limit=7${query}${cursor ? `&cursor=${cursor}` : ""}`, { key: org.user });
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    if (!res.body.next_cursor) return out;
    cursor = res.body.next_cursor;
  }
  throw new Error("items never ended");
}

async function dryRun(org: Org, body: unknown) {
  const res = await api("/api/bulk-cancels/dry-run", { key: org.user, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function start(org: Org, body: unknown, headers?: Record<string, string>) {
  return api("/api/bulk-cancels", { key: org.user, body, headers });
}

describe("bulk cancels", () => {
  it("dry run freezes a batch, the job cancels exactly that selection and reports every item", async () => {
    const org = await newOrg();
    const runs = [];
    for (let i = 0; i < 12; i++) runs.push(await createRun(org, { batch_id: "b1", kind: "generic" }));
    const done = await createRun(org, { batch_id: "b1", initial: "running" });
    await api(`/api/runs/${done.id}/complete`, { key: org.executor, body: {} });
    await indexed(org, "batch_id=b1", 13);

    const dry = await dryRun(org, { selection: { batch_id: "b1" }, reason: "bad batch", sample_size: 5 });
    expect(dry.count).toBe(12); // live statuses only: the completed run is not selected
    expect(dry.sample).toHaveLength(5);
    expect(dry.sample[0]).toMatchObject({ status: "queued", kind: "generic" });
    expect(dry.selection).toEqual({ type: "batch_id", batch_id: "b1", status: ["pending", "queued", "running", "waiting"] });
    expect(Date.parse(dry.expires_at) - Date.parse(dry.created_at)).toBe(3_600_000);

    // A run added to the batch after the dry run is not in the job.
    const later = await createRun(org, { batch_id: "b1" });

    const res = await start(org, { dry_run_id: dry.dry_run_id, concurrency: 4 });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/api/bulk-cancels/${res.body.job.id}`);
    const job = await jobUntil(org, res.body.job.id, (j) => j.status === "completed", "completed");
    expect(job).toMatchObject({ total: 12, loaded: 12, reason: "bad batch", concurrency: 4 });
    expect(job.progress).toEqual({ pending: 0, in_flight: 0, done: 12, failed: 0, skipped: 0 });
    expect(job.outcomes.cancelled).toBe(12);
    expectProgressAddsUp(job);

    const items = await allItems(org, job.id);
    expect(items.map((i) => i.run_id).sort()).toEqual(runs.map((r) => r.id).sort());
    for (const item of items) expect(item).toMatchObject({ state: "done", outcome: "cancelled", attempts: 1 });

    const one = await api(`/api/runs/${runs[0].id}`, { key: org.user });
    expect(one.body.run.status).toBe("cancelled");
    expect(one.body.run.cancel).toMatchObject({
      reason: "bad batch",
      command_id: `bulk:${job.id}:${runs[0].id}`,
      by: { source: "bulk", actor: job.id },
    });
    expect((await api(`/api/runs/${later.id}`, { key: org.user })).body.run.status).toBe("queued");

    const list = await api("/api/bulk-cancels", { key: org.user });
    expect(list.body.data.map((j: any) => j.id)).toEqual([job.id]);
  });

  it("by ids: unknown, finished, cancelling and leased runs each get their own outcome", async () => {
    const org = await newOrg();
    const plain = await createRun(org);
    const leased = await createRun(org);
    await claim(org, leased.id);
    const finished = await createRun(org, { initial: "running" });
    await api(`/api/runs/${finished.id}/complete`, { key: org.executor, body: {} });
    const gone = await createRun(org);
    await api(`/api/runs/${gone.id}/cancel`, { key: org.user, body: {} });
    const other = await newOrg("other");
    const foreign = await createRun(other);

    const dry = await dryRun(org, {
      selection: { ids: [plain.id, leased.id, finished.id, gone.id, "run_unknown", foreign.id, plain.id] },
      grace_ms: 20_000,
    });
    expect(dry.count).toBe(6);
    expect(dry.selection).toEqual({ type: "ids", count: 6 });
    expect(dry.sample.find((s: any) => s.id === "run_unknown").status).toBe(null);

    const res = await start(org, { dry_run_id: dry.dry_run_id });
    const job = await jobUntil(org, res.body.job.id, (j) => j.status === "completed", "completed");
    expect(job.progress).toMatchObject({ done: 2, skipped: 4, failed: 0 });
    expect(job.outcomes).toMatchObject({ cancelled: 1, cancelling: 1, already_finished: 1, already_cancelled: 1, not_found: 2 });
    expectProgressAddsUp(job);

    const items = await allItems(org, job.id);
    const by = Object.fromEntries(items.map((i) => [i.run_id, i]));
    expect(by[leased.id].detail.deadline).toBeTruthy();
    expect(by[finished.id].detail.status).toBe("completed");
    expect(by[foreign.id].outcome).toBe("not_found");
    expect((await api(`/api/runs/${foreign.id}`, { key: other.user })).body.run.status).toBe("queued");

    const skipped = await allItems(org, job.id, "&state=skipped");
    expect(skipped).toHaveLength(4);
    const notFound = await allItems(org, job.id, "&outcome=not_found");
    expect(notFound.map((i) => i.run_id).sort()).toEqual([foreign.id, "run_unknown"].sort());
  });

  it("by tag and by filter (status, kind, created range)", async () => {
    const org = await newOrg();
    const tagged = [await createRun(org, { tags: ["nightly"] }), await createRun(org, { tags: ["nightly", "x"] })];
    await createRun(org, { tags: ["other"] });
    const exp = await createRun(org, { kind: "experiment", initial: "running" });
    await createRun(org, { kind: "experiment", initial: "pending" });
    await indexed(org, "", 5);

    const byTag = await dryRun(org, { selection: { tag: "nightly" } });
    expect(byTag.count).toBe(2);
    expect(byTag.sample.map((s: any) => s.id).sort()).toEqual(tagged.map((t) => t.id).sort());

    const from = Date.parse(exp.timing.created_at);
    const byFilter = await dryRun(org, {
      selection: { filter: { status: ["running"], kind: "experiment", created_from: exp.timing.created_at, created_to: from + 60_000 } },
    });
    expect(byFilter.count).toBe(1);
    expect(byFilter.sample[0].id).toBe(exp.id);
    expect(byFilter.selection).toMatchObject({ type: "filter", kind: "experiment", status: ["running"] });
  });

  it("is idempotent by key, and by dry run without one", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    const dry = await dryRun(org, { selection: { ids: [run.id] } });
    const first = await start(org, { dry_run_id: dry.dry_run_id }, { "idempotency-key": "k-1" });
    expect(first.status).toBe(201);
    expect(first.body.replayed).toBe(false);
    const again = await start(org, { dry_run_id: dry.dry_run_id, idempotency_key: "k-1" });
    expect(again.status).toBe(200);
    expect(again.body.replayed).toBe(true);
    expect(again.body.job.id).toBe(first.body.job.id);
    const noKey = await start(org, { dry_run_id: dry.dry_run_id });
    expect(noKey.status).toBe(200);
    expect(noKey.body.job.id).toBe(first.body.job.id);
    const otherKey = await start(org, { dry_run_id: dry.dry_run_id, idempotency_key: "k-2" });
    expect(otherKey.status).toBe(409);
    expect(otherKey.body.code).toBe("dry_run_started");

    const dry2 = await dryRun(org, { selection: { ids: [run.id] } });
    const conflict = await start(org, { dry_run_id: dry2.dry_run_id, idempotency_key: "k-1" });
    expect(conflict.status).toBe(422);
    expect(conflict.body.code).toBe("idempotency_conflict");
    const mismatch = await start(org, { dry_run_id: dry2.dry_run_id, idempotency_key: "a" }, { "idempotency-key": "b" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.field).toBe("idempotency_key");

    await jobUntil(org, first.body.job.id, (j) => j.status === "completed", "completed");
    // Each run was cancelled once.
    const events = await api(`/api/runs/${run.id}/events`, { key: org.user });
    expect(events.body.data.filter((e: any) => e.event.type === "cancelled")).toHaveLength(1);
  });

  it("abort stops the job: nothing starts after the reply, the rest is skipped as aborted", async () => {
    const org = await newOrg();
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push((await createRun(org)).id);
    const dry = await dryRun(org, { selection: { ids } });
    const res = await start(org, { dry_run_id: dry.dry_run_id, rate_per_s: 20, concurrency: 2 });
    await jobUntil(org, res.body.job.id, (j) => j.processed >= 4, "a few processed");
    const aborted = await api(`/api/bulk-cancels/${res.body.job.id}/abort`, { key: org.user, method: "POST" });
    expect(aborted.status).toBe(200);
    expect(aborted.body.job.status).toBe("aborted");
    expect(aborted.body.job.aborted_at).toBeTruthy();
    const atAbort = aborted.body.job.progress.done + aborted.body.job.progress.in_flight;
    const end = await jobUntil(org, res.body.job.id, (j) => j.finished_at !== null, "finished");
    expect(end.progress.pending).toBe(0);
    expect(end.progress.in_flight).toBe(0);
    expect(end.progress.done).toBeLessThanOrEqual(atAbort);
    expect(end.outcomes.aborted).toBe(end.progress.skipped);
    expect(end.outcomes.aborted).toBeGreaterThan(20);
    expectProgressAddsUp(end);
    // Aborting again changes nothing.
    const twice = await api(`/api/bulk-cancels/${res.body.job.id}/abort`, { key: org.user, method: "POST" });
    expect(twice.body.job.progress).toEqual(end.progress);
    const queued = (await allItems(org, res.body.job.id, "&outcome=aborted")).map((i) => i.run_id);
    expect((await api(`/api/runs/${queued[0]}`, { key: org.user })).body.run.status).toBe("queued");
  });

  it("resumes from storage: items in flight when the instance died are retried idempotently", async () => {
    const org = await newOrg();
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push((await createRun(org)).id);
    const dry = await dryRun(org, { selection: { ids } });
    const res = await start(org, { dry_run_id: dry.dry_run_id, rate_per_s: 5 });
    const id = res.body.job.id;
    await jobUntil(org, id, (j) => j.processed >= 1, "one processed");
    // Simulate a death mid-batch: put a processed item back in flight, as if its outcome had
    // never been recorded. The next slice retries it with the same command id.
    const stub = env.BULK.get(env.BULK.idFromName(`${org.orgId}/${id}`));
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE items SET state = 'in_flight', outcome = NULL WHERE seq = 1");
      state.storage.sql.exec("UPDATE counts SET n = n - 1 WHERE key IN ('done', 'cancelled')");
      state.storage.sql.exec("UPDATE counts SET n = n + 1 WHERE key = 'in_flight'");
    });
    const end = await jobUntil(org, id, (j) => j.status === "completed", "completed");
    expect(end.progress).toEqual({ pending: 0, in_flight: 0, done: 6, failed: 0, skipped: 0 });
    expectProgressAddsUp(end);
    const first = (await allItems(org, id))[0];
    // The retry was answered from the run's receipt: the same outcome, one cancel.
    expect(first).toMatchObject({ run_id: ids[0], state: "done", outcome: "cancelled", attempts: 2 });
    const events = await api(`/api/runs/${ids[0]}/events`, { key: org.user });
    expect(events.body.data.filter((e: any) => e.event.type === "cancelled")).toHaveLength(1);
  });

  it("a dry run expires; other organisations and executor keys cannot see or start jobs", async () => {
    const org = await newOrg();
    const other = await newOrg("other");
    const run = await createRun(org);
    const dry = await dryRun(org, { selection: { ids: [run.id] } });
    const job = (await start(org, { dry_run_id: dry.dry_run_id })).body.job;

    expect((await start(other, { dry_run_id: dry.dry_run_id })).status).toBe(404);
    for (const [method, path] of [
      ["GET", `/api/bulk-cancels/${job.id}`],
      ["POST", `/api/bulk-cancels/${job.id}/abort`],
      ["GET", `/api/bulk-cancels/${job.id}/items`],
    ]) {
      const res = await api(path, { key: other.user, method });
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe("job_not_found");
      expect((await api(path, { key: org.executor, method })).status).toBe(403);
    }
    expect((await api("/api/bulk-cancels", { key: other.user })).body.data).toEqual([]);
    expect((await api("/api/bulk-cancels/dry-run", { key: org.executor, body: { selection: { ids: [run.id] } } })).status).toBe(403);

    const stale = await dryRun(org, { selection: { ids: [run.id] } });
    await advance(3_600_001);
    const expired = await start(org, { dry_run_id: stale.dry_run_id });
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe("dry_run_expired");
  });

  it("refuses bad selections with the field named", async () => {
    const org = await newOrg();
    const cases: [unknown, string][] = [
      [{ selection: {} }, "selection"],
      [{ selection: { batch_id: "b", tag: "t" } }, "selection"],
      [{ selection: { ids: [] } }, "selection.ids"],
      [{ selection: { ids: ["a/b"] } }, "selection.ids"],
      [{ selection: { batch_id: "no spaces" } }, "selection.batch_id"],
      [{ selection: { filter: { created_from: "yesterday" } } }, "selection.filter.created_from"],
      [{ selection: { filter: { status: ["done"] } } }, "selection.filter.status[0]"],
      [{ selection: { ids: ["a"] }, grace_ms: 1e12 }, "grace_ms"],
      [{ selection: { ids: ["a"] }, sample_size: 101 }, "sample_size"],
      [{ selection: { ids: ["a"] }, mode: "fast" }, "mode"],
    ];
    for (const [body, field] of cases) {
      const res = await api("/api/bulk-cancels/dry-run", { key: org.user, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.field, JSON.stringify(res.body)).toBe(field);
    }
    const dry = await dryRun(org, { selection: { ids: ["a"] } });
    expect((await start(org, { dry_run_id: dry.dry_run_id, concurrency: 0 })).body.field).toBe("concurrency");
    expect((await start(org, { dry_run_id: dry.dry_run_id, rate_per_s: 10_001 })).body.field).toBe("rate_per_s");
    expect((await start(org, { dry_run_id: "bdr_nope" })).status).toBe(404);
    const job = (await start(org, { dry_run_id: dry.dry_run_id })).body.job;
    const bad = await api(`/api/bulk-cancels/${job.id}/items?outcome=maybe`, { key: org.user });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("outcome");
    expect((await api("/api/bulk-cancels/dry-run", { key: org.user })).status).toBe(405);
  });

  it("the test seed route is closed without the admin token", async () => {
    const org = await newOrg();
    expect((await api("/api/admin/test-seed", { key: org.user, body: { org_id: org.orgId, count: 1 } })).status).toBe(404);
    const ok = await api("/api/admin/test-seed", { key: ADMIN, body: { org_id: org.orgId, count: 3, tags: ["seeded"] } });
    expect(ok.status).toBe(201);
    expect(ok.body.ids).toHaveLength(3);
  });
});
