// Plain language for what the core says: cancel outcomes and event-log entries.

import type { By, CancelOutcome, CancelVia, EventRecord, Source, StatusKind } from "runbrake-core";
import { clockMs, duration, humanize, relative } from "./format";
import { statusLabel } from "./status";

const SOURCE: Record<Source, string> = {
  api: "the API",
  dashboard: "the dashboard",
  cascade: "its parent run",
  bulk: "a bulk cancel",
  retab_workflow: "the Retab workflow route (000)",
  retab_workflow_test: "the Retab workflow-test route (001)",
  retab_experiment: "the Retab experiment route (002)",
  extend_workflow: "the Extend route (003)",
  generic: "the generic route (004)",
};

export function sourceText(source: Source): string {
  return SOURCE[source];
}

/** "the dashboard (key key_abc)". */
export function byText(by: By): string {
  return by.actor ? `${SOURCE[by.source]} (${by.source === "cascade" ? "run" : "key"} ${by.actor})` : SOURCE[by.source];
}

const VIA: Record<CancelVia, string> = {
  immediate: "at once: no executor was working on it",
  ack: "the executor confirmed it stopped",
  deadline: "the deadline passed, so it was forced",
  late_completion: "the executor reported completion during the grace period; the cancel stands",
  late_failure: "the executor reported a failure during the grace period; the cancel stands",
};

export interface Said {
  /** One line: what happened. */
  title: string;
  /** What it means / what happens next. */
  detail: string;
  tone: "ok" | "info" | "warn" | "error";
}

/**
 * What a cancel's outcome means for the person who pressed the button. `decidedAt` is when the
 * service decided the cancel (for "lost the race by …").
 */
export function describeOutcome(o: CancelOutcome, now: number, decidedAt: number | null): Said {
  switch (o.kind) {
    case "cancelled_now":
      return {
        title: `Cancelled at ${clockMs(o.effective_at)}.`,
        detail: o.forced
          ? "The executor's lease was revoked at once (no grace period); any later report from it is recorded as late and changes nothing."
          : "No executor was working on the run, so it stopped at once.",
        tone: "ok",
      };
    case "requested":
      return {
        title: `Cancel requested: the executor has until ${clockMs(o.deadline)} to stop (${duration(Math.max(0, o.deadline - (decidedAt ?? now)))} grace).`,
        detail: "The executor has been told. If it has not stopped by the deadline, the run is cancelled anyway and its lease revoked.",
        tone: "info",
      };
    case "already_requested":
      return {
        title: `A cancel was already in progress (requested at ${clockMs(o.requested_at)}).`,
        detail: `Its deadline stays ${clockMs(o.deadline)}; nothing else changed.`,
        tone: "info",
      };
    case "already_cancelled":
      return {
        title: `Already cancelled at ${clockMs(o.effective_at)}${o.forced ? " (forced)" : ""}.`,
        detail: "Nothing changed.",
        tone: "info",
      };
    case "already_terminal": {
      const state = statusLabel(o.state).toLowerCase();
      if (o.lost_race) {
        const by = decidedAt !== null && decidedAt >= o.since ? `, ${duration(decidedAt - o.since)} before your cancel arrived` : "";
        return {
          title: `Too late: the run ${state} at ${clockMs(o.since)}${by}.`,
          detail: `Your cancel lost the race to the run's own end. Nothing was cancelled; the run stays ${state}.`,
          tone: "warn",
        };
      }
      return {
        title: `Nothing to cancel: the run had already ${state === "completed" ? "completed" : `ended (${state})`} ${relative(o.since, now)}, at ${clockMs(o.since)}.`,
        detail: "Finished runs cannot be cancelled.",
        tone: "warn",
      };
    }
    case "not_cancellable":
      return {
        title: `This run cannot be cancelled while ${statusLabel(o.state).toLowerCase()}.`,
        detail: "The cancel policy does not cover this state. Nothing changed.",
        tone: "warn",
      };
    case "precondition_failed":
      return {
        title: `The run changed before your cancel arrived: it is now ${statusLabel(o.actual_status).toLowerCase()} (version ${o.actual_version}).`,
        detail: "Nothing was cancelled. Look at its current state and try again if you still want to.",
        tone: "warn",
      };
    case "replayed": {
      const first = describeOutcome(o.original.outcome, now, decidedAt);
      return { ...first, detail: `${first.detail} (This request had been answered before; this is its original answer.)` };
    }
  }
}

