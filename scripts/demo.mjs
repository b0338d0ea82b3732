// The demo for `make dev`: makes sure a demo organisation and its keys exist, seeds runs of every
// kind, and (unless --seed-only) plays a simulated executor that moves them through their states
// with the real executor API: claims, heartbeats, children progress, human review, completion,
// failure, and answers cancels (most by acknowledging, some never, so their deadline forces them).
//
// A development feature only: nothing starts it but `make dev` (DEMO=0 turns it off there).
//
//   node scripts/demo.mjs --url http://127.0.0.1:8787 --state .wrangler/demo.json [--seed-only]
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as delay } from "node:timers/promises";

const { values: opts } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:8787" },
    state: { type: "string", default: ".wrangler/demo.json" },
    "admin-token": { type: "string", default: process.env.ADMIN_TOKEN ?? "" },
    "seed-only": { type: "boolean", default: false },
    "tick-ms": { type: "string", default: "1500" },
  },
});
const BASE = opts.url.replace(/\/$/, "");
const TICK_MS = Number(opts["tick-ms"]);
const MAX_LIVE = 40;

/** @param {string} path @param {{method?: string, key?: string, body?: unknown}} [o] */
async function api(path, o = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: {
      ...(o.key ? { authorization: `Bearer ${o.key}` } : {}),
      ...(o.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The demo organisation: reused while its key still works, created otherwise. */
async function ensureOrg() {
  try {
    const saved = JSON.parse(await readFile(opts.state, "utf8"));
    const me = await api("/api/me", { key: saved.userKey });
    if (me.status === 200) return { ...saved, fresh: false };
  } catch {
    /* no saved demo yet */
  }
  if (!opts["admin-token"]) throw new Error("demo: ADMIN_TOKEN is needed to create the demo organisation");
  const made = await api("/api/admin/orgs", { key: opts["admin-token"], body: { name: "Demo organisation" } });
  if (made.status !== 201) throw new Error(`demo: creating the organisation answered ${made.status}: ${JSON.stringify(made.body)}`);
  /** @type {{role: string, key: string}[]} */
  const keys = made.body.keys;
  const saved = {
    orgId: made.body.org.org_id,
    userKey: keys.find((k) => k.role === "user")?.key,
    executorKey: keys.find((k) => k.role === "executor")?.key,
  };
  await mkdir(dirname(opts.state), { recursive: true });
  await writeFile(opts.state, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return { ...saved, fresh: true };
}

const pick = (/** @type {any[]} */ xs) => xs[Math.floor(Math.random() * xs.length)];
const chance = (/** @type {number} */ p) => Math.random() < p;

const WORKFLOWS = [
  { kind: "workflow", name: "Invoice Processing", workflow: { id: "wf_invoices", version_id: "ver_7", name: "Invoice Processing" } },
  { kind: "workflow", name: "Contract Review", workflow: { id: "wf_contracts", version_id: "ver_3", name: "Contract Review" } },
  { kind: "workflow_test", name: "Invoice extraction tests", workflow: { id: "wf_invoices", version_id: "ver_7" } },
  { kind: "experiment", name: "Consensus n=5 on receipts", workflow: { id: "wf_receipts", version_id: "ver_2" } },
  { kind: "extend_workflow", name: "Bank statement parsing", workflow: { id: "workflow_bank", version_id: "12", name: "Bank statements" } },
  { kind: "generic", name: "Nightly reconciliation", workflow: { id: "wf_recon", version_id: "42" } },
];

/**
 * @param {string} userKey @param {"pending"|"queued"|"running"} initial
 * @param {typeof WORKFLOWS[number]} [w]
 */
async function createRun(userKey, initial = "queued", w = pick(WORKFLOWS)) {
  const steps = w.kind === "experiment" ? 60 : w.kind === "workflow_test" ? 24 : 6;
  const res = await api("/api/runs", {
    key: userKey,
    body: {
      kind: w.kind,
      name: w.name,
      workflow: w.workflow,
      trigger: { type: pick(["api", "manual", "schedule"]) },
      metadata: { customer: pick(["acme", "globex", "initech"]), demo: "true" },
      batch_id: `batch_${pick(["north", "south"])}`,
      tags: [pick(["priority", "backfill", "nightly"])],
      initial,
      default_grace_ms: pick([8000, 15000, 30000]),
      children: Array.from({ length: steps }, (_, i) => ({ id: `step_${i + 1}`, name: `Step ${i + 1}` })),
    },
  });
  if (res.status !== 201) throw new Error(`demo: create answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.run.id;
}

/**
 * One run of every kind, in the states a new user should see at once: leased with a grace
 * period, waiting on human review, running without a claim, pending, completed, cancelled.
 * @param {string} userKey @param {string} execKey
 */
async function seed(userKey, execKey) {
  const [invoices, contracts, tests, experiment, extend, generic] = WORKFLOWS;
  const claimRun = async (/** @type {string} */ id) =>
    (await api(`/api/runs/${id}/claim`, { key: execKey, body: { executor: "demo-executor", lease_ms: 20000 } })).body.lease.id;
  await claimRun(await createRun(userKey, "queued", invoices));
  const review = await createRun(userKey, "queued", contracts);
  await api(`/api/runs/${review}/wait`, { key: execKey, body: { lease_id: await claimRun(review), reason: "human_review" } });
  await createRun(userKey, "queued", tests);
  await createRun(userKey, "running", experiment);
  await createRun(userKey, "pending", extend);
  await claimRun(await createRun(userKey, "queued", generic));
  const done = await createRun(userKey, "queued", invoices);
  await api(`/api/runs/${done}/complete`, { key: execKey, body: { lease_id: await claimRun(done), output: { pages: 3 } } });
  const stopped = await createRun(userKey, "queued", generic);
  await api(`/api/runs/${stopped}/cancel`, { key: userKey, body: { reason: "Started on the wrong batch" } });
}

/**
 * What the simulated executor knows about each run it drives.
 * @typedef {{ id: string, lease?: string, nextStep: number, steps: number, mood: "ack"|"slow"|"ignore" }} Sim
 */

async function main() {
  const org = await ensureOrg();
  const userKey = org.userKey;
  const execKey = org.executorKey;
  if (org.fresh) await seed(userKey, execKey);
  console.log(`demo: organisation ${org.orgId}`);
  console.log(`demo: user key ${userKey}`);
  console.log(`demo: sign in at ${BASE}/#key=${encodeURIComponent(userKey)}`);
  if (opts["seed-only"]) return;

  /** @type {Map<string, Sim>} */
  const sims = new Map();
  let stopping = false;
  process.on("SIGINT", () => (stopping = true));
  process.on("SIGTERM", () => (stopping = true));

  const exec = (/** @type {string} */ id, /** @type {string} */ action, /** @type {unknown} */ body) =>
    api(`/api/runs/${id}/${action}`, { key: execKey, body });

  while (!stopping) {
    const list = await api("/api/runs?limit=200&status=pending,queued,running,waiting,cancelling", { key: userKey });
    /** @type {{id: string, status: string, wait_reason?: string, children?: {total: number}}[]} */
    const live = list.status === 200 ? list.body.data : [];
    if (live.length < MAX_LIVE && chance(0.5)) await createRun(userKey, pick(["queued", "queued", "pending"]));
    for (const run of live) {
      if (stopping) break;
      let sim = sims.get(run.id);
      if (!sim) {
        sim = { id: run.id, nextStep: 1, steps: run.children?.total ?? 0, mood: pick(["ack", "ack", "slow", "ignore"]) };
        sims.set(run.id, sim);
      }
      await step(sim, run, exec);
    }
    await delay(TICK_MS); // the simulated executor's pace, not a wait in a test
  }
}

/**
 * One move of the simulated executor on one run.
 * @param {Sim} sim
 * @param {{id: string, status: string, wait_reason?: string}} run
 * @param {(id: string, action: string, body: unknown) => Promise<{status: number, body: any}>} exec
 */
async function step(sim, run, exec) {
  switch (run.status) {
    case "pending":
      if (chance(0.3)) await exec(run.id, "enqueue", {});
      return;
    case "queued": {
      if (!chance(0.4)) return;
      const r = await exec(run.id, "claim", { executor: "demo-executor", lease_ms: 20000 });
      if (r.status === 200) sim.lease = r.body.lease?.id;
      return;
    }
    case "waiting":
      // A reviewer (here: the simulator) eventually approves and the executor resumes.
      if (run.wait_reason !== "human_review" || chance(0.15)) {
        const r = await exec(run.id, "resume", { executor: "demo-executor", lease_ms: 20000 });
        if (r.status === 200) sim.lease = r.body.lease?.id;
      }
      return;
    case "cancelling": {
      if (!sim.lease) return;
      if (sim.mood === "ignore") return; // this executor never answers: the deadline forces it
      if (sim.mood === "slow" && !chance(0.2)) return;
      await exec(run.id, "ack-cancel", { lease_id: sim.lease });
      return;
    }
    case "running": {
      if (!sim.lease) {
        // Running without a claim (created as running): an executor picks it up later.
        return;
      }
      const hb = await exec(run.id, "heartbeat", { lease_id: sim.lease, lease_ms: 20000 });
      if (hb.status !== 200) {
        sim.lease = undefined;
        return;
      }
      if (hb.body.reply?.cancel_requested) return;
      if (sim.nextStep <= sim.steps) {
        const child = `step_${sim.nextStep}`;
        const started = await exec(run.id, `children/${child}`, { to: "running", lease_id: sim.lease });
        if (started.status === 200) {
          await exec(run.id, `children/${child}`, { to: chance(0.95) ? "completed" : "failed", lease_id: sim.lease });
        }
        sim.nextStep += 1;
        return;
      }
      if (chance(0.15)) {
        await exec(run.id, "wait", { lease_id: sim.lease, reason: "human_review" });
        sim.lease = undefined;
      } else if (chance(0.85)) {
        await exec(run.id, "complete", { lease_id: sim.lease, output: { pages: 3 } });
      } else {
        await exec(run.id, "fail", { lease_id: sim.lease, message: "Upstream OCR timed out", code: "ocr_timeout" });
      }
      return;
    }
    default:
      return;
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
