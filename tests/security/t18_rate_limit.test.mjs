// T18 (RELIABILITY.md), CI smoke: the per-key rate limit. Key A sends at twice its limit for 10 s,
// on the native API and the contract routes; keys B (another organisation) and C (a second key of
// A's organisation: the limit is per key, not per organisation) send at a third of it meanwhile.
// At least 95 % of A's excess gets 429 with Retry-After, in each route's own shape; B and C get
// no 429 at all. The server runs with RATE_LIMIT_PER_10S=300 (30/s, bursts of 30).
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { assertErrorShape, call, familyOf, leaks, newOrg, record, runIn, send, startServer } from "./lib.mjs";

const PER_10S = 300;
const RATE = PER_10S / 10; // per second
const BURST = PER_10S / 10; // the default burst: one second's worth
const SECONDS = 10;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let s;
/** @type {import("./lib.mjs").Org} */
let orgA;
/** @type {import("./lib.mjs").Org} */
let orgB;
let keyC = "";
/** @type {string[]} */
let pathsA = [];
/** @type {string[]} */
let pathsB = [];

before(async () => {
  s = await startServer({ RATE_LIMIT_PER_10S: String(PER_10S) });
  [orgA, orgB] = await Promise.all([newOrg(s.url, s.admin, "t18 A"), newOrg(s.url, s.admin, "t18 B")]);
  const c = await call(s.url, `/api/admin/orgs/${orgA.orgId}/keys`, { key: s.admin, body: { role: "user", label: "second" } });
  assert.equal(c.status, 201, c.text);
  keyC = c.body.key;
  // Setup spends a few of A's tokens (well under its burst of 30).
  const [q, w, x, g] = await Promise.all([
    runIn(s.url, orgA, "queued"),
    runIn(s.url, orgA, "queued", { kind: "workflow" }),
    runIn(s.url, orgA, "queued", { kind: "extend_workflow" }),
    runIn(s.url, orgA, "queued", { kind: "generic" }),
  ]);
  pathsA = [`/api/runs/${q.id}`, `/api/runs/${q.id}/events`, "/api/runs?limit=5", `/v1/workflows/runs/${w.id}`, `/workflow_runs/${x.id}`, `/v1/runs/${g.id}`];
  const b = await runIn(s.url, orgB, "queued");
  pathsB = [`/api/runs/${b.id}`, "/api/runs?limit=5"];
});
after(async () => {
  await s?.server.stop();
});

/**
 * @typedef {{status: number, ms: number, sentAt: number, path: string, retryAfter: string | null, res: import("./lib.mjs").Reply}} Shot
 */

/**
 * Sends `rate` requests per second for `seconds`, open loop (each at its due time whether or not
 * earlier ones have been answered), as a load generator does.
 * @param {string} key @param {number} rate @param {number} seconds @param {string[]} paths
 * @returns {Promise<Shot[]>}
 */
async function drive(key, rate, seconds, paths) {
  const n = Math.round(rate * seconds);
  const start = performance.now();
  /** @type {Promise<Shot>[]} */
  const shots = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await delay(wait); // pacing the sender at its rate
    const path = paths[i % paths.length];
    const sentAt = performance.now();
    shots.push(
      send(s.url, path, { headers: { authorization: `Bearer ${key}` } }).then((res) => ({
        status: res.status,
        ms: performance.now() - sentAt,
        sentAt,
        path,
        retryAfter: res.headers.get("retry-after"),
        res,
      })),
    );
  }
  return Promise.all(shots);
}

const p99 = (/** @type {number[]} */ xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
};

