// T17 (RELIABILITY.md) and the browser-facing security headers: CORS preflights answered for the
// dashboard's own origin and the listed ones only (exact origin, never `*`, never credentials);
// ambient cookies never authenticate (so cross-site form posts change nothing); WebSocket upgrades
// from a foreign Origin are refused before 101 (Cross-Site WebSocket Hijacking); API replies carry
// no-store, nosniff, Referrer-Policy and frame-ancestors 'none'; the dashboard has a strict CSP.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { upgradeStatus } from "../lib/api.mjs";
import { assertErrorShape, call, familyOf, newOrg, record, runIn, send, snapshot, startServer } from "./lib.mjs";

const LISTED = "https://dash.example.test";
/** @type {Awaited<ReturnType<typeof startServer>>} */
let s;
/** @type {import("./lib.mjs").Org} */
let org;
/** @type {Record<string, string>} */
const ids = {};
/** Every reply of this file, to check that none ever allows any origin with `*`. */
/** @type {{what: string, headers: Headers}[]} */
const seen = [];
const ALLOWED_HEADERS = new Set(["authorization", "api-key", "content-type", "idempotency-key", "x-extend-api-version"]);

before(async () => {
  s = await startServer({ ALLOWED_ORIGINS: LISTED });
  org = await newOrg(s.url, s.admin, "t17");
  const [q, r, g, x] = await Promise.all([
    runIn(s.url, org, "queued"),
    runIn(s.url, org, "running"),
    runIn(s.url, org, "queued", { kind: "generic" }),
    runIn(s.url, org, "queued", { kind: "extend_workflow" }),
  ]);
  Object.assign(ids, { Q: q.id, R: r.id, G: g.id, X: x.id });
});
after(async () => {
  await s?.server.stop();
});

/** @param {string} what @param {string} path @param {Parameters<typeof send>[2]} [o] */
async function look(what, path, o) {
  const res = await send(s.url, path, o);
  seen.push({ what, headers: res.headers });
  assert.ok(res.status < 500, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  return res;
}

const preflight = (/** @type {string} */ origin, /** @type {string} */ method, /** @type {string} */ headers) => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": method, "access-control-request-headers": headers },
});

describe("T17: CORS", () => {
  let allowed = 0;
  let refused = 0;
  const paths = () => [
    ["/api/runs", "POST"],
    [`/api/runs/${ids.Q}/cancel`, "POST"],
    [`/api/runs/${ids.Q}`, "GET"],
    [`/v1/runs/${ids.G}/cancel`, "POST"],
    [`/workflow_runs/${ids.X}`, "GET"],
  ];

  it("preflights from the dashboard's origin and the listed one: that exact origin, the API's methods and headers only, no credentials, bounded cache", async () => {
    for (const origin of [s.url, LISTED]) {
      for (const [path, method] of paths()) {
        const what = `preflight ${method} ${path} from ${origin}`;
        const res = await look(what, path, preflight(origin, method, "authorization, content-type"));
        assert.equal(res.status, 204, what);
        assert.equal(res.headers.get("access-control-allow-origin"), origin, `${what}: allow-origin`);
        const methods = (res.headers.get("access-control-allow-methods") ?? "").split(",").map((m) => m.trim());
        assert.ok(methods.includes(method), `${what}: ${method} not allowed`);
        assert.deepEqual(methods.filter((m) => !["GET", "POST"].includes(m)), [], `${what}: methods the API never uses: ${methods}`);
        const headers = (res.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
        assert.deepEqual(headers.filter((h) => !ALLOWED_HEADERS.has(h)), [], `${what}: headers beyond the API's own`);
        assert.ok(headers.includes("authorization") && headers.includes("content-type"), `${what}: headers`);
        assert.equal(res.headers.get("access-control-allow-credentials"), null, `${what}: credentials`);
        const maxAge = Number(res.headers.get("access-control-max-age"));
        assert.ok(maxAge > 0 && maxAge <= 86_400, `${what}: max-age ${maxAge}`);
        assert.match(res.headers.get("vary") ?? "", /origin/i, `${what}: Vary: Origin`);
        allowed++;
      }
    }
  });

  it("preflights from any other origin: 403 in the route's shape, no Access-Control-Allow-Origin", async () => {
    const port = Number(new URL(s.url).port);
    // (`https://` on the server's own host and port is left out: wrangler dev's local proxy rewrites
    // such an Origin to the server's own `http://` one before the Worker sees it.)
    const foreign = [
      "https://evil.example",
      "null",
      `http://127.0.0.1:${port + 1}`,
      `http://localhost:${port}`,
      `${LISTED}.evil.example`,
      "https://dash.example.test:8443",
      "http://dash.example.test",
      `https://evil.example/${LISTED}`,
    ];
    for (const origin of foreign) {
      for (const [path, method] of paths()) {
        const what = `preflight ${method} ${path} from ${origin}`;
        const res = await look(what, path, preflight(origin, method, "authorization"));
        assert.equal(res.status, 403, what);
        assert.equal(res.headers.get("access-control-allow-origin"), null, `${what}: allow-origin`);
        assert.equal(res.headers.get("access-control-allow-methods"), null, `${what}: allow-methods`);
        assertErrorShape(familyOf(path), res, what);
        refused++;
      }
    }
  });

  it("actual cross-origin requests: a foreign origin's script gets no Access-Control-Allow-Origin, the listed one gets its own", async () => {
    const evil = await look("GET run from evil", `/api/runs/${ids.Q}`, { headers: { origin: "https://evil.example", authorization: `Bearer ${org.user}` } });
    assert.equal(evil.headers.get("access-control-allow-origin"), null);
    const listed = await look("GET run from the listed origin", `/api/runs/${ids.Q}`, { headers: { origin: LISTED, authorization: `Bearer ${org.user}` } });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers.get("access-control-allow-origin"), LISTED);
    assert.match(listed.headers.get("vary") ?? "", /origin/i);
    assert.equal(listed.headers.get("access-control-allow-credentials"), null);
    const err = await look("404 from the listed origin", "/v1/runs/grun_nope", { headers: { origin: LISTED, authorization: `Bearer ${org.user}` } });
    assert.equal(err.status, 404);
    assert.equal(err.headers.get("access-control-allow-origin"), LISTED, "errors are readable by the listed origin too");
    const wild = seen.filter(({ headers }) => headers.get("access-control-allow-origin") === "*" || headers.get("access-control-allow-credentials") !== null);
    await record("T17-cors", "CORS", [
      { figure: "preflights from the dashboard / listed origin answered with that exact origin", target: "100 %", value: `${allowed} of ${paths().length * 2}`, pass: allowed === paths().length * 2 },
      { figure: "preflights from foreign origins refused (403, no CORS headers)", target: "100 %", value: `${refused} of ${paths().length * 8}`, pass: refused === paths().length * 8 },
      { figure: "replies with Access-Control-Allow-Origin: * or credentials", target: "0", value: wild.length, pass: wild.length === 0 },
    ]);
    assert.deepEqual(wild.map((w) => w.what), [], "replies allowing any origin or credentials");
  });
});

