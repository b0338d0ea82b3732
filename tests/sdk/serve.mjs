// A test server for the Python SDK suite: starts a private copy of the built Worker under `wrangler dev`
// with the shared harness (free port, own process group, temporary storage), creates two
// organisations, prints one JSON line {url, admin, org, other} and keeps serving until SIGINT/SIGTERM
// or until stdin closes (so the server never outlives a pytest that died), then stops it and removes
// its storage.
//
//   node tests/sdk/serve.mjs      (tests/sdk/conftest.py starts it; needs `make build` first)
import { adminToken, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

const admin = adminToken();
const server = await startDevServer({ vars: { ADMIN_TOKEN: admin } });
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();
try {
  const org = await newOrg(server.url, admin, "sdk suite");
  const other = await newOrg(server.url, admin, "sdk suite, another organisation");
  process.stdout.write(`${JSON.stringify({ url: server.url, admin, org, other })}\n`);
} catch (err) {
  process.stderr.write(`serve: ${err instanceof Error ? err.stack : String(err)}\n${server.output()}\n`);
  await stop();
}
