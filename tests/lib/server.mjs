// Starts the built Worker under `wrangler dev` (scripts/dev.sh) on a free loopback port, in its own
// process group with its own persistence folder, so a test can SIGINT, kill -9 and restart it
// without touching anything else on the machine.
import { spawn } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The project's wrangler.toml for a test server: the same Worker, bindings and assets, run from a
 * private copy of what `make build` produced and with no [build] section, so the server never
 * rebuilds, and never restarts mid-test ("503 Your worker restarted mid-request") when someone
 * rebuilds `worker/build` or `web/dist` while a long suite runs.
 * @param {string} dir where to write it (the server's own folder)
 */
async function testConfig(dir) {
  await cp(join(ROOT, "worker/build"), join(dir, "worker"), { recursive: true });
  await cp(join(ROOT, "web/dist"), join(dir, "web"), { recursive: true });
  const text = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const lines = [];
  let inBuild = false;
  for (const line of text.split("\n")) {
    if (/^\s*\[/.test(line)) inBuild = /^\s*\[build\]\s*$/.test(line);
    if (!inBuild) lines.push(line);
  }
  const config = lines
    .join("\n")
    .replace(/^main = ".*"$/m, `main = ${JSON.stringify(join(dir, "worker/index.js"))}`)
    .replace(/^directory = ".*"$/m, `directory = ${JSON.stringify(join(dir, "web"))}`);
  const file = join(dir, "wrangler.toml");
  await writeFile(file, config);
  return file;
}

/**
 * Polls `url` until it answers 200 or `deadlineMs` passes (a condition, not a fixed sleep).
 * @param {string} url
 * @param {number} deadlineMs
 */
export async function waitForOk(url, deadlineMs = 60_000) {
  const until = Date.now() + deadlineMs;
  let last = "no answer";
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await delay(50); // poll interval while the server comes up, not a wait for time to pass
  }
  throw new Error(`${url} not ready: ${last}`);
}

/**
 * @typedef {object} DevServer
 * @property {string} url
 * @property {string} persistDir
 * @property {() => Promise<void>} stop       SIGINT, wait for exit, remove the folder
 * @property {() => Promise<void>} kill9      SIGKILL the whole process group
 * @property {() => Promise<void>} restart    start again on the same port and storage
 * @property {() => string} output            what the server printed (for failure messages)
 * @property {() => number | undefined} pid     the process group leader (for memory readings)
 */

/**
 * @param {{ env?: Record<string, string>, vars?: Record<string, string>, args?: string[], healthPath?: string, selfHosted?: boolean }} [opts]
 *   `selfHosted`: bare workerd (`scripts/serve.sh`, as `make serve`) instead of `wrangler dev`;
 *   `vars` then become environment variables (how the self-hosted config takes secrets).
 * @returns {Promise<DevServer>}
 */
export async function startDevServer(opts = {}) {
  const port = await freePort();
  const persistDir = await mkdtemp(join(tmpdir(), "runbrake-dev-"));
  const url = `http://127.0.0.1:${port}`;
  const varArgs = Object.entries(opts.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const configArgs =
    opts.selfHosted || opts.args?.includes("--config") ? [] : ["--config", await testConfig(persistDir)];
  let out = "";
  /** @type {import("node:child_process").ChildProcess | undefined} */
  let child;

  const launch = async () => {
    const args = opts.selfHosted
      ? [join(ROOT, "scripts/serve.sh")]
      : [join(ROOT, "scripts/dev.sh"), "--persist-to", persistDir, ...configArgs, ...varArgs, ...(opts.args ?? [])];
    const selfHostedEnv = opts.selfHosted ? { ADDR: `127.0.0.1:${port}`, DATA: persistDir, ...opts.vars } : {};
    child = spawn("bash", args, {
      cwd: ROOT,
      detached: true, // own process group: kill9 hits this server and its children only
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SKIP_WORKER_BUILD: "1", PORT: String(port), ...selfHostedEnv, ...opts.env },
    });
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    const exited = new Promise((_, reject) =>
      child?.once("exit", (code) => reject(new Error(`the server exited (${code}):\n${out}`))),
    );
    try {
      await Promise.race([waitForOk(`${url}${opts.healthPath ?? "/healthz"}`), exited]);
    } catch (err) {
      // Never leave a server that did not come up running behind the test.
      signalGroup("SIGKILL");
      throw err;
    }
  };

  const waitExit = () =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
      child.once("exit", () => resolve(undefined));
    });

  const signalGroup = (/** @type {NodeJS.Signals} */ sig) => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };

  await launch();
  return {
    url,
    persistDir,
    output: () => out,
    pid: () => child?.pid,
    async kill9() {
      signalGroup("SIGKILL");
      await waitExit();
    },
    async restart() {
      await launch();
    },
    async stop() {
      signalGroup("SIGINT");
      const timer = setTimeout(() => signalGroup("SIGKILL"), 10_000);
      await waitExit();
      clearTimeout(timer);
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}
