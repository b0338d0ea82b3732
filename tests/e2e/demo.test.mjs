import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { adminToken, call } from "../lib/api.mjs";
import { ROOT, startDevServer } from "../lib/server.mjs";

const run = promisify(execFile);
const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {string} */
let dir;

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN } });
  dir = await mkdtemp(join(tmpdir(), "runbrake-demo-"));
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("make dev's demo", () => {
  it("creates the demo organisation once, seeds runs of every kind, and reuses it", async () => {
    const state = join(dir, "demo.json");
    const args = [join(ROOT, "scripts/demo.mjs"), "--url", server.url, "--state", state, "--admin-token", ADMIN, "--seed-only"];
    const first = await run(process.execPath, args);
    assert.match(first.stdout, /sign in at http:\/\/127\.0\.0\.1:\d+\/#key=rbk_/);
    const saved = JSON.parse(await readFile(state, "utf8"));
    const me = await call(server.url, "/api/me", { key: saved.userKey });
    assert.equal(me.status, 200);
    assert.equal(me.body.role, "user");

    // The index is fed asynchronously (outbox): wait for the seeded runs to appear.
    /** @type {any[]} */
    let runs = [];
    for (let i = 0; i < 200 && runs.length < 8; i++) {
      runs = (await call(server.url, "/api/runs?limit=200", { key: saved.userKey })).body.data;
    }
    assert.equal(runs.length, 8);
    assert.deepEqual(
      new Set(runs.map((r) => r.kind)),
      new Set(["workflow", "workflow_test", "experiment", "extend_workflow", "generic"]),
    );
    assert.deepEqual(
      new Set(runs.map((r) => r.status)),
      new Set(["running", "waiting", "queued", "pending", "completed", "cancelled"]),
    );

    const second = await run(process.execPath, args);
    assert.match(second.stdout, new RegExp(saved.orgId));
    const again = (await call(server.url, "/api/runs?limit=200", { key: saved.userKey })).body.data;
    assert.equal(again.length, 8, "a second start must not seed again");
  });
});
