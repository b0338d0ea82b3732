// T4: concurrent duplicate cancels with one command_id. For runs in every non-terminal state, one
// already cancelling and a completed one: 50 cancels at once; exactly one decides, the other 49
// replay it, and the run's log holds exactly one cancel event (none where the cancel could not
// take effect). CI: 20 trials per state; RELIABILITY_TIER=long: 100.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { record } from "./lib/figures.mjs";
import { pct, pool, size, startReliabilityServer } from "./lib/harness.mjs";
import { T4_STATES, duplicateCancelTrial } from "./lib/races.mjs";

const TRIALS = size(20, 100);
const CONCURRENT = 50;
/** Trials in flight at once (each sends its 50 cancels together). */
const PARALLEL_TRIALS = 4;

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
before(async () => {
  ctx = await startReliabilityServer();
});
after(async () => {
  await ctx?.server.stop();
});

describe(`T4: ${CONCURRENT} concurrent cancels with one command_id, ${TRIALS} trials per state`, () => {
  it("decides once, replays the decision to every other request, logs one cancel event", async () => {
    const org = await ctx.newOrg("T4");
    const jobs = T4_STATES.flatMap((state) => Array.from({ length: TRIALS }, () => state));
    const results = await pool(jobs.length, PARALLEL_TRIALS, (i) => duplicateCancelTrial(ctx, org, jobs[i], CONCURRENT));
    /** @type {import("./lib/figures.mjs").FigureRow[]} */
    const rows = [];
    for (const state of T4_STATES) {
      const mine = results.filter((r) => r.state === state);
      const clean = mine.filter((r) => r.violations.length === 0).length;
      const want = state === "cancelling" || state === "completed" ? 0 : 1;
      const exact = mine.filter((r) => r.cancelEvents === want && r.receipts === 1).length;
      const outcomes = [...new Set(mine.map((r) => `${r.status} ${r.outcome}`))].join(", ");
      rows.push({
        figure: `${state}: trials with exactly ${want} cancel event(s) from this command_id and 1 receipt (${outcomes})`,
        target: "100 %",
        value: `${pct(exact, mine.length)} % of ${mine.length}`,
        pass: exact === mine.length,
      });
      rows.push({
        figure: `${state}: trials whose ${CONCURRENT} replies carry one decision`,
        target: "100 %",
        value: `${pct(clean, mine.length)} % of ${mine.length}`,
        pass: clean === mine.length,
      });
    }
    rows.push({ figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 });
    await record("T4", "concurrent duplicate cancels, same command_id", rows);

    const bad = results.filter((r) => r.violations.length > 0);
    assert.deepEqual(
      bad.slice(0, 5).map((r) => `${r.state} ${r.id}: ${r.violations.join("; ")}`),
      [],
      `${bad.length} of ${results.length} trials broke T4`,
    );
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });
});
