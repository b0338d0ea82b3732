// `make bench`, the dashboard part, in Debian's chromium against `wrangler dev`:
//   1. transition → DOM: from the moment an executor's report leaves (and from the server's
//      decision time) to the moment the page's DOM shows the new status, seen by a
//      MutationObserver in the page; on a run's page (run stream) and in the list (org stream);
//   2. first load of the list of an organisation with 10,000 runs (cold and warm cache);
//   3. scrolling the virtual list through thousands of loaded runs: frame times;
//   4. the size of the page's JavaScript, Wasm and CSS, raw and gzipped.
//
//   node bench/dashboard.mjs [--quick]     (needs `make build`: worker/build and web/dist)
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { adminToken, call, claim, createRun, newOrg } from "../tests/lib/api.mjs";
import { launchBrowser } from "../tests/lib/browser.mjs";
import { ROOT, startDevServer } from "../tests/lib/server.mjs";
import { agent, percentile, pool, request } from "./lib/http.mjs";

const { values: opts } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
const N_DETAIL = opts.quick ? 40 : 200;
const N_LIST = opts.quick ? 30 : 100;
const N_RUNS = opts.quick ? 2_000 : 10_000;
const LOADS = opts.quick ? 3 : 5;
const SCROLL_ROWS = opts.quick ? 1_000 : 4_000;
const DIST = join(ROOT, "web", "dist");

const r1 = (/** @type {number} */ x) => Math.round(x * 10) / 10;
/** Wall-clock ms with sub-ms precision, comparable between node and the page (same machine). */
const wallNow = () => performance.timeOrigin + performance.now();

/** Sizes of what the browser downloads to run the page. */
async function sizes() {
  const files = await readdir(join(DIST, "assets"));
  /** @type {Record<string, {raw: number, gzip: number}>} */
  const by = { js: { raw: 0, gzip: 0 }, wasm: { raw: 0, gzip: 0 }, css: { raw: 0, gzip: 0 } };
  /** @type {{file: string, raw: number, gzip: number}[]} */
  const list = [];
  for (const f of files) {
    const ext = f.split(".").pop() ?? "";
    const bucket = by[ext];
    if (!bucket) continue;
    const buf = await readFile(join(DIST, "assets", f));
    const gz = gzipSync(buf, { level: 9 }).length;
    bucket.raw += buf.length;
    bucket.gzip += gz;
    list.push({ file: f, raw: buf.length, gzip: gz });
  }
  const html = await readFile(join(DIST, "index.html"));
  return {
    files: list,
    html: { raw: html.length, gzip: gzipSync(html, { level: 9 }).length },
    js: by.js,
    wasm: by.wasm,
    css: by.css,
    js_wasm_gzip: (by.js?.gzip ?? 0) + (by.wasm?.gzip ?? 0),
  };
}

/**
 * Installs a MutationObserver in the page that timestamps every change of `selector`'s
 * `data-status` (wall clock, same base as node's).
 * @param {import("playwright-core").Page} page @param {string} selector
 */
