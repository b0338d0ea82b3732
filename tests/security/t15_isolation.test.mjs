// T15 (RELIABILITY.md): the tenant isolation matrix. Organisation A, holding its own valid keys,
// aims every run endpoint, every contract route, the WebSockets, receipts, bulk jobs and list
// filters at organisation B's ids (B's runs in every state) and B's command ids; each answer must be
// byte-identical to the answer for an id that exists nowhere (no existence oracle), carry none of
// B's data, and change none of B's runs. Then A lists a mixed population and guesses run ids.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { upgradeStatus } from "../lib/api.mjs";
import { TIER, call, createRun, newOrg, pool, record, runIn, send, snapshot, startServer, STATES } from "./lib.mjs";

const LIST_RUNS = TIER === "long" ? 1_000 : 300; // CI: 300 mixed runs (time), N tier: the plan's 1,000
const GUESSES = TIER === "long" ? 10_000 : 2_000; // CI: 2,000 guesses (each one addresses a fresh object), N: 10,000
/** Requests with made-up keys of made-up organisations, and guesses of bulk job ids. */
const OTHER_GUESSES = TIER === "long" ? 2_000 : 300;
const IN_FLIGHT = 64;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let s;
/** @type {import("./lib.mjs").Org} */
let A;
/** @type {import("./lib.mjs").Org} */
let B;
/** B's runs: one per state (kind workflow, with children), one queued run per other contract. */
/** @type {{id: string, state: string, leaseId?: string, commandId?: string, kind: string}[]} */
let bRuns = [];
/** Everything of B's that must never appear in an answer to A. */
/** @type {string[]} */
let bSecrets = [];
let bJob = "";
let bDryRun = "";
/** @type {string[]} */
const serverErrors = [];

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** A well-formed id with this prefix that no one has minted (22 random base62, as the Worker mints). */
const unknownId = (/** @type {string} */ prefix) => prefix + Array.from(randomBytes(22), (b) => B62[b % 62]).join("");
const PREFIX = { workflow: "run_", workflow_test: "wftestrun_", experiment: "exprun_", extend_workflow: "workflow_run_", generic: "grun_" };

/** Files and bytes under a folder (the test server's storage). @param {string} dir */
async function storage(dir) {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return { files, bytes };
}

/** The objects' databases under a folder. @param {string} dir */
async function databases(dir) {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith(".sqlite"))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * The tables runbrake wrote into a database: everything but the runtime's own (workerd's `_cf_*`,
 * miniflare's `__miniflare_*`, SQLite's). The runtime opens a file for every object addressed, so
 * files alone prove nothing; tables do.
 * @param {string} file
 */
function ownTables(file) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => String(r.name))
      .filter((n) => !n.startsWith("_cf_") && !n.startsWith("__miniflare_") && !n.startsWith("sqlite_"));
  } finally {
    db.close();
  }
}

/** Per-request ids in the contract envelopes differ by design; everything else must not. */
const normalise = (/** @type {string} */ text) => text.replace(/"requestId":"req_[A-Za-z0-9]+"/g, '"requestId":"req_…"');

/** @param {string} path @param {{method?: string, key?: string, body?: unknown, headers?: Record<string, string>}} [o] */
async function req(path, o = {}) {
  const res = await call(s.url, path, o);
  if (res.status >= 500) serverErrors.push(`${o.method ?? (o.body === undefined ? "GET" : "POST")} ${path} → ${res.status} ${res.text.slice(0, 200)}`);
  return res;
}

