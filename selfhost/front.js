// Self-hosted front (see workerd.capnp): the routing wrangler.toml's [assets] gives the Worker
// on Cloudflare — API paths to the Worker, everything else from the built dashboard.
const API_PREFIXES = ["/api/", "/v1/", "/workflow_runs"];
const API_PATHS = new Set(["/healthz", "/healthz/deep", "/openapi.json"]);
const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  wasm: "application/wasm",
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  txt: "text/plain; charset=utf-8",
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (API_PATHS.has(url.pathname) || API_PREFIXES.some((p) => url.pathname.startsWith(p))) {
      return env.API.fetch(request);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const path = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
    let file = path.includes("..") ? null : await env.DASHBOARD.fetch(`http://dashboard${path}`);
    let served = path;
    if (!file || file.status === 404) {
      // Single-page application: unknown paths get the dashboard.
      file = await env.DASHBOARD.fetch("http://dashboard/index.html");
      served = "/index.html";
    }
    const ext = served.split(".").pop() ?? "";
    const headers = new Headers(file.headers);
    headers.set("content-type", TYPES[ext] ?? "application/octet-stream");
    headers.set("x-content-type-options", "nosniff");
    return new Response(request.method === "HEAD" ? null : file.body, { status: file.status, headers });
  },
};
