// T21 (RELIABILITY.md): secrets and hygiene. Scans every git-tracked file, the built bundle
// (worker/build, web/dist), the tests' saved output and a live test server's log for secrets (full
// API keys, admin tokens, bearer values, private keys, cloud tokens, and this machine's own
// `.dev.vars` values); checks `.dev.vars*` and `.env*` are git-ignored and nothing secret sits in
// wrangler.toml's [vars] or the self-hosted config; and that no response ever echoes a credential.
// Findings are reported redacted (file, pattern, first characters), never the secret itself.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { upgradeStatus } from "../lib/api.mjs";
import { ROOT } from "../lib/server.mjs";
import { call, newOrg, record, runIn, startServer } from "./lib.mjs";

/** Secret shapes. Built from pieces so that this file never matches itself. */
const PATTERNS = [
  { name: "runbrake API key", re: new RegExp("rbk_" + "org_[A-Za-z0-9]{22}\\.[A-Za-z0-9]{43}", "g") },
  { name: "bearer token value", re: new RegExp("authorization[\"']?\\s*[:=]\\s*[\"']?bearer\\s+" + "(?![$<{…]|\\.\\.\\.|KEY|TOKEN|rbk_…)[A-Za-z0-9._~+/=-]{24,}", "gi") },
  { name: "admin token assignment", re: new RegExp("ADMIN_TOKEN[\"']?\\s*[:=]\\s*[\"']?" + "[A-Za-z0-9+/_-]{24,}", "g") },
  { name: "private key", re: new RegExp("-----BEGIN (?:RSA |EC |OPENSSH |DSA |ENCRYPTED )?" + "PRIVATE KEY-----", "g") },
  { name: "AWS access key", re: new RegExp("\\bAKIA" + "[0-9A-Z]{16}\\b", "g") },
  { name: "GitHub token", re: new RegExp("\\bgh[pousr]_" + "[A-Za-z0-9]{36,}\\b", "g") },
  { name: "Slack token", re: new RegExp("\\bxox[abprs]-" + "[A-Za-z0-9-]{10,}", "g") },
  { name: "Stripe live key", re: new RegExp("\\b[sr]k_live_" + "[A-Za-z0-9]{20,}", "g") },
  { name: "Cloudflare API token variable", re: new RegExp("CLOUDFLARE_API_TOKEN\\s*[:=]\\s*[\"']?" + "[A-Za-z0-9_-]{30,}", "g") },
];

/**
 * @typedef {{where: string, pattern: string, sample: string}} Finding
 */

/** What a finding shows of a secret: its first characters and its length. @param {string} s */
const redact = (s) => `${s.slice(0, 8)}… (${s.length} chars)`;

/**
 * @param {string} where @param {string} text @param {{name: string, value: string}[]} [literals] exact secrets to look for
 * @returns {Finding[]}
 */
function scan(where, text, literals = []) {
  /** @type {Finding[]} */
  const out = [];
  for (const { name, re } of PATTERNS) {
    for (const m of text.matchAll(re)) out.push({ where, pattern: name, sample: redact(m[0]) });
  }
  for (const { name, value } of literals) {
    if (value.length >= 12 && text.includes(value)) out.push({ where, pattern: name, sample: redact(value) });
  }
  return out;
}

/** This machine's own local secrets (values of .dev.vars / .env*), to look for verbatim. */
async function localSecrets() {
  /** @type {{name: string, value: string}[]} */
  const out = [];
  for (const file of [".dev.vars", ".env", ".env.local"]) {
    const path = join(ROOT, file);
    if (!existsSync(path)) continue;
    for (const line of (await readFile(path, "utf8")).split("\n")) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([^"\n]*)"?\s*$/.exec(line);
      if (m) out.push({ name: `${file}: ${m[1]}`, value: m[2] });
    }
  }
  return out;
}

/** Every file under `dir`. @param {string} dir @returns {Promise<string[]>} */
async function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * A file as text (binary files as latin1, so byte patterns still match); "" for a file that another
 * test run removed between listing and reading (tests/output is written while suites run).
 * @param {string} path
 */
async function textOf(path) {
  try {
    const buf = await readFile(path);
    return buf.includes(0) ? buf.toString("latin1") : buf.toString("utf8");
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === "ENOENT") return "";
    throw err;
  }
}

/** @type {{name: string, value: string}[]} */
let locals = [];
/** @type {Record<string, number>} */
const scanned = { tracked: 0, bundle: 0, outputs: 0 };
/** @type {Record<string, number>} */
const found = { tracked: 0, bundle: 0, outputs: 0, config: 0 };

before(async () => {
  locals = await localSecrets();
});

