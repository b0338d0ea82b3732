// Shared pieces of the dashboard's browser tests: a page that records every error and CSP
// violation, screenshots under tests/output/screenshots, and the executor moves tests make.
import assert from "node:assert/strict";
import { join } from "node:path";
import { call } from "../lib/api.mjs";
import { SCREENSHOTS } from "../lib/browser.mjs";

/**
 * A new page (own context: own sessionStorage) that collects page errors, console errors and
 * Content-Security-Policy violations, so each test can assert there were none.
 * @param {import("playwright-core").Browser} browser
 * @param {{ viewport?: {width: number, height: number}, colorScheme?: "light" | "dark" }} [o]
 */
export async function newPage(browser, o = {}) {
  const context = await browser.newContext({
    viewport: o.viewport ?? { width: 1280, height: 800 },
    colorScheme: o.colorScheme ?? "light",
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    /** @type {any} */ (window).__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      /** @type {any} */ (window).__csp.push(`${e.violatedDirective}: ${e.blockedURI}`);
    });
  });
  return {
    page,
    errors,
    /**
     * Asserts no page error, console error or CSP violation happened. Chromium logs every
     * non-2xx or failed fetch as a console error: `expected` lists the statuses (or network
     * errors, like "net::ERR_FAILED") a test provoked on purpose.
     * @param {(number | string)[]} [expected]
     */
    async clean(expected = []) {
      const csp = await page.evaluate(() => /** @type {any} */ (window).__csp);
      assert.deepEqual(csp, [], "CSP violations");
      const provoked = (/** @type {string} */ e) =>
        e.startsWith("console: Failed to load resource") && expected.some((s) => e.includes(typeof s === "number" ? `status of ${s} (` : s));
      assert.deepEqual(
        errors.filter((e) => !provoked(e)),
        [],
        "page errors",
      );
    },
    close: () => context.close(),
  };
}

/** @param {import("playwright-core").Page} page @param {string} name */
export async function shot(page, name, fullPage = false) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/**
 * An executor move on a run (`claim`, `complete`, `ack-cancel`, `wait`, `resume`, `enqueue`).
 * @param {string} base @param {{executor: string}} org @param {string} runId @param {string} action
 * @param {Record<string, unknown>} [body]
 */
export async function exec(base, org, runId, action, body = {}) {
  const res = await call(base, `/api/runs/${runId}/${action}`, { key: org.executor, body });
  assert.equal(res.status, 200, `${action}: ${res.text}`);
  return res.body;
}

/** The link that signs a browser in (the `make dev` form). @param {string} base @param {string} key */
export function signInLink(base, key, path = "/") {
  return `${base}${path}#key=${encodeURIComponent(key)}`;
}
