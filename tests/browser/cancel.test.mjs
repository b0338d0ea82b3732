// Cancelling from the dashboard, in Debian's chromium against `wrangler dev`: the instant
// "Cancelling…", one command id however the button is pressed, the deadline countdown, the
// executor's acknowledgement through to `cancelled`, a deadline that passes, a late completion
// marked as such, a lost race shown as one, and a failed request retried with the same id.
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
  org = await newOrg(server.url, ADMIN, "Cancel tests");
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A run an executor is working on (it holds a lease). @param {Record<string, unknown>} [extra] */
async function leasedRun(extra = {}) {
  const run = await createRun(server.url, org, {
    kind: "workflow",
    name: "Invoice Processing",
    workflow: { id: "wf_invoices", version_id: "ver_7", name: "Invoice Processing" },
    batch_id: "batch_north",
    tags: ["priority"],
    metadata: { customer: "acme" },
    children: Array.from({ length: 6 }, (_, i) => ({ id: `step_${i + 1}`, name: `Step ${i + 1}` })),
    ...extra,
  });
  const lease = await claim(server.url, org, run.id);
  await call(server.url, `/api/runs/${run.id}/children/step_1`, { key: org.executor, body: { to: "completed", lease_id: lease } });
  await call(server.url, `/api/runs/${run.id}/children/step_2`, { key: org.executor, body: { to: "running", lease_id: lease } });
  return { run, lease };
}

/**
 * Opens a run's page signed in, and waits until it is live and the Cancel button is enabled.
 * @param {import("playwright-core").Page} page @param {string} runId
 */
async function openRun(page, runId) {
  page.setDefaultTimeout(10_000);
  await page.goto(signInLink(server.url, org.user, `/runs/${runId}`));
  await page.locator("#live").filter({ hasText: /^Live$/ }).waitFor();
  await page.waitForFunction(() => {
    const b = /** @type {HTMLButtonElement | null} */ (document.querySelector("#cancel-run"));
    return b !== null && !b.disabled;
  });
}

/** @param {import("playwright-core").Page} page */
const badge = (page) => page.locator("#status-badge");

/**
 * Records the cancel requests the page sends (their JSON bodies).
 * @param {import("playwright-core").Page} page
 */
function recordCancels(page) {
  /** @type {any[]} */
  const bodies = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && r.url().endsWith("/cancel")) bodies.push(JSON.parse(r.postData() ?? "{}"));
  });
  return bodies;
}