/** What the user's requested cancel came to, once the run is cancelled. */
export function describeEnd(effectiveAt: number, forced: boolean, via: CancelVia | null, requestedAt: number | null): Said {
  const after = requestedAt !== null && effectiveAt >= requestedAt ? `, ${duration(effectiveAt - requestedAt)} after the request` : "";
  return {
    title: `Cancelled at ${clockMs(effectiveAt)}${forced ? " (forced)" : ""}${after}.`,
    detail: via
      ? `${VIA[via].charAt(0).toUpperCase()}${VIA[via].slice(1)}.${forced ? " The executor's lease is revoked: anything it reports now is recorded as late and changes nothing." : ""}`
      : "The run has stopped.",
    tone: "ok",
  };
}

export interface EventText {
  title: string;
  detail: string;
  tone: "neutral" | "ok" | "info" | "warn" | "error";
  late: boolean;
  /** Folded into a group when several come in a row (heartbeats, child moves). */
  group: string | null;
}

const noun = (n: number): string => (n === 1 ? "child" : "children");

function statusOf(s: { type: StatusKind }): string {
  return statusLabel(s.type).toLowerCase();
}

export function describeEvent(rec: EventRecord): EventText {
  const e = rec.event;
  const t = (title: string, detail = "", tone: EventText["tone"] = "neutral", late = false, group: string | null = null): EventText => ({
    title,
    detail,
    tone,
    late,
    group,
  });
  switch (e.type) {
    case "created": {
      const total = Object.values(e.children ?? {}).reduce((a, b) => a + (b ?? 0), 0);
      const parts = [total ? `${total} children` : "", e.sub_runs?.length ? `${e.sub_runs.length} sub-runs` : "", e.default_grace_ms !== undefined ? `default grace ${duration(e.default_grace_ms)}` : ""].filter(Boolean);
      return t(`Created, ${statusOf(e.status)}`, parts.join(" · "));
    }
    case "enqueued":
      return t("Queued");
    case "claimed":
      return t(`Claimed by executor ${e.lease.executor}`, `lease ${e.lease.id} until ${clockMs(e.lease.expires_at)}`, "info");
    case "lease_extended":
      return t("Heartbeat", `lease extended to ${clockMs(e.expires_at)}`, "neutral", false, "Heartbeats");
    case "lease_expired":
      return t("Lease expired", "the executor stopped sending heartbeats; the run went back to the queue", "warn");
    case "wait_started":
      return t(`Waiting: ${humanize(e.reason).toLowerCase()}`, e.released_lease_id ? "the executor released its lease" : "", "info");
    case "resumed":
      return t(`Resumed by executor ${e.lease.executor}`, `lease ${e.lease.id}`, "info");
    case "completed":
      return t("Completed", "", "ok");
    case "failed":
      return t("Failed", e.code ? `${e.message} (${e.code})` : e.message, "error");
    case "rejected":
      return t("Rejected", e.note ?? "", "error");
    case "cancel_requested":
      return t(
        `Cancel requested by ${byText(e.by)}`,
        [e.reason ? `reason: “${e.reason}”` : "no reason given", `deadline ${clockMs(e.deadline)}`].join(" · "),
        "warn",
      );
    case "cancelled":
      return t(
        `Cancelled${e.forced ? " (forced)" : ""}`,
        [VIA[e.via], `requested by ${byText(e.by)}`, e.reason ? `reason: “${e.reason}”` : ""].filter(Boolean).join(" · "),
        "ok",
      );
    case "late_completion":
      return t("Late completion", "The executor reported success after the cancel was accepted. Recorded only: the run stays cancelled.", "warn", true);
    case "late_failure":
      return t("Late failure", `The executor reported a failure after the cancel was accepted${e.message ? ` (“${e.message}”)` : ""}. Recorded only.`, "warn", true);
    case "cancel_recorded": {
      const said = describeOutcome(e.reply.outcome, rec.at, rec.at);
      return t(`Cancel answered: ${humanize(e.reply.outcome.kind).toLowerCase()}`, `${said.title} · request ${e.command_id}`, "neutral");
    }
    case "children_added":
      return t(`${e.items.length} ${noun(e.items.length)} added`);
    case "child_changed":
      return t(`Child ${e.id}: ${e.from} → ${e.to}`, "", "neutral", false, "Child updates");
    case "children_cancelled":
      return t(`${e.count} ${e.from} ${noun(e.count)} cancelled`, "", "info");
    case "children_cancelling":
      return t(`${e.count} running ${noun(e.count)} told to stop`, "they follow the run's deadline", "info");
    case "sub_run_attached":
      return t(`Sub-run ${e.id} attached`);
  }
}
