// T14 (RELIABILITY.md): the input validation catalogue. Malformed input on every route family —
// the native API, the executor protocol, the admin routes and the five vendor contracts — gets the
// documented 4xx in the route's own error shape, never a 5xx, never an internal name or stack
// trace, and changes nothing (each case re-reads the run it aimed at: same version, same events).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  assertErrorShape,
  call,
  familyOf,
  leaks,
  newOrg,
  record,
  runIn,
  send,
  snapshot,
  startServer,
} from "./lib.mjs";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let s;
/** @type {import("./lib.mjs").Org} */
let org;
/** Target runs by letter: Q queued, R running (claimed), C completed, and one queued run per contract. */
/** @type {Record<string, string>} */
const ids = {};
let leaseId = "";

before(async () => {
  // TEST_CLOCK only so that the admin test-clock route exists and can be fed bad input too.
  s = await startServer({ TEST_CLOCK: "1" });
  org = await newOrg(s.url, s.admin, "t14");
  const [q, r, c, w, t, e, x, g] = await Promise.all([
    runIn(s.url, org, "queued"),
    runIn(s.url, org, "running"),
    runIn(s.url, org, "completed"),
    runIn(s.url, org, "queued", { kind: "workflow" }),
    runIn(s.url, org, "queued", { kind: "workflow_test" }),
    runIn(s.url, org, "queued", { kind: "experiment" }),
    runIn(s.url, org, "queued", { kind: "extend_workflow" }),
    runIn(s.url, org, "queued", { kind: "generic" }),
  ]);
  Object.assign(ids, { Q: q.id, R: r.id, C: c.id, W: w.id, T: t.id, E: e.id, X: x.id, G: g.id });
  leaseId = r.leaseId ?? "";
});
after(async () => {
  await s?.server.stop();
});

const JSON_CT = { "content-type": "application/json" };
const KiB = 1024;
const MiB = 1024 * KiB;
/** A JSON object of about `bytes` bytes: {"pad": "xxxx…"}. */
const padded = (/** @type {number} */ bytes) => JSON.stringify({ pad: "x".repeat(bytes) });
const nested = (/** @type {number} */ depth, /** @type {string} */ key = "a") => `{"${key}":`.repeat(depth) + "1" + "}".repeat(depth);
const arrays = (/** @type {number} */ depth) => "[".repeat(depth) + "]".repeat(depth);
const NOT_UTF8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]);
const LONG_ID = "run_" + "a".repeat(130);
const DO_ID = "a".repeat(64); // the shape of a Durable Object id: still only a name here

/**
 * @typedef {object} Case
 * @property {string} name
 * @property {string} method
 * @property {string} path            `{Q}`-style placeholders are replaced by the target runs' ids
 * @property {"user" | "executor" | "admin" | "none"} [key]   default: user
 * @property {Record<string, string>} [headers]
 * @property {string | Uint8Array | (() => string)} [body]
 * @property {number} status          the documented status
 * @property {string} [code]          the problem `code` (native) expected
 * @property {string} [allow]         the Allow header a 405 must carry
 * @property {string} [target]        the run (letter) whose version/events must not change
 * @property {boolean} [platform]     refused by the platform before the Worker (no shape of ours)
 * @property {string} kind            the catalogue's category
 */

