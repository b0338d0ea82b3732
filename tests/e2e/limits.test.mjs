import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminToken, call, createRun, newOrg } from "../lib/api.mjs";
import { startDevServer } from "../lib/server.mjs";

const ADMIN = adminToken();
/** @type {import("../lib/server.mjs").DevServer} */
let server;
/** @type {{orgId: string, user: string, executor: string}} */
let org;
before(async () => {
  server = await startDevServer({ vars: { ADMIN_TOKEN: ADMIN } });
  org = await newOrg(server.url, ADMIN);
});
after(async () => {
  await server?.stop();
});

/** A body streamed in 16 KiB chunks with no Content-Length (chunked transfer encoding). */
function chunked(/** @type {number} */ bytes) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= bytes) return controller.close();
      const n = Math.min(16 * 1024, bytes - sent);
      controller.enqueue(new TextEncoder().encode(" ".repeat(n)));
      sent += n;
    },
  });
}

describe("body limits the service enforces itself", () => {
  it("refuses a chunked body past the limit, reading no further, and changes nothing", async () => {
    const run = await createRun(server.url, org);
    // The server answers 413 as soon as the limit is passed and stops reading; a client still
    // sending may see that answer or, if the connection closes under it, a failed request.
    // Either way the body is refused, and nothing changes.
    const res = await fetch(`${server.url}/api/runs/${run.id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${org.user}`, "content-type": "application/json" },
      body: chunked(10 * 1024 * 1024),
      // @ts-expect-error node's fetch needs this for streamed request bodies
      duplex: "half",
    }).catch((/** @type {Error} */ err) => err);
    if (res instanceof Response) {
      assert.equal(res.status, 413);
      assert.equal((await res.json()).code, "payload_too_large");
    } else {
      assert.match(String(res.message), /fetch failed/);
    }
    const after = await call(server.url, `/api/runs/${run.id}`, { key: org.user });
    assert.equal(after.body.run.status, "queued");
  });

  it("accepts a chunked body under the limit", async () => {
    const run = await createRun(server.url, org);
    const res = await fetch(`${server.url}/api/runs/${run.id}/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${org.user}`, "content-type": "application/json" },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(JSON.stringify({ reason: "chunked" })));
          c.close();
        },
      }),
      // @ts-expect-error node's fetch needs this for streamed request bodies
      duplex: "half",
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).run.cancel.reason, "chunked");
  });
});
