// T11: WebSocket watch. Runs, each watched by several sockets (some with a key header, some with a
// browser's ticket), are driven along random paths of the protocol; half-way the server's whole
// process group is killed (kill -9) and restarted, which drops every socket and every object. The
// watchers reconnect with the last seq they hold (`after_seq`). After dedupe by seq, each watcher
// must hold exactly the run's event log: nothing missing, nothing different under one seq, nothing
// out of order (a seq arriving before the one it follows), and the terminal event must reach every
// watcher within 2 s of the commit. Upgrades with a wrong or missing key or ticket get 401 before
// any 101; a foreign Origin gets 403. CI: 20 runs × 3 watchers; long: 100 × 5.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { claim, createRun, upgradeStatus } from "../lib/api.mjs";
import { record } from "./lib/figures.mjs";
import { TERMINAL_EVENTS, pool, readEvents, size, startReliabilityServer } from "./lib/harness.mjs";

const RUNS = size(20, 100);
const WATCHERS = size(3, 5);
const TERMINAL_WITHIN_MS = 2_000;

/** @type {import("./lib/harness.mjs").Ctx} */
let ctx;
/** @type {import("./lib/harness.mjs").Org} */
let org;

before(async () => {
  ctx = await startReliabilityServer();
  org = await ctx.newOrg("T11");
});
after(async () => {
  await ctx?.server.stop();
});

/**
 * A watcher as a client would write one: it keeps the events it has by seq, and whenever its
 * socket drops it reconnects with `after_seq` = the last seq it holds.
 * @param {string} runId @param {boolean} useTicket
 */
