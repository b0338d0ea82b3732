// T6: cancel against complete. For each run an executor holding the lease completes while the user
// cancels, the second request leaving a random 0–20 ms after the first (either may go first). No run
// may end with two terminal events; the final state is the first terminal event of the log; every
// reply agrees with the final state; each side must win ≥ 10 % of the races (the race is real).
// CI: 200 runs; RELIABILITY_TIER=long: 1,000.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { record } from "./lib/figures.mjs";
import { pct, pool, size, startReliabilityServer } from "./lib/harness.mjs";
import { cancelVsCompleteTrial } from "./lib/races.mjs";

const RUNS = size(200, 1_000);
const PARALLEL = 8;

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
before(async () => {
  ctx = await startReliabilityServer();
});
after(async () => {
  await ctx?.server.stop();
});

/**
 * The skew of run `i`: uniform in 0–20 ms, the cancel first on odd runs, the complete on even ones.
 * @param {number} i
 */
function skewOf(i) {
  const gap = Math.random() * 20;
  return i % 2 === 0 ? gap : -gap;
}

describe(`T6: cancel against complete, ${RUNS} runs`, () => {
  it("never two terminal events; every reply agrees with how the run ended; both orders happen", async () => {
    const org = await ctx.newOrg("T6");
    const results = await pool(RUNS, PARALLEL, (i) => cancelVsCompleteTrial(ctx, org, skewOf(i), i % 4 < 2 ? 0 : 30_000));
    const twoTerminal = results.filter((r) => r.violations.some((v) => /terminal events/.test(v))).length;
    const broken = results.filter((r) => r.violations.length > 0);
    const cancelWon = results.filter((r) => r.winner === "cancel").length;
    const completeWon = results.filter((r) => r.winner === "complete").length;
    await record("T6", "cancel vs complete race", [
      { figure: "runs", target: `${RUNS}`, value: results.length, pass: results.length === RUNS },
      { figure: "runs with two terminal events", target: "0", value: twoTerminal, pass: twoTerminal === 0 },
      {
        figure: "runs whose final state, first terminal event and replies all agree",
        target: "100 %",
        value: `${pct(RUNS - broken.length, RUNS)} %`,
        pass: broken.length === 0,
      },
      { figure: "cancel won", target: "≥ 10 %", value: `${pct(cancelWon, RUNS)} %`, pass: cancelWon >= RUNS / 10 },
      { figure: "complete won", target: "≥ 10 %", value: `${pct(completeWon, RUNS)} %`, pass: completeWon >= RUNS / 10 },
      { figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 },
    ]);
    console.log(`# cancel won ${cancelWon}, complete won ${completeWon} of ${RUNS}`);
    assert.deepEqual(
      broken.slice(0, 5).map((r) => `${r.id} (skew ${r.skewMs.toFixed(1)} ms, grace ${r.graceMs}): ${r.violations.join("; ")}`),
      [],
      `${broken.length} of ${RUNS} runs broke T6`,
    );
    assert.ok(cancelWon >= RUNS / 10, `the cancel won only ${cancelWon} of ${RUNS}`);
    assert.ok(completeWon >= RUNS / 10, `the complete won only ${completeWon} of ${RUNS}`);
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });
});