describe("T21: secrets in the repository, the bundle and the tests' output", () => {
  it("the scanner sees every shape it looks for (made up at run time), and reports them redacted", () => {
    const key = `rbk_${"org_"}${"Q".repeat(22)}.${"z".repeat(43)}`;
    const samples = [
      ["runbrake API key", `const k = "${key}";`],
      ["bearer token value", `Authorization: Bearer ${"t0k".repeat(10)}`],
      ["bearer token value", `{"authorization": "bearer ${"a1".repeat(16)}"}`],
      ["admin token assignment", `ADMIN_TOKEN=${"f".repeat(48)}`],
      ["private key", `-----BEGIN ${"RSA "}PRIVATE KEY-----`],
      ["AWS access key", `${"AKIA"}${"ABCDEFGHIJKLMNOP"}`],
      ["GitHub token", `${"ghp_"}${"x".repeat(36)}`],
      ["Stripe live key", `${"sk_live_"}${"y".repeat(24)}`],
    ];
    for (const [name, text] of samples) {
      const found = scan("sample", text);
      assert.ok(found.some((f) => f.pattern === name), `${name} not found in ${text.slice(0, 12)}…`);
      for (const f of found) assert.match(f.sample, /^[^…]{1,8}… \(\d+ chars\)$/s, "a finding shows more than the secret's first characters");
    }
    // Placeholders in docs and tests are not secrets.
    for (const text of ["Authorization: Bearer $KEY", "Authorization: Bearer <key>", "authorization: `Bearer ${key}`", "KEY=rbk_…", "ADMIN_TOKEN=$(openssl rand -hex 32)"]) {
      assert.deepEqual(scan("placeholder", text), [], text);
    }
    assert.equal(scan("literal", "x my-local-secret-value y", [{ name: "local", value: "my-local-secret-value" }]).length, 1);
  });

  it("no git-tracked file holds a secret, and no local secret file is tracked", async () => {
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT }).toString().split("\0").filter(Boolean);
    /** @type {Finding[]} */
    const findings = [];
    for (const f of files) {
      const path = join(ROOT, f);
      if (!existsSync(path) || (await stat(path)).size > 20 * 1024 * 1024) continue;
      scanned.tracked++;
      findings.push(...scan(f, await textOf(path), locals));
      if (/(^|\/)\.dev\.vars|(^|\/)\.env($|\.)/.test(f)) findings.push({ where: f, pattern: "local secrets file tracked", sample: f });
    }
    found.tracked = findings.length;
    assert.ok(scanned.tracked > 100, `only ${scanned.tracked} tracked files scanned`);
    assert.deepEqual(findings, [], `secrets in tracked files:\n${findings.map((x) => `${x.where}: ${x.pattern}: ${x.sample}`).join("\n")}`);
  });

  it("the built Worker and dashboard hold no secret", async () => {
    const files = [...(await filesUnder(join(ROOT, "worker/build"))), ...(await filesUnder(join(ROOT, "web/dist")))];
    assert.ok(files.some((f) => f.endsWith(".wasm")) && files.some((f) => f.endsWith("index.html")), "build the Worker and the dashboard first (make build)");
    /** @type {Finding[]} */
    const findings = [];
    for (const f of files) {
      scanned.bundle++;
      findings.push(...scan(relative(ROOT, f), await textOf(f), locals));
    }
    found.bundle = findings.length;
    assert.deepEqual(findings, [], `secrets in the bundle:\n${findings.map((x) => `${x.where}: ${x.pattern}: ${x.sample}`).join("\n")}`);
  });

  it("the tests' saved output (figures, logs, bench results) holds no secret", async () => {
    const files = [...(await filesUnder(join(ROOT, "tests/output"))), ...(await filesUnder(join(ROOT, "bench/results")))].filter((f) => !/\.(png|jpe?g|webm)$/.test(f));
    /** @type {Finding[]} */
    const findings = [];
    for (const f of files) {
      scanned.outputs++;
      findings.push(...scan(relative(ROOT, f), await textOf(f), locals));
    }
    found.outputs = findings.length;
    assert.deepEqual(findings, [], `secrets in test output:\n${findings.map((x) => `${x.where}: ${x.pattern}: ${x.sample}`).join("\n")}`);
  });

  it(".dev.vars and .env files are git-ignored; wrangler.toml's [vars] and the self-hosted config hold no secret", async () => {
    const candidates = [".dev.vars", ".dev.vars.production", ".env", ".env.local", ".env.production", "worker/.dev.vars", "web/.env"];
    // `git check-ignore` exits 1 when none is ignored: that is a finding, not a crash.
    let ignored = /** @type {string[]} */ ([]);
    try {
      ignored = execFileSync("git", ["check-ignore", ...candidates], { cwd: ROOT }).toString().split("\n").filter(Boolean);
    } catch {
      ignored = [];
    }
    found.config += candidates.length - ignored.length;
    assert.deepEqual(ignored.sort(), [...candidates].sort(), "not git-ignored");
    const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
    /** @type {string[]} */
    const vars = [];
    let section = "";
    for (const line of toml.split("\n")) {
      const head = /^\s*\[+([^\]]+)\]+/.exec(line);
      if (head) section = head[1].trim();
      else if (/(^|\.)vars$/.test(section) && /=/.test(line) && !/^\s*#/.test(line)) vars.push(line.trim());
    }
    for (const v of vars) {
      const [name, value = ""] = v.split("=").map((x) => x.trim().replace(/^"|"$/g, ""));
      assert.doesNotMatch(name, /TOKEN|SECRET|PASSWORD|KEY|CREDENTIAL/i, `wrangler.toml [vars] names a secret: ${name}`);
      assert.ok(!/^[A-Za-z0-9+/_=-]{24,}$/.test(value), `wrangler.toml [vars] ${name} looks like a secret: ${redact(value)}`);
    }
    assert.deepEqual(scan("wrangler.toml", toml, locals), []);
    const capnp = await readFile(join(ROOT, "selfhost/workerd.capnp"), "utf8");
    assert.match(capnp, /name = "ADMIN_TOKEN", fromEnvironment = "ADMIN_TOKEN"/, "the self-hosted admin token comes from the environment");
    assert.doesNotMatch(capnp, /name = "ADMIN_TOKEN", text =/, "the self-hosted config embeds the admin token");
  });
});