function watcher(runId, useTicket) {
  /** @type {Map<number, string>} seq → the event record as received (JSON) */
  const bySeq = new Map();
  const w = {
    runId,
    bySeq,
    last: 0,
    duplicates: 0,
    /** @type {string[]} */
    problems: [],
    reconnects: 0,
    /** performance.now() when each seq first arrived */
    /** @type {Map<number, number>} */
    arrivedAt: new Map(),
    /** when the socket was last (re)opened */
    openedAt: 0,
    closed: false,
    /** @type {WebSocket | undefined} */
    ws: undefined,
    /** Resolves once the socket is open (again). @type {Promise<void>} */
    ready: Promise.resolve(),
  };
  /** @param {{seq: number}} r */
  const accept = (r) => {
    const text = JSON.stringify(r);
    const known = bySeq.get(r.seq);
    if (known !== undefined) {
      w.duplicates++;
      if (known !== text) w.problems.push(`seq ${r.seq} arrived twice, differently`);
      return;
    }
    if (r.seq !== w.last + 1) w.problems.push(`seq ${r.seq} arrived after ${w.last}`);
    bySeq.set(r.seq, text);
    w.arrivedAt.set(r.seq, performance.now());
    w.last = Math.max(w.last, r.seq);
  };
  /** @param {any} m */
  const onMessage = (m) => {
    if (m.type === "event") accept(m.record);
    else if (m.type === "update") for (const r of m.events) accept(r);
    else if (m.type === "snapshot") {
      if (m.seq < w.last) w.problems.push(`snapshot at seq ${m.seq} after seq ${w.last}`);
    } else if (m.type === "resync") w.problems.push(`resync at ${m.seq}`);
    else w.problems.push(`unexpected message ${m.type}`);
  };
  const connect = async () => {
    /** @type {Record<string, string>} */
    const headers = {};
    let query = `after_seq=${w.last}`;
    if (useTicket) {
      const t = await ctx.call("/api/tickets", { key: org.user, method: "POST" });
      if (t.status !== 201) throw new Error(`ticket: ${t.status}`);
      query += `&ticket=${encodeURIComponent(t.body.ticket)}`;
    } else {
      headers.authorization = `Bearer ${org.user}`;
    }
    const ws = new WebSocket(`${ctx.ws}/api/runs/${runId}/watch?${query}`, { headers });
    ws.on("message", (d) => onMessage(JSON.parse(String(d))));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once("error", reject);
    });
    ws.on("error", () => {});
    ws.once("close", () => {
      if (!w.closed) w.ready = reconnect();
    });
    w.ws = ws;
    w.openedAt = performance.now();
  };
  const reconnect = async () => {
    w.reconnects++;
    const until = Date.now() + 60_000;
    for (;;) {
      if (w.closed) return;
      try {
        await connect();
        return;
      } catch (err) {
        // The server is down or still starting: try again shortly (a poll, not a wait for time).
        if (Date.now() > until) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  w.ready = connect();
  return Object.assign(w, {
    close() {
      w.closed = true;
      w.ws?.close();
    },
  });
}

/** @typedef {ReturnType<typeof watcher>} Watcher */

/**
 * @param {string} id @param {string} action @param {unknown} body @param {string} [key]
 */
async function act(id, action, body, key = org.executor) {
  const res = await ctx.call(`/api/runs/${id}/${action}`, { key, body });
  assert.equal(res.status, 200, `${action} ${id}: ${res.text}`);
  return res.body;
}

/** The first half of a run's random path: the executor claims it and works. @param {string} id */
async function firstHalf(id) {
  const lease = await claim(ctx.url, org, id, 3_600_000);
  await act(id, "heartbeat", { lease_id: lease, lease_ms: 3_600_000 });
  if (Math.random() < 0.5) {
    await act(id, "wait", { lease_id: lease, reason: "sleep" });
    const resumed = await act(id, "resume", { executor: "t11-exec", lease_ms: 3_600_000 });
    return /** @type {string} */ (resumed.lease?.id ?? resumed.reply?.lease?.id ?? (await leaseOf(id)));
  }
  return lease;
}

/** The run's current lease id, from its state. @param {string} id */
async function leaseOf(id) {
  const res = await ctx.call(`/api/runs/${id}`, { key: org.user });
  return res.body.run.state.status.lease.id;
}

/**
 * The second half: it ends one of five ways. Returns when the terminal transition's reply arrived.
 * @param {string} id @param {string} lease
 */
async function secondHalf(id, lease) {
  await act(id, "heartbeat", { lease_id: lease, lease_ms: 3_600_000 });
  const path = Math.floor(Math.random() * 5);
  if (path === 0) await act(id, "complete", { lease_id: lease, output: { pages: 3 } });
  else if (path === 1) await act(id, "fail", { lease_id: lease, message: "OCR failed", code: "OCR" });
  else if (path === 2) await act(id, "cancel", { command_id: `t11-${id}`, grace_ms: 0 }, org.user);
  else {
    await act(id, "cancel", { command_id: `t11-${id}`, grace_ms: 60_000 }, org.user);
    await act(id, "heartbeat", { lease_id: lease, lease_ms: 3_600_000 });
    if (path === 3) await act(id, "ack-cancel", { lease_id: lease });
    else await act(id, "complete", { lease_id: lease });
  }
  return performance.now();
}

describe(`T11: WebSocket watch, ${RUNS} runs × ${WATCHERS} watchers, kill -9 half-way`, () => {
  /** @type {import("./lib/figures.mjs").FigureRow[]} */
  const rows = [];
  after(async () => {
    rows.push({ figure: "responses with status ≥ 500", target: "0", value: ctx.serverErrors.length, pass: ctx.serverErrors.length === 0 });
    await record("T11", "WebSocket watch across a kill -9", rows);
  });

  it("after dedupe by seq every watcher holds exactly the run's log, terminal event within 2 s", async () => {
    const runs = await pool(RUNS, 8, async (i) => (await createRun(ctx.url, org, { name: `T11 ${i}` })).id);
    /** @type {Watcher[][]} */
    const watchers = runs.map((id) => Array.from({ length: WATCHERS }, (_, k) => watcher(id, k % 2 === 1)));
    await Promise.all(watchers.flat().map((w) => w.ready));
    const leases = await pool(RUNS, 8, (i) => firstHalf(runs[i]));

    // Half-way: every object and every socket goes down with the server.
    await ctx.server.kill9();
    await ctx.server.restart();
    const restartedAt = performance.now();
    await Promise.all(watchers.flat().map((w) => w.ready));
    const ended = await pool(RUNS, 8, (i) => secondHalf(runs[i], leases[i]));

    // Each watcher: its log must come to equal the run's; the terminal event within 2 s.
    const logs = await pool(RUNS, 8, (i) => readEvents(ctx, org, runs[i]));
    /** @type {string[]} */
    const problems = [];
    let missing = 0;
    let differing = 0;
    let outOfOrder = 0;
    let terminalDelivered = 0;
    /** @type {number[]} */
    const delays = [];
    for (let i = 0; i < RUNS; i++) {
      const log = logs[i];
      const terminal = log.find((e) => TERMINAL_EVENTS.has(e.event.type));
      if (!terminal) problems.push(`${runs[i]}: no terminal event in ${log.map((e) => e.event.type).join(" ")}`);
      for (const w of watchers[i]) {
        // The terminal event may still be on its way: wait for it (a condition, up to the limit).
        const until = ended[i] + TERMINAL_WITHIN_MS + 5_000;
        while (terminal && !w.bySeq.has(terminal.seq) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
        if (terminal && w.bySeq.has(terminal.seq)) {
          terminalDelivered++;
          // From the commit (its reply came back) or, if later, the watcher's reconnection.
          delays.push(/** @type {number} */ (w.arrivedAt.get(terminal.seq)) - Math.max(ended[i], w.openedAt));
        }
        const lost = log.filter((e) => !w.bySeq.has(e.seq));
        missing += lost.length;
        if (lost.length) problems.push(`${runs[i]}: a watcher misses seq ${lost.map((e) => e.seq).join(", ")}`);
        const diff = log.filter((e) => w.bySeq.has(e.seq) && w.bySeq.get(e.seq) !== JSON.stringify(e));
        differing += diff.length;
        if (diff.length) problems.push(`${runs[i]}: seq ${diff[0].seq} differs: ${w.bySeq.get(diff[0].seq)} vs ${JSON.stringify(diff[0])}`);
        const extra = [...w.bySeq.keys()].filter((s) => !log.some((e) => e.seq === s));
        if (extra.length) problems.push(`${runs[i]}: a watcher holds seqs not in the log: ${extra.join(", ")}`);
        outOfOrder += w.problems.filter((p) => /arrived after|snapshot at/.test(p)).length;
        problems.push(...w.problems.map((p) => `${runs[i]}: ${p}`));
      }
    }
    for (const w of watchers.flat()) w.close();
    const all = watchers.flat();
    // Negative: the event reached the watcher before the HTTP reply reached the client (broadcasts
    // leave with the commit).
    const maxDelay = Math.round(Math.max(...delays));
    const reconnected = all.filter((w) => w.reconnects > 0).length;
    const transitions = logs.reduce((a, l) => a + l.length, 0) * WATCHERS;
    rows.push(
      { figure: "runs × watchers", target: `${RUNS} × ${WATCHERS}`, value: `${RUNS} × ${WATCHERS}`, pass: true },
      { figure: "watchers that reconnected after the kill -9 (with their last seq)", target: `${all.length}`, value: reconnected, pass: reconnected === all.length },
      { figure: "transitions missing after dedupe (of transitions × watchers)", target: "0", value: `${missing} (of ${transitions})`, pass: missing === 0 },
      { figure: "seqs received twice with different content", target: "0", value: differing, pass: differing === 0 },
      { figure: "out-of-order deliveries (gap, or an older snapshot)", target: "0", value: outOfOrder, pass: outOfOrder === 0 },
      { figure: "duplicate deliveries removed by the seq dedupe", target: "info", value: all.reduce((a, w) => a + w.duplicates, 0), pass: true },
      { figure: "watchers that got the terminal event", target: "100 %", value: `${terminalDelivered} of ${all.length}`, pass: terminalDelivered === all.length },
      {
        figure: "terminal event after its commit's reply (max over watchers; < 0: before the reply)",
        target: `≤ ${TERMINAL_WITHIN_MS} ms`,
        value: `${maxDelay} ms`,
        pass: maxDelay <= TERMINAL_WITHIN_MS,
      },
      { figure: "server restart to every watcher reconnected", target: "info", value: `${Math.round(Math.max(...all.map((w) => w.openedAt)) - restartedAt)} ms`, pass: true },
    );
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
    assert.equal(terminalDelivered, all.length);
    assert.ok(maxDelay <= TERMINAL_WITHIN_MS, `terminal event ${maxDelay} ms after its commit`);
    assert.equal(reconnected, all.length);
  });

  it("refuses a wrong or missing key or ticket with 401 before any 101, a foreign Origin with 403", async () => {
    const run = await createRun(ctx.url, org);
    const url = `${ctx.ws}/api/runs/${run.id}/watch`;
    const ticket = (await ctx.call("/api/tickets", { key: org.user, method: "POST" })).body.ticket;
    const [payload, sig] = String(ticket).split(".");
    const cases = [
      ["no key, no ticket", url, {}, 401],
      ["wrong key", url, { authorization: `Bearer rbk_${org.orgId}.${"A".repeat(43)}` }, 401],
      ["malformed key", url, { authorization: "Bearer nope" }, 401],
      ["forged ticket", `${url}?ticket=forged.ticket`, {}, 401],
      ["ticket with a changed signature", `${url}?ticket=${encodeURIComponent(`${payload}.${sig.slice(0, -2)}AA`)}`, {}, 401],
      ["empty ticket", `${url}?ticket=`, {}, 401],
      ["key in the query string", `${url}?api_key=${encodeURIComponent(org.user)}`, {}, 401],
      ["foreign Origin with a valid key", url, { authorization: `Bearer ${org.user}`, origin: "https://evil.example" }, 403],
      ["foreign Origin with a valid ticket", `${url}?ticket=${encodeURIComponent(ticket)}`, { origin: "https://evil.example" }, 403],
      ["valid key (control)", url, { authorization: `Bearer ${org.user}` }, 0],
      ["valid ticket from the service's own origin (control)", `${url}?ticket=${encodeURIComponent(ticket)}`, { origin: ctx.url }, 0],
    ];
    /** @type {string[]} */
    const wrong = [];
    for (const [name, u, headers, want] of cases) {
      const got = await upgradeStatus(/** @type {string} */ (u), /** @type {Record<string, string>} */ (headers));
      if (got !== want) wrong.push(`${name}: ${got}, want ${want}`);
    }
    rows.push({ figure: "upgrade refusals as specified (401 / 403 before 101; controls open)", target: "100 %", value: `${cases.length - wrong.length} of ${cases.length}`, pass: wrong.length === 0 });
    assert.deepEqual(wrong, []);
  });

  it("answered no request with a status ≥ 500", () => {
    assert.deepEqual(ctx.serverErrors.slice(0, 5), []);
  });
});
