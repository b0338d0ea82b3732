/** What `/healthz` answers. */
export interface Health {
  status: string;
  version: string;
}

export async function fetchHealth(fetchImpl: typeof fetch = fetch): Promise<Health> {
  const res = await fetchImpl("/healthz", { headers: { accept: "application/json" } });
  if (!res.ok) throw new Error(`health check answered ${res.status}`);
  return (await res.json()) as Health;
}
