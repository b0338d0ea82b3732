// `make bench`, the scale part: cascades and bulk cancel jobs at the sizes the design names,
// against the built Worker under tuned `wrangler dev` (or bare workerd with --selfhosted).
//
//   1. cancel of a run with 100,000 child items: the reply's latency      (target < 200 ms)
//   2. a 1,000-node run tree (root → 9 → 90 → 900): cancel of the root
//      until every node is terminal                                       (target < 5 s)
//   3. bulk dry run over 100,000 indexed runs: freeze + count + sample     (target < 1 s)
//   4. bulk cancel job over 10,000 runs: start to finished                 (target < 30 s)
//   5. deadline sweep: 10,000 runs leased by executors that never ack, all
//      cancelled by one bulk job with a 5 s grace: every one must become
//      cancelled (forced) shortly after its deadline, none stays cancelling
//
// Runs are made inside the Worker by the test-only seed route (TEST_CLOCK=1), except the tree,
// which goes through the public API (its attach-to-parent path is what is measured). The
// 100,000 runs of the dry run are index summaries only (a dry run reads nothing else).
//
//   node bench/scale.mjs [--quick] [--selfhosted] [--only children,tree,dry_run,bulk,sweep]
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { adminToken, call, newOrg, openSocket } from "../tests/lib/api.mjs";
import { ROOT, startDevServer } from "../tests/lib/server.mjs";
import { percentile, pool } from "./lib/http.mjs";

const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    selfhosted: { type: "boolean", default: false },
    only: { type: "string", default: "" },
  },
});
const Q = opts.quick;
const SIZES = {
  children: Q ? 20_000 : 100_000,
  children_runs: Q ? 2 : 3,
  tree: Q ? [1, 4, 16, 79] : [1, 9, 90, 900], // nodes per level (total 100 / 1,000)
  dry_run: Q ? 20_000 : 100_000,
  dry_runs: 3,
  bulk: Q ? 1_000 : 10_000,
  sweep: Q ? 1_000 : 10_000,
  sweep_grace_ms: 5_000,
};
const only = new Set(opts.only ? opts.only.split(",") : ["children", "tree", "dry_run", "bulk", "sweep"]);
const ms = (/** @type {number} */ x) => Math.round(x * 10) / 10;
const ADMIN = adminToken();

/** @type {import("../tests/lib/server.mjs").DevServer} */
let server;

/**
 * @param {string} path
 * @param {{method?: string, key?: string, body?: unknown}} [o]
 */
async function api(path, o = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(server.url, path, o);
    } catch (err) {
      // A connection reset by a loaded server: retry reads only.
      if (attempt >= 3 || (o.method ?? (o.body === undefined ? "GET" : "POST")) !== "GET") throw err;
      await delay(200);
    }
  }
}

/** @template T @param {() => Promise<T | undefined>} probe @param {string} what @param {number} intervalMs @param {number} limitMs */
async function until(probe, what, intervalMs = 100, limitMs = 30 * 60_000) {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(intervalMs); // poll interval
  }
}

/** Creates `count` runs inside the Worker, 500 per request (4 requests at once). */
async function seed(/** @type {any} */ org, /** @type {number} */ count, /** @type {Record<string, unknown>} */ extra = {}) {
  const chunks = [];
  for (let left = count; left > 0; left -= 500) chunks.push(Math.min(500, left));
  /** @type {string[]} */
  const ids = [];
  await pool(chunks.length, 4, async (i) => {
    const res = await api("/api/admin/test-seed", { key: ADMIN, body: { org_id: org.orgId, count: chunks[i], ...extra } });
    if (res.status !== 201) throw new Error(`seed: ${res.status} ${res.text}`);
    ids.push(...res.body.ids);
  });
  return ids;
}

/**
 * Runs made by the seed keep an outbox fallback alarm 30 s after their creation; waiting that
 * out keeps those alarms from landing inside the measured job.
 */
async function settle() {
  await delay(32_000); // setup, not measured: let the seeded runs' fallback alarms pass
}

/** Waits until the organisation's index counts `n` runs in `status`. */
async function indexed(/** @type {any} */ org, /** @type {string} */ status, /** @type {number} */ n) {
  await until(async () => {
    const res = await api("/api/runs?limit=1", { key: org.user });
    return res.body?.counts?.[status] >= n ? true : undefined;
  }, `${n} ${status} runs indexed`, 250);
}

