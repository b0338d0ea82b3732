// The reliability tests that need workerd's test hooks (runDurableObjectAlarm, evictDurableObject):
// T9 (c) worker/tests/alarm_twice.test.ts and T10 worker/tests/eviction.test.ts. Runs them with
// vitest and records their figures like the other reliability tests; exits with vitest's status.
//
//   node tests/reliability/vitest.mjs     (after `make build`)
import { spawnSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../lib/server.mjs";
import { record } from "./lib/figures.mjs";

const FILES = { T9c: "worker/tests/alarm_twice.test.ts", T10: "worker/tests/eviction.test.ts" };
const out = join(ROOT, "tests", "output", "vitest-reliability.json");
await mkdir(join(ROOT, "tests", "output"), { recursive: true });
const run = spawnSync("vitest", ["run", ...Object.values(FILES), "--reporter=default", "--reporter=json", `--outputFile.json=${out}`], {
  cwd: ROOT,
  stdio: "inherit",
});

/** @type {{testResults?: {name: string, assertionResults: {title: string, status: string}[]}[]}} */
let report = {};
try {
  report = JSON.parse(await readFile(out, "utf8"));
} catch {
  /* vitest did not get as far as a report: the figures say so */
}
/** @param {string} file */
const results = (file) => report.testResults?.find((r) => r.name.endsWith(file))?.assertionResults ?? [];

const alarm = results(FILES.T9c);
await record(
  "T9c",
  "alarm handler run twice (vitest in workerd)",
  alarm.length
    ? alarm.map((t) => ({ figure: t.title, target: "0 duplicate terminal events", value: t.status, pass: t.status === "passed" }))
    : [{ figure: "tests run", target: "≥ 1", value: 0, pass: false }],
);
const eviction = results(FILES.T10);
const same = eviction.filter((t) => t.status === "passed").length;
await record("T10", "eviction between every step (vitest in workerd)", [
  {
    figure: "fixture paths with identical replies, logs and list entries with and without evictions",
    target: "100 %",
    value: `${same} of ${eviction.length}`,
    pass: eviction.length > 0 && same === eviction.length,
  },
  ...eviction.filter((t) => t.status !== "passed").map((t) => ({ figure: t.title, target: "passed", value: t.status, pass: false })),
]);
process.exit(run.status ?? 1);
