// T5: the idempotency-key contract, as a table of cases. A cancel's `command_id` (body or
// `Idempotency-Key` header) and a bulk job's `idempotency_key`: the same key with the same payload
// replays the stored reply byte for byte (also after the run moved on); the same key with another
// payload is a 422 problem+json that changes nothing; a key over 255 characters or outside the
// published charset is a 400; a key is scoped to its organisation (org B's use of org A's key is a
// fresh decision, never A's reply). No route of runbrake requires a key (each is optional by
// design), so "key missing where required → 400" has no case; a keyless repeat is decided afresh.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { claim, createRun } from "../lib/api.mjs";
import { record } from "./lib/figures.mjs";
import { count, logViolations, readEvents, startReliabilityServer } from "./lib/harness.mjs";

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
/** @type {import("./lib/harness.mjs").Org} */
let orgA;
/** @type {import("./lib/harness.mjs").Org} */
let orgB;

before(async () => {
  ctx = await startReliabilityServer();
  [orgA, orgB] = await Promise.all([ctx.newOrg("T5 A"), ctx.newOrg("T5 B")]);
});
after(async () => {
  await ctx?.server.stop();
});

/** @typedef {{name: string, check: () => Promise<void>}} Case */

/** @param {import("./lib/harness.mjs").Org} org @param {string} id @param {Record<string, unknown>} body @param {Record<string, string>} [headers] */
function cancel(org, id, body, headers = {}) {
  return ctx.call(`/api/runs/${id}/cancel`, { key: org.user, body, headers });
}

/** A 4xx problem+json naming `field`. @param {import("./lib/harness.mjs").Reply} res @param {number} status @param {string} [field] */
function expectProblem(res, status, field) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  assert.ok(typeof res.body.type === "string" && typeof res.body.title === "string", res.text);
  if (field) assert.equal(res.body.field, field, res.text);
}

/** A leased run (its cancel is a request the executor must acknowledge). */
async function leasedRun(org = orgA) {
  const run = await createRun(ctx.url, org);
  const lease = await claim(ctx.url, org, run.id, 600_000);
  return { id: run.id, lease };
}

/** The log must not change: same length, and valid. @param {import("./lib/harness.mjs").Org} org @param {string} id @param {number} before */
async function unchanged(org, id, before) {
  const log = await readEvents(ctx, org, id);
  assert.equal(log.length, before, `the refused request wrote events: ${JSON.stringify(log.slice(before))}`);
  assert.deepEqual(logViolations(log), []);
}

