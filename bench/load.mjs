// `make bench BENCH=load` (RELIABILITY.md T19): a fixed-rate load on tuned `wrangler dev`, as a
// regression signal for this machine (not production capacity). Open loop: requests leave on a
// fixed schedule whatever the answers do, and each latency counts from its scheduled start, so a
// stall shows up in p99 instead of slowing the load (the coordinated-omission correction oha's
// `--latency-correction` applies).
//
// Phases, each LOAD_SECONDS (default 60; --quick 15) at LOAD_RATE requests/s (default 50):
//   get     GET of 1,000 distinct runs, round robin
//   cancel  cancel of the same 1,000 runs with one command_id each (first a real cancel, then
//           replays of the stored answer)
//   hot     GET and cancel replays of one run, alternating
//
// Figures go to bench/results/load.json. With a committed baseline (bench/load-baseline.json) a
// phase whose p99 is more than 20 % over the baseline's, or any error at the baseline's rate,
// fails the run; `--save-baseline` writes the baseline from this run.
//
//   node bench/load.mjs [--quick] [--save-baseline]
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { adminToken, newOrg } from "../tests/lib/api.mjs";
import { ROOT, startDevServer } from "../tests/lib/server.mjs";
import { agent, percentile, pool, request } from "./lib/http.mjs";

const { values: opts } = parseArgs({
  options: { quick: { type: "boolean", default: false }, "save-baseline": { type: "boolean", default: false } },
});
const RATE = Number(process.env.LOAD_RATE ?? 50);
const SECONDS = Number(process.env.LOAD_SECONDS ?? (opts.quick ? 15 : 60));
const RUNS = 1_000;
const REGRESSION = 1.2;
const BASELINE = join(ROOT, "bench", "load-baseline.json");

const ms = (/** @type {number} */ x) => Math.round(x * 100) / 100;

/**
 * Sends `RATE` requests a second for `SECONDS`, each on its schedule, and waits for all answers.
 * @param {(i: number) => Promise<{status: number}>} send
 */
async function fixedRate(send) {
  const total = Math.round(RATE * SECONDS);
  const interval = 1000 / RATE;
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  const start = performance.now();
  /** @type {Promise<void>[]} */
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await delay(wait);
    inflight.push(
      send(i).then(
        (res) => {
          latencies.push(performance.now() - due);
          if (res.status !== 200) errors++;
        },
        () => {
          latencies.push(performance.now() - due);
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - start) / 1000;
  return {
    requests: total,
    achieved_per_s: Math.round(total / seconds),
    p50: ms(percentile(latencies, 50)),
    p99: ms(percentile(latencies, 99)),
    max: ms(Math.max(...latencies)),
    errors,
  };
}

async function main() {
  const admin = adminToken();
  const server = await startDevServer({ vars: { ADMIN_TOKEN: admin } });
  /** @type {Record<string, Awaited<ReturnType<typeof fixedRate>>>} */
  const phases = {};
  try {
    const org = await newOrg(server.url, admin, "load");
    const ag = agent(256);
    const headers = { authorization: `Bearer ${org.user}`, "content-type": "application/json" };
    /** @type {string[]} */
    const ids = [];
    await pool(RUNS, 8, async () => {
      const res = await request(ag, `${server.url}/api/runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ kind: "generic", initial: "queued", name: "load" }),
      });
      if (res.status !== 201) throw new Error(`create: ${res.status} ${res.body}`);
      ids.push(JSON.parse(res.body).run.id);
    });
    const get = (/** @type {string} */ id) => request(ag, `${server.url}/api/runs/${id}`, { headers });
    const cancel = (/** @type {string} */ id) =>
      request(ag, `${server.url}/api/runs/${id}/cancel`, {
        method: "POST",
        headers,
        body: JSON.stringify({ command_id: `load-${id}`, reason: "load test" }),
      });
    phases.get = await fixedRate((i) => get(ids[i % RUNS]));
    phases.cancel = await fixedRate((i) => cancel(ids[i % RUNS]));
    const hot = ids[0];
    phases.hot = await fixedRate((i) => (i % 2 === 0 ? get(hot) : cancel(hot)));
  } finally {
    await server.stop();
  }

  /** @type {{rate: number, phases: Record<string, {p99: number}>} | null} */
  const baseline = existsSync(BASELINE) ? JSON.parse(await readFile(BASELINE, "utf8")) : null;
  const comparable = baseline !== null && baseline.rate === RATE;
  /** @type {string[]} */
  const failures = [];
  const rows = Object.entries(phases).map(([phase, r]) => {
    const base = comparable ? baseline.phases[phase]?.p99 : undefined;
    const regressed = base !== undefined && r.p99 > base * REGRESSION;
    if (regressed) failures.push(`${phase}: p99 ${r.p99} ms > ${REGRESSION} × baseline ${base} ms`);
    if (comparable && r.errors > 0) failures.push(`${phase}: ${r.errors} errors at the baseline rate`);
    return {
      phase,
      "req/s (asked / achieved)": `${RATE} / ${r.achieved_per_s}`,
      "p50 / p99 / max (ms)": `${r.p50} / ${r.p99} / ${r.max}`,
      errors: r.errors,
      "baseline p99 (ms)": base ?? "",
      verdict: base === undefined ? "(no baseline)" : regressed ? "REGRESSED" : "ok",
    };
  });
  console.log(`\nT19 load: ${RATE} req/s for ${SECONDS} s per phase, ${RUNS} runs, tuned wrangler dev:`);
  console.table(rows);
  const result = {
    measured_at: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load_average: os.loadavg().map((l) => ms(l)) },
    rate: RATE,
    seconds: SECONDS,
    runs: RUNS,
    phases,
    baseline: comparable ? baseline : null,
    failures,
  };
  await mkdir(join(ROOT, "bench", "results"), { recursive: true });
  await writeFile(join(ROOT, "bench", "results", "load.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (opts["save-baseline"]) {
    await writeFile(BASELINE, `${JSON.stringify({ measured_at: result.measured_at, machine: result.machine, rate: RATE, seconds: SECONDS, phases }, null, 2)}\n`);
    console.log(`baseline written: ${BASELINE}`);
  }
  if (baseline !== null && !comparable) console.log(`(baseline measured at ${baseline.rate} req/s: not compared)`);
  for (const f of failures) console.error(`T19: ${f}`);
  if (failures.length > 0 && !opts["save-baseline"]) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
