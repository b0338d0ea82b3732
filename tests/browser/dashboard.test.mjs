// The dashboard in Debian's chromium against `wrangler dev` with seeded data: sign-in (link and
// form), a bad and a revoked key, sign-out, the live run list (pushed, never polled), filters,
// a long list scrolled virtually, keyboard use, phone width, dark theme, and an XSS probe.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, claim, createRun, newOrg } from "../lib/api.mjs";
import { launchBrowser } from "../lib/browser.mjs";
import { startDevServer } from "../lib/server.mjs";
import { exec, newPage, shot, signInLink } from "./helpers.mjs";

const ADMIN = adminToken();
const XSS_NAME = "<img src=x onerror=window.__xss=1>";
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
/** @type {{orgId: string, user: string, executor: string}} */
let org;
/** @type {Record<string, any>} */
const runs = {};

before(async () => {
  [server, browser] = await Promise.all([startDevServer({ vars: { ADMIN_TOKEN: ADMIN } }), launchBrowser()]);
  org = await newOrg(server.url, ADMIN, "Browser tests");
  const base = server.url;
  runs.completed = await createRun(base, org, { kind: "experiment", name: "Consensus n=5 on receipts", batch_id: "batch_south", tags: ["nightly"] });
  await exec(base, org, runs.completed.id, "complete", { lease_id: await claim(base, org, runs.completed.id) });
  runs.review = await createRun(base, org, { kind: "workflow", name: "Contract Review", batch_id: "batch_north", tags: ["priority"] });
  await exec(base, org, runs.review.id, "wait", { lease_id: await claim(base, org, runs.review.id), reason: "human_review" });
  runs.extend = await createRun(base, org, { kind: "extend_workflow", name: "Bank statement parsing", initial: "pending", batch_id: "batch_south" });
  runs.invoices = await createRun(base, org, {
    kind: "workflow",
    name: "Invoice Processing",
    batch_id: "batch_north",
    tags: ["priority"],
    children: Array.from({ length: 6 }, (_, i) => ({ id: `step_${i + 1}`, name: `Step ${i + 1}` })),
  });
  runs.nightly = await createRun(base, org, { kind: "generic", name: "Nightly reconciliation", tags: ["nightly"] });
  await claim(base, org, runs.nightly.id);
  runs.xss = await createRun(base, org, {
    kind: "generic",
    name: XSS_NAME,
    metadata: { "<b>key</b>": "<script>window.__xss=2</script>", note: "\"><svg onload=window.__xss=3>" },
    tags: ["<i>tag</i>"],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import("playwright-core").Page} page @param {string} name */
const row = (page, name) => page.locator(".row[data-id]").filter({ has: page.getByRole("link", { name, exact: true }) });

describe("signing in and out", () => {
  it("signs in from the make-dev link, removes the key from the URL, and lists the seeded runs", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Invoice Processing").waitFor();
    assert.equal(new URL(page.url()).hash, "", "the fragment with the key is gone");
    assert.ok(!page.url().includes(org.user));
    assert.equal(await page.evaluate(() => sessionStorage.getItem("runbrake.key")), org.user);
    assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing kept beyond the session");

    // Every seeded run, with its status, kind and its contract's status word.
    for (const name of ["Consensus n=5 on receipts", "Contract Review", "Bank statement parsing", "Invoice Processing", "Nightly reconciliation"]) {
      await row(page, name).waitFor();
    }
    await row(page, "Contract Review").getByText("Waiting", { exact: true }).waitFor();
    await row(page, "Contract Review").getByText("Human review · 000 says awaiting_review").waitFor();
    await row(page, "Bank statement parsing").getByText("003 says PENDING").waitFor();
    await row(page, "Nightly reconciliation").getByText("Running", { exact: true }).waitFor();
    await row(page, "Consensus n=5 on receipts").getByText("Completed", { exact: true }).waitFor();
    await row(page, "Invoice Processing").getByText("0 / 6").waitFor();
    // Counts per status.
    const chip = (/** @type {string} */ label) => page.getByRole("group", { name: /Filter by status/ }).getByRole("button", { name: new RegExp(`^${label} `) });
    assert.equal((await chip("All").textContent())?.trim(), "All 6");
    assert.match((await chip("Running").textContent()) ?? "", /Running\s*1$/);
    assert.match((await chip("Waiting").textContent()) ?? "", /Waiting\s*1$/);
    // Relative and absolute times side by side.
    const created = row(page, "Invoice Processing").locator(".c-created");
    assert.match((await created.locator("time").textContent()) ?? "", /ago|just now/);
    assert.match((await created.locator(".sub").textContent()) ?? "", /\d\d:\d\d:\d\d/);
    assert.equal(await page.locator("#live").textContent(), "Live");
    await shot(page, "list");

    // Sign out: the key leaves the tab.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByText("You are signed out").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("runbrake.key")), null);
    await t.clean();
    await t.close();
  });

  it("says plainly when a key is wrong, and signs in with a good one typed in", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(server.url);
    await page.getByLabel("API key").fill("rbk_not_a_real_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.filter({ hasText: "That API key was not accepted" }).waitFor();
    assert.match((await alert.textContent()) ?? "", /mistyped, or it has been revoked/);
    assert.equal(await page.getByLabel("API key").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("runbrake.key")), null);
    await shot(page, "sign-in-bad-key");

    await page.getByLabel("API key").fill(org.user);
    await page.getByLabel("API key").press("Enter");
    await row(page, "Invoice Processing").waitFor();
    // The session survives a reload (same tab), from sessionStorage.
    await page.reload();
    await row(page, "Invoice Processing").waitFor();
    await t.clean([401]);
    await t.close();
  });

  it("signs out with a clear message when the key is revoked mid-session, and refuses it afterwards", async () => {
    const made = await call(server.url, `/api/admin/orgs/${org.orgId}/keys`, { key: ADMIN, body: { role: "user", label: "to revoke" } });
    assert.equal(made.status, 201);
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(signInLink(server.url, made.body.key));
    await row(page, "Invoice Processing").waitFor();
    // Revoke once the page is idle, then act: the next request it makes is refused.
    await page.waitForLoadState("networkidle");
    const revoked = await call(server.url, `/api/admin/orgs/${org.orgId}/keys/${made.body.key_id}/revoke`, { key: ADMIN, method: "POST" });
    assert.equal(revoked.status, 200);
    await page.getByRole("link", { name: "Invoice Processing" }).click();
    await page.getByRole("alert").filter({ hasText: "Your API key stopped working" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("runbrake.key")), null);

    // The same key typed in again is refused with the wrong-or-revoked message.
    await page.getByLabel("API key").fill(made.body.key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "has been revoked" }).waitFor();
    await shot(page, "sign-in-revoked-key");
    await t.clean([401]);
    await t.close();
  });
});