/** @type {Case[]} */
const CASES = [
  {
    name: "same command_id + same payload → the stored reply, byte for byte; one cancel event",
    async check() {
      const { id } = await leasedRun();
      const body = { command_id: "t5-same", reason: "duplicate invoice", grace_ms: 60_000 };
      const first = await cancel(orgA, id, body);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.outcome.kind, "requested");
      const again = await cancel(orgA, id, body);
      assert.equal(again.status, first.status);
      assert.equal(again.body.outcome.kind, "replayed");
      assert.equal(JSON.stringify(again.body.outcome.original), JSON.stringify(first.body.cancel), "replayed reply is the stored one");
      const receipt = await ctx.call(`/api/runs/${id}/cancellations/t5-same`, { key: orgA.user });
      assert.equal(receipt.status, 200, receipt.text);
      assert.equal(JSON.stringify(receipt.body.reply), JSON.stringify(first.body.cancel));
      const log = await readEvents(ctx, orgA, id);
      assert.equal(count(log, "cancel_requested"), 1);
      assert.equal(count(log, "cancel_recorded"), 1);
    },
  },
  {
    name: "same key in the Idempotency-Key header (and a key in both places that agree) replays",
    async check() {
      const { id } = await leasedRun();
      const first = await cancel(orgA, id, { grace_ms: 60_000 }, { "idempotency-key": "t5-header" });
      assert.equal(first.body.outcome.kind, "requested", first.text);
      const viaBody = await cancel(orgA, id, { command_id: "t5-header", grace_ms: 60_000 });
      const both = await cancel(orgA, id, { command_id: "t5-header", grace_ms: 60_000 }, { "idempotency-key": "t5-header" });
      for (const r of [viaBody, both]) {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.outcome.kind, "replayed");
        assert.equal(JSON.stringify(r.body.outcome.original), JSON.stringify(first.body.cancel));
      }
      assert.equal(count(await readEvents(ctx, orgA, id), "cancel_requested"), 1);
    },
  },
  {
    name: "a replay after the run moved on still carries the first decision",
    async check() {
      const { id, lease } = await leasedRun();
      const body = { command_id: "t5-later", grace_ms: 60_000 };
      const first = await cancel(orgA, id, body);
      const ack = await ctx.call(`/api/runs/${id}/ack-cancel`, { key: orgA.executor, body: { lease_id: lease } });
      assert.equal(ack.status, 200, ack.text);
      const again = await cancel(orgA, id, body);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.outcome.kind, "replayed");
      assert.equal(JSON.stringify(again.body.outcome.original), JSON.stringify(first.body.cancel));
      assert.equal(again.body.run.status, "cancelled", "the run itself is shown as it is now");
      const log = await readEvents(ctx, orgA, id);
      assert.equal(count(log, "cancelled"), 1);
      assert.equal(count(log, "cancel_recorded"), 1);
    },
  },
  ...[
    ["reason", { reason: "another reason" }],
    ["grace_ms", { grace_ms: 1_000 }],
    ["if_status_in", { if_status_in: ["running"] }],
  ].map(([what, change]) => ({
    name: `same command_id + different ${what} → 422 problem+json, nothing changes`,
    async check() {
      const { id } = await leasedRun();
      const body = { command_id: `t5-diff-${what}`, reason: "first", grace_ms: 60_000 };
      const first = await cancel(orgA, id, body);
      assert.equal(first.status, 200, first.text);
      const before = (await readEvents(ctx, orgA, id)).length;
      const other = await cancel(orgA, id, { ...body, .../** @type {object} */ (change) });
      expectProblem(other, 422);
      await unchanged(orgA, id, before);
      // The first reply is still what the key replays.
      const again = await cancel(orgA, id, body);
      assert.equal(JSON.stringify(again.body.outcome.original), JSON.stringify(first.body.cancel));
    },
  })),
  {
    name: "a key of 255 characters is accepted; 256 → 400 naming command_id, nothing changes",
    async check() {
      const { id } = await leasedRun();
      const before = (await readEvents(ctx, orgA, id)).length;
      expectProblem(await cancel(orgA, id, { command_id: "k".repeat(256) }), 400, "command_id");
      expectProblem(await cancel(orgA, id, {}, { "idempotency-key": "k".repeat(256) }), 400, "command_id");
      await unchanged(orgA, id, before);
      const ok = await cancel(orgA, id, { command_id: "k".repeat(255), grace_ms: 60_000 });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.outcome.kind, "requested");
    },
  },
  {
    name: "keys outside A–Z a–z 0–9 _ - . : (or empty, or not a string) → 400, nothing changes",
    async check() {
      const { id } = await leasedRun();
      const before = (await readEvents(ctx, orgA, id)).length;
      for (const bad of ["", "a b", "ä-key", "a/b", "a\u0000b", "key;drop", "<script>", "x\ty"]) {
        expectProblem(await cancel(orgA, id, { command_id: bad }), 400, "command_id");
      }
      for (const bad of ["a b", "a/b", "key;drop"]) {
        expectProblem(await cancel(orgA, id, {}, { "idempotency-key": bad }), 400, "command_id");
      }
      for (const bad of [42, true, ["k"], { k: 1 }]) {
        const res = await cancel(orgA, id, { command_id: bad });
        assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
      }
      await unchanged(orgA, id, before);
      const ok = await cancel(orgA, id, { command_id: "Az09_-.:ok", grace_ms: 60_000 });
      assert.equal(ok.status, 200, ok.text);
    },
  },
  {
    name: "a body key that differs from the Idempotency-Key header → 400, nothing changes",
    async check() {
      const { id } = await leasedRun();
      const before = (await readEvents(ctx, orgA, id)).length;
      expectProblem(await cancel(orgA, id, { command_id: "one" }, { "idempotency-key": "two" }), 400, "command_id");
      await unchanged(orgA, id, before);
    },
  },
  {
    name: "no key: each cancel is decided afresh (already_requested), still one cancel event",
    async check() {
      const { id } = await leasedRun();
      const first = await cancel(orgA, id, { grace_ms: 60_000 });
      const second = await cancel(orgA, id, { grace_ms: 60_000 });
      assert.equal(first.body.outcome.kind, "requested", first.text);
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.outcome.kind, "already_requested");
      const log = await readEvents(ctx, orgA, id);
      assert.equal(count(log, "cancel_requested"), 1);
      assert.equal(count(log, "cancel_recorded"), 0, "no receipt without a key");
    },
  },
  {
    name: "org A's key used by org B: a fresh decision on B's run; A's run stays a 404 for B",
    async check() {
      const a = await createRun(ctx.url, orgA);
      const b = await createRun(ctx.url, orgB);
      const body = { command_id: "t5-tenant", reason: "cross-tenant" };
      const first = await cancel(orgA, a.id, body);
      assert.equal(first.body.outcome.kind, "cancelled_now", first.text);
      const other = await cancel(orgB, b.id, body);
      assert.equal(other.status, 200, other.text);
      assert.equal(other.body.outcome.kind, "cancelled_now", "B's cancel is not A's replay");
      assert.equal(other.body.run.id, b.id);
      assert.ok(!other.text.includes(a.id), "nothing of A's run in B's reply");
      const foreign = await cancel(orgB, a.id, body);
      expectProblem(foreign, 404);
      assert.ok(!foreign.text.includes("t5-tenant") && !foreign.text.includes(orgA.orgId));
      const receipt = await ctx.call(`/api/runs/${a.id}/cancellations/t5-tenant`, { key: orgB.user });
      expectProblem(receipt, 404);
      assert.equal(count(await readEvents(ctx, orgA, a.id), "cancel_recorded"), 1);
    },
  },
  {
    name: "contract 000: the same command_id replays the first reply byte for byte",
    async check() {
      const run = await createRun(ctx.url, orgA);
      await claim(ctx.url, orgA, run.id, 600_000);
      const send = () =>
        ctx.call(`/v1/workflows/runs/${run.id}/cancel`, {
          method: "POST",
          headers: { authorization: `Bearer ${orgA.user}`, "content-type": "application/json" },
          body: JSON.stringify({ command_id: "t5-retab" }),
        });
      const first = await send();
      assert.equal(first.status, 200, first.text);
      const again = await send();
      assert.equal(again.status, 200);
      assert.equal(again.text, first.text, "byte-identical replay");
      assert.equal(count(await readEvents(ctx, orgA, run.id), "cancel_requested"), 1);
    },
  },
  {
    name: "bulk jobs: same idempotency_key replays the job (200, same id); another org's key is its own",
    async check() {
      /** @param {import("./lib/harness.mjs").Org} org */
      const dryRun = async (org) => {
        const run = await createRun(ctx.url, org, { tags: ["t5-bulk"] });
        const res = await ctx.call("/api/bulk-cancels/dry-run", { key: org.user, body: { selection: { ids: [run.id] } } });
        assert.equal(res.status, 201, res.text);
        return res.body.dry_run_id ?? res.body.id;
      };
      const dryA = await dryRun(orgA);
      const start = (/** @type {import("./lib/harness.mjs").Org} */ org, /** @type {string} */ dry) =>
        ctx.call("/api/bulk-cancels", { key: org.user, body: { dry_run_id: dry, idempotency_key: "t5-bulk-key" } });
      const first = await start(orgA, dryA);
      assert.equal(first.status, 201, first.text);
      const again = await start(orgA, dryA);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.job.id, first.body.job.id);
      const dryB = await dryRun(orgB);
      const other = await start(orgB, dryB);
      assert.equal(other.status, 201, `org B's first use of the key starts B's own job: ${other.text}`);
      assert.notEqual(other.body.job.id, first.body.job.id);
      expectProblem(await ctx.call("/api/bulk-cancels", { key: orgA.user, body: { dry_run_id: dryA, idempotency_key: "k".repeat(256) } }), 400, "idempotency_key");
    },
  },
];

describe(`T5: the idempotency-key contract (${CASES.length} cases)`, () => {
  /** @type {{name: string, error?: string}[]} */
  const results = [];
  after(async () => {
    const passed = results.filter((r) => !r.error).length;
    await record("T5", "idempotency-key contract", [
      { figure: "cases as specified", target: "100 %", value: `${passed} of ${results.length}`, pass: passed === results.length && results.length === CASES.length },
      { figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 },
    ]);
  });

  for (const c of CASES) {
    it(c.name, async () => {
      try {
        await c.check();
        results.push({ name: c.name });
      } catch (err) {
        results.push({ name: c.name, error: String(err) });
        throw err;
      }
    });
  }

  it("answered no request with a status ≥ 500", () => {
    assert.deepEqual(ctx.serverErrors, []);
  });
});
