// Races, per contract: 200 runs whose executor completes while a cancel arrives through the contract's
// route. Every cancel reply must agree with the run's final state, no run may end with two terminal
// events, and when completion won the contract's race answer must be the one given (000
// `cancellation_failed` with the real, completed run; 001/002 404; 003 400; 004 409).
//
//   source scripts/env.sh && SKIP_WORKER_BUILD=1 node --test tests/contracts/races.test.mjs
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";
import { CONTRACTS, SEEDS, TERMINAL_EVENTS, events, native, prepare } from "./fixtures.mjs";
import { SCHEMAS, contractSchemas } from "./schemas.mjs";

const RUNS = Number(process.env.RACE_RUNS ?? 200);
/** RACE_SEEDS=000,003 runs only those contracts (all five by default). */
const ONLY = process.env.RACE_SEEDS?.split(",");
const CONCURRENCY = 8;
const ADMIN = adminToken();
const { check } = contractSchemas();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {{orgId: string, user: string, executor: string}} */
let org;

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN } });
  org = await newOrg(server.url, ADMIN, "races");
});
after(async () => {
  await server?.stop();
});
process.on("exit", (code) => {
  if (code !== 0 && server) console.error(`# server output:\n${server.output()}`);
});

/** @typedef {"000" | "001" | "002" | "003" | "004"} Seed */

/** The cancel each contract's client sends (see contracts.test.mjs). @param {Seed} seed @param {string} id */
function cancel(seed, id) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${org.user}` };
  if (seed === "000" || seed === "002") headers["content-type"] = "application/json";
  if (seed === "003") headers["x-extend-api-version"] = "2026-02-09";
  return call(server.url, CONTRACTS[seed].cancel(id), { method: "POST", headers, body: seed === "000" ? "{}" : undefined });
}

/** Runs `task(i)` for i in 0..n with at most `limit` at once. @template T @param {number} n @param {number} limit @param {(i: number) => Promise<T>} task */
async function pool(n, limit, task) {
  /** @type {T[]} */
  const out = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

/** Did the cancel reply say the cancel took effect (now or as a request)? @param {Seed} seed @param {{status: number, body: any}} r */
function cancelTookEffect(seed, r) {
  switch (seed) {
    case "000":
      return r.body.cancellation_status !== "cancellation_failed";
    default:
      return r.status === 200;
  }
}

/** The race answer each contract gives when completion won. */
const RACE_ANSWER = { "000": 200, "001": 404, "002": 404, "003": 400, "004": 409 };

describe(`races: ${RUNS} runs per contract, completion against cancel`, () => {
  for (const seed of SEEDS.filter((s) => !ONLY || ONLY.includes(s))) {
    it(`seed ${seed} (${CONTRACTS[seed].cancel("{id}")})`, async () => {
      const results = await pool(RUNS, CONCURRENCY, async (i) => {
        const { id, lease } = await prepare(server.url, org, seed, "leased");
        const complete = () => call(server.url, `/api/runs/${id}/complete`, { key: org.executor, body: { lease_id: lease } });
        // Both requests are in flight together. Which one leaves first alternates, and the other
        // follows 0–38 ms later (the gap cycles over the runs), so each side wins some races
        // however much the two routes differ in cost: a bodiless cancel reaches the run's object
        // a few milliseconds sooner than a `complete`, and would otherwise always win.
        const gap = (Math.floor(i / 2) % 20) * 2;
        const lag = () => new Promise((resolve) => setTimeout(resolve, gap));
        const [done, cancelled] =
          i % 2 === 0
            ? await Promise.all([complete(), lag().then(() => cancel(seed, id))])
            : await Promise.all([cancel(seed, id), lag().then(complete)]).then(([c, d]) => [d, c]);
        const [run, log, readBack] = await Promise.all([
          native(server.url, org, id),
          events(server.url, org, id),
          call(server.url, CONTRACTS[seed].read(id), { key: org.user, headers: seed === "003" ? { "x-extend-api-version": "2026-02-09" } : {} }),
        ]);
        return { id, done, cancelled, run, log, readBack };
      });

      let completionWon = 0;
      let cancelWon = 0;
      for (const { id, done, cancelled, run, log, readBack } of results) {
        const where = `${seed} ${id}`;
        // One terminal event, whoever won; the loser's report is logged as late, never a flip.
        const terminal = log.filter((e) => TERMINAL_EVENTS.has(e.event.type));
        assert.equal(terminal.length, 1, `${where}: terminal events ${JSON.stringify(terminal)}`);
        assert.ok(run.status === "completed" || run.status === "cancelled", `${where}: ended ${run.status}`);
        assert.equal(done.status, 200, `${where}: complete answered ${done.text}`);

        const effective = cancelTookEffect(seed, cancelled);
        if (run.status === "completed") {
          completionWon++;
          assert.equal(done.body.reply.outcome.kind, "applied", where);
          assert.equal(effective, false, `${where}: completion won but the cancel said ${cancelled.text}`);
          assert.equal(cancelled.status, RACE_ANSWER[seed], `${where}: ${cancelled.text}`);
          if (seed === "000") {
            check(SCHEMAS[seed].cancel, cancelled.body, where);
            assert.equal(cancelled.body.cancellation_status, "cancellation_failed");
            assert.equal(cancelled.body.run.lifecycle.status, "completed", "the real run");
            assert.ok(cancelled.body.run.timing.completed_at);
          } else {
            check(SCHEMAS[seed].error, cancelled.body, where);
          }
        } else {
          cancelWon++;
          assert.equal(done.body.reply.outcome.kind, "late", `${where}: ${done.text}`);
          assert.equal(effective, true, `${where}: the cancel won but answered ${cancelled.text}`);
          assert.equal(cancelled.status, 200);
          check(SCHEMAS[seed].cancel, cancelled.body, where);
          assert.ok(log.some((e) => e.event.type === "late_completion"), `${where}: late completion logged`);
        }
        // The read route tells the same story.
        assert.equal(readBack.status, 200, readBack.text);
        check(SCHEMAS[seed].read, readBack.body, `${where} read`);
        const word =
          seed === "000" || seed === "001" || seed === "002"
            ? readBack.body.lifecycle.status
            : seed === "003"
              ? readBack.body.status
              : readBack.body.data.status;
        assert.equal(word, run.vocabulary[seed], where);
      }
      console.log(`# seed ${seed}: completion won ${completionWon}, cancel won ${cancelWon} of ${RUNS}`);
      assert.equal(completionWon + cancelWon, RUNS);
      assert.ok(completionWon > 0, "completion never won: the race answer was not exercised");
      assert.ok(cancelWon > 0, "the cancel never won");
    });
  }
});
