// The live streams' own limits: watchers per run, executor sockets per lease, watchers per
// organisation, and the size of a client's message.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, claim, createRun, newOrg, type Org } from "./helpers";

async function upgrade(path: string, key: string): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, { headers: { upgrade: "websocket", authorization: `Bearer ${key}` } });
}

async function open(path: string, key: string): Promise<WebSocket> {
  const res = await upgrade(path, key);
  expect(res.status, await (res.status === 101 ? "" : res.text())).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  return ws;
}

async function expectFull(path: string, key: string, limit: number) {
  const res = await upgrade(path, key);
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as { code: string; limit: number; detail: string };
  expect(body.code).toBe("too_many_streams");
  expect(body.limit).toBe(limit);
  expect(body.detail).toContain(String(limit));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.addEventListener("close", (e) => resolve(e.code), { once: true }));
}

/** Opens `path` again until the object has noticed a closed socket (its close is asynchronous). */
async function openOnceFreed(path: string, key: string): Promise<WebSocket> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const res = await upgrade(path, key);
    if (res.status === 101) {
      res.webSocket!.accept();
      return res.webSocket!;
    }
    expect(res.status).toBe(429);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} stayed full after a watcher left`);
}

describe("stream limits", () => {
  it("a run takes 100 watchers; the next is refused with 429 before the upgrade, and a freed place is taken", async () => {
    const org: Org = await newOrg();
    const run = await createRun(org);
    const path = `/api/runs/${run.id}/watch`;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 100; i++) sockets.push(await open(path, org.user));
    await expectFull(path, org.user, 100);
    // Another run's watchers are counted apart.
    const other = await createRun(org);
    (await open(`/api/runs/${other.id}/watch`, org.user)).close(1000, "done");

    sockets.pop()!.close(1000, "leaving");
    const again = await openOnceFreed(path, org.user);
    await expectFull(path, org.user, 100);
    for (const ws of [...sockets, again]) ws.close(1000, "done");
  });

  it("a lease takes 4 executor sockets", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    const lease = await claim(org, run.id);
    const path = `/api/runs/${run.id}/executor?lease_id=${lease}`;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 4; i++) sockets.push(await open(path, org.executor));
    await expectFull(path, org.executor, 4);
    for (const ws of sockets) ws.close(1000, "done");
  });

  it("an organisation's list takes 1,000 watchers", async () => {
    const org = await newOrg();
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 1000; i++) sockets.push(await open("/api/watch", org.user));
    await expectFull("/api/watch", org.user, 1000);
    // Another organisation is not affected.
    const other = await newOrg("other");
    (await open("/api/watch", other.user)).close(1000, "done");
    for (const ws of sockets) ws.close(1000, "done");
  });

  it("closes a socket whose client sends more than 1 KiB (1009), after answering pings", async () => {
    const org = await newOrg();
    const run = await createRun(org);
    for (const path of [`/api/runs/${run.id}/watch`, "/api/watch"]) {
      const ws = await open(path, org.user);
      const pong = new Promise<any>((resolve) =>
        ws.addEventListener("message", (e) => {
          const m = JSON.parse(String(e.data));
          if (m.type === "pong") resolve(m);
        }),
      );
      ws.send("ping");
      expect((await pong).seq).toEqual(expect.any(Number));
      const code = closed(ws);
      ws.send("x".repeat(1025));
      expect(await code).toBe(1009);
    }
  });

  it("answers a bad list stream query with a problem naming the field", async () => {
    const org = await newOrg();
    const res = await upgrade("/api/watch?after_seq=-1", org.user);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as { code: string; field: string };
    expect(body.code).toBe("invalid_query");
    expect(body.field).toBe("after_seq");
  });
});