async function childrenCancel() {
  const org = await newOrg(server.url, ADMIN, "scale children");
  const lat = [];
  let counts;
  for (let r = 0; r < SIZES.children_runs; r++) {
    const first = Array.from({ length: 10_000 }, (_, i) => ({ id: `c${i}` }));
    const created = await api("/api/runs", { key: org.user, body: { kind: "experiment", initial: "queued", children: first } });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
    const id = created.body.run.id;
    for (let from = 10_000; from < SIZES.children; from += 10_000) {
      const items = Array.from({ length: Math.min(10_000, SIZES.children - from) }, (_, i) => ({ id: `c${from + i}` }));
      const res = await api(`/api/runs/${id}/children`, { key: org.executor, body: { items } });
      if (res.status !== 200) throw new Error(`children: ${res.status} ${res.text}`);
    }
    await api(`/api/runs/${id}`, { key: org.user }); // warm, as a user looking at it would
    const t0 = performance.now();
    const res = await api(`/api/runs/${id}/cancel`, { key: org.user, body: { reason: "scale" } });
    lat.push(performance.now() - t0);
    if (res.status !== 200 || res.body.cancel.children.cancelled !== SIZES.children) {
      throw new Error(`cancel: ${res.status} ${JSON.stringify(res.body?.cancel)}`);
    }
    counts = res.body.cancel.children;
  }
  return { children: SIZES.children, runs: SIZES.children_runs, reply_ms: lat.map(ms), p50_ms: ms(percentile(lat, 50)), max_ms: ms(Math.max(...lat)), reply_counts: counts };
}

async function tree() {
  const org = await newOrg(server.url, ADMIN, "scale tree");
  const levels = SIZES.tree;
  const root = (await api("/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", name: "root" } })).body.run.id;
  /** @type {string[]} */
  let parents = [root];
  let total = 1;
  const tBuild = performance.now();
  for (let d = 1; d < levels.length; d++) {
    const n = levels[d];
    /** @type {string[]} */
    const next = new Array(n);
    await pool(n, 8, async (i) => {
      const parent = parents[i % parents.length];
      const res = await api("/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", parent_run_id: parent } });
      if (res.status !== 201) throw new Error(`create sub-run: ${res.status} ${res.text}`);
      next[i] = res.body.run.id;
    });
    parents = next;
    total += n;
  }
  const buildS = (performance.now() - tBuild) / 1000;
  const t1 = performance.now();
  const before = await api(`/api/runs/${root}/tree?limit=1`, { key: org.user });
  const walkMs = performance.now() - t1;
  if (before.body.counts.total !== total || before.body.counts.active !== total) throw new Error(`tree before: ${JSON.stringify(before.body.counts)}`);

  // The organisation's change stream says when each node became cancelled.
  const ws = server.url.replace(/^http/, "ws");
  const sock = await openSocket(`${ws}/api/watch`, { authorization: `Bearer ${org.user}` });
  await sock.next((m) => m.type === "hello");
  const cancelledAt = new Map();
  sock.ws.on("message", (d) => {
    const m = JSON.parse(String(d));
    if (m.type === "run" && m.run.status === "cancelled" && !cancelledAt.has(m.run.id)) cancelledAt.set(m.run.id, performance.now());
  });
  const t0 = performance.now();
  const res = await api(`/api/runs/${root}/cancel`, { key: org.user, body: { reason: "scale tree" } });
  const ackMs = performance.now() - t0;
  if (res.status !== 200) throw new Error(`cancel root: ${res.status}`);
  await until(async () => (cancelledAt.size >= total ? true : undefined), "every node cancelled (stream)", 20);
  const lastMs = Math.max(...cancelledAt.values()) - t0;
  sock.close();
  const after = await api(`/api/runs/${root}/tree?limit=1`, { key: org.user });
  if (!after.body.all_terminal || after.body.counts.cancelled !== total) throw new Error(`tree after: ${JSON.stringify(after.body.counts)}`);
  const sum = ["cancelled", "already_finished", "cancelling", "active", "missing"].reduce((a, k) => a + after.body.counts[k], 0);
  return {
    nodes: total,
    levels,
    build_s: ms(buildS),
    tree_read_ms: ms(walkMs),
    root_cancel_ack_ms: ms(ackMs),
    all_terminal_ms: ms(lastMs),
    counts: after.body.counts,
    counts_add_up: sum === after.body.counts.total,
  };
}

