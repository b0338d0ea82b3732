// Benchmark-only reference (see wrangler.toml): one SQLite-backed object per run.
import { DurableObject } from "cloudflare:workers";

export class ReferenceRun extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS run (id INTEGER PRIMARY KEY, status TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at INTEGER NOT NULL)");
  }

  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname.endsWith("/create")) {
      this.sql.exec("INSERT OR REPLACE INTO run (id, status) VALUES (1, 'running')");
      return Response.json({ status: "running" }, { status: 201 });
    }
    const row = this.sql.exec("SELECT status FROM run WHERE id = 1").toArray()[0];
    if (!row) return Response.json({ error: "not_found" }, { status: 404 });
    if (pathname.endsWith("/cancel")) {
      if (row.status !== "cancelled") {
        this.sql.exec("UPDATE run SET status = 'cancelled' WHERE id = 1");
        this.sql.exec("INSERT INTO events (type, at) VALUES ('cancelled', ?)", Date.now());
      }
      return Response.json({ status: "cancelled" });
    }
    return Response.json({ status: row.status });
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    const match = pathname.match(/^\/runs\/([A-Za-z0-9_-]+)(\/create|\/cancel)?$/);
    if (!match) return new Response("not found", { status: 404 });
    return env.REF.get(env.REF.idFromName(match[1])).fetch(request);
  },
};