async function observeStatus(page, selector) {
  await page.evaluate((sel) => {
    const w = /** @type {any} */ (window);
    w.__seen = [];
    const root = document.querySelector(sel);
    if (!root) throw new Error(`no ${sel}`);
    const read = () => {
      const el = /** @type {HTMLElement | null} */ (document.querySelector(sel));
      return el?.dataset["status"] ?? null;
    };
    let last = read();
    new MutationObserver(() => {
      const now = read();
      if (now !== last) {
        last = now;
        w.__seen.push({ status: now, t: performance.timeOrigin + performance.now() });
      }
    }).observe(root.parentElement ?? root, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
  }, selector);
}

/**
 * Alternates a leased run between running and waiting `n` times and measures when the page
 * shows each change.
 * @param {import("playwright-core").Page} page
 * @param {string} base @param {{executor: string}} org @param {string} runId @param {number} n
 */
async function transitions(page, base, org, runId, n) {
  const ag = agent(2);
  const headers = { authorization: `Bearer ${org.executor}`, "content-type": "application/json" };
  let lease = await claim(base, org, runId, 600_000);
  /** @type {number[]} */
  const fromRequest = [];
  /** @type {number[]} */
  const fromDecision = [];
  for (let i = 0; i < n; i++) {
    const toWaiting = i % 2 === 0;
    const seenBefore = await page.evaluate(() => /** @type {any} */ (window).__seen.length);
    const t0 = wallNow();
    const res = await request(ag, `${base}/api/runs/${runId}/${toWaiting ? "wait" : "resume"}`, {
      method: "POST",
      headers,
      body: JSON.stringify(toWaiting ? { lease_id: lease, reason: "sleep" } : { executor: "bench", lease_ms: 600_000 }),
    });
    if (res.status !== 200) throw new Error(`${toWaiting ? "wait" : "resume"}: ${res.status} ${res.body}`);
    const body = JSON.parse(res.body);
    if (!toWaiting) lease = body.lease.id;
    const decidedAt = body.run.state.timing.updated_at;
    const want = toWaiting ? "waiting" : "running";
    const handle = await page.waitForFunction(
      ([k, s]) => /** @type {any} */ (window).__seen.slice(k).find((/** @type {any} */ x) => x.status === s)?.t ?? null,
      /** @type {[number, string]} */ ([seenBefore, want]),
      { timeout: 10_000 },
    );
    const tDom = /** @type {number} */ (await handle.jsonValue());
    fromRequest.push(tDom - t0);
    fromDecision.push(tDom - decidedAt);
  }
  ag.destroy();
  return {
    n,
    request_to_dom_ms: { p50: r1(percentile(fromRequest, 50)), p90: r1(percentile(fromRequest, 90)), p99: r1(percentile(fromRequest, 99)), max: r1(Math.max(...fromRequest)) },
    decision_to_dom_ms: { p50: r1(percentile(fromDecision, 50)), p90: r1(percentile(fromDecision, 90)), p99: r1(percentile(fromDecision, 99)) },
  };
}

/** @param {string} base @param {{user: string}} org @param {number} n */
async function seed(base, org, n) {
  const ag = agent(16);
  const headers = { authorization: `Bearer ${org.user}`, "content-type": "application/json" };
  const kinds = ["workflow", "workflow_test", "experiment", "extend_workflow", "generic"];
  const ms = await pool(n, 16, async (i) => {
    const res = await request(ag, `${base}/api/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        kind: kinds[i % kinds.length],
        name: `Seeded run ${i}`,
        initial: i % 3 === 0 ? "pending" : "queued",
        batch_id: `batch_${i % 20}`,
        tags: [`t${i % 7}`],
      }),
    });
    if (res.status !== 201) throw new Error(`seed: ${res.status} ${res.body}`);
  });
  ag.destroy();
  // The index is fed through the run objects' outboxes: wait until it holds them all.
  for (;;) {
    const list = await call(base, "/api/runs?limit=1", { key: org.user });
    if (list.body?.counts?.total >= n) break;
    await new Promise((r) => setTimeout(r, 200)); // polling a condition, not measuring
  }
  return ms;
}

/**
 * First load of the list: navigation start → rows in the DOM (the page's
 * `runbrake:list-ready` mark) → the next frame painted.
 * @param {import("playwright-core").Browser} browser @param {string} base @param {string} key
 */
async function firstLoads(browser, base, key) {
  /** @type {{ready: number, painted: number}[]} */
  const cold = [];
  /** @type {{ready: number, painted: number}[]} */
  const warm = [];
  let summary = "";
  /** @type {Record<string, number>[]} */
  const coldSteps = [];
  const measure = async (/** @type {import("playwright-core").Page} */ page) => {
    await page.locator('.list-view[data-ready="true"]').waitFor({ timeout: 20_000 });
    return page.evaluate(
      () =>
        new Promise((resolve) => {
          const at = (/** @type {string} */ name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
          /** @type {Record<string, number>} */
          const steps = {};
          const nav = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType("navigation")[0]);
          steps["html_done"] = nav ? nav.responseEnd : NaN;
          for (const e of /** @type {PerformanceResourceTiming[]} */ (performance.getEntriesByType("resource"))) {
            const u = new URL(e.name);
            const key = u.pathname.endsWith(".js") ? "js_done" : u.pathname.endsWith(".css") ? "css_done" : u.pathname.endsWith(".wasm") ? "wasm_done" : u.pathname === "/api/me" ? "api_me_done" : u.pathname === "/api/runs" ? "api_list_done" : null;
            if (key && !(key in steps)) steps[key] = e.responseEnd;
          }
          for (const m of ["signed-in", "core-ready", "list-data", "list-ready"]) steps[m] = at(`runbrake:${m}`);
          requestAnimationFrame(() => setTimeout(() => resolve({ ready: at("runbrake:list-ready"), painted: performance.now(), steps }), 0));
        }),
    );
  };
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/#key=${encodeURIComponent(key)}`);
    const c = /** @type {any} */ (await measure(page));
    cold.push(c);
    coldSteps.push(c.steps);
    summary = (await page.locator("#list-summary").textContent()) ?? "";
    await page.reload();
    warm.push(/** @type {any} */ (await measure(page)));
    await context.close();
  }
  const p50 = (/** @type {{ready: number, painted: number}[]} */ xs, /** @type {"ready" | "painted"} */ k) => r1(percentile(xs.map((x) => x[k]), 50));
  return {
    loads: LOADS,
    summary,
    cold_ready_ms: p50(cold, "ready"),
    cold_painted_ms: p50(cold, "painted"),
    warm_ready_ms: p50(warm, "ready"),
    warm_painted_ms: p50(warm, "painted"),
    cold_all_ms: cold.map((x) => r1(x.ready)),
    // Where the cold load's time goes (p50, ms from navigation start).
    cold_steps_ms: Object.fromEntries(Object.keys(coldSteps[0] ?? {}).map((k) => [k, r1(percentile(coldSteps.map((s) => s[k] ?? NaN).filter(Number.isFinite), 50))])),
  };
}

/**
 * Scrolls the list down through `rows` runs, one step per frame, paging in as it goes, and
 * records each frame's duration and the number of row elements in the DOM.
 * @param {import("playwright-core").Browser} browser @param {string} base @param {string} key
 */
async function scrolling(browser, base, key) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${base}/#key=${encodeURIComponent(key)}`);
  await page.locator('.list-view[data-ready="true"]').waitFor({ timeout: 20_000 });
  const result = await page.evaluate(
    (target) =>
      new Promise((resolve) => {
        const vp = /** @type {HTMLElement} */ (document.querySelector(".viewport"));
        const rowH = parseFloat(getComputedStyle(vp).getPropertyValue("--row-h")) || 56;
        /** @type {number[]} */
        const frames = [];
        let maxRows = 0;
        let last = performance.now();
        const step = () => {
          const now = performance.now();
          frames.push(now - last);
          last = now;
          maxRows = Math.max(maxRows, document.querySelectorAll(".row[data-id]").length);
          const reached = Math.floor((vp.scrollTop + vp.clientHeight) / rowH);
          if (reached >= target || frames.length > 20_000) {
            resolve({ frames, maxRows, reached, loaded: Number((document.querySelector(".spacer")?.getBoundingClientRect().height ?? 0) / rowH) });
            return;
          }
          vp.scrollTop += rowH * 3; // 3 rows per frame: ~10,000 rows a minute
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
    SCROLL_ROWS,
  );
  await context.close();
  const r = /** @type {{frames: number[], maxRows: number, reached: number, loaded: number}} */ (result);
  const frames = r.frames.slice(1);
  return {
    rows_scrolled: r.reached,
    rows_loaded: Math.round(r.loaded),
    frames: frames.length,
    frame_ms: { p50: r1(percentile(frames, 50)), p95: r1(percentile(frames, 95)), p99: r1(percentile(frames, 99)), max: r1(Math.max(...frames)) },
    long_frames_over_50ms: frames.filter((f) => f > 50).length,
    max_row_elements: r.maxRows,
  };
}

async function main() {
  if (!existsSync(join(DIST, "index.html"))) throw new Error("web/dist is missing: run `make build` first");
  const admin = adminToken();
  const [server, browser] = await Promise.all([startDevServer({ vars: { ADMIN_TOKEN: admin } }), launchBrowser()]);
  try {
    const base = server.url;
    const size = await sizes();

    // 1a. A run's page.
    const org = await newOrg(base, admin, "dashboard bench");
    const run = await createRun(base, org, { kind: "workflow", name: "Latency probe" });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/runs/${run.id}#key=${encodeURIComponent(org.user)}`);
    await page.locator("#live").filter({ hasText: /^Live$/ }).waitFor();
    await page.locator("#run-status").waitFor();
    await observeStatus(page, "#run-status");
    const detail = await transitions(page, base, org, run.id, N_DETAIL);

    // 1b. The list (the organisation's stream, fed through the run's outbox and the index).
    const listRun = await createRun(base, org, { kind: "generic", name: "List latency probe" });
    await page.goto(`${base}/`);
    await page.locator(`.row[data-id="${listRun.id}"]`).waitFor();
    await page.locator("#live").filter({ hasText: /^Live$/ }).waitFor();
    await observeStatus(page, `.row[data-id="${listRun.id}"]`);
    const list = await transitions(page, base, org, listRun.id, N_LIST);
    await context.close();

    // 2. First load with 10,000 runs.
    const big = await newOrg(base, admin, "10k runs");
    const seedMs = await seed(base, big, N_RUNS);
    const load = await firstLoads(browser, base, big.user);

    // 3. Scrolling through thousands of them.
    const scroll = await scrolling(browser, base, big.user);

    const results = {
      when: new Date().toISOString(),
      quick: opts.quick,
      stack: "wrangler dev (defaults), Debian chromium headless, 1280x800",
      machine: { cpus: os.cpus().length, loadavg_at_end: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      transition_to_dom: { run_page: detail, list: list },
      first_load_list: { runs_in_org: N_RUNS, seeded_in_ms: Math.round(seedMs), ...load },
      scrolling: scroll,
      size,
    };
    // Quick runs are for trying things out: they never replace the recorded full figures.
    const outDir = join(ROOT, "bench", opts.quick ? "out" : "results");
    const outFile = join(outDir, opts.quick ? "dashboard-quick.json" : "dashboard.json");
    await mkdir(outDir, { recursive: true });
    await writeFile(outFile, `${JSON.stringify(results, null, 2)}\n`);

    const kb = (/** @type {number} */ b) => `${(b / 1024).toFixed(1)} KiB`;
    const rows = [
      ["transition → DOM, run page (request sent → DOM) p50 / p90", `${detail.request_to_dom_ms.p50} / ${detail.request_to_dom_ms.p90} ms`, "p50 < 50 ms"],
      ["transition → DOM, run page (server decision → DOM) p50", `${detail.decision_to_dom_ms.p50} ms`, ""],
      ["transition → DOM, list row (request sent → DOM) p50 / p90", `${list.request_to_dom_ms.p50} / ${list.request_to_dom_ms.p90} ms`, "p50 < 50 ms"],
      [`first load, ${N_RUNS.toLocaleString("en")}-run list (cold cache), rows in DOM / painted`, `${load.cold_ready_ms} / ${load.cold_painted_ms} ms`, "< 1000 ms"],
      [`first load, ${N_RUNS.toLocaleString("en")}-run list (warm cache), rows in DOM / painted`, `${load.warm_ready_ms} / ${load.warm_painted_ms} ms`, "< 1000 ms"],
      [`scrolling ${scroll.rows_scrolled} rows: frame p50 / p95, frames > 50 ms`, `${scroll.frame_ms.p50} / ${scroll.frame_ms.p95} ms, ${scroll.long_frames_over_50ms}`, ""],
      ["row elements in the DOM while scrolling (max)", String(scroll.max_row_elements), ""],
      ["JavaScript gzip (raw)", `${kb(size.js.gzip)} (${kb(size.js.raw)})`, ""],
      ["Wasm gzip (raw)", `${kb(size.wasm.gzip)} (${kb(size.wasm.raw)})`, ""],
      ["JavaScript + Wasm gzip", kb(size.js_wasm_gzip), ""],
      ["CSS gzip", kb(size.css.gzip), ""],
    ];
    const w0 = Math.max(...rows.map((r) => r[0]?.length ?? 0));
    const w1 = Math.max(...rows.map((r) => r[1]?.length ?? 0));
    console.log(`\ndashboard bench${opts.quick ? " (quick)" : ""}`);
    for (const [a, b, c] of rows) console.log(`  ${(a ?? "").padEnd(w0)}  ${(b ?? "").padStart(w1)}  ${c ?? ""}`);
    console.log(`  cold load steps (p50 ms from navigation): ${Object.entries(load.cold_steps_ms).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`  machine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
    console.log(`  → ${outFile.slice(ROOT.length + 1)}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
