// `make bench`, the Worker part: cancel acknowledgement latency (warm and evicted runs),
// throughput at 32 concurrent clients, and how fast watchers and executors hear of a cancel —
// for runbrake under tuned `wrangler dev`, beside a minimal JavaScript reference object
// (bench/reference) measured in the same run, so the figures are ratios to the platform's floor.
//
//   node bench/worker.mjs [--quick]      (the Worker must be built: `make build`)
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { adminToken, call, newOrg, openSocket } from "../tests/lib/api.mjs";
import { ROOT, startDevServer } from "../tests/lib/server.mjs";
import { agent, percentile, pool, request } from "./lib/http.mjs";

const { values: opts } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const N_SEQ = opts.quick ? 100 : 300;
const N_EVICT = opts.quick ? 20 : 40;
const N_THROUGHPUT = opts.quick ? 800 : 3000;
const N_STREAM = opts.quick ? 20 : 50;
const CONCURRENCY = 32;
const EVICTION_IDLE_MS = 12_000; // workerd evicts an object idle for ~10 s

/** Sum of resident memory (MiB) of a process group (wrangler and its workerd children). */
function groupRssMiB(/** @type {number | undefined} */ pgid) {
  if (!pgid) return NaN;
  try {
    const out = execFileSync("ps", ["-o", "rss=", "-g", String(pgid)], { encoding: "utf8" });
    return out.split("\n").filter(Boolean).reduce((a, b) => a + Number(b), 0) / 1024;
  } catch {
    return NaN;
  }
}

const ms = (/** @type {number} */ x) => Math.round(x * 100) / 100;

/**
 * The two systems under test, behind one interface.
 * @typedef {{ name: string, create: (i: number) => Promise<string>, warm: (id: string) => Promise<void>, cancel: (id: string) => Promise<{status: number, ms: number}> }} System
 */

/**
 * @param {boolean} selfHosted bare workerd (`make serve`) instead of tuned `wrangler dev`
 * @returns {Promise<{system: System, server: import("../tests/lib/server.mjs").DevServer, org: any}>}
 */
