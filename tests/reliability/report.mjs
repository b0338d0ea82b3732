// Prints every figure in tests/output/reliability/*.json (written through lib/figures.mjs by the
// reliability tests and any other suite) as one table against its target, and writes it to
// tests/output/reliability/report.md.
//
//   node tests/reliability/report.mjs
import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FIGURES_DIR } from "./lib/figures.mjs";

/** @param {unknown} v */
function cell(v) {
  return String(v).replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** @type {string[]} */
let names = [];
try {
  names = (await readdir(FIGURES_DIR)).filter((n) => n.endsWith(".json")).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
} catch {
  /* no figures yet */
}
const lines = [
  "# Reliability figures",
  "",
  "| id | test | figure | target | measured | pass | tier |",
  "|---|---|---|---|---|---|---|",
];
let total = 0;
let failed = 0;
/** @type {string[]} */
const skipped = [];
for (const name of names) {
  /** @type {import("./lib/figures.mjs").FigureFile} */
  let file;
  try {
    file = JSON.parse(await readFile(join(FIGURES_DIR, name), "utf8"));
  } catch {
    skipped.push(name);
    continue;
  }
  if (!file || !Array.isArray(file.rows)) {
    skipped.push(name);
    continue;
  }
  for (const row of file.rows) {
    total++;
    if (!row.pass) failed++;
    lines.push(
      `| ${cell(file.id)} | ${cell(file.test)} | ${cell(row.figure)} | ${cell(row.target)} | ${cell(row.value)} | ${row.pass ? "yes" : "**NO**"} | ${cell(file.tier ?? "")} |`,
    );
  }
}
lines.push("", `${total} figures from ${names.length - skipped.length} files; ${failed} miss their target.`);
if (skipped.length) lines.push(`Not figure files: ${skipped.join(", ")}.`);
const text = `${lines.join("\n")}\n`;
await writeFile(join(FIGURES_DIR, "report.md"), text).catch(() => {});
process.stdout.write(text);
