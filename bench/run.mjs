// `make bench`: runs every benchmark part, each printing its own table, then merges their
// figures with the machine's description into bench/results.json.
//
//   node bench/run.mjs [part ...] [--quick]      parts: core, worker, dashboard, scale, load
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { ROOT } from "../tests/lib/server.mjs";

const PARTS = ["core", "worker", "dashboard", "scale", "load"];
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const chosen = args.filter((a) => !a.startsWith("--"));
const parts = chosen.length ? chosen : PARTS;

let failed = 0;
for (const part of parts) {
  const script = join(ROOT, "bench", `${part}.mjs`);
  if (!existsSync(script)) {
    console.error(`bench: no ${part} part (bench/${part}.mjs)`);
    failed++;
    continue;
  }
  console.log(`\n== bench ${part} ==`);
  const res = spawnSync(process.execPath, [script, ...(quick ? ["--quick"] : [])], { stdio: "inherit", cwd: ROOT });
  if (res.status !== 0) {
    console.error(`bench: ${part} failed (${res.status})`);
    failed++;
  }
}

/** @type {Record<string, unknown>} */
const merged = {};
for (const part of PARTS) {
  const file = join(ROOT, "bench", "results", `${part}.json`);
  if (existsSync(file)) merged[part] = JSON.parse(await readFile(file, "utf8"));
}
let rustc = "";
try {
  rustc = spawnSync("rustc", ["--version"], { encoding: "utf8" }).stdout.trim();
} catch {
  /* not on PATH */
}
const out = {
  measured_at: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    rustc,
  },
  quick,
  parts: merged,
};
await writeFile(join(ROOT, "bench", "results.json"), JSON.stringify(out, null, 2) + "\n");
console.log("\nwritten: bench/results.json");
process.exit(failed ? 1 : 0);
