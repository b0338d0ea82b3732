// T16 (RELIABILITY.md): authentication and function-level authorisation. Missing, malformed,
// wrong-prefix, unknown-organisation, wrong-secret and revoked keys get 401 with
// `WWW-Authenticate: Bearer` in every route family's own shape (the "invalid" cases all with one
// identical body); keys in URLs or cookies never authenticate; an executor key on a user route and a
// user key on an executor route get 403 and change nothing; reads are open to both roles.
// The comparator's constant-time proof is a native unit test: `cargo test -p runbrake-worker auth::`.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { upgradeStatus } from "../lib/api.mjs";
import { assertErrorShape, call, familyOf, leaks, newOrg, record, runIn, send, snapshot, startServer } from "./lib.mjs";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let s;
/** @type {import("./lib.mjs").Org} */
let org;
/** @type {Record<string, string>} */
const ids = {};
let leaseId = "";
let revokedKey = "";
let secondUserKey = "";
/** @type {string[]} */
const serverErrors = [];

const B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const rand = (/** @type {number} */ n) => Array.from(randomBytes(n), (b) => B62[b % 62]).join("");

before(async () => {
  s = await startServer({ TEST_CLOCK: "1" });
  org = await newOrg(s.url, s.admin, "t16");
  const [q, r, w, t, e, x, g] = await Promise.all([
    runIn(s.url, org, "queued"),
    runIn(s.url, org, "running"),
    runIn(s.url, org, "queued", { kind: "workflow" }),
    runIn(s.url, org, "queued", { kind: "workflow_test" }),
    runIn(s.url, org, "queued", { kind: "experiment" }),
    runIn(s.url, org, "queued", { kind: "extend_workflow" }),
    runIn(s.url, org, "queued", { kind: "generic" }),
  ]);
  Object.assign(ids, { Q: q.id, R: r.id, W: w.id, T: t.id, E: e.id, X: x.id, G: g.id });
  leaseId = r.leaseId ?? "";
  // Rotation: a second user key beside the first; and a third that is revoked before the tests.
  const mint = async () => {
    const res = await call(s.url, `/api/admin/orgs/${org.orgId}/keys`, { key: s.admin, body: { role: "user", label: "rotation" } });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const [second, third] = await Promise.all([mint(), mint()]);
  secondUserKey = second.key;
  revokedKey = third.key;
  // The revoked key worked a moment ago (so it is in the isolate's cache), then is revoked.
  assert.equal((await call(s.url, "/api/me", { key: revokedKey })).status, 200);
  const rev = await call(s.url, `/api/admin/orgs/${org.orgId}/keys/${third.key_id}/revoke`, { key: s.admin, body: {} });
  assert.equal(rev.status, 200, rev.text);
});
after(async () => {
  await s?.server.stop();
});

/** One request per route family and per kind of route (read, write, executor, admin-free). */
const ROUTES = () => [
  { what: "list runs", method: "GET", path: "/api/runs" },
  { what: "get run", method: "GET", path: `/api/runs/${ids.Q}` },
  { what: "cancel", method: "POST", path: `/api/runs/${ids.Q}/cancel`, body: "{}", target: "Q" },
  { what: "claim", method: "POST", path: `/api/runs/${ids.Q}/claim`, body: '{"executor":"e"}', target: "Q" },
  { what: "me", method: "GET", path: "/api/me" },
  { what: "ticket", method: "POST", path: "/api/tickets", body: "{}" },
  { what: "bulk jobs", method: "GET", path: "/api/bulk-cancels" },
  { what: "000 cancel", method: "POST", path: `/v1/workflows/runs/${ids.W}/cancel`, body: "{}", target: "W" },
  { what: "000 get", method: "GET", path: `/v1/workflows/runs/${ids.W}` },
  { what: "001 cancel", method: "POST", path: `/v1/workflows/tests/runs/${ids.T}/cancel`, target: "T" },
  { what: "002 get", method: "GET", path: `/v1/workflows/experiments/runs/${ids.E}` },
  { what: "003 cancel", method: "POST", path: `/workflow_runs/${ids.X}/cancel`, target: "X" },
  { what: "003 get", method: "GET", path: `/workflow_runs/${ids.X}` },
  { what: "004 cancel", method: "POST", path: `/v1/runs/${ids.G}/cancel`, target: "G" },
  { what: "004 get", method: "GET", path: `/v1/runs/${ids.G}` },
];

/**
 * Credentials that must not authenticate. `invalid` ones must all get one identical body per route.
 * @returns {{what: string, headers: Record<string, string>, invalid: boolean}[]}
 */
const CREDENTIALS = () => [
  { what: "no credentials", headers: {}, invalid: false },
  { what: "Bearer with no token", headers: { authorization: "Bearer" }, invalid: false },
  { what: "Basic scheme with the real key", headers: { authorization: `Basic ${Buffer.from(`x:${org.user}`).toString("base64")}` }, invalid: false },
  { what: "prefix only", headers: { authorization: "Bearer rbk_" }, invalid: true },
  { what: "short secret", headers: { authorization: `Bearer rbk_${org.orgId}.short` }, invalid: true },
  { what: "wrong prefix (sk_live_)", headers: { authorization: `Bearer ${org.user.replace(/^rbk_/, "sk_live_")}` }, invalid: true },
  { what: "wrong prefix (rbx_)", headers: { authorization: `Bearer ${org.user.replace(/^rbk_/, "rbx_")}` }, invalid: true },
  { what: "unknown organisation (another deployment's key)", headers: { authorization: `Bearer rbk_org_${rand(22)}.${rand(43)}` }, invalid: true },
  { what: "right organisation, wrong secret", headers: { authorization: `Bearer rbk_${org.orgId}.${rand(43)}` }, invalid: true },
  { what: "the real key with one character changed", headers: { authorization: `Bearer ${org.user.slice(0, -1)}${org.user.endsWith("A") ? "B" : "A"}` }, invalid: true },
  { what: "revoked key", headers: { authorization: `Bearer ${revokedKey}` }, invalid: true },
  { what: "Api-Key header, wrong secret", headers: { "api-key": `rbk_${org.orgId}.${rand(43)}` }, invalid: true },
  { what: "the admin token as an API key", headers: { authorization: `Bearer ${s.admin}` }, invalid: true },
  { what: "the real key in a cookie", headers: { cookie: `api_key=${org.user}; token=${org.user}; session=${org.user}` }, invalid: false },
];

let refused = 0;
let checked = 0;
/** A ticket that opened a stream, checked again once the test clock has passed its expiry. */
let expiring = "";

describe("T16: authentication", () => {

  it("every bad credential on every route family: 401, WWW-Authenticate: Bearer, the route's shape, nothing changed", async () => {
    const before = Object.fromEntries(await Promise.all(Object.keys(ids).map(async (k) => [k, await snapshot(s.url, org.user, ids[k])])));
    /** @type {string[]} */
    const failures = [];
    for (const route of ROUTES()) {
      /** @type {string | null} */
      let invalidBody = null;
      for (const cred of CREDENTIALS()) {
        const what = `${route.what} with ${cred.what}`;
        /** @type {Record<string, string>} */
        const headers = { ...cred.headers, ...(route.body === undefined ? {} : { "content-type": "application/json" }) };
        const res = await send(s.url, route.path, { method: route.method, headers, body: route.body });
        checked++;
        try {
          if (res.status >= 500) serverErrors.push(`${what}: ${res.status}`);
          assert.equal(res.status, 401, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
          assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer\b/, `${what}: WWW-Authenticate`);
          assertErrorShape(familyOf(route.path), res, what);
          assert.deepEqual(leaks(res.text), [], `${what}: leaks`);
          for (const v of Object.values(cred.headers)) {
            const secret = v.replace(/^(Bearer|Basic) /, "");
            if (secret.length > 8) assert.ok(!res.text.includes(secret), `${what}: the answer echoes the credential`);
          }
          if (cred.invalid) {
            // Unknown key, wrong key, revoked key…: one answer, nothing to tell them apart.
            const body = res.text.replace(/"requestId":"req_[A-Za-z0-9]+"/, "");
            invalidBody ??= body;
            assert.equal(body, invalidBody, `${what}: differs from the other invalid keys' answer`);
          }
          refused++;
        } catch (err) {
          failures.push(err instanceof Error ? err.message : String(err));
        }
      }
    }
    for (const k of Object.keys(ids)) assert.deepEqual(await snapshot(s.url, org.user, ids[k]), before[k], `run ${k} changed`);
    assert.deepEqual(failures, [], failures.join("\n\n"));
  });

  it("admin routes take only the admin token", async () => {
    for (const [what, key] of [
      ["no token", ""],
      ["a user key", org.user],
      ["an executor key", org.executor],
      ["the admin token with one character changed", `${s.admin.slice(0, -1)}${s.admin.endsWith("a") ? "b" : "a"}`],
      ["a prefix of the admin token", s.admin.slice(0, 16)],
    ]) {
      for (const [method, path, body] of [
        ["POST", "/api/admin/orgs", { name: "x" }],
        ["GET", `/api/admin/orgs/${org.orgId}/keys`, undefined],
        ["POST", `/api/admin/orgs/${org.orgId}/keys`, { role: "user" }],
      ]) {
        const res = await call(s.url, /** @type {string} */ (path), { method: /** @type {string} */ (method), key: key || undefined, body });
        checked++;
        assert.equal(res.status, 401, `${what} on ${method} ${path}: ${res.status}`);
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer\b/);
        assertErrorShape("native", res, `${what} on ${path}`);
        refused++;
      }
    }
  });

  it("keys in URLs are refused, even beside a valid header; only seed 000's documented access_token is read", async () => {
    for (const q of ["api_key", "apikey", "key", "token", "access_token", "API_KEY", "x"]) {
      const res = await call(s.url, `/api/runs/${ids.Q}?${q}=${encodeURIComponent(org.user)}`, { key: org.user });
      checked++;
      assert.equal(res.status, 401, `?${q}=<key> with a valid header: ${res.status}`);
      assert.equal(res.headers.get("x-runbrake-hint"), "API keys are never accepted in URLs");
      assert.ok(!res.text.includes(org.user), "the answer echoes the key");
      refused++;
    }
    // Contract routes other than 000's cancel never read a key from the URL.
    for (const path of [`/v1/workflows/runs/${ids.W}`, `/workflow_runs/${ids.X}`, `/v1/runs/${ids.G}`, `/v1/workflows/tests/runs/${ids.T}/cancel`]) {
      const method = path.endsWith("/cancel") ? "POST" : "GET";
      const res = await send(s.url, `${path}?access_token=${encodeURIComponent(org.user)}&api_key=${encodeURIComponent(org.user)}`, { method });
      checked++;
      assert.equal(res.status, 401, `${path} with a key only in the URL: ${res.status}`);
      assertErrorShape(familyOf(path), res, path);
      refused++;
    }
    // WebSockets: a key in the URL is not a ticket.
    const ws = await upgradeStatus(`${s.ws}/api/runs/${ids.Q}/watch?api_key=${encodeURIComponent(org.user)}&token=${encodeURIComponent(org.user)}`);
    checked++;
    assert.equal(ws, 401);
    refused++;
  });

  it("WebSocket upgrades: missing, wrong, revoked keys and bad or expired tickets are refused with 401 before 101", async () => {
    const ticket = await call(s.url, "/api/tickets", { key: org.user, body: {} });
    assert.equal(ticket.status, 201, ticket.text);
    const good = ticket.body.ticket;
    const [payload, sig] = good.split(".");
    const tampered = `${payload.slice(0, -2)}${payload.at(-2) === "A" ? "B" : "A"}${payload.at(-1)}.${sig}`;
    for (const [what, path, headers] of /** @type {[string, string, Record<string, string>][]} */ ([
      ["no credentials", `/api/runs/${ids.Q}/watch`, {}],
      ["wrong secret", `/api/runs/${ids.Q}/watch`, { authorization: `Bearer rbk_${org.orgId}.${rand(43)}` }],
      ["revoked key", `/api/runs/${ids.Q}/watch`, { authorization: `Bearer ${revokedKey}` }],
      ["tampered ticket", `/api/runs/${ids.Q}/watch?ticket=${encodeURIComponent(tampered)}`, {}],
      ["garbage ticket", `/api/runs/${ids.Q}/watch?ticket=abc.def`, {}],
      ["org stream, no credentials", "/api/watch", {}],
      ["executor stream, no credentials", `/api/runs/${ids.R}/executor?lease_id=${leaseId}`, {}],
    ])) {
      checked++;
      assert.equal(await upgradeStatus(`${s.ws}${path}`, headers), 401, what);
      refused++;
    }
    // The good ticket opens the stream (its expiry is checked last, after the clock moves).
    assert.equal(await upgradeStatus(`${s.ws}/api/runs/${ids.Q}/watch?ticket=${encodeURIComponent(good)}`), 0, "a fresh ticket must open the stream");
    expiring = good;
  });

  it("rotation: two user keys work side by side; revocation takes effect on the next request", async () => {
    assert.equal((await call(s.url, "/api/me", { key: org.user })).status, 200);
    assert.equal((await call(s.url, "/api/me", { key: secondUserKey })).status, 200);
    checked++;
    assert.equal((await call(s.url, "/api/me", { key: revokedKey })).status, 401);
    refused++;
  });
});

