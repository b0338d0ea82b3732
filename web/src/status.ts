// How statuses look: one badge style for the list and the run page.

import type { RunKind, StatusKind, WaitReason } from "runbrake-core";
import { DIALECT_OF, dialectWord } from "./core";
import { h } from "./dom";
import { humanize } from "./format";

const LABEL: Record<StatusKind, string> = {
  pending: "Pending",
  queued: "Queued",
  running: "Running",
  waiting: "Waiting",
  cancelling: "Cancelling",
  completed: "Completed",
  failed: "Failed",
  rejected: "Rejected",
  cancelled: "Cancelled",
};

export const statusLabel = (s: StatusKind): string => LABEL[s];

export const waitLabel = (r: WaitReason | null): string => (r ? humanize(r) : "");

/** A status badge. `optimistic` marks the "Cancelling…" the dashboard shows before the server confirms. */
export function badge(status: StatusKind, opts: { optimistic?: boolean; id?: string } = {}): HTMLElement {
  const text = opts.optimistic ? "Cancelling…" : LABEL[status];
  return h(
    "span",
    { class: `badge s-${status}`, "data-status": status, "data-optimistic": opts.optimistic ? "true" : null, id: opts.id ?? null },
    h("span", { class: "dot", "aria-hidden": "true" }),
    text,
  );
}

/** "003 says PROCESSING": what the run's own contract calls this status. */
export function dialectText(kind: RunKind, status: StatusKind, reason: WaitReason | null): string {
  const word = dialectWord(kind, status, reason);
  return word === null ? "" : `${DIALECT_OF[kind].code} says ${word}`;
}
