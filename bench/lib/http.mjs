// A lean keep-alive HTTP client for benchmarks (node's http, not fetch: less per-request work
// in the measuring process), plus percentile helpers.
import http from "node:http";
import { performance } from "node:perf_hooks";

/** @param {number} sockets */
export function agent(sockets) {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

/**
 * @param {http.Agent} ag
 * @param {string} url
 * @param {{method?: string, headers?: Record<string, string>, body?: string}} [o]
 * @returns {Promise<{status: number, body: string, ms: number}>}
 */
export function request(ag, url, o = {}) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(url, { agent: ag, method: o.method ?? "GET", headers: o.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - start }));
    });
    req.on("error", reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** @param {number[]} xs @param {number} p 0..100 */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Runs `n` jobs with `concurrency` workers; returns elapsed ms.
 * @param {number} n @param {number} concurrency @param {(i: number) => Promise<void>} job
 */
export async function pool(n, concurrency, job) {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        await job(i);
      }
    }),
  );
  return performance.now() - start;
}
