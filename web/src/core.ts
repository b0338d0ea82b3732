// The core state machine (Rust → Wasm), the same code the server decides with. The dashboard
// asks it whether a run can be cancelled, what to display while a cancel is in flight, how to
// merge pushed events, and what each dialect calls a status — it never re-decides any of it.

import init, * as core from "runbrake-core";
import type { Dialect, RunKind, RunState, Status, StatusKind, WaitReason } from "runbrake-core";

export { core };

let ready: Promise<void> | null = null;
let isReady = false;

/** Loads and instantiates the Wasm module once (its download starts with the page: preload). */
export function initCore(): Promise<void> {
  ready ??= init().then(() => {
    isReady = true;
    performance.mark("runbrake:core-ready");
  });
  return ready;
}

/** True once the module is instantiated; screens that can show something before wait for it. */
export const coreReady = (): boolean => isReady;

/** The dialect whose routes reach a run of this kind (its seed number in the docs). */
export const DIALECT_OF: Record<RunKind, { dialect: Dialect; code: string; label: string }> = {
  workflow: { dialect: "retab_workflow", code: "000", label: "Retab workflow runs" },
  workflow_test: { dialect: "retab_workflow_test", code: "001", label: "Retab workflow-test runs" },
  experiment: { dialect: "retab_experiment", code: "002", label: "Retab experiment runs" },
  extend_workflow: { dialect: "extend_workflow", code: "003", label: "Extend workflow runs" },
  generic: { dialect: "generic", code: "004", label: "Generic runs" },
};

const KIND_LABEL: Record<RunKind, string> = {
  workflow: "Workflow",
  workflow_test: "Workflow test",
  experiment: "Experiment",
  extend_workflow: "Extend workflow",
  generic: "Generic",
};
export const kindLabel = (k: RunKind): string => KIND_LABEL[k];

/** A status of this kind (and wait reason) with placeholder data, to ask the core about words. */
function sampleStatus(kind: StatusKind, reason: WaitReason): Status {
  const by = { source: "api" as const };
  const lease = { id: "l", executor: "x", expires_at: 1 };
  switch (kind) {
    case "pending":
    case "queued":
    case "completed":
      return { type: kind };
    case "running":
      return { type: "running", lease: null };
    case "waiting":
      return { type: "waiting", reason };
    case "cancelling":
      return { type: "cancelling", requested_at: 0, deadline: 1, by, lease };
    case "failed":
      return { type: "failed", message: "" };
    case "rejected":
      return { type: "rejected" };
    case "cancelled":
      return { type: "cancelled", by, forced: false, effective_at: 0 };
  }
}

const vocab = new Map<string, string>();

/**
 * The dialect's status word for a run of `kind` in `status` (e.g. an extend_workflow run that
 * is running is `PROCESSING`). Asked of the core once per combination, then remembered: the
 * projection depends on the status and the wait reason only.
 */
export function dialectWord(kind: RunKind, status: StatusKind, reason: WaitReason | null): string | null {
  const key = `${kind}/${status}/${reason ?? ""}`;
  let word = vocab.get(key);
  if (word === undefined) {
    if (!isReady) return null;
    const state: RunState = {
      v: 1,
      id: "sample",
      kind,
      status: sampleStatus(status, reason ?? "event"),
      version: 1,
      timing: { created_at: 0, updated_at: 0 },
    };
    word = core.projectStatus(state, DIALECT_OF[kind].dialect);
    vocab.set(key, word);
  }
  return word;
}

/**
 * The server's clock minus ours, learnt from stream snapshots (`now`), so countdowns and
 * durations of live runs agree with the server that enforces the deadline.
 */
let skew = 0;
export function learnServerNow(serverNow: number): void {
  skew = serverNow - Date.now();
}
export function serverNow(): number {
  return Date.now() + skew;
}
