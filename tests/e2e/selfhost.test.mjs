import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, claim, createRun, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
before(async () => {
  server = await startDevServer({ selfHosted: true, vars: { ADMIN_TOKEN: ADMIN } });
});
after(async () => {
  await server?.stop();
});

describe("self-hosted on bare workerd (make serve)", () => {
  it("serves the dashboard, the API and the OpenAPI document from one socket", async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<title>runbrake<\/title>/);
    const spa = await fetch(`${server.url}/runs/some-deep-link`);
    assert.equal(spa.status, 200, "unknown paths fall back to the dashboard");
    const doc = await call(server.url, "/openapi.json");
    assert.equal(doc.body.openapi, "3.1.0");
    assert.equal((await call(server.url, "/api/nope")).status, 404);
  });

  it("cancels a leased run through its deadline and keeps it across kill -9", async () => {
    const org = await newOrg(server.url, ADMIN);
    const run = await createRun(server.url, org);
    const lease = await claim(server.url, org, run.id);
    const cancel = await call(server.url, `/api/runs/${run.id}/cancel`, {
      key: org.user,
      body: { command_id: "selfhost-1", grace_ms: 60_000 },
    });
    assert.equal(cancel.body.outcome.kind, "requested");
    await server.kill9();
    await server.restart();
    const replay = await call(server.url, `/api/runs/${run.id}/cancel`, {
      key: org.user,
      body: { command_id: "selfhost-1", grace_ms: 60_000 },
    });
    assert.equal(replay.body.outcome.kind, "replayed");
    assert.equal(replay.body.run.status, "cancelling");
    const ack = await call(server.url, `/api/runs/${run.id}/ack-cancel`, { key: org.executor, body: { lease_id: lease } });
    assert.equal(ack.body.run.status, "cancelled");
  });
});
