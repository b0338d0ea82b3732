// The mutation check: the T4 and T6 checks (lib/races.mjs, the very code the real tests run) against
// a Worker started with RACE_MUTANT=1 (honoured only with TEST_CLOCK=1; worker/src/run_object/mutant.rs),
// whose command handler awaits a timer between reading a run and writing its decision. The checks
// must report violations there: duplicate cancel decisions, two terminal events or replies that
// disagree with the run. If they did not, the race tests could not see the bug they exist for.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { record } from "./lib/figures.mjs";
import { pool, size, startReliabilityServer } from "./lib/harness.mjs";
import { cancelVsCompleteTrial, duplicateCancelTrial } from "./lib/races.mjs";

const T4_TRIALS = size(10, 40);
const T6_RUNS = size(40, 200);

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
before(async () => {
  ctx = await startReliabilityServer({ vars: { RACE_MUTANT: "1" } });
});
after(async () => {
  await ctx?.server.stop();
});

describe("mutation check: the race tests fail against a handler with a non-storage await", () => {
  /** @type {import("./lib/figures.mjs").FigureRow[]} */
  const rows = [];
  after(async () => {
    await record("mutant", "race tests against RACE_MUTANT (must detect)", rows);
  });

  it("T4's check sees duplicate cancel decisions", async () => {
    const org = await ctx.newOrg("mutant T4");
    const results = await pool(T4_TRIALS, 4, () => duplicateCancelTrial(ctx, org, "queued", 50));
    const caught = results.filter((r) => r.violations.length > 0);
    const duplicates = results.filter((r) => r.cancelEvents > 1 || r.receipts > 1).length;
    rows.push({
      figure: `T4 trials (queued run, 50 cancels) that fail the check`,
      target: "> 0",
      value: `${caught.length} of ${results.length} (${duplicates} with duplicate cancel events)`,
      pass: caught.length > 0,
    });
    console.log(`# T4 under the mutant: ${caught.length} of ${results.length} trials failed, e.g. ${caught[0]?.violations.join("; ")}`);
    assert.ok(caught.length > 0, "T4's check did not notice duplicate decisions");
    assert.ok(duplicates > 0, "no trial logged a duplicate cancel");
  });

  it("T6's check sees two terminal events or replies that disagree with the run", async () => {
    const org = await ctx.newOrg("mutant T6");
    const results = await pool(T6_RUNS, 8, (i) => cancelVsCompleteTrial(ctx, org, (i % 2 ? 1 : -1) * Math.random() * 20, i % 4 < 2 ? 0 : 30_000));
    const caught = results.filter((r) => r.violations.length > 0);
    const twoTerminal = results.filter((r) => r.violations.some((v) => /terminal events/.test(v))).length;
    rows.push({
      figure: `T6 runs that fail the check`,
      target: "> 0",
      value: `${caught.length} of ${results.length} (${twoTerminal} with two terminal events)`,
      pass: caught.length > 0,
    });
    console.log(`# T6 under the mutant: ${caught.length} of ${results.length} runs failed, e.g. ${caught[0]?.violations.join("; ")}`);
    assert.ok(caught.length > 0, "T6's check did not notice the race");
    assert.ok(twoTerminal > 0, "no run logged two terminal events");
  });

  it("is ignored without TEST_CLOCK (as in production): the same trials pass", async () => {
    const plain = await startReliabilityServer({ vars: { RACE_MUTANT: "1" }, testClock: false });
    try {
      const org = await plain.newOrg("mutant off");
      const results = await pool(5, 4, () => duplicateCancelTrial(plain, org, "queued", 50));
      const caught = results.filter((r) => r.violations.length > 0);
      rows.push({ figure: "T4 trials failing with RACE_MUTANT=1 but no TEST_CLOCK", target: "0", value: `${caught.length} of ${results.length}`, pass: caught.length === 0 });
      assert.deepEqual(caught.map((r) => r.violations.join("; ")), []);
      assert.deepEqual(plain.serverErrors, []);
    } finally {
      await plain.server.stop();
    }
  });
});
