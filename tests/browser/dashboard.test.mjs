import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SCREENSHOTS, launchBrowser } from "../lib/browser.mjs";
import { startDevServer } from "../lib/server.mjs";

/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {import("playwright-core").Browser} */
let browser;
before(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe("dashboard in chromium", () => {
  it("loads from the Worker and shows the live service status", async () => {
    const page = await browser.newPage();
    const errors = /** @type {string[]} */ ([]);
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    assert.equal(await page.title(), "runbrake");
    const status = page.locator("#service-status");
    await status.filter({ hasText: /^ok \(v/ }).waitFor({ timeout: 10_000 });
    assert.equal(await status.getAttribute("data-state"), "ok");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-health.png") });
    assert.deepEqual(errors, []);
  });
});