describe("T17: CSRF and Cross-Site WebSocket Hijacking", () => {
  let cookieRefused = 0;
  let cookieCases = 0;
  it("ambient cookies never authenticate: cross-site form posts and fetches with the key in a cookie change nothing", async () => {
    const before = await snapshot(s.url, org.user, ids.Q);
    const cookie = `api_key=${org.user}; token=${org.user}; Authorization=Bearer%20${org.user}`;
    for (const [what, path, headers, body] of /** @type {[string, string, Record<string, string>, string | undefined][]} */ ([
      ["form post to cancel", `/api/runs/${ids.Q}/cancel`, { origin: "https://evil.example", cookie, "content-type": "application/x-www-form-urlencoded" }, "reason=csrf"],
      ["text/plain post to cancel", `/api/runs/${ids.Q}/cancel`, { origin: "https://evil.example", cookie, "content-type": "text/plain" }, '{"reason":"csrf"}'],
      ["JSON post to cancel, cookie only", `/api/runs/${ids.Q}/cancel`, { origin: "https://evil.example", cookie, "content-type": "application/json" }, '{"reason":"csrf"}'],
      ["form post to a contract cancel", `/v1/runs/${ids.G}/cancel`, { origin: "https://evil.example", cookie, "content-type": "application/x-www-form-urlencoded" }, "x=1"],
      ["bodiless post to 003 cancel", `/workflow_runs/${ids.X}/cancel`, { origin: "https://evil.example", cookie }, undefined],
      ["create a run, cookie only", "/api/runs", { cookie, "content-type": "application/json" }, '{"kind":"workflow"}'],
    ])) {
      cookieCases++;
      const res = await look(what, path, { method: "POST", headers, body });
      assert.equal(res.status, 401, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
      assertErrorShape(familyOf(path), res, what);
      assert.equal(res.headers.get("access-control-allow-origin"), null, what);
      cookieRefused++;
    }
    assert.deepEqual(await snapshot(s.url, org.user, ids.Q), before, "a cookie-only request changed the run");
    for (const id of [ids.G, ids.X]) assert.equal((await call(s.url, `/api/runs/${id}`, { key: org.user })).body.run.status, "queued");
  });

  it("WebSocket upgrades from a foreign Origin are refused with 403 before 101, whatever the credentials", async () => {
    const ticket = (await call(s.url, "/api/tickets", { key: org.user, body: {} })).body.ticket;
    const t = encodeURIComponent(ticket);
    const key = { authorization: `Bearer ${org.user}` };
    const exec = { authorization: `Bearer ${org.executor}` };
    let refusedWs = 0;
    const cases = /** @type {[string, string, Record<string, string>][]} */ ([
      ["run watch, key", `/api/runs/${ids.Q}/watch`, key],
      ["run watch, ticket", `/api/runs/${ids.Q}/watch?ticket=${t}`, {}],
      ["org watch, key", "/api/watch", key],
      ["org watch, ticket", `/api/watch?ticket=${t}`, {}],
      ["executor stream, executor key", `/api/runs/${ids.R}/executor?lease_id=x`, exec],
    ]);
    for (const origin of ["https://evil.example", "null", `${LISTED}.evil.example`]) {
      for (const [what, path, headers] of cases) {
        assert.equal(await upgradeStatus(`${s.ws}${path}`, { ...headers, origin }), 403, `${what} from ${origin}`);
        refusedWs++;
      }
    }
    // The dashboard's own origin and the listed one open the same streams.
    for (const origin of [s.url, LISTED]) {
      assert.equal(await upgradeStatus(`${s.ws}/api/runs/${ids.Q}/watch?ticket=${t}`, { origin }), 0, `run watch from ${origin}`);
      assert.equal(await upgradeStatus(`${s.ws}/api/watch?ticket=${t}`, { origin }), 0, `org watch from ${origin}`);
    }
    await record("T17-cswsh", "CSRF and cross-site WebSocket hijacking", [
      { figure: "cookie-only state-changing requests refused (401), runs unchanged", target: "100 %", value: `${cookieRefused} of ${cookieCases}`, pass: cookieRefused === cookieCases },
      { figure: "WebSocket upgrades from foreign origins refused with 403 before 101", target: "100 %", value: `${refusedWs} of ${cases.length * 3}`, pass: refusedWs === cases.length * 3 },
    ]);
  });
});

describe("security headers", () => {
  let apiHeaders = "";
  it("API replies with run data or errors: no-store, nosniff, Referrer-Policy, frame-ancestors 'none'", async () => {
    const key = { authorization: `Bearer ${org.user}` };
    /** @type {import("./lib.mjs").Reply[]} */
    const replies = [
      await look("get run", `/api/runs/${ids.Q}`, { headers: key }),
      await look("list", "/api/runs", { headers: key }),
      await look("events", `/api/runs/${ids.Q}/events`, { headers: key }),
      await look("404", "/api/runs/run_nope", { headers: key }),
      await look("401", `/api/runs/${ids.Q}`),
      await look("004 get", `/v1/runs/${ids.G}`, { headers: key }),
      await look("003 get", `/workflow_runs/${ids.X}`, { headers: key }),
      await look("000 404", "/v1/workflows/runs/run_nope", { headers: key }),
      await look("health", "/healthz"),
      await look("openapi", "/openapi.json"),
    ];
    let good = 0;
    for (const [i, res] of replies.entries()) {
      const what = `reply ${i} (${res.status})`;
      assert.equal(res.headers.get("cache-control"), "no-store", `${what}: cache-control`);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${what}: nosniff`);
      assert.equal(res.headers.get("referrer-policy"), "no-referrer", `${what}: referrer-policy`);
      assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, `${what}: frame-ancestors`);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'none'/, `${what}: default-src`);
      good++;
    }
    apiHeaders = `${good} of ${replies.length}`;
  });

  it("the dashboard: a strict CSP with no inline script, frame-ancestors 'none', nosniff, Referrer-Policy", async () => {
    const html = await look("dashboard", "/");
    assert.equal(html.status, 200);
    const scripts = [...html.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length > 0, "the page loads its script");
    for (const [, attrs, inline] of scripts) {
      assert.match(attrs, /\bsrc=/, "a script without src");
      assert.equal(inline.trim(), "", "inline script");
    }
    assert.doesNotMatch(html.text, /\son[a-z]+=/i, "inline event handlers");
    const pages = ["/", "/index.html", "/runs/run_x", "/favicon.svg"];
    let strict = 0;
    for (const path of pages) {
      const res = path === "/" ? html : await look(path, path);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get("content-security-policy") ?? "";
      const directive = (/** @type {string} */ name) => csp.split(";").map((d) => d.trim()).find((d) => d.startsWith(`${name} `)) ?? "";
      assert.match(directive("default-src"), /'none'|'self'/, `${path}: default-src`);
      assert.ok(directive("script-src"), `${path}: script-src`);
      assert.doesNotMatch(directive("script-src"), /'unsafe-inline'|'unsafe-eval'|\*/, `${path}: script-src allows inline, eval or anything`);
      assert.equal(directive("frame-ancestors"), "frame-ancestors 'none'", `${path}: frame-ancestors`);
      assert.equal(directive("object-src") || directive("default-src"), "default-src 'none'", `${path}: objects`);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${path}: nosniff`);
      assert.ok(res.headers.get("referrer-policy"), `${path}: referrer-policy`);
      strict++;
    }
    await record("T17-headers", "security headers", [
      { figure: "API replies (run data, lists, errors, contracts) with no-store, nosniff, Referrer-Policy, CSP frame-ancestors 'none'", target: "100 %", value: apiHeaders, pass: apiHeaders === "10 of 10" },
      { figure: "dashboard pages with a CSP without inline script or eval, frame-ancestors 'none', nosniff", target: "100 %", value: `${strict} of ${pages.length}`, pass: strict === pages.length },
    ]);
  });
});
