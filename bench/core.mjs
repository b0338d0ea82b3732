// Benchmarks of runbrake-core: the same cancel workloads natively and inside Wasm under node,
// the JavaScript API's call rate, and the packaged .wasm's size. Prints a table and writes
// bench/results/core.json. Targets are reported PASS/FAIL, never asserted (exit 0 either way).
//
//   bash scripts/package-core.sh --bench   # builds everything this runs (make bench-core)
//   node bench/core.mjs [--quick] [--out FILE]
//
// Builds nothing itself: it runs the native bench binary (crate/benches/core.rs) and the Wasm
// build with the bench exports (feature `bench`), both listed in target/bench-core/manifest.json,
// and loads the published bindings from crate/pkg/.
//
// What is measured:
// - cancel decisions: `decide` of a plain dashboard cancel on a claimed run (answers
//   `requested`: one event, three effects); decide+evolve also applies the events to a copy of
//   the state, as a caller does. Natively and in Wasm the loop runs inside the core
//   (crate/benches/scenarios), so the Wasm figure is the core's speed in Wasm, not the cost of
//   converting a whole state between JavaScript and Rust on every call.
// - the JS API: the same decisions through the published bindings (each call converts the state
//   and the command to Rust and the decision back): what a JavaScript caller gets per call.
// - cancel of a run with 100,000 children (10% running): decide + evolve + ChildTable.apply of
//   every event, state and table prepared untimed.
// - the packaged .wasm (after wasm-opt), raw and gzip -9.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { describeMachine, loadWarning } from "./lib/machine.mjs";
import { duration, throughput } from "./lib/stats.mjs";
import { fixed, int, table } from "./lib/table.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const QUICK = args.includes("--quick");
const outArg = args.indexOf("--out");
// Quick runs write the same file (marked "quick": true), as the other parts do for bench/run.mjs.
const OUT = outArg >= 0 ? args[outArg + 1] : join(ROOT, "bench/results/core.json");

const T0 = 1_777_645_800_000; // as in crate/benches/scenarios
const BIG = 100_000;
const TARGETS = {
  nativeOps: 1_000_000, // cancel decisions per second, natively
  wasmRatio: 3, // Wasm at most 3x slower than native
  bigMs: 50, // cancel of 100,000 children, natively
  gzBytes: 150_000, // packaged .wasm, gzip -9 (150 KB)
};

/** @param {string} msg @returns {never} */
function fail(msg) {
  console.error(`bench/core: ${msg}`);
  process.exit(1);
}

const manifestPath = join(ROOT, "target/bench-core/manifest.json");
if (!existsSync(manifestPath)) fail("target/bench-core/manifest.json is missing: run `bash scripts/package-core.sh --bench` first");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
for (const p of [manifest.native, manifest.wasm, join(ROOT, "crate/pkg/package.json")]) {
  if (!existsSync(p)) fail(`${p} is missing: run \`bash scripts/package-core.sh --bench\` first`);
}
const pkg = JSON.parse(readFileSync(join(ROOT, "crate/pkg/package.json"), "utf8"));

const machineBefore = describeMachine();
const warning = loadWarning();
if (warning) console.error(`bench/core: warning: ${warning}`);
const rounds = QUICK ? { rounds: 5, warmup: 1, roundMs: 50 } : { rounds: 11, warmup: 3, roundMs: 200 };

// 1. Native: the bench binary prints its own progress on stderr and JSON on stdout.
console.error("bench/core: native (crate/benches/core.rs)");
const native = JSON.parse(
  execFileSync(manifest.native, QUICK ? ["--quick"] : [], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }),
);

