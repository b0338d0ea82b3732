import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { startDevServer } from "../lib/server.mjs";

/** @type {import("../lib/server.mjs").DevServer} */
let server;
before(async () => {
  server = await startDevServer();
});
after(async () => {
  await server?.stop();
});

describe("wrangler dev, over real HTTP and WebSocket", () => {
  it("answers /healthz", async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "ok");
  });

  it("serves the dashboard page at /", async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /<title>runbrake<\/title>/);
  });

  it("keeps Durable Object storage across a kill -9 and restart", async () => {
    const probe = async () => (await (await fetch(`${server.url}/healthz/deep`)).json()).probes;
    const before = await probe();
    await server.kill9();
    await server.restart();
    assert.equal(await probe(), before + 1);
  });

  it("talks to the Durable Object over a WebSocket", async () => {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/healthz/deep`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const reply = new Promise((resolve) => ws.once("message", (d) => resolve(JSON.parse(String(d)))));
    ws.send("probe");
    const body = /** @type {{probes: number}} */ (await reply);
    assert.ok(body.probes >= 1);
    ws.close();
  });
});