async function dryRun() {
  const org = await newOrg(server.url, ADMIN, "scale dry run");
  const t = performance.now();
  for (let left = SIZES.dry_run; left > 0; left -= 20_000) {
    const n = Math.min(20_000, left);
    const res = await api("/api/admin/test-seed", { key: ADMIN, body: { org_id: org.orgId, count: n, index_only: true, tags: ["dry"] } });
    if (res.status !== 201) throw new Error(`seed index: ${res.status} ${res.text}`);
  }
  const seedS = (performance.now() - t) / 1000;
  const lat = [];
  const shapes = [
    { filter: { status: ["queued"], kind: "generic" } },
    { tag: "dry" },
    { filter: { status: ["queued"], created_from: 0 } },
  ];
  let count = 0;
  for (let i = 0; i < SIZES.dry_runs; i++) {
    const t0 = performance.now();
    const res = await api("/api/bulk-cancels/dry-run", { key: org.user, body: { selection: shapes[i % shapes.length] } });
    lat.push(performance.now() - t0);
    if (res.status !== 201) throw new Error(`dry run: ${res.status} ${res.text}`);
    count = res.body.count;
    if (count !== SIZES.dry_run || res.body.sample.length !== 20) throw new Error(`dry run count ${count}`);
  }
  return { runs: SIZES.dry_run, count, index_seed_s: ms(seedS), reply_ms: lat.map(ms), p50_ms: ms(percentile(lat, 50)), max_ms: ms(Math.max(...lat)) };
}

/** Starts a job over the runs tagged `tag` and waits for it to end; returns it and its timing. */
async function runJob(/** @type {any} */ org, /** @type {Record<string, unknown>} */ selection, /** @type {number} */ n, /** @type {Record<string, unknown>} */ extra = {}) {
  const dry = await api("/api/bulk-cancels/dry-run", { key: org.user, body: { selection, ...extra } });
  if (dry.status !== 201 || dry.body.count !== n) throw new Error(`dry run: ${dry.status} ${dry.text.slice(0, 300)}`);
  const t0 = performance.now();
  const started = await api("/api/bulk-cancels", { key: org.user, body: { dry_run_id: dry.body.dry_run_id, concurrency: 16, rate_per_s: 10_000 } });
  if (started.status !== 201) throw new Error(`start: ${started.status} ${started.text}`);
  const id = started.body.job.id;
  let peak = 0;
  const job = await until(async () => {
    const r = await api(`/api/bulk-cancels/${id}`, { key: org.user });
    const j = r.body?.job;
    if (j) peak = Math.max(peak, j.progress.in_flight);
    return j?.status === "completed" ? j : undefined;
  }, "the job to complete", 250);
  const wallS = (performance.now() - t0) / 1000;
  const serverS = (Date.parse(job.finished_at) - Date.parse(job.created_at)) / 1000;
  return { job, id, wallS, serverS, peak };
}

async function bulk() {
  const org = await newOrg(server.url, ADMIN, "scale bulk");
  const t = performance.now();
  await seed(org, SIZES.bulk, { tags: ["bulk"] });
  await indexed(org, "queued", SIZES.bulk);
  const seedS = (performance.now() - t) / 1000;
  await settle();
  const { job, wallS, serverS, peak } = await runJob(org, { tag: "bulk" }, SIZES.bulk);
  const p = job.progress;
  return {
    runs: SIZES.bulk,
    seed_s: ms(seedS),
    job_s: ms(serverS),
    observed_s: ms(wallS),
    runs_per_s: Math.round(SIZES.bulk / serverS),
    peak_in_flight: peak,
    progress: p,
    outcomes: job.outcomes,
    adds_up: p.pending + p.in_flight + p.done + p.failed + p.skipped === job.total,
  };
}