describe("cancelling a run from the dashboard", () => {
  it("cancels a running run through to cancelled: instant Cancelling…, one command id, countdown, acknowledgement, receipt", async () => {
    const { run, lease } = await leasedRun();
    const t = await newPage(browser);
    const { page } = t;
    const sent = recordCancels(page);
    await openRun(page, run.id);
    await badge(page).filter({ hasText: /^Running$/ }).waitFor();
    await page.getByText("1 of 6 finished (16%)").waitFor();

    // Hold the request at the network edge to see what the page shows before any answer.
    /** @type {() => void} */
    let release = () => {};
    const held = new Promise((resolve) => (release = () => resolve(undefined)));
    await page.route("**/cancel", async (route) => {
      await held;
      await route.continue();
    });

    await page.getByRole("button", { name: "Cancel run…" }).click();
    const dialog = page.getByRole("dialog", { name: /Cancel “Invoice Processing”\?/ });
    await dialog.waitFor();
    await dialog.getByText(/An executor is working on this run/).waitFor();
    await dialog.getByLabel(/Reason/).fill("Wrong input file");
    await dialog.getByLabel("Grace period for the executor").selectOption({ label: "30 seconds" });
    await dialog.getByText(/It will be told to stop and has until about/).waitFor();
    await dialog.getByRole("button", { name: "Cancel run", exact: true }).dblclick();

    // Optimistic, from the core's applyOptimistic, before the server has even seen the request.
    await badge(page).filter({ hasText: "Cancelling…" }).waitFor();
    assert.equal(await badge(page).getAttribute("data-optimistic"), "true");
    assert.equal(await page.getByRole("button", { name: "Cancel run…" }).isDisabled(), true);
    await shot(page, "cancel-optimistic");
    release();

    const result = page.locator("#cancel-result");
    await result.getByText(/^Cancel requested: the executor has until \d\d:\d\d:\d\d\.\d{3} to stop \(30\.0 s grace\)\.$/).waitFor();
    await result.getByText(/If it has not stopped by the deadline, the run is cancelled anyway and its lease revoked\./).waitFor();
    await badge(page).filter({ hasText: /^Cancelling$/ }).waitFor();
    assert.equal(await badge(page).getAttribute("data-optimistic"), null);
    const timer = page.getByRole("timer");
    await timer.waitFor();
    assert.match((await timer.textContent()) ?? "", /^0:[0-3]\d$/);
    await page.getByText(/the run is cancelled anyway \(forced\) and the executor's lease is revoked/).waitFor();
    // The in-flight child follows the run's deadline.
    await page.locator(".card-children .legend").getByText("Cancelling 1").waitFor();
    await shot(page, "cancel-requested", true);

    assert.equal(sent.length, 1, "a double click sends one request");
    assert.match(sent[0].command_id, /^dash-[0-9a-f-]{36}$/);
    assert.deepEqual({ reason: sent[0].reason, grace_ms: sent[0].grace_ms, source: sent[0].source }, { reason: "Wrong input file", grace_ms: 30_000, source: "dashboard" });

    // The executor stops and says so: cancelled, pushed.
    await exec(server.url, org, run.id, "ack-cancel", { lease_id: lease });
    await badge(page).filter({ hasText: /^Cancelled$/ }).waitFor();
    // The answer follows the run: no longer "requested", but how it ended.
    await result.getByText(/^Cancelled at \d\d:\d\d:\d\d\.\d{3}, [\d.]+ (ms|s) after the request\.$/).waitFor();
    await result.getByText("The executor confirmed it stopped.").waitFor();
    await page.getByRole("timer").waitFor({ state: "detached" });
    await page.getByText("Cancelled runs cannot be cancelled.").waitFor();
    const history = page.locator("#timeline");
    await history.getByText(/^Cancelled$/).waitFor();
    await history.getByText(/the executor confirmed it stopped/).waitFor();
    await history.getByText(/^Cancel requested by the dashboard \(key /).waitFor();
    const receipt = page.locator(`.receipt[data-command-id="${sent[0].command_id}"]`);
    await receipt.waitFor();
    for (const text of ["Wrong input file", "the dashboard", "30.0 s", "Requested → cancelling"]) await receipt.getByText(text, { exact: true }).waitFor();
    // (The double click's second click selected a word under the closed dialog; clear it for the README picture.)
    await page.evaluate(() => getSelection()?.removeAllRanges());
    await shot(page, "detail", true);
    await t.clean();
    await t.close();
  });

  it("counts down to the deadline, then shows the forced cancel when the executor never answers", async () => {
    const { run } = await leasedRun({ name: "Executor that never answers", default_grace_ms: 2_000 });
    const t = await newPage(browser);
    const { page } = t;
    await openRun(page, run.id);
    await page.getByRole("button", { name: "Cancel run…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Grace period for the executor").selectOption({ label: "Run's default (2.00 s)" });
    await dialog.getByRole("button", { name: "Cancel run", exact: true }).click();
    await page.getByRole("timer").waitFor();
    await page.getByText(/If executor e2e-exec has not stopped by/).waitFor();
    // The service's alarm forces it at the deadline: no executor involved.
    await badge(page).filter({ hasText: /^Cancelled$/ }).waitFor();
    await page.locator(".facts").getByText(/, forced$/).waitFor();
    await page.locator("#cancel-result").getByText(/^Cancelled at \d\d:\d\d:\d\d\.\d{3} \(forced\), [\d.]+ s after the request\.$/).waitFor();
    await page.locator("#cancel-result").getByText(/^The deadline passed, so it was forced\. The executor's lease is revoked/).waitFor();
    await page.locator("#timeline").getByText(/^Cancelled \(forced\)$/).waitFor();
    await page.locator("#timeline").getByText(/the deadline passed, so it was forced/).waitFor();
    await shot(page, "cancel-deadline-forced", true);
    await t.clean();
    await t.close();
  });

  it("marks a completion that arrives after the cancel as late; the run stays cancelled", async () => {
    const { run, lease } = await leasedRun({ name: "Finishes during the grace period" });
    const t = await newPage(browser);
    const { page } = t;
    await openRun(page, run.id);
    await page.getByRole("button", { name: "Cancel run…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel run", exact: true }).click();
    await badge(page).filter({ hasText: /^Cancelling$/ }).waitFor();
    const done = await call(server.url, `/api/runs/${run.id}/complete`, { key: org.executor, body: { lease_id: lease } });
    assert.equal(done.status, 200, done.text);
    await badge(page).filter({ hasText: /^Cancelled$/ }).waitFor();
    const late = page.locator("#timeline .event.late");
    await late.getByText("Late · after cancel").waitFor();
    await late.getByText("Late completion").waitFor();
    await late.getByText(/Recorded only: the run stays cancelled/).waitFor();
    await page.locator("#cancel-result").getByText("The executor reported completion during the grace period; the cancel stands.").waitFor();
    await page.locator("#timeline").getByText(/the executor reported completion during the grace period; the cancel stands/).waitFor();
    await page.locator(".card-lifecycle").getByText(/after the cancel was accepted\. It is recorded; the result stays cancelled/).waitFor();
    await shot(page, "cancel-late-completion", true);
    await t.clean();
    await t.close();
  });

  it("shows a lost race as one: the run completed moments before the cancel arrived", async () => {
    const { run, lease } = await leasedRun({ name: "Races its cancel" });
    const t = await newPage(browser);
    const { page } = t;
    // The run's stream is delayed (as on a slow network) so the page still shows it running
    // when the executor completes it; the button is pressed on that stale view.
    let hold = false;
    /** @type {(() => void)[]} */
    const held = [];
    await page.routeWebSocket(/\/api\/runs\/[^/]+\/watch/, (ws) => {
      const upstream = ws.connectToServer();
      upstream.onMessage((m) => (hold ? held.push(() => ws.send(m)) : ws.send(m)));
      ws.onMessage((m) => upstream.send(m));
    });
    await openRun(page, run.id);
    await badge(page).filter({ hasText: /^Running$/ }).waitFor();
    hold = true;
    await exec(server.url, org, run.id, "complete", { lease_id: lease, output: { pages: 3 } });
    assert.equal(await badge(page).textContent(), "Running", "the page has not heard yet");

    await page.getByRole("button", { name: "Cancel run…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel run", exact: true }).click();
    const result = page.locator("#cancel-result");
    await result.getByText(/^Too late: the run completed at \d\d:\d\d:\d\d\.\d{3}, [\d.]+ (ms|s) before your cancel arrived\.$/).waitFor();
    await result.getByText("Your cancel lost the race to the run's own end. Nothing was cancelled; the run stays completed.").waitFor();
    // Reconciled with the reply's newer state: completed, and it never goes back.
    await badge(page).filter({ hasText: /^Completed$/ }).waitFor();
    hold = false;
    for (const send of held.splice(0)) send();
    await page.locator("#timeline").getByText(/^Cancel answered: already terminal$/).waitFor();
    assert.equal(await badge(page).textContent(), "Completed");
    await page.locator(".receipt").getByText(/^Too late: the run completed at/).waitFor();
    await page.getByText("Completed runs cannot be cancelled.").waitFor();
    await shot(page, "cancel-lost-race", true);
    await t.clean([409]);
    await t.close();
  });

  it("retries a cancel that could not reach the service with the same command id", async () => {
    const { run, lease } = await leasedRun({ name: "Flaky network" });
    const t = await newPage(browser);
    const { page } = t;
    const sent = recordCancels(page);
    await openRun(page, run.id);
    let failures = 1;
    await page.route("**/cancel", (route) => (failures-- > 0 ? route.abort("failed") : route.continue()));
    await page.getByRole("button", { name: "Cancel run…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel run", exact: true }).click();
    await page.getByRole("alert").getByText("Could not reach the service: your cancel may not have arrived.").waitFor();
    // Not left pretending: the optimistic mark is gone, the run shows as it is.
    await badge(page).filter({ hasText: /^Running$/ }).waitFor();
    await shot(page, "cancel-network-error");
    await page.getByRole("button", { name: "Retry the same cancel" }).click();
    await page.locator("#cancel-result").getByText(/^Cancel requested: the executor has until/).waitFor();
    assert.equal(sent.length, 2);
    assert.equal(sent[1].command_id, sent[0].command_id, "the retry is the same request");
    await exec(server.url, org, run.id, "ack-cancel", { lease_id: lease });
    await badge(page).filter({ hasText: /^Cancelled$/ }).waitFor();
    await t.clean(["net::ERR_FAILED"]);
    await t.close();
  });

  it("cancels a run nobody is working on at once, and never offers Cancel where it cannot work", async () => {
    const queued = await createRun(server.url, org, { kind: "generic", name: "Waiting in the queue" });
    const t = await newPage(browser);
    const { page } = t;
    await openRun(page, queued.id);
    await page.getByRole("button", { name: "Cancel run…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("No executor is working on this run: it will be cancelled at once.").waitFor();
    assert.equal(await dialog.getByLabel("Grace period for the executor").isVisible(), false);
    await dialog.getByRole("button", { name: "Cancel run", exact: true }).click();
    const result = page.locator("#cancel-result");
    await result.getByText(/^Cancelled at \d\d:\d\d:\d\d\.\d{3}\.$/).waitFor();
    await result.getByText("No executor was working on the run, so it stopped at once.").waitFor();
    await badge(page).filter({ hasText: /^Cancelled$/ }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel run…" }).isDisabled(), true);

    // An executor key can look but not cancel.
    const reader = await newPage(browser);
    const running = await createRun(server.url, org, { kind: "generic", name: "Read only", initial: "running" });
    reader.page.setDefaultTimeout(10_000);
    await reader.page.goto(signInLink(server.url, org.executor, `/runs/${running.id}`));
    await reader.page.getByText("Your key is an executor key; cancelling needs a user key.").waitFor();
    assert.equal(await reader.page.getByRole("button", { name: "Cancel run…" }).isDisabled(), true);
    await reader.clean();
    await reader.close();
    await t.clean();
    await t.close();
  });
});