async function runbrake(selfHosted = false) {
  const admin = adminToken();
  const server = await startDevServer({ vars: { ADMIN_TOKEN: admin }, selfHosted });
  const org = await newOrg(server.url, admin, "bench");
  const ag = agent(CONCURRENCY + 4);
  const headers = { authorization: `Bearer ${org.user}`, "content-type": "application/json" };
  /** @type {System} */
  const system = {
    name: selfHosted ? "runbrake on workerd" : "runbrake",
    async create() {
      const res = await request(ag, `${server.url}/api/runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ kind: "generic", initial: "queued", name: "bench" }),
      });
      if (res.status !== 201) throw new Error(`create: ${res.status} ${res.body}`);
      return JSON.parse(res.body).run.id;
    },
    async warm(id) {
      await request(ag, `${server.url}/api/runs/${id}`, { headers });
    },
    async cancel(id) {
      const res = await request(ag, `${server.url}/api/runs/${id}/cancel`, { method: "POST", headers, body: "{}" });
      if (res.status !== 200) throw new Error(`cancel: ${res.status} ${res.body}`);
      return res;
    },
  };
  return { system, server, org };
}

/** @returns {Promise<{system: System, server: import("../tests/lib/server.mjs").DevServer}>} */
async function reference() {
  const server = await startDevServer({
    args: ["--config", join(ROOT, "bench/reference/wrangler.toml")],
    healthPath: "/healthz",
  });
  const ag = agent(CONCURRENCY + 4);
  let n = 0;
  /** @type {System} */
  const system = {
    name: "reference",
    async create() {
      const id = `ref${process.pid}x${n++}`;
      const res = await request(ag, `${server.url}/runs/${id}/create`, { method: "POST" });
      if (res.status !== 201) throw new Error(`reference create: ${res.status}`);
      return id;
    },
    async warm(id) {
      await request(ag, `${server.url}/runs/${id}`);
    },
    async cancel(id) {
      const res = await request(ag, `${server.url}/runs/${id}/cancel`, { method: "POST" });
      if (res.status !== 200) throw new Error(`reference cancel: ${res.status}`);
      return res;
    },
  };
  return { system, server };
}

/** Sequential cancels of warm runs (each touched just before). @param {System} s */
async function sequentialWarm(s) {
  const lat = [];
  for (let i = 0; i < N_SEQ; i++) {
    const id = await s.create(i);
    await s.warm(id);
    lat.push((await s.cancel(id)).ms);
  }
  return { p50: ms(percentile(lat, 50)), p99: ms(percentile(lat, 99)) };
}

/** Sequential cancels of runs idle long enough to be evicted. @param {System} s */
async function sequentialEvicted(s) {
  const ids = [];
  for (let i = 0; i < N_EVICT; i++) ids.push(await s.create(i));
  await delay(EVICTION_IDLE_MS); // a benchmark waiting for the platform's idle eviction, not a test
  const lat = [];
  for (const id of ids) lat.push((await s.cancel(id)).ms);
  return { p50: ms(percentile(lat, 50)), p99: ms(percentile(lat, 99)) };
}

/** Cancels per second with 32 concurrent clients. @param {System} s @param {number | undefined} pgid */
async function throughput(s, pgid) {
  /** @type {string[]} */
  const ids = new Array(N_THROUGHPUT);
  await pool(N_THROUGHPUT, 8, async (i) => {
    ids[i] = await s.create(i);
  });
  const lat = [];
  let peakRss = groupRssMiB(pgid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, groupRssMiB(pgid))), 250);
  const elapsed = await pool(N_THROUGHPUT, CONCURRENCY, async (i) => {
    lat.push((await s.cancel(ids[i])).ms);
  });
  clearInterval(sampler);
  return {
    cancels_per_s: Math.round((N_THROUGHPUT / elapsed) * 1000),
    p50: ms(percentile(lat, 50)),
    p99: ms(percentile(lat, 99)),
    peak_rss_mib: Math.round(peakRss),
  };
}

/**
 * Time from sending a cancel to (a) a watcher seeing `cancelled`, (b) the executor receiving the
 * signal, each beside the canceller's own acknowledgement.
 */
async function streams(/** @type {string} */ base, /** @type {any} */ org) {
  const ws = base.replace(/^http/, "ws");
  const watcher = [];
  const watcherAck = [];
  let watcherFirst = 0;
  for (let i = 0; i < N_STREAM; i++) {
    const run = (await call(base, "/api/runs", { key: org.user, body: { kind: "generic", initial: "queued" } })).body.run;
    const sock = await openSocket(`${ws}/api/runs/${run.id}/watch`, { authorization: `Bearer ${org.user}` });
    await sock.next((m) => m.type === "snapshot");
    const t0 = performance.now();
    let tWs = 0;
    const seen = sock.next((m) => m.type === "update" && m.run.state.status.type === "cancelled").then(() => (tWs = performance.now()));
    const res = await call(base, `/api/runs/${run.id}/cancel`, { key: org.user, body: {} });
    const tAck = performance.now();
    await seen;
    if (res.status !== 200) throw new Error(`cancel: ${res.status}`);
    watcher.push(tWs - t0);
    watcherAck.push(tAck - t0);
    if (tWs <= tAck) watcherFirst++;
    sock.close();
  }
  const exec = [];
  const execAck = [];
  let execFirst = 0;
  for (let i = 0; i < N_STREAM; i++) {
    const run = (await call(base, "/api/runs", { key: org.user, body: { kind: "generic", initial: "queued" } })).body.run;
    const claim = await call(base, `/api/runs/${run.id}/claim`, { key: org.executor, body: { executor: "bench", lease_ms: 60_000 } });
    const lease = claim.body.lease.id;
    const sock = await openSocket(`${ws}/api/runs/${run.id}/executor?lease_id=${lease}`, { authorization: `Bearer ${org.executor}` });
    const t0 = performance.now();
    let tWs = 0;
    const seen = sock.next((m) => m.type === "cancel_requested").then(() => (tWs = performance.now()));
    await call(base, `/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 30_000 } });
    const tAck = performance.now();
    await seen;
    exec.push(tWs - t0);
    execAck.push(tAck - t0);
    if (tWs <= tAck) execFirst++;
    sock.close();
  }
  return {
    watcher_sees_cancelled_p50: ms(percentile(watcher, 50)),
    canceller_ack_p50: ms(percentile(watcherAck, 50)),
    watcher_not_later_than_ack: `${watcherFirst}/${N_STREAM}`,
    executor_signalled_p50: ms(percentile(exec, 50)),
    executor_canceller_ack_p50: ms(percentile(execAck, 50)),
    executor_not_later_than_ack: `${execFirst}/${N_STREAM}`,
  };
}

