// Timing helpers for the benches: warm-up, several rounds, median. Nothing here is specific to
// runbrake.
import { performance } from "node:perf_hooks";

/**
 * Median, min and max of numbers.
 * @param {number[]} samples
 */
export function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) throw new Error("no samples");
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1] };
}

/**
 * Throughput of `fn(ops)` (which performs `ops` operations): calibrates `ops` so that a round
 * takes about `roundMs`, runs `warmup` untimed rounds, then `rounds` timed ones.
 * Returns ops/s (median, min, max) and the settings used.
 * @param {(ops: number) => unknown} fn
 * @param {{ rounds?: number, warmup?: number, roundMs?: number, minOps?: number, maxOps?: number }} [opts]
 */
export function throughput(fn, { rounds = 11, warmup = 3, roundMs = 200, minOps = 100, maxOps = 1 << 24 } = {}) {
  let ops = minOps;
  let checksum = 0;
  // Calibrate: grow until one call takes at least a tenth of a round.
  for (;;) {
    const t = performance.now();
    checksum += Number(fn(ops)) || 0;
    const ms = performance.now() - t;
    if (ms >= roundMs / 10 || ops >= maxOps) {
      ops = Math.max(minOps, Math.min(maxOps, Math.round((ops * roundMs) / Math.max(ms, 0.001))));
      break;
    }
    ops *= 4;
  }
  for (let i = 0; i < warmup; i++) checksum += Number(fn(ops)) || 0;
  const rates = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    checksum += Number(fn(ops)) || 0;
    rates.push((ops * 1000) / (performance.now() - t));
  }
  const s = summary(rates);
  return { unit: "ops/s", ...s, ns_per_op: 1e9 / s.median, ops_per_round: ops, rounds, warmup_rounds: warmup, checksum };
}

/**
 * Duration (ms) of `run()`, with `prepare()` before each call untimed: `warmup` untimed
 * rounds, then `rounds` timed ones.
 * @param {{ prepare?: () => void, run: () => void, check?: () => void }} steps
 * @param {{ rounds?: number, warmup?: number }} [opts]
 */
export function duration({ prepare = () => {}, run, check = () => {} }, { rounds = 9, warmup = 1 } = {}) {
  const ms = [];
  for (let i = 0; i < warmup + rounds; i++) {
    prepare();
    const t = performance.now();
    run();
    const took = performance.now() - t;
    check();
    if (i >= warmup) ms.push(took);
  }
  return { unit: "ms", ...summary(ms), rounds, warmup_rounds: warmup };
}
