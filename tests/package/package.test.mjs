// The npm package of the core, as users get it. Needs `make package` first (crate/pkg/ and
// dist/runbrake-core-<version>.tgz); builds nothing itself.
//
//   node --test tests/package/package.test.mjs
//   RUNBRAKE_BLESS=1 node --test tests/package/package.test.mjs   # accept changed types
//   RUNBRAKE_KEEP_SCRATCH=1 …                                     # keep the scratch project
//
// 1. The generated TypeScript declarations equal the golden crate/tests/golden/runbrake_core.d.ts
//    (a readable diff otherwise), and a strict TypeScript consumer compiles against them.
// 2. `npm pack --dry-run` lists exactly the package's files.
// 3. The tarball installs offline into a scratch project and works there: node ESM `import`,
//    CommonJS `require`, the `web` build, the example, and a Vite build (the dashboard's bundler)
//    that runs in chromium (skipped when there is no chromium).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { unifiedDiff } from "./diff.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PKG = join(ROOT, "crate/pkg");
const GOLDEN = join(ROOT, "crate/tests/golden/runbrake_core.d.ts");
const BLESS = process.env.RUNBRAKE_BLESS === "1";
const T0 = 1_777_645_800_000; // 2026-05-01T14:30:00Z

/**
 * Runs a command; throws with its output unless it exits 0.
 * @param {string} cmd @param {string[]} args @param {import("node:child_process").SpawnSyncOptions} [opts]
 * @returns {string} stdout
 */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" },
    ...opts,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return String(r.stdout);
}

/** @param {string} p */
const read = (p) => readFileSync(p, "utf8");

function packageVersion() {
  const manifest = join(PKG, "package.json");
  if (!existsSync(manifest)) throw new Error("crate/pkg/ is missing: run `make package` first");
  return JSON.parse(read(manifest)).version;
}

/** The workspace version in Cargo.toml ([workspace.package] version). */
function cargoVersion() {
  const m = read(join(ROOT, "Cargo.toml")).match(/\[workspace\.package\][^[]*?\bversion\s*=\s*"([^"]+)"/);
  assert.ok(m, "no [workspace.package] version in Cargo.toml");
  return m[1];
}

describe("generated TypeScript declarations", () => {
  test("bundler .d.ts equals the golden crate/tests/golden/runbrake_core.d.ts", (t) => {
    packageVersion();
    const fresh = read(join(PKG, "bundler/runbrake_core.d.ts"));
    if (BLESS) {
      writeFileSync(GOLDEN, fresh);
      t.diagnostic(`blessed ${GOLDEN}`);
      return;
    }
    assert.ok(
      existsSync(GOLDEN),
      "no golden file yet: RUNBRAKE_BLESS=1 node --test tests/package/package.test.mjs",
    );
    const diff = unifiedDiff(read(GOLDEN), fresh, {
      aName: "crate/tests/golden/runbrake_core.d.ts (golden)",
      bName: "crate/pkg/bundler/runbrake_core.d.ts (generated)",
    });
    assert.ok(
      diff === "",
      `The generated TypeScript types differ from the golden file:\n\n${diff}\n\n` +
        "If the change is intended (a changed Rust type or export), accept it with\n" +
        "  RUNBRAKE_BLESS=1 node --test tests/package/package.test.mjs\n" +
        "and commit crate/tests/golden/runbrake_core.d.ts.",
    );
  });

  test("the three builds declare the same API, and no bench exports", () => {
    packageVersion();
    const bundler = read(join(PKG, "bundler/runbrake_core.d.ts"));
    const node = read(join(PKG, "nodejs/runbrake_core.d.ts"));
    const web = read(join(PKG, "web/runbrake_core.d.ts"));
    assert.equal(node, bundler, "nodejs and bundler declarations differ");
    // web = the same declarations + init/initSync/InitOutput.
    assert.ok(web.startsWith(bundler.trimEnd()), "web declarations do not start with the bundler ones");
    assert.match(web, /export default function __wbg_init/);
    assert.match(web, /export function initSync/);
    for (const [name, text] of [["d.ts", bundler], ["web d.ts", web]]) {
      assert.doesNotMatch(text, /bench/i, `${name}: bench exports (feature \`bench\`) must not ship`);
    }
    assert.match(bundler, /^export type Millis = number;$/m, "Millis is used, so it must be declared");
  });
});