describe("T18: per-key rate limit (CI smoke)", () => {
  it(`key A at 2× its limit for ${SECONDS} s: ≥ 95 % of the excess gets 429 + Retry-After; keys B and C at a third of it: no 429`, async () => {
    // B's latency alone first (its baseline), then everything at once.
    const baseline = await drive(orgB.user, RATE / 3, 3, pathsB);
    const [a, b, c] = await Promise.all([
      drive(orgA.user, 2 * RATE, SECONDS, pathsA),
      drive(orgB.user, RATE / 3, SECONDS, pathsB),
      drive(keyC, RATE / 3, SECONDS, pathsA),
    ]);
    const errors = [...baseline, ...a, ...b, ...c].filter((x) => x.status >= 500 || (x.status !== 200 && x.status !== 429));
    assert.deepEqual(errors.map((e) => `${e.path} → ${e.status} ${e.res.text.slice(0, 200)}`), [], "answers other than 200 and 429");
    const limited = a.filter((x) => x.status === 429);
    const span = (a.at(-1)?.sentAt ?? 0) - (a[0]?.sentAt ?? 0);
    // What the documented limit lets through over the time A actually sent for: the burst, then the rate.
    const allowed = BURST + (RATE * span) / 1000;
    const excess = a.length - allowed;
    const share = limited.length / excess;
    // Every 429 says when to come back and is in its route's own shape.
    const families = new Set();
    let wellFormed = 0;
    for (const x of limited) {
      assert.match(x.retryAfter ?? "", /^[1-9][0-9]*$/, `${x.path}: Retry-After ${x.retryAfter}`);
      assert.ok(Number(x.retryAfter) <= 10, `${x.path}: Retry-After ${x.retryAfter} s for a 10 s window`);
      assertErrorShape(familyOf(x.path), x.res, `429 on ${x.path}`);
      assert.deepEqual(leaks(x.res.text), []);
      if (familyOf(x.path) === "native") assert.equal(x.res.body.code, "rate_limited");
      families.add(familyOf(x.path));
      wellFormed++;
    }
    const b429 = b.filter((x) => x.status === 429).length + baseline.filter((x) => x.status === 429).length;
    const c429 = c.filter((x) => x.status === 429).length;
    const bP99 = p99(b.map((x) => x.ms));
    const baseP99 = p99(baseline.map((x) => x.ms));
    await record("T18", "per-key rate limit (CI smoke)", [
      { figure: "limit", target: "(configured)", value: `${PER_10S} per 10 s per key, bursts of ${BURST}`, pass: true },
      { figure: "A's requests (2× the limit)", target: `${2 * RATE}/s for ${SECONDS} s`, value: `${a.length} in ${(span / 1000).toFixed(1)} s`, pass: true },
      { figure: "A's excess over the limit answered 429", target: "≥ 95 %", value: `${limited.length} of ${Math.round(excess)} (${(100 * share).toFixed(1)} %)`, pass: share >= 0.95 },
      { figure: "A's requests let through", target: `≈ ${BURST} + ${RATE}/s × time`, value: `${a.length - limited.length} (documented ${Math.round(allowed)})`, pass: a.length - limited.length >= 0.8 * ((RATE * span) / 1000) },
      { figure: "429s with Retry-After, in the route's shape", target: "100 %", value: `${wellFormed} of ${limited.length}, families ${[...families].sort().join(", ")}`, pass: wellFormed === limited.length && families.size === 4 },
      { figure: "429s for key B (another organisation) and key C (A's organisation, another key)", target: "0", value: `${b429} and ${c429}`, pass: b429 === 0 && c429 === 0 },
      { figure: "B's p99 during A's flood / alone", target: "≤ 2× (N tier)", value: `${bP99.toFixed(1)} / ${baseP99.toFixed(1)} ms`, pass: bP99 <= 2 * baseP99 },
    ]);
    assert.ok(excess > 0, `A never exceeded its limit (${a.length} requests in ${span} ms)`);
    assert.ok(share >= 0.95, `only ${limited.length} of A's ${Math.round(excess)} excess requests got 429`);
    // …and A still gets (most of) its sustained rate: the limiter does not over-refuse.
    const passed = a.length - limited.length;
    assert.ok(passed >= 0.8 * ((RATE * span) / 1000), `A got only ${passed} requests through in ${span} ms`);
    assert.deepEqual([...families].sort(), ["extend", "generic", "native", "retab"], "429s on every route family");
    assert.equal(b429, 0, "key B was limited");
    assert.equal(c429, 0, "key C was limited by A's traffic");
  });
});