/** @type {Case[]} */
const CASES = [
  // ---- oversized bodies → 413 (the app's own limits: 64 KiB, 1 MiB for creates and batches) ----
  { kind: "oversized body", name: "create run, 2 MiB", method: "POST", path: "/api/runs", headers: JSON_CT, body: () => padded(2 * MiB), status: 413, code: "payload_too_large" },
  { kind: "oversized body", name: "create run, a 10^6-element array", method: "POST", path: "/api/runs", headers: JSON_CT, body: () => `{"kind":"workflow","tags":[${"0,".repeat(999_999)}0]}`, status: 413, code: "payload_too_large" },
  { kind: "oversized body", name: "cancel, 64 KiB + 1", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: () => padded(64 * KiB), status: 413, code: "payload_too_large", target: "Q" },
  { kind: "oversized body", name: "reject, 100 KiB", method: "POST", path: "/api/runs/{Q}/reject", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, code: "payload_too_large", target: "Q" },
  { kind: "oversized body", name: "executor claim, 100 KiB", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, code: "payload_too_large", target: "Q" },
  { kind: "oversized body", name: "executor add children, 2 MiB", key: "executor", method: "POST", path: "/api/runs/{R}/children", headers: JSON_CT, body: () => padded(2 * MiB), status: 413, code: "payload_too_large", target: "R" },
  { kind: "oversized body", name: "bulk dry run, 2 MiB", method: "POST", path: "/api/bulk-cancels/dry-run", headers: JSON_CT, body: () => padded(2 * MiB), status: 413, code: "payload_too_large" },
  { kind: "oversized body", name: "admin create org, 100 KiB", key: "admin", method: "POST", path: "/api/admin/orgs", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, code: "payload_too_large" },
  { kind: "oversized body", name: "000 cancel, 100 KiB", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, target: "W" },
  { kind: "oversized body", name: "001 cancel, 100 KiB", method: "POST", path: "/v1/workflows/tests/runs/{T}/cancel", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, target: "T" },
  { kind: "oversized body", name: "002 cancel, 100 KiB", method: "POST", path: "/v1/workflows/experiments/runs/{E}/cancel", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, target: "E" },
  { kind: "oversized body", name: "003 cancel, 100 KiB", method: "POST", path: "/workflow_runs/{X}/cancel", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, target: "X" },
  { kind: "oversized body", name: "004 cancel, 100 KiB", method: "POST", path: "/v1/runs/{G}/cancel", headers: JSON_CT, body: () => padded(100 * KiB), status: 413, target: "G" },

  // ---- invalid JSON → 400 (Retab's FastAPI contract: 422) ----
  { kind: "invalid JSON", name: "cancel, unfinished object", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: "{", status: 400, code: "invalid_body", target: "Q" },
  { kind: "invalid JSON", name: "create, truncated", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":', status: 400, code: "invalid_body" },
  { kind: "invalid JSON", name: "complete, missing value", key: "executor", method: "POST", path: "/api/runs/{R}/complete", headers: JSON_CT, body: '{"lease_id": }', status: 400, code: "invalid_body", target: "R" },
  { kind: "invalid JSON", name: "cancel, trailing garbage", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: "{} x", status: 400, code: "invalid_body", target: "Q" },
  { kind: "invalid JSON", name: "cancel, duplicate field", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"reason":"a","reason":"b"}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "invalid JSON", name: "cancel, a JSON array", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '["command_id"]', status: 400, code: "invalid_body", target: "Q" },
  { kind: "invalid JSON", name: "cancel, not UTF-8", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: NOT_UTF8, status: 400, code: "invalid_body", target: "Q" },
  { kind: "invalid JSON", name: "bulk start, single quotes", method: "POST", path: "/api/bulk-cancels", headers: JSON_CT, body: "{'dry_run_id': 'x'}", status: 400, code: "invalid_body" },
  { kind: "invalid JSON", name: "admin new key, truncated", key: "admin", method: "POST", path: "/api/admin/orgs/{ORG}/keys", headers: JSON_CT, body: '{"role":', status: 400, code: "invalid_body" },
  { kind: "invalid JSON", name: "000 cancel, unfinished object", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: "{oops", status: 422, target: "W" },
  { kind: "invalid JSON", name: "000 cancel, not UTF-8", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: NOT_UTF8, status: 422, target: "W" },
  { kind: "invalid JSON", name: "001 cancel, a JSON array", method: "POST", path: "/v1/workflows/tests/runs/{T}/cancel", headers: JSON_CT, body: "[1]", status: 422, target: "T" },
  { kind: "invalid JSON", name: "002 cancel, unfinished object", method: "POST", path: "/v1/workflows/experiments/runs/{E}/cancel", headers: JSON_CT, body: '{"a"', status: 422, target: "E" },
  { kind: "invalid JSON", name: "003 cancel, unfinished object", method: "POST", path: "/workflow_runs/{X}/cancel", headers: JSON_CT, body: "{oops", status: 400, target: "X" },
  { kind: "invalid JSON", name: "004 cancel, a bare number", method: "POST", path: "/v1/runs/{G}/cancel", headers: JSON_CT, body: "5", status: 400, target: "G" },

  // ---- wrong types → 400 (422 on Retab) ----
  { kind: "wrong type", name: "cancel grace_ms as a string", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"grace_ms":"10"}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "wrong type", name: "cancel reason as a number", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"reason":5}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "wrong type", name: "cancel if_version fractional", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"if_version":1.5}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "wrong type", name: "cancel grace_ms negative", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"grace_ms":-1}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "wrong type", name: "create kind as a number", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":1}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "create kind unknown", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":"nope"}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "create metadata as an array", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":"workflow","metadata":[1]}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "claim executor as an array", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: JSON_CT, body: '{"executor":[]}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "wrong type", name: "heartbeat lease_id as an object", key: "executor", method: "POST", path: "/api/runs/{R}/heartbeat", headers: JSON_CT, body: '{"lease_id":{}}', status: 400, code: "invalid_body", target: "R" },
  { kind: "wrong type", name: "wait reason unknown", key: "executor", method: "POST", path: "/api/runs/{R}/wait", headers: JSON_CT, body: '{"reason":"coffee"}', status: 400, code: "invalid_body", target: "R" },
  { kind: "wrong type", name: "bulk dry run selection as a string", method: "POST", path: "/api/bulk-cancels/dry-run", headers: JSON_CT, body: '{"selection":"all"}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "admin new key role admin", key: "admin", method: "POST", path: "/api/admin/orgs/{ORG}/keys", headers: JSON_CT, body: '{"role":"admin"}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "admin test clock advance as text", key: "admin", method: "POST", path: "/api/admin/test-clock", headers: JSON_CT, body: '{"advance_ms":"soon"}', status: 400, code: "invalid_body" },
  { kind: "wrong type", name: "000 cancel command_id as a number", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: '{"command_id":5}', status: 422, target: "W" },
  { kind: "wrong type", name: "000 cancel command_id with a space", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: '{"command_id":"has space"}', status: 422, target: "W" },

  // ---- nulls where a value is required → 400 ----
  { kind: "null", name: "create kind null", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":null}', status: 400, code: "invalid_body" },
  { kind: "null", name: "claim executor null", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: JSON_CT, body: '{"executor":null}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "null", name: "fail message null", key: "executor", method: "POST", path: "/api/runs/{R}/fail", headers: JSON_CT, body: '{"message":null}', status: 400, code: "invalid_body", target: "R" },
  { kind: "null", name: "child update to null", key: "executor", method: "POST", path: "/api/runs/{R}/children/c1", headers: JSON_CT, body: '{"to":null}', status: 400, code: "invalid_body", target: "R" },
  { kind: "null", name: "admin org name null", key: "admin", method: "POST", path: "/api/admin/orgs", headers: JSON_CT, body: '{"name":null}', status: 400, code: "invalid_body" },
  { kind: "null", name: "bulk start dry_run_id null", method: "POST", path: "/api/bulk-cancels", headers: JSON_CT, body: '{"dry_run_id":null}', status: 400, code: "invalid_body" },

  // ---- deep nesting → 400 (bounded by the parser's recursion limit, never a stack overflow) ----
  { kind: "deep nesting", name: "create metadata 200 deep", method: "POST", path: "/api/runs", headers: JSON_CT, body: () => `{"kind":"workflow","metadata":${nested(200)}}`, status: 400, code: "invalid_body" },
  { kind: "deep nesting", name: "complete output 20,000 arrays deep", key: "executor", method: "POST", path: "/api/runs/{R}/complete", headers: JSON_CT, body: () => `{"output":${arrays(20_000)}}`, status: 400, code: "invalid_body", target: "R" },
  { kind: "deep nesting", name: "cancel body 5,000 objects deep", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: () => nested(5_000), status: 400, code: "invalid_body", target: "Q" },
  { kind: "deep nesting", name: "000 cancel 20,000 arrays deep", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: () => `{"x":${arrays(20_000)}}`, status: 422, target: "W" },
  { kind: "deep nesting", name: "003 cancel 5,000 objects deep", method: "POST", path: "/workflow_runs/{X}/cancel", headers: JSON_CT, body: () => nested(5_000), status: 400, target: "X" },
  { kind: "deep nesting", name: "004 cancel 20,000 arrays deep", method: "POST", path: "/v1/runs/{G}/cancel", headers: JSON_CT, body: () => arrays(20_000), status: 400, target: "G" },

  // ---- huge arrays → 400 (documented bounds) ----
  { kind: "huge array", name: "create with 100,000 tags", method: "POST", path: "/api/runs", headers: JSON_CT, body: () => JSON.stringify({ kind: "workflow", tags: Array(100_000).fill("t") }), status: 400, code: "invalid_argument" },
  { kind: "huge array", name: "create with 5,000 sub-runs", method: "POST", path: "/api/runs", headers: JSON_CT, body: () => JSON.stringify({ kind: "workflow", sub_runs: Array.from({ length: 5_000 }, (_, i) => `run_${i}`) }), status: 400, code: "invalid_argument" },
  { kind: "huge array", name: "add 20,000 children in one call", key: "executor", method: "POST", path: "/api/runs/{R}/children", headers: JSON_CT, body: () => JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ id: `c${i}` })) }), status: 400, target: "R" },
  { kind: "huge array", name: "bulk dry run naming 20,000 ids", method: "POST", path: "/api/bulk-cancels/dry-run", headers: JSON_CT, body: () => JSON.stringify({ selection: { ids: Array.from({ length: 20_000 }, (_, i) => `run_${i}`) } }), status: 400 },
  { kind: "huge array", name: "000 cancel command_id as a 10,000-element array", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: JSON_CT, body: () => JSON.stringify({ command_id: Array(10_000).fill(1) }), status: 422, target: "W" },

  // ---- unknown fields → 400 on the native API; ignored where a contract documents it ----
  { kind: "unknown field", name: "cancel with force", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"force":true}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "unknown field", name: "create with owner", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":"workflow","owner":"someone else"}', status: 400, code: "invalid_body" },
  { kind: "unknown field", name: "create with org_id", method: "POST", path: "/api/runs", headers: JSON_CT, body: '{"kind":"workflow","org_id":"org_other"}', status: 400, code: "invalid_body" },
  { kind: "unknown field", name: "claim with extra", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: JSON_CT, body: '{"executor":"e","extra":1}', status: 400, code: "invalid_body", target: "Q" },
  { kind: "unknown field", name: "admin org with plan", key: "admin", method: "POST", path: "/api/admin/orgs", headers: JSON_CT, body: '{"name":"x","plan":"pro"}', status: 400, code: "invalid_body" },
  { kind: "unknown field", name: "000 cancel of an ended run, unknown field ignored (pydantic extra=ignore)", method: "POST", path: "/v1/workflows/runs/{C}/cancel", headers: JSON_CT, body: '{"unknown":1}', status: 200, target: "C" },

  // ---- non-JSON content types → 415 (the contracts answer as their frameworks do: 422 / 400) ----
  { kind: "content type", name: "cancel as text/plain", method: "POST", path: "/api/runs/{Q}/cancel", headers: { "content-type": "text/plain" }, body: "{}", status: 415, code: "unsupported_media_type", target: "Q" },
  { kind: "content type", name: "create as a form", method: "POST", path: "/api/runs", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "kind=workflow", status: 415, code: "unsupported_media_type" },
  { kind: "content type", name: "claim as multipart", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: { "content-type": "multipart/form-data; boundary=x" }, body: '--x\r\n\r\n{"executor":"e"}\r\n--x--', status: 415, code: "unsupported_media_type", target: "Q" },
  { kind: "content type", name: "cancel without a content type", method: "POST", path: "/api/runs/{Q}/cancel", body: new TextEncoder().encode('{"reason":"x"}'), status: 415, code: "unsupported_media_type", target: "Q" },
  { kind: "content type", name: "cancel as application/jsonx", method: "POST", path: "/api/runs/{Q}/cancel", headers: { "content-type": "application/jsonx" }, body: "{}", status: 415, code: "unsupported_media_type", target: "Q" },
  { kind: "content type", name: "admin org as text/xml", key: "admin", method: "POST", path: "/api/admin/orgs", headers: { "content-type": "text/xml" }, body: "<name>x</name>", status: 415, code: "unsupported_media_type" },
  { kind: "content type", name: "bulk dry run as text/plain", method: "POST", path: "/api/bulk-cancels/dry-run", headers: { "content-type": "text/plain" }, body: "{}", status: 415, code: "unsupported_media_type" },
  { kind: "content type", name: "000 cancel as text/plain", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: { "content-type": "text/plain" }, body: "cancel it", status: 422, target: "W" },
  { kind: "content type", name: "003 cancel as a form", method: "POST", path: "/workflow_runs/{X}/cancel", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "a=b", status: 400, target: "X" },
  { kind: "content type", name: "004 cancel as text/plain", method: "POST", path: "/v1/runs/{G}/cancel", headers: { "content-type": "text/plain" }, body: "x", status: 400, target: "G" },

  // ---- ids: traversal, encoded separators, NUL, confusables, wrong length → 404 (or 400 where an id is a field) ----
  { kind: "id", name: "run id ../ (percent-encoded slashes)", method: "GET", path: "/api/runs/..%2F..%2Fadmin%2Forgs", status: 404 },
  { kind: "id", name: "run id %2e%2e", method: "POST", path: "/api/runs/%2e%2e/cancel", headers: JSON_CT, body: "{}", status: 404 },
  { kind: "id", name: "run id with %2F inside", method: "GET", path: "/api/runs/{Q}%2Fevents", status: 404, code: "run_not_found", target: "Q" },
  { kind: "id", name: "run id with %00", method: "POST", path: "/api/runs/{Q}%00/cancel", headers: JSON_CT, body: "{}", status: 404, code: "run_not_found", target: "Q" },
  { kind: "id", name: "run id in fullwidth letters", method: "GET", path: `/api/runs/${encodeURIComponent("ｒｕｎ_ａｂｃ")}`, status: 404, code: "run_not_found" },
  { kind: "id", name: "run id with a Cyrillic а", method: "POST", path: `/api/runs/${encodeURIComponent("run_\u0430bc")}/cancel`, headers: JSON_CT, body: "{}", status: 404, code: "run_not_found" },
  { kind: "id", name: "run id 134 characters", method: "GET", path: `/api/runs/${LONG_ID}`, status: 404, code: "run_not_found" },
  { kind: "id", name: "empty run id", method: "GET", path: "/api/runs//events", status: 404, code: "run_not_found" },
  { kind: "id", name: "forged Durable Object id", method: "GET", path: `/api/runs/${DO_ID}`, status: 404, code: "run_not_found" },
  { kind: "id", name: "receipt command id with ../", method: "GET", path: "/api/runs/{Q}/cancellations/..%2F..%2Fcancel", status: 404, target: "Q" },
  { kind: "id", name: "child id with %2F", key: "executor", method: "POST", path: "/api/runs/{R}/children/..%2Fc1", headers: JSON_CT, body: '{"to":"running"}', status: 400, code: "invalid_argument", target: "R" },
  { kind: "id", name: "child id with %00", key: "executor", method: "POST", path: "/api/runs/{R}/children/c1%00", headers: JSON_CT, body: '{"to":"running"}', status: 400, code: "invalid_argument", target: "R" },
  { kind: "id", name: "bulk job id ../", method: "GET", path: "/api/bulk-cancels/..%2Fx/items", status: 404, code: "job_not_found" },
  { kind: "id", name: "admin org id with %2e%2e", key: "admin", method: "GET", path: "/api/admin/orgs/org_%2e%2e/keys", status: 404 },
  { kind: "id", name: "admin revoke with a key id ../", key: "admin", method: "POST", path: "/api/admin/orgs/{ORG}/keys/..%2Fkey/revoke", headers: JSON_CT, body: "{}", status: 404 },
  { kind: "id", name: "command_id with a slash", method: "POST", path: "/api/runs/{Q}/cancel", headers: JSON_CT, body: '{"command_id":"a/b"}', status: 400, code: "invalid_argument", target: "Q" },
  { kind: "id", name: "Idempotency-Key of 300 characters", method: "POST", path: "/api/runs/{Q}/cancel", headers: { ...JSON_CT, "idempotency-key": "k".repeat(300) }, body: "{}", status: 400, code: "invalid_argument", target: "Q" },
  { kind: "id", name: "claim executor id with unicode", key: "executor", method: "POST", path: "/api/runs/{Q}/claim", headers: JSON_CT, body: '{"executor":"exéc"}', status: 400, code: "invalid_argument", target: "Q" },
  { kind: "id", name: "000 run id with %2e%2e", method: "GET", path: "/v1/workflows/runs/run_%2e%2e", status: 404 },
  { kind: "id", name: "000 cancel of a run of another contract (003's id)", method: "POST", path: "/v1/workflows/runs/{X}/cancel", status: 404, target: "X" },
  { kind: "id", name: "001 run id 134 characters", method: "GET", path: "/v1/workflows/tests/runs/wftestrun_" + "a".repeat(124), status: 404 },
  { kind: "id", name: "002 run id in fullwidth letters", method: "POST", path: `/v1/workflows/experiments/runs/${encodeURIComponent("exprun_ａ")}/cancel`, status: 404 },
  { kind: "id", name: "003 run id with %2F", method: "GET", path: "/workflow_runs/workflow_run_%2F..", status: 404 },
  { kind: "id", name: "004 run id with %00", method: "POST", path: "/v1/runs/{G}%00/cancel", status: 404, target: "G" },
  { kind: "id", name: "unknown contract route", method: "GET", path: "/v1/workflows/nope", status: 404 },

  // ---- oversized heads: the app holds itself to Cloudflare's limits (URL 16 KiB, header 16 KiB, 32 KiB in all) ----
  { kind: "oversized head", name: "one 20 KiB header", method: "GET", path: "/api/runs/{Q}", headers: { "x-pad": "a".repeat(20 * KiB) }, status: 431, code: "headers_too_large", target: "Q" },
  { kind: "oversized head", name: "a 20 KiB Authorization header", key: "none", method: "POST", path: "/api/runs/{Q}/cancel", headers: { ...JSON_CT, authorization: `Bearer ${"k".repeat(20 * KiB)}` }, body: "{}", status: 431, code: "headers_too_large", target: "Q" },
  { kind: "oversized head", name: "40 KiB of headers in all", method: "POST", path: "/api/runs/{Q}/cancel", headers: { ...JSON_CT, "x-a": "a".repeat(14 * KiB), "x-b": "b".repeat(14 * KiB), "x-c": "c".repeat(14 * KiB) }, body: "{}", status: 431, code: "headers_too_large", target: "Q" },
  { kind: "oversized head", name: "a 20 KiB URL", method: "GET", path: `/api/runs?q=${"a".repeat(20 * KiB)}`, status: 414, code: "uri_too_long" },
  { kind: "oversized head", name: "000 with a 20 KiB header", method: "POST", path: "/v1/workflows/runs/{W}/cancel", headers: { "x-pad": "a".repeat(20 * KiB) }, status: 431, target: "W" },
  { kind: "oversized head", name: "003 with 40 KiB of headers", method: "POST", path: "/workflow_runs/{X}/cancel", headers: { "x-a": "a".repeat(14 * KiB), "x-b": "b".repeat(14 * KiB), "x-c": "c".repeat(14 * KiB) }, status: 431, target: "X" },
  { kind: "oversized head", name: "004 with a 20 KiB URL", method: "GET", path: `/v1/runs/{G}?x=${"a".repeat(20 * KiB)}`, status: 414, target: "G" },
  { kind: "oversized head", name: "a 1 MiB header (refused by the platform before the Worker)", method: "GET", path: "/api/runs/{Q}", headers: { "x-pad": "a".repeat(MiB) }, status: 431, platform: true, target: "Q" },

  // ---- methods not in the spec → 405 with Allow ----
  { kind: "method", name: "PUT a run", method: "PUT", path: "/api/runs/{Q}", headers: JSON_CT, body: "{}", status: 405, code: "method_not_allowed", allow: "GET", target: "Q" },
  { kind: "method", name: "DELETE a run's cancel", method: "DELETE", path: "/api/runs/{Q}/cancel", status: 405, code: "method_not_allowed", allow: "POST", target: "Q" },
  { kind: "method", name: "PATCH the run list", method: "PATCH", path: "/api/runs", headers: JSON_CT, body: "{}", status: 405, code: "method_not_allowed", allow: "GET, POST" },
  { kind: "method", name: "GET an executor action", key: "executor", method: "GET", path: "/api/runs/{R}/claim", status: 405, code: "method_not_allowed", allow: "POST", target: "R" },
  { kind: "method", name: "OPTIONS without a preflight", method: "OPTIONS", path: "/api/runs/{Q}", status: 405, code: "method_not_allowed", allow: "GET", target: "Q" },
  { kind: "method", name: "DELETE the org list (admin)", key: "admin", method: "DELETE", path: "/api/admin/orgs", status: 405, code: "method_not_allowed", allow: "POST" },
  { kind: "method", name: "PUT the bulk jobs", method: "PUT", path: "/api/bulk-cancels", headers: JSON_CT, body: "{}", status: 405, code: "method_not_allowed", allow: "GET, POST" },
  { kind: "method", name: "POST /healthz", method: "POST", path: "/healthz", status: 405, code: "method_not_allowed", allow: "GET" },
  { kind: "method", name: "DELETE /openapi.json", method: "DELETE", path: "/openapi.json", status: 405, code: "method_not_allowed", allow: "GET" },
  { kind: "method", name: "PUT 000 cancel", method: "PUT", path: "/v1/workflows/runs/{W}/cancel", status: 405, allow: "POST", target: "W" },
  { kind: "method", name: "DELETE 001 run", method: "DELETE", path: "/v1/workflows/tests/runs/{T}", status: 405, allow: "GET", target: "T" },
  { kind: "method", name: "PATCH 002 cancel", method: "PATCH", path: "/v1/workflows/experiments/runs/{E}/cancel", status: 405, allow: "POST", target: "E" },
  { kind: "method", name: "DELETE 003 run", method: "DELETE", path: "/workflow_runs/{X}", status: 405, allow: "GET", target: "X" },
  { kind: "method", name: "GET 004 cancel", method: "GET", path: "/v1/runs/{G}/cancel", status: 405, allow: "POST", target: "G" },

  // ---- query parameters and headers with bad values → 400 ----
  { kind: "query", name: "list limit 100000", method: "GET", path: "/api/runs?limit=100000", status: 400 },
  { kind: "query", name: "list status unknown", method: "GET", path: "/api/runs?status=bogus", status: 400 },
  { kind: "query", name: "list with a forged cursor", method: "GET", path: "/api/runs?cursor=eyJvcmciOiJvcmdfeCJ9", status: 400 },
  { kind: "query", name: "list created_from not a time", method: "GET", path: "/api/runs?created_from=yesterday", status: 400 },
  { kind: "query", name: "events after_seq not a number", method: "GET", path: "/api/runs/{Q}/events?after_seq=abc", status: 400, code: "invalid_argument", target: "Q" },
  { kind: "query", name: "events limit 0", method: "GET", path: "/api/runs/{Q}/events?limit=0", status: 400, code: "invalid_argument", target: "Q" },
  { kind: "query", name: "children status unknown", method: "GET", path: "/api/runs/{R}/children?status=sideways", status: 400, code: "invalid_argument", target: "R" },
  { kind: "query", name: "children after ../", method: "GET", path: "/api/runs/{R}/children?after=..%2F", status: 400, code: "invalid_argument", target: "R" },
  { kind: "query", name: "003 unknown API version", method: "POST", path: "/workflow_runs/{X}/cancel", headers: { "x-extend-api-version": "1999-01-01" }, status: 400, target: "X" },
];