describe("the live run list", () => {
  it("shows runs created and changed on the server as they happen, without re-reading the list", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Invoice Processing").waitFor();
    await page.locator("#live").filter({ hasText: /^Live$/ }).waitFor();
    await page.waitForLoadState("networkidle");
    /** @type {string[]} */
    const listReads = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/api/runs" && r.method() === "GET" && u.searchParams.get("limit") !== "1") listReads.push(r.url());
    });

    // A run moving on the server: queued → running, pushed to the row in place.
    const invoices = row(page, "Invoice Processing");
    await invoices.getByText("Queued", { exact: true }).waitFor();
    await claim(server.url, org, runs.invoices.id);
    await invoices.getByText("Running", { exact: true }).waitFor();
    await invoices.getByText("000 says running").waitFor();
    // Its children progress, pushed too.
    await call(server.url, `/api/runs/${runs.invoices.id}/children/step_1`, { key: org.executor, body: { to: "completed" } });
    await invoices.getByText("1 / 6").waitFor();

    // A new run appears at the top, and the counts follow.
    const fresh = await createRun(server.url, org, { kind: "workflow_test", name: "Invoice extraction tests" });
    await row(page, "Invoice extraction tests").waitFor();
    const first = page.locator(".row[data-id]").first();
    assert.equal(await first.getAttribute("data-id"), fresh.id);
    await page.getByRole("button", { name: /^All 7$/ }).waitFor();
    await shot(page, "list-live-update");
    assert.deepEqual(listReads, [], "the list was not fetched again: the changes were pushed");
    await t.clean();
    await t.close();
  });

  it("filters by status, kind, batch, tag and time, searches by id or name, and keeps the filters in the URL", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Contract Review").waitFor();
    /** Waits until the list shows exactly these runs (in any order). @param {string[]} want */
    const showing = async (want) => {
      await page
        .waitForFunction(
          (w) => {
            const got = [...document.querySelectorAll(".row[data-id] .run-link")].map((a) => a.textContent).sort();
            return JSON.stringify(got) === JSON.stringify([...w].sort());
          },
          want,
        )
        .catch(async (e) => {
          const got = await page.locator(".row[data-id] .run-link").allTextContents();
          throw new Error(`list shows ${JSON.stringify(got)} at ${page.url()}, want ${JSON.stringify(want)}: ${e}`);
        });
    };

    await page.getByRole("button", { name: /^Waiting / }).click();
    await page.waitForURL(/status=waiting/, { waitUntil: "commit" });
    await showing(["Contract Review"]);
    await page.getByText("1 matching run", { exact: true }).waitFor();
    assert.equal(await page.getByRole("button", { name: /^Waiting / }).getAttribute("aria-pressed"), "true");
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.waitForURL((u) => u.search === "", { waitUntil: "commit" });

    await page.getByLabel("Kind").selectOption("extend_workflow");
    await showing(["Bank statement parsing"]);
    await page.getByLabel("Kind").selectOption("");

    await page.getByLabel("Batch").fill("batch_north");
    await page.waitForURL(/batch=batch_north/, { waitUntil: "commit" });
    await showing(["Contract Review", "Invoice Processing"]);
    await page.getByText("2 matching runs", { exact: true }).waitFor();
    await page.getByLabel("Tag").fill("priority");
    await page.waitForURL(/tag=priority/, { waitUntil: "commit" });
    await showing(["Contract Review", "Invoice Processing"]);
    await page.getByRole("button", { name: "Clear filters" }).click();

    await page.getByLabel("Search").fill("consensus");
    await showing(["Consensus n=5 on receipts"]);
    await page.getByLabel("Search").fill(runs.nightly.id);
    await showing(["Nightly reconciliation"]);
    await page.getByLabel("Search").fill("");

    // Time: a window in the past holds none of these runs.
    await page.getByLabel("Created", { exact: true }).selectOption("custom");
    await page.getByLabel("Created from").fill("2020-01-01T00:00:00");
    await page.getByLabel("Created before").fill("2020-01-02T00:00:00");
    await page.getByText("No runs match these filters.").waitFor();
    await page.getByLabel("Created", { exact: true }).selectOption("1h");
    await row(page, "Contract Review").waitFor();

    // A filtered view reloads as it was, and a pushed run that does not match stays out.
    await page.goto(`${server.url}/?kind=generic`);
    await row(page, "Nightly reconciliation").waitFor();
    await page.locator("#live").filter({ hasText: /^Live$/ }).waitFor();
    await createRun(server.url, org, { kind: "workflow", name: "Not generic" });
    const generic = await createRun(server.url, org, { kind: "generic", name: "Generic arrival" });
    await row(page, "Generic arrival").waitFor();
    assert.equal(await row(page, "Not generic").count(), 0);
    assert.equal(await page.locator(".row[data-id]").first().getAttribute("data-id"), generic.id);
    await shot(page, "list-filtered");
    await t.clean();
    await t.close();
  });

  it("scrolls a long list smoothly: pages load on demand and only the visible rows exist", async () => {
    const big = await newOrg(server.url, ADMIN, "Long list");
    const N = 460;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < N) {
          const i = next++;
          await createRun(server.url, big, { kind: "generic", name: `Bulk run ${String(i).padStart(3, "0")}` });
        }
      }),
    );
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(15_000);
    await page.goto(signInLink(server.url, big.user));
    await page.getByText(`${N} matching runs · 100 loaded, more as you scroll`).waitFor();
    const viewport = page.locator(".viewport");
    for (;;) {
      const rendered = await page.locator(".row[data-id]").count();
      assert.ok(rendered > 0 && rendered < 60, `only visible rows are in the DOM (${rendered})`);
      if (await page.getByText(`End of the list · ${N} runs`).isVisible()) break;
      const before = await page.locator("#list-summary").textContent();
      await viewport.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await page.waitForFunction((b) => document.querySelector("#list-summary")?.textContent !== b || !!document.querySelector(".list-foot")?.textContent?.startsWith("End of the list"), before);
    }
    // Every run is reachable: the last row is row N of N.
    await viewport.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await page.locator(`.row[aria-rowindex="${N + 1}"]`).waitFor();
    assert.equal(await page.locator(".runs-table").getAttribute("aria-rowcount"), String(N + 1));
    await shot(page, "list-long");
    await t.clean();
    await t.close();
  });

  it("says when it is not live, reconnects by itself, and resumes where it left off", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(20_000);
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Invoice Processing").waitFor();
    const live = page.locator("#live");
    await live.filter({ hasText: /^Live$/ }).waitFor();
    await server.kill9();
    await live.filter({ hasText: /^Reconnecting…$/ }).waitFor();
    await shot(page, "list-reconnecting");
    await server.restart();
    await live.filter({ hasText: /^Live$/ }).waitFor();
    await createRun(server.url, org, { kind: "generic", name: "After the restart" });
    await row(page, "After the restart").waitFor();
    // Chromium logs the refused connections while the server was down.
    await t.clean(["net::ERR_", 502, 503]);
    await t.close();
  });

  it("works from the keyboard: move through runs, open one, open and dismiss the cancel dialog", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    /** @type {string[]} */
    const cancels = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/cancel")) cancels.push(r.url());
    });
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Invoice Processing").waitFor();
    // The list is one tab stop (roving focus); arrows move between runs.
    const firstLink = page.locator(".row[data-id]").first().locator("a");
    await firstLink.focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    const focused = await page.evaluate(() => document.activeElement?.closest(".row")?.getAttribute("data-index"));
    assert.equal(focused, "2");
    await page.keyboard.press("Home");
    await page.keyboard.press("End");
    const name = await page.evaluate(() => document.activeElement?.textContent);
    assert.equal(name, "Consensus n=5 on receipts");
    await page.keyboard.press("ArrowUp");
    const target = await page.evaluate(() => document.activeElement?.textContent ?? "");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: target }).waitFor();

    // Open a cancellable run and use the dialog by keyboard only.
    await page.goto(`${server.url}/runs/${runs.nightly.id}`);
    const cancel = page.getByRole("button", { name: "Cancel run…" });
    await cancel.waitFor();
    await page.waitForFunction(() => !(/** @type {HTMLButtonElement} */ (document.querySelector("#cancel-run"))?.disabled));
    await cancel.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Keep running", "the safe choice has focus");
    await dialog.getByLabel(/Reason/).waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    assert.deepEqual(cancels, [], "dismissing sends nothing");
    await t.clean();
    await t.close();
  });
});