describe("T21: a live server never echoes or logs a credential", () => {
  /** @type {Awaited<ReturnType<typeof startServer>>} */
  let s;
  after(async () => {
    await s?.server.stop();
  });

  it("answers (success, refusal, error) and the server's log show no key, token or Authorization value", async () => {
    s = await startServer();
    const org = await newOrg(s.url, s.admin, "t21");
    const run = await runIn(s.url, org, "running");
    const wrongSecret = `${org.user.slice(0, -8)}ABCDEFGH`;
    /** @type {string[]} */
    const texts = [];
    const keep = async (/** @type {ReturnType<typeof call>} */ p) => {
      const res = await p;
      texts.push(res.text, JSON.stringify([...res.headers]));
      return res;
    };
    await keep(call(s.url, `/api/runs/${run.id}`, { key: org.user }));
    await keep(call(s.url, `/api/runs/${run.id}`, { key: wrongSecret }));
    await keep(call(s.url, `/api/runs/${run.id}?api_key=${org.user}`, { key: org.user }));
    await keep(call(s.url, `/api/runs/${run.id}/cancel`, { key: org.user, body: "{" }));
    await keep(call(s.url, `/api/runs/${run.id}/cancel`, { key: org.executor, body: {} }));
    await keep(call(s.url, `/api/runs/${run.id}/claim`, { key: org.user, body: { executor: org.user } }));
    await keep(call(s.url, `/v1/workflows/runs/${run.id}/cancel?access_token=${wrongSecret}`, { method: "POST" }));
    await keep(call(s.url, "/workflow_runs/workflow_run_x", { key: wrongSecret }));
    await keep(call(s.url, "/v1/runs/grun_x", { key: wrongSecret }));
    await keep(call(s.url, "/api/admin/orgs", { key: `${s.admin}x`, body: { name: "x" } }));
    await keep(call(s.url, "/api/tickets", { key: org.user, body: {} }));
    assert.equal(await upgradeStatus(`${s.ws}/api/runs/${run.id}/watch`, { authorization: `Bearer ${wrongSecret}` }), 401);
    const secrets = [
      { name: "user key", value: org.user },
      { name: "executor key", value: org.executor },
      { name: "wrong key sent", value: wrongSecret },
      { name: "admin token", value: s.admin },
      { name: "user key's secret part", value: org.user.split(".")[1] },
    ];
    const answers = scan("answers", texts.join("\n"), secrets);
    const log = scan("server log", s.server.output(), [...secrets, ...locals]);
    await record("T21", "secrets and hygiene", [
      { figure: "git-tracked files scanned", target: "all", value: scanned.tracked, pass: scanned.tracked > 100 },
      { figure: "bundle files scanned (worker/build, web/dist)", target: "all", value: scanned.bundle, pass: scanned.bundle > 0 },
      { figure: "saved test output files scanned", target: "all", value: scanned.outputs, pass: true },
      { figure: "local secret values looked for verbatim (.dev.vars, .env)", target: "(count)", value: locals.length, pass: true },
      { figure: "findings in tracked files / bundle / saved output", target: "0", value: `${found.tracked} / ${found.bundle} / ${found.outputs}`, pass: found.tracked + found.bundle + found.outputs === 0 },
      { figure: "local secret files not git-ignored", target: "0", value: found.config, pass: found.config === 0 },
      { figure: "credentials in answers or the server log", target: "0", value: answers.length + log.length, pass: answers.length + log.length === 0 },
    ]);
    assert.deepEqual(answers, [], "an answer echoes a credential");
    assert.deepEqual(log, [], "the server log shows a credential");
  });
});
