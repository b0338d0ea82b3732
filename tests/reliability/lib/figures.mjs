// Measured figures of the reliability (and security) tests, one JSON file per test in
// tests/output/reliability/<id>.json; `make reliability` prints them all (tests/reliability/report.mjs).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where every test writes its figures. */
export const FIGURES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "output", "reliability");

/** The tier a run measures: "ci" (default, the plan's CI sizes) or "long" (RELIABILITY_TIER=long). */
export const TIER = process.env.RELIABILITY_TIER === "long" ? "long" : "ci";

/**
 * @typedef {{figure: string, target: string, value: string | number, pass: boolean}} FigureRow
 * @typedef {{id: string, test: string, tier: string, at: string, rows: FigureRow[]}} FigureFile
 */

/**
 * Writes (replaces) tests/output/reliability/<id>.json with the rows a test measured.
 * @param {string} id a short id, e.g. "T4" (also the file name; letters, digits, '-', '_' and '.')
 * @param {string} test what the test checks, in a few words
 * @param {FigureRow[]} rows
 */
export async function record(id, test, rows) {
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`figure id ${JSON.stringify(id)}: use letters, digits, '.', '_' or '-'`);
  /** @type {FigureFile} */
  const file = { id, test, tier: TIER, at: new Date().toISOString(), rows };
  await mkdir(FIGURES_DIR, { recursive: true });
  await writeFile(join(FIGURES_DIR, `${id}.json`), `${JSON.stringify(file, null, 2)}\n`);
}