async function sweep() {
  const org = await newOrg(server.url, ADMIN, "scale sweep");
  const t = performance.now();
  await seed(org, SIZES.sweep, { tags: ["sweep"], claim_lease_ms: 30 * 60_000 });
  await indexed(org, "running", SIZES.sweep);
  const seedS = (performance.now() - t) / 1000;
  await settle();
  const grace = SIZES.sweep_grace_ms;
  const { job, id, serverS } = await runJob(org, { filter: { tag: "sweep", status: ["running"] } }, SIZES.sweep, { grace_ms: grace });
  if (job.outcomes.cancelling !== SIZES.sweep) throw new Error(`sweep job: ${JSON.stringify(job.outcomes)}`);
  // Every run got its own deadline (its cancel's time + grace): the last one is the latest.
  /** @type {any[]} */
  const items = [];
  let cursor = "";
  for (;;) {
    const r = await api(`/api/bulk-cancels/${id}/items?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { key: org.user });
    items.push(...r.body.data);
    if (!r.body.next_cursor) break;
    cursor = r.body.next_cursor;
  }
  const deadlines = items.map((i) => Date.parse(i.detail.deadline));
  const lastDeadline = Math.max(...deadlines);
  const done = await until(async () => {
    const r = await api("/api/runs?limit=1", { key: org.user });
    const c = r.body?.counts;
    return c && c.cancelling === 0 && c.cancelled >= SIZES.sweep ? { c, at: Date.now() } : undefined;
  }, "no run left cancelling", 200);
  // Per-run lateness (forced cancel time − its deadline), on a sample.
  const sample = items.filter((_, i) => i % Math.ceil(items.length / 200) === 0);
  const late = [];
  let forced = 0;
  await pool(sample.length, 8, async (i) => {
    const r = await api(`/api/runs/${sample[i].run_id}`, { key: org.user });
    const run = r.body.run;
    if (run.status !== "cancelled") throw new Error(`sweep: ${run.id} is ${run.status}`);
    if (run.cancel.forced) forced++;
    late.push(Date.parse(run.cancel.effective_at) - Date.parse(sample[i].detail.deadline));
  });
  return {
    runs: SIZES.sweep,
    grace_ms: grace,
    seed_s: ms(seedS),
    job_s: ms(serverS),
    last_deadline_to_none_cancelling_s: ms((done.at - lastDeadline) / 1000),
    sample: sample.length,
    sample_forced: forced,
    lateness_ms: { p50: ms(percentile(late, 50)), p99: ms(percentile(late, 99)), max: ms(Math.max(...late)), min: ms(Math.min(...late)) },
    final_counts: { cancelling: done.c.cancelling, cancelled: done.c.cancelled },
  };
}

async function main() {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN, TEST_CLOCK: "1" }, selfHosted: opts.selfhosted });
  /** @type {Record<string, any>} */
  const out = {};
  try {
    for (const [name, fn] of /** @type {[string, () => Promise<any>][]} */ ([
      ["children", childrenCancel],
      ["tree", tree],
      ["dry_run", dryRun],
      ["bulk", bulk],
      ["sweep", sweep],
    ])) {
      if (!only.has(name)) continue;
      const t = performance.now();
      console.log(`scale: ${name}…`);
      out[name] = await fn();
      console.log(`scale: ${name} done in ${ms((performance.now() - t) / 1000)} s`, JSON.stringify(out[name]).slice(0, 400));
    }
  } finally {
    await server.stop();
  }
  /** @type {[string, string, string, boolean | null][]} */
  const targets = [];
  if (out.children) targets.push([`cancel of a ${out.children.children.toLocaleString("en")}-child run, reply p50 / max`, `${out.children.p50_ms} / ${out.children.max_ms} ms`, "< 200 ms", out.children.max_ms < 200]);
  if (out.tree) targets.push([`${out.tree.nodes.toLocaleString("en")}-node run tree, root cancel → all terminal`, `${ms(out.tree.all_terminal_ms / 1000)} s`, "< 5 s", out.tree.all_terminal_ms < 5_000 && out.tree.counts_add_up]);
  if (out.dry_run) targets.push([`bulk dry run over ${out.dry_run.runs.toLocaleString("en")} runs, p50 / max`, `${out.dry_run.p50_ms} / ${out.dry_run.max_ms} ms`, "< 1 s", out.dry_run.max_ms < 1_000]);
  if (out.bulk) targets.push([`bulk cancel of ${out.bulk.runs.toLocaleString("en")} runs`, `${out.bulk.job_s} s (${out.bulk.runs_per_s}/s)`, "< 30 s", out.bulk.job_s < 30 && out.bulk.adds_up]);
  if (out.sweep) {
    const s = out.sweep;
    targets.push([
      `deadline sweep, ${s.runs.toLocaleString("en")} leased runs (grace ${s.grace_ms / 1000} s): none left cancelling`,
      `${s.final_counts.cancelling} cancelling; last deadline → none cancelling ${s.last_deadline_to_none_cancelling_s} s`,
      "0, shortly after",
      s.final_counts.cancelling === 0 && s.sample_forced === s.sample,
    ]);
    targets.push(["  forced cancel after its deadline (sample p50 / p99 / max)", `${s.lateness_ms.p50} / ${s.lateness_ms.p99} / ${s.lateness_ms.max} ms`, "≥ 0, small", s.lateness_ms.min >= 0]);
  }
  console.log(`\nScale (${opts.selfhosted ? "bare workerd" : "wrangler dev, tuned"}${Q ? ", quick sizes" : ""}):`);
  console.table(targets.map(([figure, value, goal, met]) => ({ figure, value, goal, met: met === null ? "" : met ? "yes" : "NO" })));
  await mkdir(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results/scale.json");
  await writeFile(
    file,
    JSON.stringify(
      {
        measured_at: new Date().toISOString(),
        machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version, load_avg_1m: os.loadavg()[0] },
        server: opts.selfhosted ? "workerd (self-hosted)" : "wrangler dev (tuned)",
        quick: Q,
        sizes: SIZES,
        results: out,
        targets: targets.map(([figure, value, goal, met]) => ({ figure, value, goal, met })),
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`written: ${file}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