// 2. The core inside Wasm (bench exports), timed around each call from JavaScript.
console.error("bench/core: wasm (feature bench, under node)");
const core = require(manifest.wasm);
/** @type {Record<"cancel_decide" | "cancel_decide_evolve" | "cancel_100k_children", any>} */
const wasm = {
  cancel_decide: throughput((n) => core.benchCancelDecisions(n), rounds),
  cancel_decide_evolve: throughput((n) => core.benchCancelDecideEvolve(n), rounds),
  cancel_100k_children: null,
};
{
  const big = new core.BenchBigRun(BIG);
  let events = 0;
  wasm.cancel_100k_children = {
    ...duration(
      { prepare: () => big.prepare(), run: () => (events = big.cancel()), check: () => big.check() },
      QUICK ? { rounds: 3, warmup: 1 } : { rounds: 9, warmup: 1 },
    ),
    children: BIG,
    events,
  };
  big.free();
}

// 3. The published JavaScript API (crate/pkg/nodejs): conversions on every call.
console.error("bench/core: JS API (crate/pkg/nodejs)");
const rb = require(join(ROOT, "crate/pkg/nodejs/runbrake_core.js"));
let { state } = rb.create({ id: "run_bench", kind: "workflow", initial: "queued" }, T0);
for (const e of rb.decide(state, { type: "claim", executor: "exec_1", lease_id: "lease_1", lease_ms: 60_000 }, T0 + 1).events) {
  state = rb.evolve(state, e);
}
const cancel = { type: "cancel", by: { source: "dashboard" } };
const jsApi = {
  decide: throughput((/** @type {number} */ n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rb.decide(state, cancel, T0 + 2 + (i % 1000)).events.length;
    return sum;
  }, rounds),
  decide_evolve: throughput((/** @type {number} */ n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let next = state;
      for (const e of rb.decide(next, cancel, T0 + 2 + (i % 1000)).events) next = rb.evolve(next, e);
      sum += next.version;
    }
    return sum;
  }, rounds),
};

// 4. Sizes of what ships.
const wasmFile = (/** @type {string} */ t) => join(ROOT, "crate/pkg", t, "runbrake_core_bg.wasm");
const gz = (/** @type {string} */ p) => gzipSync(readFileSync(p), { level: 9 }).length;
const size = {
  wasm_raw: statSync(wasmFile("bundler")).size,
  wasm_gzip: gz(wasmFile("bundler")),
  per_target: Object.fromEntries(
    ["bundler", "web", "nodejs"].map((t) => [t, { raw: statSync(wasmFile(t)).size, gzip: gz(wasmFile(t)) }]),
  ),
  tarball: (() => {
    const p = join(ROOT, `dist/runbrake-core-${pkg.version}.tgz`);
    return existsSync(p) ? statSync(p).size : null;
  })(),
};

// Targets.
const nb = native.benchmarks;
/** native/wasm for one workload @param {"cancel_decide" | "cancel_decide_evolve"} k */
const ratio = (k) => nb[k].median / wasm[k].median;
const targets = [
  {
    id: "native_cancel_decisions",
    figure: "native: cancel decisions (decide)",
    value: nb.cancel_decide.median,
    target: `>= ${int(TARGETS.nativeOps)} /s`,
    pass: nb.cancel_decide.median >= TARGETS.nativeOps,
  },
  {
    id: "native_cancel_decide_evolve",
    figure: "native: cancel decide+evolve",
    value: nb.cancel_decide_evolve.median,
    target: `>= ${int(TARGETS.nativeOps)} /s`,
    pass: nb.cancel_decide_evolve.median >= TARGETS.nativeOps,
  },
  {
    id: "wasm_cancel_decisions_ratio",
    figure: "wasm: cancel decisions, native/wasm",
    value: ratio("cancel_decide"),
    target: `<= ${TARGETS.wasmRatio}x`,
    pass: ratio("cancel_decide") <= TARGETS.wasmRatio,
  },
  {
    id: "wasm_cancel_decide_evolve_ratio",
    figure: "wasm: decide+evolve, native/wasm",
    value: ratio("cancel_decide_evolve"),
    target: `<= ${TARGETS.wasmRatio}x`,
    pass: ratio("cancel_decide_evolve") <= TARGETS.wasmRatio,
  },
  {
    id: "native_cancel_100k_children_ms",
    figure: "native: cancel of 100,000 children",
    value: nb.cancel_100k_children.median,
    target: `< ${TARGETS.bigMs} ms`,
    pass: nb.cancel_100k_children.median < TARGETS.bigMs,
  },
  {
    id: "wasm_gzip_bytes",
    figure: "packaged .wasm, gzip -9",
    value: size.wasm_gzip,
    target: `< ${int(TARGETS.gzBytes)} B (150 KB)`,
    pass: size.wasm_gzip < TARGETS.gzBytes,
  },
];
const verdict = (/** @type {string} */ id) => (targets.find((t) => t.id === id)?.pass ? "PASS" : "FAIL");

