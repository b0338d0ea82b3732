// Times and numbers as people read them. Absolute times are local (with the RFC 3339 UTC form
// in `datetime`/`title`), relative ones say "ago" or "in".

import { h } from "./dom";

const numberFmt = new Intl.NumberFormat();
export const num = (n: number): string => numberFmt.format(n);

const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** `2026-05-01T14:30:00.123Z` (UTC, milliseconds only when not zero, like the core's). */
export function iso(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith(".000Z") ? `${s.slice(0, -5)}Z` : s;
}

/** Local date and time: "May 1, 2026, 16:30:00". */
export function absolute(ms: number): string {
  return dateTimeFmt.format(ms);
}

const shortFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
const shortYearFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** Compact local date and time for tables: "Nov 23, 17:37:00" (the year only when not this year). */
export function shortAbsolute(ms: number): string {
  return new Date(ms).getFullYear() === new Date().getFullYear() ? shortFmt.format(ms) : shortYearFmt.format(ms);
}

/** Local time of day, 24-hour, with milliseconds: "16:30:00.123" (races are decided in ms). */
export function clockMs(ms: number): string {
  return `${timeFmt.format(ms)}.${String(Math.floor(ms % 1000)).padStart(3, "0")}`;
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 days ago", "in 20 s". */
export function relative(ms: number, now: number): string {
  const d = ms - now;
  const a = Math.abs(d);
  let text: string;
  if (a < 1_500) return d > 0 ? "in a moment" : "just now";
  if (a < 60_000) text = `${Math.round(a / 1000)} s`;
  else if (a < 3_600_000) text = `${Math.round(a / 60_000)} min`;
  else if (a < 86_400_000) text = `${Math.round(a / 3_600_000)} h`;
  else {
    const days = Math.round(a / 86_400_000);
    text = `${days} day${days === 1 ? "" : "s"}`;
  }
  return d > 0 ? `in ${text}` : `${text} ago`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min", "3 d 4 h". */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** A countdown: "0:27", "12:03", "1:02:03"; never negative. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh > 0 ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/**
 * A `<time>` showing relative time, with the absolute local time as its tooltip and the UTC
 * instant as `datetime`. `data-at` lets the page refresh relative texts as time passes.
 */
export function timeEl(ms: number, now: number, mode: "relative" | "absolute" = "relative"): HTMLTimeElement {
  const el = h("time", { datetime: iso(ms), title: `${absolute(ms)} (${iso(ms)})`, "data-at": ms, "data-mode": mode });
  el.textContent = mode === "relative" ? relative(ms, now) : absolute(ms);
  return el;
}

/** Re-renders every relative `<time data-at>` under `root`. */
export function refreshTimes(root: ParentNode, now: number): void {
  for (const el of root.querySelectorAll<HTMLTimeElement>('time[data-mode="relative"]')) {
    const at = Number(el.dataset["at"]);
    const text = relative(at, now);
    if (el.textContent !== text) el.textContent = text;
  }
}

export function humanize(word: string): string {
  const s = word.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