describe("npm pack", () => {
  test("--dry-run lists exactly the package files, and the tarball holds the same", () => {
    const version = packageVersion();
    assert.equal(version, cargoVersion(), "crate/pkg is stale: run `make package`");
    const [info] = JSON.parse(run("npm", ["pack", "--dry-run", "--json", "--silent"], { cwd: PKG }));
    assert.equal(info.name, "runbrake-core");
    assert.equal(info.version, version);
    const files = info.files.map((/** @type {{ path: string }} */ f) => f.path).sort();
    const perTarget = ["runbrake_core.d.ts", "runbrake_core.js", "runbrake_core_bg.wasm", "runbrake_core_bg.wasm.d.ts"];
    const examples = readdirSync(join(ROOT, "crate/npm/examples")).map((f) => `examples/${f}`);
    const expected = [
      "README.md",
      "package.json",
      ...perTarget.map((f) => `bundler/${f}`),
      "bundler/runbrake_core_bg.js",
      ...perTarget.map((f) => `web/${f}`),
      ...perTarget.map((f) => `nodejs/${f}`),
      "nodejs/package.json", // {"type": "commonjs"}: the nodejs build is CommonJS
      ...examples,
    ].sort();
    assert.deepEqual(files, expected);
    assert.ok(examples.length > 0, "no examples");

    const tgz = join(ROOT, `dist/runbrake-core-${version}.tgz`);
    assert.ok(existsSync(tgz), `${tgz} is missing: run \`make package\``);
    const inTarball = run("tar", ["-tzf", tgz]).split("\n").filter(Boolean)
      .map((p) => p.replace(/^package\//, "")).sort();
    assert.deepEqual(inTarball, expected, "the tarball differs from crate/pkg: run `make package`");
  });
});

describe("the packed tarball, installed into a scratch project", () => {
  let dir = "";
  /** @param {string} file */
  const node = (file) => run(process.execPath, [file], { cwd: dir });

  before(() => {
    const version = packageVersion();
    const tgz = join(ROOT, `dist/runbrake-core-${version}.tgz`);
    if (!existsSync(tgz)) throw new Error(`${tgz} is missing: run \`make package\` first`);
    dir = mkdtempSync(join(tmpdir(), "runbrake-package-"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    // No dependencies, so this works offline.
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", tgz], { cwd: dir });
    const installed = JSON.parse(read(join(dir, "node_modules/runbrake-core/package.json")));
    assert.equal(installed.version, version);
  });

  after(() => {
    if (!dir) return;
    if (process.env.RUNBRAKE_KEEP_SCRATCH === "1") console.log(`# scratch project kept: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  // The same story in every flavour: claim, cancel with grace (requested), the deadline passes
  // (cancelled, forced), then a refused command throws an Error with a code.
  const story = `
    const t0 = ${T0};
    let { state } = rb.create({ id: "r1", kind: "generic", initial: "queued" }, t0);
    const step = (cmd, now) => {
      const d = rb.decide(state, cmd, now);
      for (const e of d.events) state = rb.evolve(state, e);
      return d;
    };
    step({ type: "claim", executor: "e", lease_id: "L1", lease_ms: 60000 }, t0 + 1);
    const can = rb.canCancel(state);
    const cancel = step({ type: "cancel", by: { source: "api" }, grace_ms: 1000 }, t0 + 2);
    const cancelling = state.status.type;
    const fired = step({ type: "deadline_fired" }, t0 + 1002);
    let err = null;
    try { rb.decide(state, { type: "enqueue" }, t0 + 2000); }
    catch (e) { err = { code: e.code, isError: e instanceof Error }; }
    const result = { can, outcome: cancel.reply.outcome, cancelling, action: fired.reply.action,
                     status: state.status, err };
  `;

  /** @param {any} r the story's result, parsed from JSON */
  function assertStory(r) {
    assert.equal(r.can, true);
    assert.deepEqual(r.outcome, { kind: "requested", deadline: T0 + 1002 });
    assert.equal(r.cancelling, "cancelling");
    assert.equal(r.action, "cancel_forced");
    assert.equal(r.status.type, "cancelled");
    assert.equal(r.status.forced, true);
    assert.deepEqual(r.err, { code: "invalid_transition", isError: true });
  }

  test("node ESM: import from \"runbrake-core\" loads the nodejs build", () => {
    writeFileSync(join(dir, "esm.mjs"), `
      import * as rb from "runbrake-core";
      import { decide } from "runbrake-core"; // named exports of the CommonJS build
      import pkg from "runbrake-core/package.json" with { type: "json" };
      ${story}
      console.log(JSON.stringify({ ...result, resolved: import.meta.resolve("runbrake-core"),
                                   named: typeof decide, version: pkg.version }));
    `);
    const r = JSON.parse(node("esm.mjs"));
    assertStory(r);
    assert.match(r.resolved, /\/node_modules\/runbrake-core\/nodejs\/runbrake_core\.js$/);
    assert.equal(r.named, "function");
    assert.equal(r.version, packageVersion());
  });

  test("node CommonJS: require(\"runbrake-core\")", () => {
    writeFileSync(join(dir, "cjs.cjs"), `
      const rb = require("runbrake-core");
      ${story}
      console.log(JSON.stringify({ ...result, resolved: require.resolve("runbrake-core") }));
    `);
    const r = JSON.parse(node("cjs.cjs"));
    assertStory(r);
    assert.match(r.resolved, /\/node_modules\/runbrake-core\/nodejs\/runbrake_core\.js$/);
  });

  test("the web build: init with the .wasm bytes, then the same functions", () => {
    writeFileSync(join(dir, "web.mjs"), `
      import { readFileSync } from "node:fs";
      import { fileURLToPath } from "node:url";
      import init, * as rb from "runbrake-core/web";
      const wasm = fileURLToPath(import.meta.resolve("runbrake-core/web/runbrake_core_bg.wasm"));
      await init({ module_or_path: readFileSync(wasm) });
      ${story}
      console.log(JSON.stringify(result));
    `);
    assertStory(JSON.parse(node("web.mjs")));
  });

  test("examples/cancel.mjs runs against the installed package", () => {
    const out = node("node_modules/runbrake-core/examples/cancel.mjs");
    assert.match(out, /outcome: requested, deadline 2026-05-01T14:30:15Z/);
    assert.match(out, /status cancelled \(version 4\)/);
    assert.match(out, /cancelled, forced: true; canCancel: false/);
  });

  for (const [mode, module] of [["nodenext", "nodenext"], ["bundler", "esnext"]]) {
    test(`a strict TypeScript consumer compiles (moduleResolution ${mode})`, () => {
      cpSync(join(ROOT, "tests/package/consumer.ts"), join(dir, "consumer.ts"));
      const config = join(dir, `tsconfig.${mode}.json`);
      writeFileSync(config, JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: false, // check the package's .d.ts too
          target: "es2022",
          lib: ["es2022", "dom", "esnext.disposable"],
          module,
          moduleResolution: mode,
          types: [],
        },
        files: ["consumer.ts"],
      }));
      const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
      const r = spawnSync(process.execPath, [tsc, "-p", config, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
      assert.equal(r.status, 0, `tsc (${mode}) failed:\n${r.stdout}${r.stderr}`);
    });
  }

  test("Vite builds a page importing \"runbrake-core\" and \"runbrake-core/web\"", async () => {
    const app = join(dir, "app");
    cpSync(join(dir, "node_modules"), join(app, "node_modules"), { recursive: true });
    writeFileSync(join(app, "index.html"), `<!doctype html><script type="module" src="./main.js"></script>`);
    writeFileSync(join(app, "main.js"), `
      import { create, decide } from "runbrake-core";
      import init, { canCancel } from "runbrake-core/web";
      await init();
      const { state } = create({ id: "r", kind: "workflow", initial: "queued" }, 0);
      document.body.textContent = decide(state, { type: "cancel", by: { source: "api" } }, 1)
        .reply.outcome.kind + " " + canCancel(state);
    `);
    const { build } = await import("vite");
    await build({ root: app, configFile: false, logLevel: "silent", build: { outDir: "dist", target: "es2022" } });
    const assets = readdirSync(join(app, "dist/assets"));
    const wasm = assets.filter((f) => f.endsWith(".wasm"));
    const js = assets.filter((f) => f.endsWith(".js"));
    assert.equal(js.length, 1, `assets: ${assets}`);
    assert.ok(wasm.length >= 1, `no .wasm asset: ${assets}`);
    const bundle = read(join(app, "dist/assets", js[0]));
    for (const w of wasm) assert.ok(bundle.includes(w), `${w} is not referenced by the bundle`);
    const shipped = readFileSync(join(PKG, "bundler/runbrake_core_bg.wasm"));
    assert.ok(wasm.some((w) => readFileSync(join(app, "dist/assets", w)).equals(shipped)));
    assert.ok(!/from\s*["']runbrake-core/.test(bundle), "a bare runbrake-core import was left unbundled");
  });

  test("the Vite build runs in chromium", async (t) => {
    const dist = join(dir, "app/dist");
    if (!existsSync(join(dist, "index.html"))) return t.skip("no Vite build (the previous test failed)");
    const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
    if (!existsSync(chromiumPath)) return t.skip(`no chromium at ${chromiumPath}`);
    const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
    const server = createServer((req, res) => {
      const file = join(dist, req.url === "/" ? "index.html" : String(req.url).split("?")[0]);
      if (!file.startsWith(dist) || !existsSync(file)) return void res.writeHead(404).end();
      const type = types[/** @type {keyof types} */ (extname(file))] ?? "application/octet-stream";
      res.writeHead(200, { "content-type": type }).end(readFileSync(file));
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(null)));
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await browser.newPage();
      /** @type {string[]} */
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      const address = /** @type {import("node:net").AddressInfo} */ (server.address());
      await page.goto(`http://127.0.0.1:${address.port}/`);
      await page.waitForFunction(() => document.body.textContent !== "", null, { timeout: 10_000 }).catch(() => {});
      const text = await page.evaluate(() => document.body.textContent);
      assert.deepEqual(errors, []);
      assert.equal(text, "cancelled_now true");
    } finally {
      await browser.close();
      server.close();
    }
  });
});
