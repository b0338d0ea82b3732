import { SELF, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("health", () => {
  it("answers /healthz with the service status", async () => {
    const res = await SELF.fetch("https://runbrake.test/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toMatchObject({ status: "ok", version: expect.any(String) });
  });

  it("round-trips to a Durable Object that counts probes in SQLite", async () => {
    const first = await (await SELF.fetch("https://runbrake.test/healthz/deep")).json<{ probes: number }>();
    const second = await (await SELF.fetch("https://runbrake.test/healthz/deep")).json<{ probes: number }>();
    expect(second.probes).toBe(first.probes + 1);

    const stub = env.RUNS.get(env.RUNS.idFromName("healthz"));
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec("SELECT probes FROM health WHERE id = 1").toArray(),
    );
    expect(rows).toEqual([{ probes: second.probes }]);
  });

  it("answers unknown routes and wrong methods with problem+json", async () => {
    const missing = await SELF.fetch("https://runbrake.test/nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({ code: "not_found", status: 404 });

    const wrong = await SELF.fetch("https://runbrake.test/healthz", { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
  });

  it("accepts a hibernatable WebSocket on the object and answers probes over it", async () => {
    const res = await SELF.fetch("https://runbrake.test/healthz/deep", {
      headers: { upgrade: "websocket" },
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("no websocket in the 101 response");
    ws.accept();
    const reply = new Promise<string>((resolve) =>
      ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true }),
    );
    ws.send("probe");
    expect(JSON.parse(await reply)).toMatchObject({ probes: expect.any(Number) });
    ws.close(1000, "done");
  });
});
