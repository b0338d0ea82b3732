import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, claim, createRun, newOrg, openSocket, upgradeStatus } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {{orgId: string, user: string, executor: string}} */
let org;
/** @type {string} */
let ws;

before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN } });
  org = await newOrg(server.url, ADMIN);
  ws = server.url.replace(/^http/, "ws");
});
after(async () => {
  await server?.stop();
});

describe("live streams over WebSocket", () => {
  it("pushes a run's cancel to its watcher, and its executor, before the canceller's reply returns", async () => {
    const run = await createRun(server.url, org);
    const lease = await claim(server.url, org, run.id);
    const watcher = await openSocket(`${ws}/api/runs/${run.id}/watch`, { authorization: `Bearer ${org.user}` });
    const executor = await openSocket(`${ws}/api/runs/${run.id}/executor?lease_id=${lease}`, {
      authorization: `Bearer ${org.executor}`,
    });
    const snapshot = await watcher.next((m) => m.type === "snapshot");
    assert.equal(snapshot.run.state.status.type, "running");

    const cancel = await call(server.url, `/api/runs/${run.id}/cancel`, { key: org.user, body: { grace_ms: 30_000 } });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.outcome.kind, "requested");
    // Broadcasts leave with the commit, before the HTTP reply: both are already here or next.
    const signal = await executor.next((m) => m.type === "cancel_requested");
    assert.equal(signal.lease_id, lease);
    assert.equal(signal.deadline, cancel.body.outcome.deadline);
    const update = await watcher.next((m) => m.type === "update" && m.run.state.status.type === "cancelling");
    assert.equal(update.seq, cancel.body.run.version);

    const ack = await call(server.url, `/api/runs/${run.id}/ack-cancel`, { key: org.executor, body: { lease_id: lease } });
    assert.equal(ack.status, 200);
    const done = await watcher.next((m) => m.type === "update" && m.run.state.status.type === "cancelled");
    assert.equal(done.run.state.status.forced, false);
    await executor.next((m) => m.type === "run_ended" && m.status === "cancelled");
    watcher.close();
    executor.close();
  });

  it("replays what a reconnecting watcher missed, by seq", async () => {
    const run = await createRun(server.url, org, { initial: "pending" });
    await call(server.url, `/api/runs/${run.id}/enqueue`, { key: org.executor, body: {} });
    await claim(server.url, org, run.id);
    const watcher = await openSocket(`${ws}/api/runs/${run.id}/watch?after_seq=1`, { authorization: `Bearer ${org.user}` });
    const snapshot = await watcher.next((m) => m.type === "snapshot");
    const replayed = watcher.messages.filter((m) => m.type === "event").map((m) => m.seq);
    assert.deepEqual(replayed, Array.from({ length: snapshot.seq - 1 }, (_, i) => i + 2));
    assert.deepEqual(
      watcher.messages.filter((m) => m.type === "event").map((m) => m.record.event.type),
      ["enqueued", "claimed"],
    );
    watcher.close();
  });

  it("streams the organisation's run list", async () => {
    const list = await openSocket(`${ws}/api/watch`, { authorization: `Bearer ${org.user}` });
    const hello = await list.next((m) => m.type === "hello");
    const run = await createRun(server.url, org, { name: "streamed" });
    const seen = await list.next((m) => m.type === "run" && m.run.id === run.id);
    assert.ok(seen.seq > hello.seq);
    assert.equal(seen.run.name, "streamed");
    list.close();
  });

  it("authenticates browsers with a short-lived ticket, never a key in the URL", async () => {
    const run = await createRun(server.url, org);
    const ticket = await call(server.url, "/api/tickets", { key: org.user, method: "POST" });
    assert.equal(ticket.status, 201);
    const watcher = await openSocket(`${ws}/api/runs/${run.id}/watch?ticket=${encodeURIComponent(ticket.body.ticket)}`);
    await watcher.next((m) => m.type === "snapshot");
    watcher.close();
    assert.equal(await upgradeStatus(`${ws}/api/runs/${run.id}/watch?ticket=forged.ticket`), 401);
    assert.equal(await upgradeStatus(`${ws}/api/runs/${run.id}/watch`), 401);
  });

  it("refuses foreign origins and other organisations before the upgrade", async () => {
    const run = await createRun(server.url, org);
    const headers = { authorization: `Bearer ${org.user}` };
    assert.equal(await upgradeStatus(`${ws}/api/runs/${run.id}/watch`, { ...headers, origin: "https://evil.example" }), 403);
    assert.equal(await upgradeStatus(`${ws}/api/runs/${run.id}/watch`, { ...headers, origin: server.url }), 0);
    const other = await newOrg(server.url, ADMIN, "other org");
    assert.equal(await upgradeStatus(`${ws}/api/runs/${run.id}/watch`, { authorization: `Bearer ${other.user}` }), 404);
    assert.equal(
      await upgradeStatus(`${ws}/api/runs/${run.id}/executor?lease_id=x`, { authorization: `Bearer ${org.user}` }),
      403,
    );
  });
});