/** The request a case sends, with placeholders and credentials filled in. @param {Case} c */
function requestOf(c) {
  const path = c.path.replace(/\{([A-Z]+)\}/g, (_, k) => (k === "ORG" ? org.orgId : ids[k]));
  const key = c.key ?? "user";
  /** @type {Record<string, string>} */
  const auth = key === "none" ? {} : { authorization: `Bearer ${key === "admin" ? s.admin : key === "executor" ? org.executor : org.user}` };
  const body = typeof c.body === "function" ? c.body() : c.body;
  return { path, init: { method: c.method, headers: { ...auth, ...c.headers }, body } };
}

describe("T14: the input validation catalogue", () => {
  it(`${CASES.length} malformed inputs across every route family get their documented 4xx and change nothing`, async () => {
    const families = new Set(CASES.map((c) => familyOf(c.path)));
    assert.deepEqual([...families].sort(), ["extend", "generic", "native", "retab"]);
    /** @type {string[]} */
    const failures = [];
    let serverErrors = 0;
    let leaked = 0;
    let unchanged = 0;
    let checkedRuns = 0;
    const keysBefore = await call(s.url, `/api/admin/orgs/${org.orgId}/keys`, { key: s.admin });
    for (const c of CASES) {
      const what = `[${c.kind}] ${c.name}`;
      const { path, init } = requestOf(c);
      const before = c.target ? await snapshot(s.url, org.user, ids[c.target]) : null;
      const res = await send(s.url, path, init);
      try {
        if (res.status >= 500) serverErrors++;
        assert.equal(res.status, c.status, `${what}: status`);
        const found = leaks(res.text);
        if (found.length) leaked++;
        assert.deepEqual(found, [], `${what}: the body names internals: ${res.text.slice(0, 300)}`);
        if (!c.platform && c.status >= 400) {
          assertErrorShape(familyOf(path), res, what);
          if (c.code) assert.equal(res.body.code, c.code, `${what}: problem code`);
        }
        if (c.allow) assert.equal(res.headers.get("allow"), c.allow, `${what}: Allow`);
        if (c.target && before) {
          checkedRuns++;
          const afterSnap = await snapshot(s.url, org.user, ids[c.target]);
          assert.deepEqual(afterSnap, before, `${what}: the run changed`);
          unchanged++;
        }
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    // Admin cases change no organisation's keys.
    const keysAfter = await call(s.url, `/api/admin/orgs/${org.orgId}/keys`, { key: s.admin });
    assert.deepEqual(keysAfter.body, keysBefore.body, "an admin case changed the organisation's keys");
    const passed = CASES.length - failures.length;
    await record("T14", "input validation catalogue", [
      { figure: "malformed inputs in the catalogue", target: "≥ 60", value: CASES.length, pass: CASES.length >= 60 },
      { figure: "route families covered", target: "native, retab (000–002), extend (003), generic (004)", value: [...families].sort().join(", "), pass: families.size === 4 },
      { figure: "cases answered as documented (status, shape, Allow)", target: "100 %", value: `${((100 * passed) / CASES.length).toFixed(1)} %`, pass: failures.length === 0 },
      { figure: "responses ≥ 500", target: "0", value: serverErrors, pass: serverErrors === 0 },
      { figure: "bodies naming internals or keys", target: "0", value: leaked, pass: leaked === 0 },
      { figure: "targeted runs unchanged (version + events)", target: "all", value: `${unchanged}/${checkedRuns}`, pass: unchanged === checkedRuns },
    ]);
    assert.deepEqual(failures, [], `${failures.length} of ${CASES.length} cases failed:\n${failures.join("\n\n")}`);
    assert.equal(serverErrors, 0);
  });
});
