// What the figures were measured on: CPU, cores, load, and the tool versions.
import { execFileSync } from "node:child_process";
import os from "node:os";

/** @param {string} cmd @param {string[]} [args] */
function version(cmd, args = ["--version"]) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

/** A description of this machine and toolchain, for a results file. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    rustc: version("rustc"),
    wasm_bindgen: version("wasm-bindgen"),
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** A warning when the machine is busy (load above the core count): figures will be low/noisy. */
export function loadWarning() {
  const [one] = os.loadavg();
  const cores = os.cpus().length;
  return one > cores
    ? `load average ${one.toFixed(2)} on ${cores} cores: the machine is busy, figures are pessimistic and noisy`
    : null;
}
