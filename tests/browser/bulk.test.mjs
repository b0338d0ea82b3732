// Bulk cancel from the dashboard, in Debian's chromium against `wrangler dev`: tick rows or use
// the filters, a dry run that counts and samples, confirm, a progress bar that reaches the end,
// per-item results, and the list showing the runs cancelled; and an abort.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, claim, createRun, newOrg } from "../lib/api.mjs";
import { launchBrowser } from "../lib/browser.mjs";
import { startDevServer } from "../lib/server.mjs";
import { exec, newPage, shot, signInLink } from "./helpers.mjs";

const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{orgId: string, user: string, executor: string}} */
let org;

before(async () => {
  [server, browser] = await Promise.all([startDevServer({ vars: { ADMIN_TOKEN: ADMIN } }), launchBrowser()]);
  org = await newOrg(server.url, ADMIN, "Bulk tests");
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {string} id */
async function statusOf(id) {
  const res = await call(server.url, `/api/runs/${id}`, { key: org.user });
  assert.equal(res.status, 200, res.text);
  return res.body.run.status;
}

/**
 * Opens the list signed in, filtered by `search`, and waits for its first page.
 * @param {import("playwright-core").Page} page @param {string} search
 */
async function openList(page, search) {
  page.setDefaultTimeout(15_000);
  await page.goto(signInLink(server.url, org.user, `/${search}`));
  await page.locator(".list-view[data-ready=true]").waitFor();
}

describe("bulk cancel from the dashboard", () => {
  it("cancels ticked rows: dry run count and sample, confirm, progress to the end, per-item results", async () => {
    const batch = `b_sel_${Date.now()}`;
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await createRun(server.url, org, { name: `Selected ${i}`, batch_id: batch, initial: "queued" }));
    const finished = await createRun(server.url, org, { name: "Already done", batch_id: batch, initial: "running" });
    await exec(server.url, org, finished.id, "complete", {});
    const t = await newPage(browser);
    const { page } = t;
    await openList(page, `?batch=${batch}`);
    await page.locator(".spacer .row").nth(4).waitFor();

    // Tick three queued runs and the finished one (by their checkboxes' labels).
    for (const r of [runs[0], runs[1], runs[2], finished]) await page.getByLabel(`Select ${r.name}`, { exact: true }).check();
    await page.locator("#bulk-selected-count").filter({ hasText: "4 selected" }).waitFor();

    await page.locator("#bulk-cancel-selected").click();
    await page.locator("#bulk-reason").fill("bad batch");
    await page.locator("#bulk-preview").click();
    await page.locator("#bulk-count").filter({ hasText: "4 runs are selected" }).waitFor();
    assert.equal(await page.locator(".bulk-sample li").count(), 4, "the sample lists the selected runs");
    await shot(page, "bulk-dry-run");

    // A double click starts one job.
    await page.locator("#bulk-start").dblclick();
    await page.locator("#bulk-title").filter({ hasText: "Bulk cancel finished" }).waitFor();
    assert.equal(await page.locator("#bulk-progress").getAttribute("value"), "4");
    assert.equal(await page.locator("#bulk-progress").getAttribute("max"), "4");
    await page.locator('#bulk-counts dd[data-outcome="cancelled"]').filter({ hasText: /^3$/ }).waitFor();
    await page.locator('#bulk-counts dd[data-outcome="already_finished"]').filter({ hasText: /^1$/ }).waitFor();
    await page.locator("#bulk-items tbody tr").nth(3).waitFor();
    assert.equal(await page.locator("#bulk-items tbody tr").count(), 4);
    assert.match((await page.locator(`#bulk-items tr[data-run="${finished.id}"]`).textContent()) ?? "", /Already finished/);
    await shot(page, "bulk-results");

    const jobs = await call(server.url, "/api/bulk-cancels", { key: org.user });
    assert.equal(jobs.body.data.length, 1, "one job for one confirmation");
    for (const r of runs.slice(0, 3)) assert.equal(await statusOf(r.id), "cancelled");
    assert.equal(await statusOf(runs[3].id), "queued", "an unticked run is untouched");
    assert.equal(await statusOf(finished.id), "completed", "a finished run stays finished");

    // Closing shows the list live with the cancelled runs, and the selection cleared.
    await page.locator("#bulk-close").click();
    await page.locator("#bulk-selected-count").filter({ hasText: "No runs selected" }).waitFor();
    await page.locator(`.spacer .row[data-id="${runs[0].id}"][data-status="cancelled"]`).waitFor();
    await t.clean();
    await t.close();
  });

  it("cancels everything the filters match, and a job can be aborted", async () => {
    const tag = `t_${Date.now()}`;
    const many = [];
    for (let i = 0; i < 6; i++) many.push(await createRun(server.url, org, { name: `Tagged ${i}`, tags: [tag], initial: "queued" }));
    // One leased run with a grace period: it ends `cancelling` until its executor stops.
    const leased = await createRun(server.url, org, { name: "Tagged leased", tags: [tag], initial: "queued" });
    await claim(server.url, org, leased.id);
    const t = await newPage(browser);
    const { page } = t;
    await openList(page, `?tag=${tag}`);
    await page.locator(".spacer .row").nth(6).waitFor();
    await page.locator("#bulk-cancel-matching").click();
    await page.locator("#bulk-grace").selectOption("30000");
    await page.locator("#bulk-preview").click();
    await page.locator("#bulk-count").filter({ hasText: "7 runs are selected" }).waitFor();
    await page.locator("#bulk-start").click();
    await page.locator("#bulk-title").filter({ hasText: /Bulk cancel (finished|aborted)/ }).waitFor();
    await page.locator('#bulk-counts dd[data-outcome="cancelled"]').filter({ hasText: /^6$/ }).waitFor();
    await page.locator('#bulk-counts dd[data-outcome="cancelling"]').filter({ hasText: /^1$/ }).waitFor();
    await page.locator("#bulk-outcome").selectOption("cancelling");
    await page.locator(`#bulk-items tr[data-run="${leased.id}"]`).filter({ hasText: "must stop by" }).waitFor();
    assert.equal(await page.locator("#bulk-items tbody tr").count(), 1, "the outcome filter shows that item only");
    assert.equal(await statusOf(leased.id), "cancelling");
    await page.locator("#bulk-close").click();

    // Abort: a job paced at 2 runs per second, stopped from its progress view.
    const slowTag = `${tag}_slow`;
    const slowRuns = await Promise.all(Array.from({ length: 40 }, (_, i) => createRun(server.url, org, { name: `Slow ${i}`, tags: [slowTag], initial: "queued" })));
    await openList(page, `?tag=${slowTag}`);
    await page.locator("#bulk-cancel-matching").click();
    await page.locator("#bulk-pace").selectOption("2");
    await page.locator("#bulk-preview").click();
    await page.locator("#bulk-count").filter({ hasText: "40 runs are selected" }).waitFor();
    await page.locator("#bulk-start").click();
    await page.locator("#bulk-title").filter({ hasText: "Cancelling runs…" }).waitFor();
    await page.locator("#bulk-abort").click();
    await page.locator("#bulk-title").filter({ hasText: "Bulk cancel aborted" }).waitFor();
    // Every item is accounted for: the ones not started end as "aborted".
    const notStarted = Number(await page.locator('#bulk-counts dd[data-outcome="aborted"]').textContent());
    const cancelled = Number((await page.locator('#bulk-counts dd[data-outcome="cancelled"]').count()) ? await page.locator('#bulk-counts dd[data-outcome="cancelled"]').textContent() : 0);
    assert.ok(notStarted > 0, "some runs were never started");
    assert.equal(cancelled + notStarted, 40, "cancelled and not started add up to the selection");
    await shot(page, "bulk-aborted");
    const jobs = await call(server.url, "/api/bulk-cancels", { key: org.user });
    const job = await call(server.url, `/api/bulk-cancels/${jobs.body.data[0].id}`, { key: org.user });
    assert.equal(job.body.job.status, "aborted");
    const statuses = await Promise.all(slowRuns.map((r) => statusOf(r.id)));
    assert.equal(statuses.filter((x) => x === "queued").length, notStarted, "the runs the job never reached are still queued");
    assert.equal(statuses.filter((x) => x === "cancelled").length, cancelled);
    await t.clean();
    await t.close();
  });
});