before(async () => {
  s = await startServer();
  [A, B] = await Promise.all([newOrg(s.url, s.admin, "org A"), newOrg(s.url, s.admin, "org B")]);
  const marks = { name: "B secret run name", batch_id: "b_secret_batch", tags: ["b-secret-tag"], metadata: { b_secret: "b-secret-metadata" } };
  const withChildren = { ...marks, children: [{ id: "c1", name: "B secret child" }, { id: "c2" }] };
  const states = await Promise.all(STATES.map((st) => runIn(s.url, B, st, withChildren)));
  const others = await Promise.all(
    /** @type {const} */ (["workflow_test", "experiment", "extend_workflow", "generic"]).map(async (kind) => ({
      ...(await runIn(s.url, B, "queued", { ...marks, kind })),
      kind,
    })),
  );
  bRuns = [...states.map((r) => ({ ...r, kind: "workflow" })), ...others];
  // One of B's bulk cancel jobs (its dry run and job ids are B's too).
  const dry = await call(s.url, "/api/bulk-cancels/dry-run", { key: B.user, body: { selection: { ids: [bRuns[1].id] }, reason: "b secret bulk" } });
  assert.equal(dry.status, 201, dry.text);
  bDryRun = dry.body.dry_run_id;
  const job = await call(s.url, "/api/bulk-cancels", { key: B.user, body: { dry_run_id: bDryRun } });
  assert.ok(job.status === 201 || job.status === 200, job.text);
  bJob = job.body.job?.id ?? job.body.id ?? job.body.job_id;
  assert.ok(bJob, `no job id in ${job.text}`);
  bSecrets = [
    B.orgId,
    ...bRuns.flatMap((r) => [r.id, r.leaseId, r.commandId]).filter((x) => typeof x === "string"),
    "B secret run name",
    "b_secret_batch",
    "b-secret-tag",
    "b-secret-metadata",
    "B secret child",
    "secret reason of this org",
    "failure of this org",
    bJob,
    bDryRun,
  ].filter(Boolean);
});
after(async () => {
  await s?.server.stop();
});

/**
 * Asserts A's answer about B's id is the unknown-id answer, byte for byte, and shows none of B's data.
 * @param {string} what @param {{status: number, text: string, headers: Headers}} onB @param {{status: number, text: string, headers: Headers}} onUnknown
 * @param {{attempted: number, denied: number, identical: number}} tally
 */
function sameAsUnknown(what, onB, onUnknown, tally) {
  tally.attempted++;
  assert.equal(onB.status, 404, `${what}: A got ${onB.status} for B's id: ${onB.text.slice(0, 300)}`);
  tally.denied++;
  assert.equal(onUnknown.status, 404, `${what}: unknown id → ${onUnknown.status}`);
  assert.equal(onB.headers.get("content-type"), onUnknown.headers.get("content-type"), `${what}: content-type differs`);
  assert.equal(normalise(onB.text), normalise(onUnknown.text), `${what}: the body differs from an unknown id's`);
  tally.identical++;
  for (const secret of bSecrets) assert.ok(!onB.text.includes(secret), `${what}: the answer shows B's ${secret}`);
}