/** @typedef {{ median: number, min: number, max: number }} Summary */
const rate = (/** @type {Summary} */ r) => `${int(r.median)} /s (${int(r.min)}-${int(r.max)})`;
const ms = (/** @type {Summary} */ r) => `${fixed(r.median)} ms (${fixed(r.min)}-${fixed(r.max)})`;
const rows = [
  ["cancel decisions (decide)", "native", rate(nb.cancel_decide), `>= ${int(TARGETS.nativeOps)} /s`, verdict("native_cancel_decisions")],
  ["", "wasm (core in Wasm)", rate(wasm.cancel_decide), `<= 3x native: ${fixed(ratio("cancel_decide"))}x`, verdict("wasm_cancel_decisions_ratio")],
  ["", "JS API: decide()", rate(jsApi.decide), "(info)", ""],
  ["cancel decide + evolve", "native", rate(nb.cancel_decide_evolve), `>= ${int(TARGETS.nativeOps)} /s`, verdict("native_cancel_decide_evolve")],
  ["", "wasm (core in Wasm)", rate(wasm.cancel_decide_evolve), `<= 3x native: ${fixed(ratio("cancel_decide_evolve"))}x`, verdict("wasm_cancel_decide_evolve_ratio")],
  ["", "JS API: decide()+evolve()", rate(jsApi.decide_evolve), "(info)", ""],
  ["cancel of 100,000 children", "native", ms(nb.cancel_100k_children), `< ${TARGETS.bigMs} ms`, verdict("native_cancel_100k_children_ms")],
  ["", "wasm (core in Wasm)", ms(wasm.cancel_100k_children), "(info)", ""],
  [".wasm size (packaged, wasm-opt -Os)", "raw", `${int(size.wasm_raw)} B`, "(info)", ""],
  ["", "gzip -9", `${int(size.wasm_gzip)} B`, `< ${int(TARGETS.gzBytes)} B`, verdict("wasm_gzip_bytes")],
  ["npm tarball (3 builds)", "", size.tarball === null ? "-" : `${int(size.tarball)} B`, "(info)", ""],
];

const machine = { ...machineBefore, load_average_after: describeMachine().load_average };
const results = {
  schema: 1,
  date: new Date().toISOString(),
  quick: QUICK,
  package: { name: pkg.name, version: pkg.version },
  machine,
  warning,
  notes: [
    "ops/s and ms: median of the timed rounds (min and max alongside)",
    "native: crate/benches/core.rs with the workspace release profile (opt-level s, LTO, 1 codegen unit)",
    "wasm: the same workloads (crate/benches/scenarios) inside Wasm (feature bench, wasm-opt -Os), timed per call from node",
    "js_api: decide()/evolve() of the published bindings, converting state and decision on every call",
  ],
  native: native.benchmarks,
  wasm,
  js_api: jsApi,
  size,
  targets,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(results, null, 2) + "\n");

console.log(`\nrunbrake-core ${pkg.version}: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}, ${machine.rustc}`);
console.log(`load average ${machine.load_average.join(" ")} -> ${machine.load_average_after.join(" ")}${QUICK ? " (quick run)" : ""}\n`);
console.log(table(["figure", "runtime", "median (min-max)", "target", "result"], rows, ["l", "l", "r", "l", "l"]));
if (warning) console.log(`\nwarning: ${warning}`);
console.log(`\nwrote ${relative(process.cwd(), OUT) || OUT}`);
