import { env, runInDurableObject, SELF } from "cloudflare:test";

/** The admin token vitest.config.ts generated for this run. */
export const ADMIN: string = env.ADMIN_TOKEN;
export const BASE = "https://runbrake.test";

export interface Org {
  orgId: string;
  user: string;
  executor: string;
}

export async function api(
  path: string,
  init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await SELF.fetch(`${BASE}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function newOrg(name = "test org"): Promise<Org> {
  const res = await api("/api/admin/orgs", { key: ADMIN, body: { name } });
  if (res.status !== 201) throw new Error(`create org: ${res.status} ${JSON.stringify(res.body)}`);
  const keys = res.body.keys as { role: string; key: string }[];
  return {
    orgId: res.body.org.org_id,
    user: keys.find((k) => k.role === "user")!.key,
    executor: keys.find((k) => k.role === "executor")!.key,
  };
}

/** Moves the Worker's clock forward (TEST_CLOCK is on in vitest.config.ts). */
export async function advance(ms: number): Promise<number> {
  const res = await api("/api/admin/test-clock", { key: ADMIN, body: { advance_ms: ms } });
  if (res.status !== 200) throw new Error(`advance clock: ${res.status}`);
  return res.body.now;
}

export async function createRun(org: Org, body: Record<string, unknown> = {}): Promise<any> {
  const res = await api("/api/runs", { key: org.user, body: { kind: "workflow", initial: "queued", ...body } });
  if (res.status !== 201) throw new Error(`create run: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.run;
}

export async function claim(org: Org, runId: string, leaseMs = 60_000): Promise<string> {
  const res = await api(`/api/runs/${runId}/claim`, { key: org.executor, body: { executor: "exec-1", lease_ms: leaseMs } });
  if (res.status !== 200) throw new Error(`claim: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.lease.id;
}

/**
 * The tables an object holds besides the runtime's own (workerd's `_cf_*`, miniflare's): an
 * object addressed by an unknown id or organisation must have none.
 */
export async function ownTables(stub: DurableObjectStub): Promise<string[]> {
  return runInDurableObject(stub, (_i, state) =>
    state.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE '__miniflare%'")
      .toArray()
      .map((r) => String(r.name)),
  );
}