describe("T15: tenant isolation", () => {
  /** @type {{attempted: number, denied: number, identical: number, calls: number}} */
  const tally = { attempted: 0, denied: 0, identical: 0, calls: 0 };
  let wsProbes = 0;
  let bUnchanged = 0;

  it("A's keys on every endpoint with B's run ids, lease ids and command ids: the same 404 as an unknown id, B unchanged", async () => {
    const before = await Promise.all(bRuns.map((r) => snapshot(s.url, B.user, r.id)));
    /** @type {(() => Promise<void>)[]} */
    const jobs = [];
    /** A's request `ask(id)` on B's id and on an unknown id of the same shape. */
    const probe = (/** @type {string} */ what, /** @type {string} */ bid, /** @type {string} */ uid, /** @type {(id: string) => Promise<any>} */ ask) => {
      jobs.push(async () => {
        const [onB, onUnknown] = await Promise.all([ask(bid), ask(uid)]);
        tally.calls += 2;
        sameAsUnknown(what, onB, onUnknown, tally);
      });
    };
    for (const r of bRuns) {
      const bid = r.id;
      const uid = unknownId(PREFIX[/** @type {keyof typeof PREFIX} */ (r.kind)]);
      const lease = r.leaseId ?? "lease_AAAAAAAAAAAAAAAAAAAAAA";
      const cmd = r.commandId ?? `cmd-${bid}`;
      const on = (/** @type {string} */ what, /** @type {(id: string) => Promise<any>} */ ask) => probe(`${r.kind}/${r.state} ${what}`, bid, uid, ask);
      // The native API, user key.
      on("GET run", (id) => req(`/api/runs/${id}`, { key: A.user }));
      on("GET events", (id) => req(`/api/runs/${id}/events`, { key: A.user }));
      on("GET children", (id) => req(`/api/runs/${id}/children`, { key: A.user }));
      on("GET tree", (id) => req(`/api/runs/${id}/tree`, { key: A.user }));
      on("cancel, fresh command id", (id) => req(`/api/runs/${id}/cancel`, { key: A.user, body: { command_id: `a-${id}`, grace_ms: 0 } }));
      on("cancel replaying B's command id", (id) => req(`/api/runs/${id}/cancel`, { key: A.user, body: { command_id: cmd, reason: "secret reason of this org" } }));
      on("cancel receipt of B's command id", (id) => req(`/api/runs/${id}/cancellations/${cmd}`, { key: A.user }));
      on("reject", (id) => req(`/api/runs/${id}/reject`, { key: A.user, body: { note: "a" } }));
      // The executor protocol, A's executor key, B's lease ids.
      on("enqueue", (id) => req(`/api/runs/${id}/enqueue`, { key: A.executor, body: {} }));
      on("claim", (id) => req(`/api/runs/${id}/claim`, { key: A.executor, body: { executor: "a-exec" } }));
      on("heartbeat with B's lease", (id) => req(`/api/runs/${id}/heartbeat`, { key: A.executor, body: { lease_id: lease } }));
      on("wait", (id) => req(`/api/runs/${id}/wait`, { key: A.executor, body: { lease_id: lease, reason: "human_review" } }));
      on("resume", (id) => req(`/api/runs/${id}/resume`, { key: A.executor, body: { executor: "a-exec" } }));
      on("complete with B's lease", (id) => req(`/api/runs/${id}/complete`, { key: A.executor, body: { lease_id: lease, output: 1 } }));
      on("fail with B's lease", (id) => req(`/api/runs/${id}/fail`, { key: A.executor, body: { lease_id: lease, message: "x" } }));
      on("ack-cancel with B's lease", (id) => req(`/api/runs/${id}/ack-cancel`, { key: A.executor, body: { lease_id: lease } }));
      on("add children", (id) => req(`/api/runs/${id}/children`, { key: A.executor, body: { items: [{ id: "c9" }] } }));
      on("move a child", (id) => req(`/api/runs/${id}/children/c1`, { key: A.executor, body: { to: "running", lease_id: lease } }));
      // The run's own contract route (runs of other kinds are covered by the contract's own 404).
      const contract = {
        workflow: "/v1/workflows/runs",
        workflow_test: "/v1/workflows/tests/runs",
        experiment: "/v1/workflows/experiments/runs",
        extend_workflow: "/workflow_runs",
        generic: "/v1/runs",
      }[r.kind];
      on(`contract GET ${contract}`, (id) => send(s.url, `${contract}/${id}`, { headers: { authorization: `Bearer ${A.user}` } }));
      on(`contract cancel ${contract}`, (id) =>
        send(s.url, `${contract}/${id}/cancel`, { method: "POST", headers: { authorization: `Bearer ${A.user}`, "content-type": "application/json" }, body: r.kind === "workflow" ? JSON.stringify({ command_id: cmd }) : "" }),
      );
    }
    const failures = (await pool(16, jobs.map((j) => () => j().then(() => null, (/** @type {Error} */ e) => e.message)))).filter(Boolean);
    assert.deepEqual(failures, [], failures.join("\n\n"));
    const afterSnaps = await Promise.all(bRuns.map((r) => snapshot(s.url, B.user, r.id)));
    for (const [i, r] of bRuns.entries()) {
      assert.deepEqual(afterSnaps[i], before[i], `B's ${r.kind}/${r.state} run changed`);
      bUnchanged++;
    }
  });

  it("WebSockets: A's key or A's ticket on B's run is refused before the upgrade, as for an unknown run", async () => {
    const ticket = await call(s.url, "/api/tickets", { key: A.user, body: {} });
    assert.equal(ticket.status, 201, ticket.text);
    const t = encodeURIComponent(ticket.body.ticket);
    for (const r of bRuns.slice(0, 5)) {
      for (const [what, path, headers] of /** @type {[string, (id: string) => string, Record<string, string>][]} */ ([
        ["watch, A's key", (id) => `/api/runs/${id}/watch`, { authorization: `Bearer ${A.user}` }],
        ["watch, A's ticket", (id) => `/api/runs/${id}/watch?ticket=${t}`, {}],
        ["executor stream, A's executor key", (id) => `/api/runs/${id}/executor?lease_id=${r.leaseId ?? "lease_x"}`, { authorization: `Bearer ${A.executor}` }],
      ])) {
        const [onB, onUnknown] = await Promise.all([
          upgradeStatus(`${s.ws}${path(r.id)}`, headers),
          upgradeStatus(`${s.ws}${path(unknownId("run_"))}`, headers),
        ]);
        tally.calls += 2;
        tally.attempted++;
        wsProbes++;
        assert.equal(onB, 404, `${r.state}: ${what}: upgrade answered ${onB}`);
        assert.equal(onUnknown, 404, `${what}: unknown run answered ${onUnknown}`);
        tally.denied++;
      }
    }
  });

  it("bulk jobs, dry runs, parents and sub-runs of B are unknown to A", async () => {
    const unknownJob = unknownId("bulk_");
    for (const [what, path, method] of /** @type {[string, (id: string) => string, string][]} */ ([
      ["bulk job", (id) => `/api/bulk-cancels/${id}`, "GET"],
      ["bulk items", (id) => `/api/bulk-cancels/${id}/items`, "GET"],
      ["bulk abort", (id) => `/api/bulk-cancels/${id}/abort`, "POST"],
    ])) {
      const onB = await req(path(bJob), { key: A.user, method, ...(method === "POST" ? { body: {} } : {}) });
      const onUnknown = await req(path(unknownJob), { key: A.user, method, ...(method === "POST" ? { body: {} } : {}) });
      tally.calls += 2;
      sameAsUnknown(what, onB, onUnknown, tally);
    }
    const list = await req("/api/bulk-cancels", { key: A.user });
    assert.equal(list.status, 200, list.text);
    for (const secret of bSecrets) assert.ok(!list.text.includes(secret), `A's job list shows B's ${secret}`);
    // Starting a job from B's dry run: the same answer as an unknown dry run id.
    const start = await req("/api/bulk-cancels", { key: A.user, body: { dry_run_id: bDryRun } });
    const startUnknown = await req("/api/bulk-cancels", { key: A.user, body: { dry_run_id: unknownId("dry_") } });
    assert.equal(start.status, startUnknown.status, `start from B's dry run: ${start.text}`);
    assert.equal(normalise(start.text), normalise(startUnknown.text));
    assert.ok(start.status >= 400 && start.status < 500, start.text);
    // A dry run naming B's run ids answers as one naming unknown ids (ids are taken as given, and
    // nothing about them is looked up in B), and the job it starts cancels none of B's runs.
    const named = bRuns.map((r) => r.id);
    const unknownNamed = bRuns.map((r) => unknownId(PREFIX[/** @type {keyof typeof PREFIX} */ (r.kind)]));
    const [dry, dryUnknown] = await Promise.all([
      req("/api/bulk-cancels/dry-run", { key: A.user, body: { selection: { ids: named } } }),
      req("/api/bulk-cancels/dry-run", { key: A.user, body: { selection: { ids: unknownNamed } } }),
    ]);
    assert.equal(dry.status, 201, dry.text);
    const masked = (/** @type {string} */ text, /** @type {string[]} */ ids) =>
      ids.reduce((t, id, i) => t.split(id).join(`#${i}`), normalise(text)).replace(/"(dry_run_id|created_at|expires_at)":"[^"]*"/g, '"$1":"…"');
    assert.equal(masked(dry.text, named), masked(dryUnknown.text, unknownNamed), "a dry run over B's ids differs from one over unknown ids");
    for (const secret of bSecrets.filter((x) => !named.includes(x))) assert.ok(!dry.text.includes(secret), `A's dry run shows B's ${secret}`);
    const beforeAll = await Promise.all(bRuns.map((r) => snapshot(s.url, B.user, r.id)));
    const job = await req("/api/bulk-cancels", { key: A.user, body: { dry_run_id: dry.body.dry_run_id } });
    assert.equal(job.status, 201, job.text);
    const jobId = job.body.job.id;
    for (const until = Date.now() + 20_000; ; ) {
      const j = await req(`/api/bulk-cancels/${jobId}`, { key: A.user });
      if (j.body?.job?.status === "completed") break;
      assert.ok(Date.now() < until, `A's bulk job never finished: ${j.text.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 50)); // polling interval for the job, not a wait for time
    }
    const items = await req(`/api/bulk-cancels/${jobId}/items?limit=100`, { key: A.user });
    assert.equal(items.status, 200, items.text);
    for (const secret of bSecrets.filter((x) => !named.includes(x))) assert.ok(!items.text.includes(secret), `A's job items show B's ${secret}`);
    const outcomes = new Set(items.body.data.map((/** @type {{outcome: string}} */ i) => i.outcome));
    assert.deepEqual([...outcomes], ["not_found"], `A's job over B's ids: outcomes ${[...outcomes]}`);
    assert.deepEqual(await Promise.all(bRuns.map((r) => snapshot(s.url, B.user, r.id))), beforeAll, "A's bulk job changed B's runs");
    // A parent of B's as A's run's parent: refused like an unknown parent.
    const parentB = await req("/api/runs", { key: A.user, body: { kind: "workflow", parent_run_id: bRuns[1].id } });
    const parentUnknown = await req("/api/runs", { key: A.user, body: { kind: "workflow", parent_run_id: unknownId("run_") } });
    assert.equal(parentB.status, parentUnknown.status, parentB.text);
    assert.ok(parentB.status >= 400 && parentB.status < 500, parentB.text);
    assert.equal(normalise(parentB.text), normalise(parentUnknown.text));
    // B's run named as A's sub-run beside one of A's own: once the cascade has cancelled A's own
    // sub-run, B's run is still untouched.
    const bQueued = bRuns.find((r) => r.state === "queued");
    assert.ok(bQueued);
    const beforeB = await snapshot(s.url, B.user, bQueued.id);
    const aSub = await createRun(s.url, A, {});
    const parent = await createRun(s.url, A, { sub_runs: [aSub.id, bQueued.id] });
    const cancel = await req(`/api/runs/${parent.id}/cancel`, { key: A.user, body: { command_id: "a-parent", grace_ms: 0 } });
    assert.equal(cancel.status, 200, cancel.text);
    for (const secret of bSecrets.filter((x) => x !== bQueued.id)) assert.ok(!cancel.text.includes(secret), `A's cancel shows B's ${secret}`);
    const until = Date.now() + 15_000;
    for (;;) {
      const sub = await req(`/api/runs/${aSub.id}`, { key: A.user });
      if (sub.body?.run?.status === "cancelled") break;
      assert.ok(Date.now() < until, `the cascade never reached A's own sub-run: ${sub.text.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 50)); // polling interval for the cascade, not a wait for time
    }
    const tree = await req(`/api/runs/${parent.id}/tree`, { key: A.user });
    assert.equal(tree.status, 200, tree.text);
    for (const secret of bSecrets.filter((x) => x !== bQueued.id)) assert.ok(!tree.text.includes(secret), `A's tree shows B's ${secret}`);
    assert.deepEqual(await snapshot(s.url, B.user, bQueued.id), beforeB, "A's cascade touched B's run");
  });

  it(`A lists ${LIST_RUNS} mixed runs of both organisations and sees only its own, with any filter or cursor`, async () => {
    const kinds = ["workflow", "workflow_test", "experiment", "extend_workflow", "generic"];
    const made = await pool(
      32,
      Array.from({ length: LIST_RUNS }, (_, i) => async () => {
        const org = i % 2 ? B : A;
        const mine = org === A;
        const run = await createRun(s.url, org, {
          kind: kinds[i % kinds.length],
          initial: i % 3 ? "queued" : "pending",
          name: mine ? `a run ${i}` : `B secret run name ${i}`,
          batch_id: mine ? "a_batch" : "b_secret_batch",
          tags: [mine ? "a-tag" : "b-secret-tag"],
        });
        return { org: mine ? "A" : "B", id: run.id };
      }),
    );
    const bIds = new Set([...made.filter((m) => m.org === "B").map((m) => m.id), ...bRuns.map((r) => r.id)]);
    const aIds = new Set(made.filter((m) => m.org === "A").map((m) => m.id));
    // Every page of A's list, newest first, 100 at a time.
    /** @type {string[]} */
    const seen = [];
    let cursor = "";
    for (let page = 0; page < 100; page++) {
      const res = await req(`/api/runs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { key: A.user });
      assert.equal(res.status, 200, res.text);
      for (const secret of bSecrets) assert.ok(!res.text.includes(secret), `A's list shows B's ${secret}`);
      seen.push(...res.body.data.map((/** @type {{id: string}} */ r) => r.id));
      cursor = res.body.next_cursor ?? res.body.cursor ?? "";
      if (!cursor) break;
    }
    const bSeen = seen.filter((id) => bIds.has(id)).length;
    assert.equal(bSeen, 0, `A's list shows ${bSeen} of B's runs`);
    for (const id of aIds) assert.ok(seen.includes(id), `A's list misses its own ${id}`);
    // Filters naming B's batch, tag or name find nothing.
    for (const q of ["batch_id=b_secret_batch", "tag=b-secret-tag", `q=${encodeURIComponent("B secret")}`]) {
      const res = await req(`/api/runs?${q}`, { key: A.user });
      assert.equal(res.status, 200, `${q}: ${res.text}`);
      assert.equal(res.body.data.length, 0, `${q}: A sees ${res.body.data.length} runs`);
      for (const secret of bSecrets) assert.ok(!res.text.includes(secret), `${q}: shows B's ${secret}`);
    }
    // B's cursor is no key to B's list for A.
    const bPage = await req("/api/runs?limit=10", { key: B.user });
    const bCursor = bPage.body.next_cursor ?? bPage.body.cursor;
    assert.ok(bCursor, `B's list gave no cursor: ${bPage.text.slice(0, 200)}`);
    const withB = await req(`/api/runs?limit=100&cursor=${encodeURIComponent(bCursor)}`, { key: A.user });
    assert.ok(withB.status === 400 || withB.status === 200, withB.text);
    if (withB.status === 200) assert.equal(withB.body.data.filter((/** @type {{id: string}} */ r) => bIds.has(r.id)).length, 0, "B's cursor showed A B's runs");
    await record("T15-list", "tenant isolation: list", [
      { figure: "runs listed over (both organisations)", target: TIER === "long" ? "1,000" : "300 (CI size; 1,000 with RELIABILITY_TIER=long)", value: LIST_RUNS, pass: true },
      { figure: "B's runs in A's list (all pages, filters, B's cursor)", target: "0", value: bSeen, pass: bSeen === 0 },
      { figure: "A's own runs missing from A's list", target: "0", value: [...aIds].filter((id) => !seen.includes(id)).length, pass: [...aIds].every((id) => seen.includes(id)) },
    ]);
  });

  it(`${GUESSES} random well-formed run ids: 0 hits, every answer the same 404`, async () => {
    const reference = await req(`/api/runs/${unknownId("run_")}`, { key: A.user });
    assert.equal(reference.status, 404);
    let hits = 0;
    let other = 0;
    const disk = await storage(s.server.persistDir);
    const known = new Set(await databases(s.server.persistDir));
    const started = Date.now();
    await pool(
      IN_FLIGHT,
      Array.from({ length: GUESSES }, () => async () => {
        const res = await req(`/api/runs/${unknownId("run_")}`, { key: A.user });
        if (res.status === 200) hits++;
        else if (res.status !== 404 || res.text !== reference.text) other++;
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    // Keys that look right for organisations nobody created, and job ids nobody started: each
    // one addresses an object of its own too.
    const rand = (/** @type {number} */ n) => Array.from(randomBytes(n), (b) => B62[b % 62]).join("");
    let keyAnswers = 0;
    let jobAnswers = 0;
    await pool(
      IN_FLIGHT,
      Array.from({ length: OTHER_GUESSES }, () => async () => {
        const res = await req(`/api/runs/${unknownId("run_")}`, { key: `rbk_org_${rand(22)}.${rand(43)}` });
        if (res.status === 401) keyAnswers++;
        const job = await req(`/api/bulk/jobs/${unknownId("bulk_")}`, { key: A.user });
        if (job.status === 404) jobAnswers++;
      }),
    );
    const diskAfter = await storage(s.server.persistDir);
    const fresh = (await databases(s.server.persistDir)).filter((f) => !known.has(f));
    const written = fresh.filter((f) => ownTables(f).length > 0).length;
    await record("T15", "tenant isolation matrix", [
      { figure: "A's calls on B's ids denied with 404", target: "100 %", value: `${tally.denied} of ${tally.attempted}`, pass: tally.attempted > 0 && tally.denied === tally.attempted },
      { figure: "HTTP answers byte-identical to an unknown id's (WebSocket refusals compared by status)", target: "100 %", value: `${tally.identical} of ${tally.attempted - wsProbes}`, pass: tally.identical === tally.attempted - wsProbes },
      { figure: "B's runs changed by A's calls", target: "0", value: bRuns.length - bUnchanged, pass: bUnchanged === bRuns.length },
      { figure: "B's states covered", target: "every state", value: STATES.join(", "), pass: true },
      { figure: "random run-id guesses", target: TIER === "long" ? "10,000" : "2,000 (CI size; 10,000 with RELIABILITY_TIER=long)", value: GUESSES, pass: true },
      { figure: "guess hits", target: "0", value: hits, pass: hits === 0 },
      { figure: "guess answers other than the unknown-id 404", target: "0", value: other, pass: other === 0 },
      { figure: "guesses per second (64 in flight)", target: "(measured)", value: Math.round(GUESSES / seconds), pass: true },
      { figure: "made-up keys of made-up organisations answered 401", target: `${OTHER_GUESSES}`, value: keyAnswers, pass: keyAnswers === OTHER_GUESSES },
      { figure: "guessed bulk job ids answered 404", target: `${OTHER_GUESSES}`, value: jobAnswers, pass: jobAnswers === OTHER_GUESSES },
      {
        figure: "guessed objects holding any runbrake table (tables come with an object's first write only)",
        target: "0",
        value: `${written} of ${fresh.length} (the runtime's own files: ${diskAfter.files - disk.files}, ${Math.round((diskAfter.bytes - disk.bytes) / 1024)} KiB)`,
        pass: written === 0,
      },
      { figure: "responses ≥ 500", target: "0", value: serverErrors.length, pass: serverErrors.length === 0 },
    ]);
    assert.equal(hits, 0);
    assert.equal(other, 0);
    assert.equal(keyAnswers, OTHER_GUESSES);
    assert.equal(jobAnswers, OTHER_GUESSES);
    assert.ok(fresh.length > 0, "the guesses addressed objects of their own");
    assert.equal(written, 0, "a guess wrote tables into an object");
    assert.deepEqual(serverErrors, []);
  });
});
