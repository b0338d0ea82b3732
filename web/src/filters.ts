// The run list's filters: kept in the page URL (so a view can be shared, reloaded and navigated
// back to), turned into `GET /api/runs` parameters, and matched against pushed summaries the
// same way the index matches them.

import type { RunKind, StatusKind } from "runbrake-core";
import { KINDS, STATUSES, type Query, type RunSummary } from "./api";

export type TimeRange = "any" | "1h" | "24h" | "7d" | "custom";

export interface Filters {
  status: StatusKind[];
  kind: RunKind | null;
  batch: string;
  tag: string;
  time: TimeRange;
  /** `datetime-local` values (local time), for `custom`. */
  from: string;
  to: string;
  q: string;
}

export const TIME_RANGES: { value: TimeRange; label: string; ms: number }[] = [
  { value: "any", label: "Any time", ms: 0 },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "custom", label: "Between…", ms: 0 },
];

export function parseFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  const status = (p.get("status") ?? "")
    .split(",")
    .filter((s): s is StatusKind => (STATUSES as readonly string[]).includes(s));
  const kind = p.get("kind");
  const time = p.get("time");
  return {
    status: STATUSES.filter((s) => status.includes(s)),
    kind: kind && (KINDS as readonly string[]).includes(kind) ? (kind as RunKind) : null,
    batch: p.get("batch") ?? "",
    tag: p.get("tag") ?? "",
    time: TIME_RANGES.some((t) => t.value === time) ? (time as TimeRange) : "any",
    from: p.get("from") ?? "",
    to: p.get("to") ?? "",
    q: p.get("q") ?? "",
  };
}

/** The page URL's query for these filters ("" when none). */
export function filtersToSearch(f: Filters): string {
  const p = new URLSearchParams();
  if (f.status.length) p.set("status", f.status.join(","));
  if (f.kind) p.set("kind", f.kind);
  if (f.batch) p.set("batch", f.batch);
  if (f.tag) p.set("tag", f.tag);
  if (f.time !== "any") p.set("time", f.time);
  if (f.time === "custom" && f.from) p.set("from", f.from);
  if (f.time === "custom" && f.to) p.set("to", f.to);
  if (f.q) p.set("q", f.q);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export function isFiltered(f: Filters): boolean {
  return filtersToSearch(f) !== "";
}

/** Only a status filter (or none): the per-status counts give the exact number of matches. */
export function onlyStatus(f: Filters): boolean {
  return !f.kind && !f.batch && !f.tag && f.time === "any" && !f.q;
}

/** The created-at window `[from, to)` in epoch ms, evaluated at `now`. */
export function createdWindow(f: Filters, now: number): { from: number | null; to: number | null } {
  if (f.time === "custom") {
    const from = f.from ? new Date(f.from).getTime() : NaN;
    const to = f.to ? new Date(f.to).getTime() : NaN;
    return { from: Number.isFinite(from) ? from : null, to: Number.isFinite(to) ? to : null };
  }
  const range = TIME_RANGES.find((t) => t.value === f.time);
  return { from: range && range.ms > 0 ? now - range.ms : null, to: null };
}

/** `GET /api/runs` parameters. */
export function listQuery(f: Filters, now: number): Query {
  const w = createdWindow(f, now);
  return {
    status: f.status.join(","),
    kind: f.kind ?? "",
    batch_id: f.batch.trim(),
    tag: f.tag.trim(),
    created_from: w.from === null ? "" : Math.max(0, Math.floor(w.from)),
    created_to: w.to === null ? "" : Math.max(0, Math.floor(w.to)),
    q: f.q.trim(),
  };
}

/** Does a pushed summary belong in this filtered list? (As the index decides it.) */
export function matches(f: Filters, r: RunSummary, now: number): boolean {
  if (f.status.length && !f.status.includes(r.status)) return false;
  if (f.kind && r.kind !== f.kind) return false;
  if (f.batch.trim() && r.batch_id !== f.batch.trim()) return false;
  if (f.tag.trim() && !r.tags.includes(f.tag.trim())) return false;
  const w = createdWindow(f, now);
  if (w.from !== null && r.created_at < w.from) return false;
  if (w.to !== null && r.created_at >= w.to) return false;
  const q = f.q.trim().toLowerCase();
  if (q && !r.id.toLowerCase().includes(q) && !(r.name ?? "").toLowerCase().includes(q)) return false;
  return true;
}