async function main() {
  const rb = await runbrake();
  const ref = await reference();
  /** @type {Record<string, any>} */
  const out = { runbrake: {}, reference: {} };
  try {
    // Interleaved, so drift on the machine hits both alike.
    out.reference.warm = await sequentialWarm(ref.system);
    out.runbrake.warm = await sequentialWarm(rb.system);
    out.reference.evicted = await sequentialEvicted(ref.system);
    out.runbrake.evicted = await sequentialEvicted(rb.system);
    out.reference.throughput = await throughput(ref.system, ref.server.pid());
    out.runbrake.throughput = await throughput(rb.system, rb.server.pid());
    out.runbrake.streams = await streams(rb.server.url, rb.org);
  } finally {
    await rb.server.stop();
    await ref.server.stop();
  }
  // The same build on bare workerd, alone on the machine.
  const sh = await runbrake(true);
  try {
    out.selfhosted = { warm: await sequentialWarm(sh.system), throughput: await throughput(sh.system, sh.server.pid()) };
  } finally {
    await sh.server.stop();
  }
  const r = out.runbrake;
  const f = out.reference;
  const ratios = {
    warm_p50_latency_x: ms(r.warm.p50 / f.warm.p50),
    throughput_share: ms(r.throughput.cancels_per_s / f.throughput.cancels_per_s),
  };
  const targets = [
    ["cancel p50 latency vs reference", `${ratios.warm_p50_latency_x}x`, "<= 1.25x", ratios.warm_p50_latency_x <= 1.25],
    ["cancels/s @32 vs reference", `${Math.round(ratios.throughput_share * 100)}%`, ">= 80%", ratios.throughput_share >= 0.8],
    ["watcher sees cancelled no later than the ack", r.streams.watcher_not_later_than_ack, "all", r.streams.watcher_not_later_than_ack.split("/")[0] === String(N_STREAM)],
    ["executor signalled no later than the ack", r.streams.executor_not_later_than_ack, "all", r.streams.executor_not_later_than_ack.split("/")[0] === String(N_STREAM)],
    ["self-hosted cancel p50 (ms)", `${out.selfhosted.warm.p50}`, "<= 1.5", out.selfhosted.warm.p50 <= 1.5],
    ["self-hosted cancels/s @32", `${out.selfhosted.throughput.cancels_per_s}`, ">= 600", out.selfhosted.throughput.cancels_per_s >= 600],
  ];
  const rows = [
    ["cancel ack p50 / p99, warm (ms)", `${r.warm.p50} / ${r.warm.p99}`, `${f.warm.p50} / ${f.warm.p99}`],
    ["cancel ack p50 / p99, evicted (ms)", `${r.evicted.p50} / ${r.evicted.p99}`, `${f.evicted.p50} / ${f.evicted.p99}`],
    ["cancels/s @32 clients", `${r.throughput.cancels_per_s}`, `${f.throughput.cancels_per_s}`],
    ["p50 / p99 @32 clients (ms)", `${r.throughput.p50} / ${r.throughput.p99}`, `${f.throughput.p50} / ${f.throughput.p99}`],
    ["wrangler dev peak RSS (MiB)", `${r.throughput.peak_rss_mib}`, `${f.throughput.peak_rss_mib}`],
    ["cancel → watcher sees cancelled p50 (ms)", `${r.streams.watcher_sees_cancelled_p50} (ack ${r.streams.canceller_ack_p50})`, ""],
    ["cancel → executor signalled p50 (ms)", `${r.streams.executor_signalled_p50} (ack ${r.streams.executor_canceller_ack_p50})`, ""],
    ["self-hosted (bare workerd) cancel p50 / p99 (ms)", `${out.selfhosted.warm.p50} / ${out.selfhosted.warm.p99}`, ""],
    ["self-hosted cancels/s @32 (p99 ms)", `${out.selfhosted.throughput.cancels_per_s} (${out.selfhosted.throughput.p99})`, ""],
    ["self-hosted peak RSS (MiB)", `${out.selfhosted.throughput.peak_rss_mib}`, ""],
  ];
  console.log("\nWorker under wrangler dev (tuned), beside the reference JS object, and on bare workerd:");
  console.table(rows.map(([figure, rbv, refv]) => ({ figure, runbrake: rbv, reference: refv })));
  console.table(targets.map(([target, value, goal, ok]) => ({ target, value, goal, met: ok ? "yes" : "NO" })));
  const file = join(ROOT, "bench/results/worker.json");
  await mkdir(join(ROOT, "bench/results"), { recursive: true });
  await writeFile(
    file,
    JSON.stringify(
      {
        measured_at: new Date().toISOString(),
        machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        settings: { sequential: N_SEQ, evicted: N_EVICT, throughput_runs: N_THROUGHPUT, concurrency: CONCURRENCY, streams: N_STREAM },
        results: out,
        ratios,
        targets: targets.map(([target, value, goal, ok]) => ({ target, value, goal, met: ok })),
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