describe("layout, themes and safety", () => {
  it("is usable at phone width and follows a dark system theme", async () => {
    const t = await newPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    const { page } = t;
    page.setDefaultTimeout(10_000);
    await page.goto(signInLink(server.url, org.user));
    await row(page, "Invoice Processing").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px)`);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    assert.ok((r ?? 255) + (g ?? 255) + (b ?? 255) < 120, `dark background (${bg})`);
    await shot(page, "list-phone-dark");
    await page.getByRole("link", { name: "Nightly reconciliation" }).click();
    await page.getByRole("button", { name: "Cancel run…" }).waitFor();
    const detailOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(detailOverflow <= 0, `no sideways scrolling on a run (${detailOverflow}px)`);
    await shot(page, "detail-phone-dark", true);
    await t.clean();
    await t.close();
  });

  it("renders user-supplied names, metadata and tags as text, never as HTML (XSS probe)", async () => {
    const t = await newPage(browser);
    const { page } = t;
    page.setDefaultTimeout(10_000);
    const res = await page.goto(signInLink(server.url, org.user));
    const csp = res?.headers()["content-security-policy"] ?? "";
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/, "the page is served with a CSP");
    assert.doesNotMatch(csp, /unsafe-inline/);
    const link = page.getByRole("link", { name: XSS_NAME, exact: true });
    await link.waitFor();
    assert.equal(await link.textContent(), XSS_NAME);
    await link.click();
    await page.getByRole("heading", { level: 1, name: XSS_NAME }).waitFor();
    await page.getByText("<script>window.__xss=2</script>", { exact: true }).waitFor();
    await page.getByText("<b>key</b>", { exact: true }).waitFor();
    await page.getByText("\"><svg onload=window.__xss=3>", { exact: true }).waitFor();
    await page.getByRole("link", { name: "<i>tag</i>", exact: true }).waitFor();
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__xss), undefined);
    assert.equal(await page.locator("img[src=x], svg[onload], script:not([src])").count(), 0);
    await shot(page, "xss-probe");
    await t.clean();
    await t.close();
  });
});