describe("T16: function-level authorisation", () => {
  it("executor keys on user routes and user keys on executor routes: 403 in the route's shape, nothing changed", async () => {
    const before = Object.fromEntries(await Promise.all(Object.keys(ids).map(async (k) => [k, await snapshot(s.url, org.user, ids[k])])));
    const userRoutes = [
      ["POST", "/api/runs", '{"kind":"workflow"}'],
      ["POST", `/api/runs/${ids.Q}/cancel`, "{}"],
      ["POST", `/api/runs/${ids.R}/reject`, "{}"],
      ["POST", "/api/bulk-cancels/dry-run", `{"selection":{"ids":["${ids.Q}"]}}`],
      ["POST", "/api/bulk-cancels", '{"dry_run_id":"bdr_x"}'],
      ["GET", "/api/bulk-cancels", undefined],
      ["POST", `/v1/workflows/runs/${ids.W}/cancel`, "{}"],
      ["POST", `/v1/workflows/tests/runs/${ids.T}/cancel`, undefined],
      ["POST", `/v1/workflows/experiments/runs/${ids.E}/cancel`, undefined],
      ["POST", `/workflow_runs/${ids.X}/cancel`, undefined],
      ["POST", `/v1/runs/${ids.G}/cancel`, undefined],
    ];
    const executorRoutes = [
      ["POST", `/api/runs/${ids.Q}/enqueue`, "{}"],
      ["POST", `/api/runs/${ids.Q}/claim`, '{"executor":"e"}'],
      ["POST", `/api/runs/${ids.R}/heartbeat`, JSON.stringify({ lease_id: leaseId })],
      ["POST", `/api/runs/${ids.R}/wait`, JSON.stringify({ lease_id: leaseId, reason: "sleep" })],
      ["POST", `/api/runs/${ids.R}/resume`, '{"executor":"e"}'],
      ["POST", `/api/runs/${ids.R}/complete`, JSON.stringify({ lease_id: leaseId })],
      ["POST", `/api/runs/${ids.R}/fail`, JSON.stringify({ lease_id: leaseId, message: "x" })],
      ["POST", `/api/runs/${ids.R}/ack-cancel`, JSON.stringify({ lease_id: leaseId })],
      ["POST", `/api/runs/${ids.R}/children`, '{"items":[{"id":"c1"}]}'],
      ["POST", `/api/runs/${ids.R}/children/c1`, '{"to":"running"}'],
    ];
    let forbidden = 0;
    for (const [list, key, role] of /** @type {const} */ ([
      [userRoutes, org.executor, "executor key on a user route"],
      [executorRoutes, org.user, "user key on an executor route"],
    ])) {
      for (const [method, path, body] of list) {
        const what = `${role}: ${method} ${path}`;
        const res = await send(s.url, /** @type {string} */ (path), {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body,
        });
        assert.equal(res.status, 403, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
        assertErrorShape(familyOf(/** @type {string} */ (path)), res, what);
        if (familyOf(/** @type {string} */ (path)) === "native") assert.equal(res.body.code, "forbidden");
        forbidden++;
      }
    }
    // The executor's own stream needs an executor key.
    assert.equal(await upgradeStatus(`${s.ws}/api/runs/${ids.R}/executor?lease_id=${leaseId}`, { authorization: `Bearer ${org.user}` }), 403);
    forbidden++;
    const changed = [];
    for (const k of Object.keys(ids)) {
      if (JSON.stringify(await snapshot(s.url, org.user, ids[k])) !== JSON.stringify(before[k])) changed.push(k);
    }
    const total = userRoutes.length + executorRoutes.length + 1;
    await record("T16-authz", "function-level authorisation", [
      { figure: "wrong-role calls refused with 403 (every user and executor route, every contract cancel, executor stream)", target: "100 %", value: `${forbidden} of ${total}`, pass: forbidden === total },
      { figure: "runs changed by refused calls", target: "0", value: changed.length, pass: changed.length === 0 },
    ]);
    assert.deepEqual(changed, [], "runs changed by refused calls");
    // Reads are open to both roles (an executor reads the runs it works on), on every family.
    for (const path of [`/api/runs/${ids.R}`, `/api/runs/${ids.R}/events`, "/api/runs", "/api/me", `/v1/workflows/runs/${ids.W}`, `/workflow_runs/${ids.X}`, `/v1/runs/${ids.G}`]) {
      for (const key of [org.user, org.executor]) {
        const res = await call(s.url, path, { key });
        assert.equal(res.status, 200, `read ${path} with ${key === org.user ? "user" : "executor"} key: ${res.status}`);
      }
    }
  });
});

// Last, because it moves the test clock (leases of the runs above would expire with it).
describe("T16: ticket expiry", () => {
  it("a ticket 61 s old no longer opens a stream", async () => {
    assert.ok(expiring, "no ticket from the WebSocket test");
    const moved = await call(s.url, "/api/admin/test-clock", { key: s.admin, body: { advance_ms: 61_000 } });
    assert.equal(moved.status, 200, moved.text);
    checked++;
    assert.equal(await upgradeStatus(`${s.ws}/api/runs/${ids.Q}/watch?ticket=${encodeURIComponent(expiring)}`), 401, "an expired ticket");
    refused++;
    await record("T16", "authentication and function-level authorisation", [
      { figure: "bad credentials refused with 401 + WWW-Authenticate: Bearer (or 401 before 101)", target: "100 %", value: `${refused} of ${checked}`, pass: refused === checked },
      { figure: "responses ≥ 500", target: "0", value: serverErrors.length, pass: serverErrors.length === 0 },
    ]);
    assert.deepEqual(serverErrors, []);
  });
});
