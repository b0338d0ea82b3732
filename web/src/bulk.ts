// Bulk cancel from the run list: the selected rows or everything the current filters match.
// Step one is a dry run (the service freezes the selection and answers with a count and a
// sample); step two starts a job on exactly that selection; then a progress bar with counts
// and abort, and per-item results at the end. The job is the service's (BulkJob object): this
// view only shows it, so closing the page does not stop it.

import type { StatusKind } from "runbrake-core";
import { ApiError, BULK_OUTCOMES, bulkApi, type Api, type BulkDryRun, type BulkItem, type BulkJob, type BulkOutcome, type BulkSelection } from "./api";
import { announce, h, replace, setText } from "./dom";
import { createdWindow, type Filters } from "./filters";
import { clockMs, duration, humanize, num } from "./format";
import { badge } from "./status";

/** The service's cap on one ids selection. */
export const MAX_SELECTED = 10_000;
/** How often a running job's progress is read (the job is in its own object; no stream). */
const PROGRESS_EVERY_MS = 400;
const ITEMS_PAGE = 100;

const GRACES: { value: string; label: string }[] = [
  { value: "", label: "Each run's default" },
  { value: "0", label: "None: stop now (force)" },
  { value: "10000", label: "10 seconds" },
  { value: "30000", label: "30 seconds" },
  { value: "120000", label: "2 minutes" },
];

/** How fast the job may cancel: gentler paces spread the executors' clean-up work. */
const PACES: { value: string; label: string }[] = [
  { value: "", label: "As fast as the service allows" },
  { value: "100", label: "100 runs per second" },
  { value: "10", label: "10 runs per second" },
  { value: "2", label: "2 runs per second" },
];

const OUTCOME_TEXT: Record<BulkOutcome, string> = {
  cancelled: "Cancelled",
  cancelling: "Cancelling (executor told to stop)",
  already_cancelled: "Already cancelled",
  already_cancelling: "Already cancelling",
  already_finished: "Already finished",
  not_cancellable: "Not cancellable",
  precondition_failed: "Precondition failed",
  not_found: "Not found",
  aborted: "Not started (job aborted)",
  error: "Error",
};

/** What the list offers to cancel: a selection of rows, or its current filters. */
export type BulkTarget = { type: "ids"; ids: string[] } | { type: "filter"; filters: Filters };

/** Statuses a filter selection takes when the filters name none: the ones a cancel can stop. */
const LIVE: StatusKind[] = ["pending", "queued", "running", "waiting"];

/** The service's selection for a target, or why the filters cannot be expressed as one. */
export function selectionOf(t: BulkTarget, now: number): BulkSelection | string {
  if (t.type === "ids") return { ids: t.ids };
  const f = t.filters;
  if (f.q.trim()) return "Text search cannot select runs for a bulk cancel: clear the search, or select rows instead.";
  const w = createdWindow(f, now);
  const filter: Extract<BulkSelection, { filter: unknown }>["filter"] = { status: f.status.length ? f.status : LIVE };
  if (f.kind) filter.kind = f.kind;
  if (f.batch.trim()) filter.batch_id = f.batch.trim();
  if (f.tag.trim()) filter.tag = f.tag.trim();
  if (w.from !== null) filter.created_from = Math.max(0, Math.floor(w.from));
  if (w.to !== null) filter.created_to = Math.max(0, Math.floor(w.to));
  return { filter };
}

function describe(t: BulkTarget): string {
  if (t.type === "ids") return `${num(t.ids.length)} selected run${t.ids.length === 1 ? "" : "s"}`;
  const f = t.filters;
  const parts = [
    f.status.length ? f.status.join(", ") : "live (pending, queued, running, waiting)",
    f.kind ? `kind ${f.kind}` : "",
    f.batch.trim() ? `batch ${f.batch.trim()}` : "",
    f.tag.trim() ? `tag ${f.tag.trim()}` : "",
    f.time !== "any" ? "in the chosen time range" : "",
  ].filter(Boolean);
  return `every run matching: ${parts.join(" · ")}`;
}

function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.network ? e.message : `${e.message} (${e.status} ${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

function detailText(item: BulkItem): string {
  const d = item.detail ?? {};
  const deadline = typeof d["deadline"] === "string" ? Date.parse(d["deadline"]) : NaN;
  if (item.outcome === "cancelling" && Number.isFinite(deadline)) return `must stop by ${clockMs(deadline)}`;
  if (typeof d["status"] === "string") return `was ${d["status"]}`;
  if (typeof d["message"] === "string") return d["message"];
  return "";
}

/** The bulk cancel dialog: choose → dry run → confirm → progress → results. */
export class BulkDialog {
  readonly el: HTMLDialogElement;
  private readonly body: HTMLElement;
  private readonly title: HTMLElement;
  private target: BulkTarget | null = null;
  private job: BulkJob | null = null;
  private timer: number | undefined;
  /** Bumped on every opening and close: late answers of an earlier one are dropped. */
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly onFinished: () => void,
  ) {
    this.title = h("h2", { id: "bulk-title" }, "Cancel runs in bulk");
    this.body = h("div", { class: "bulk-body" });
    this.el = h("dialog", { class: "dialog dialog-wide", id: "bulk-dialog", "aria-labelledby": "bulk-title" }, h("div", { class: "dialog-form" }, this.title, this.body));
    this.el.addEventListener("close", () => this.stop());
  }

  open(target: BulkTarget): void {
    if (this.el.open) return;
    this.generation += 1;
    this.target = target;
    this.job = null;
    this.choose();
    this.el.showModal();
  }

  private stop(): void {
    this.generation += 1;
    window.clearTimeout(this.timer);
    if (this.job) this.onFinished();
  }

  private close(): void {
    if (this.el.open) this.el.close();
  }

  // ---- step 1: reason and grace, then the dry run ----

  private choose(): void {
    const target = this.target;
    if (!target) return;
    const gen = this.generation;
    setText(this.title, "Cancel runs in bulk");
    const reason = h("textarea", { id: "bulk-reason", rows: 2, maxlength: 512 });
    const grace = h("select", { id: "bulk-grace" }, ...GRACES.map((g) => h("option", { value: g.value }, g.label)));
    const pace = h("select", { id: "bulk-pace" }, ...PACES.map((p) => h("option", { value: p.value }, p.label)));
    const error = h("p", { class: "form-error", role: "alert", id: "bulk-error", hidden: true });
    const preview = h("button", { type: "submit", class: "btn btn-primary", id: "bulk-preview" }, "Preview (dry run)");
    const keep = h("button", { type: "button", class: "btn", id: "bulk-keep" }, "Close");
    const form = h(
      "form",
      { class: "bulk-step" },
      h("p", { class: "preview" }, `Cancel ${describe(target)}. A dry run first shows how many runs that is and a sample; nothing is cancelled until you confirm.`),
      h("div", { class: "field" }, h("label", { for: "bulk-reason" }, "Reason (optional, recorded on every run)"), reason),
      h("div", { class: "field" }, h("label", { for: "bulk-grace" }, "Grace period for executors"), grace),
      h("div", { class: "field" }, h("label", { for: "bulk-pace" }, "Pace"), pace),
      error,
      h("div", { class: "dialog-actions" }, keep, preview),
    );
    keep.addEventListener("click", () => this.close());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (preview.disabled) return;
      const selection = selectionOf(target, Date.now());
      if (typeof selection === "string") {
        error.hidden = false;
        setText(error, selection);
        return;
      }
      preview.disabled = true;
      setText(preview, "Counting…");
      const g = grace.value;
      const r = reason.value.trim();
      bulkApi
        .dryRun(this.api, { selection, ...(r ? { reason: r } : {}), ...(g === "" ? {} : { grace_ms: Number(g) }), sample_size: 10 })
        .then((dry) => {
          if (gen === this.generation) this.confirm(dry, pace.value === "" ? undefined : Number(pace.value));
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          preview.disabled = false;
          setText(preview, "Preview (dry run)");
          error.hidden = false;
          setText(error, `The dry run failed: ${errorText(e)}`);
        });
    });
    replace(this.body, form);
    reason.focus();
  }

  // ---- step 2: what the dry run froze; confirm starts the job ----

  private confirm(dry: BulkDryRun, ratePerS: number | undefined): void {
    const gen = this.generation;
    setText(this.title, dry.count === 0 ? "Nothing to cancel" : `Cancel ${num(dry.count)} run${dry.count === 1 ? "" : "s"}?`);
    const sample = h(
      "ul",
      { class: "bulk-sample", "aria-label": "Sample of the selected runs" },
      ...dry.sample.map((s) =>
        h("li", {}, s.status ? badge(s.status) : h("span", { class: "badge" }, "unknown"), h("span", { class: "mono" }, s.name ? `${s.name} · ${s.id}` : s.id)),
      ),
    );
    const expires = Date.parse(dry.expires_at);
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    // One key per confirmation: a double click or a retry after a network error starts one job.
    const key = `dash-${crypto.randomUUID()}`;
    const start = h("button", { type: "submit", class: "btn btn-danger", id: "bulk-start", disabled: dry.count === 0 }, `Cancel ${num(dry.count)} runs`);
    const back = h("button", { type: "button", class: "btn", id: "bulk-back" }, "Back");
    const form = h(
      "form",
      { class: "bulk-step" },
      h(
        "p",
        { class: "preview", id: "bulk-count" },
        dry.count === 0
          ? "The dry run selected no runs: nothing would be cancelled."
          : `${num(dry.count)} runs are selected and frozen: runs created after this moment are not included. ` +
              `Confirm before ${clockMs(expires)} (${duration(expires - Date.now())}).`,
      ),
      dry.sample.length ? h("p", { class: "hint" }, `A sample of ${dry.sample.length}:`) : null,
      dry.sample.length ? sample : null,
      dry.reason ? h("p", { class: "hint" }, "Reason: ", dry.reason) : null,
      error,
      h("div", { class: "dialog-actions" }, back, start),
    );
    back.addEventListener("click", () => this.choose());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (start.disabled) return;
      start.disabled = true;
      setText(start, "Starting…");
      bulkApi
        .start(this.api, dry.dry_run_id, key, ratePerS)
        .then(({ job }) => {
          if (gen !== this.generation) return;
          announce(`Bulk cancel of ${num(job.total)} runs started`);
          this.progress(job);
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          start.disabled = false;
          setText(start, `Cancel ${num(dry.count)} runs`);
          error.hidden = false;
          setText(error, `The job did not start: ${errorText(e)}`);
        });
    });
    replace(this.body, form);
    start.focus();
  }

  // ---- step 3: progress, abort ----

  private progress(job: BulkJob): void {
    this.job = job;
    const gen = this.generation;
    const bar = h("progress", { id: "bulk-progress", max: Math.max(1, job.total), value: job.processed, "aria-label": "Runs processed" });
    const line = h("p", { class: "bulk-line", id: "bulk-progress-text", "aria-live": "polite" });
    const counts = h("dl", { class: "bulk-counts", id: "bulk-counts" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const abort = h("button", { type: "button", class: "btn btn-danger", id: "bulk-abort" }, "Abort");
    const hide = h("button", { type: "button", class: "btn", id: "bulk-hide" }, "Close (the job goes on)");
    replace(this.body, bar, line, counts, error, h("div", { class: "dialog-actions" }, hide, abort));
    hide.addEventListener("click", () => this.close());
    abort.addEventListener("click", () => {
      if (abort.disabled) return;
      abort.disabled = true;
      setText(abort, "Aborting…");
      bulkApi
        .abort(this.api, job.id)
        .then(({ job: j }) => {
          if (gen === this.generation) draw(j);
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          abort.disabled = false;
          setText(abort, "Abort");
          error.hidden = false;
          setText(error, `Abort failed: ${errorText(e)}`);
        });
    });
    const draw = (j: BulkJob): void => {
      this.job = j;
      bar.max = Math.max(1, j.total);
      bar.value = j.processed;
      setText(this.title, j.status === "running" ? "Cancelling runs…" : j.status === "aborted" ? "Bulk cancel aborted" : "Bulk cancel finished");
      setText(
        line,
        `${num(j.processed)} of ${num(j.total)} processed · ${num(j.progress.done)} done · ${num(j.progress.failed)} failed · ${num(j.progress.skipped)} skipped` +
          (j.progress.in_flight ? ` · ${num(j.progress.in_flight)} in flight` : ""),
      );
      const rows = BULK_OUTCOMES.filter((o) => j.outcomes[o] > 0).flatMap((o) => [h("dt", {}, OUTCOME_TEXT[o]), h("dd", { "data-outcome": o }, num(j.outcomes[o]))]);
      replace(counts, ...rows);
      if (j.status !== "running") {
        announce(`${this.title.textContent ?? ""}: ${line.textContent ?? ""}`);
        this.results(j, { bar, line, counts });
      }
    };
    const poll = (): void => {
      bulkApi
        .job(this.api, job.id)
        .then(({ job: j }) => {
          if (gen !== this.generation) return;
          error.hidden = true;
          draw(j);
          if (j.status === "running") this.timer = window.setTimeout(poll, PROGRESS_EVERY_MS);
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          // A failed read is shown and retried; the job itself runs on in the service.
          error.hidden = false;
          setText(error, `Progress could not be read: ${errorText(e)}; retrying.`);
          this.timer = window.setTimeout(poll, PROGRESS_EVERY_MS * 5);
        });
    };
    draw(job);
    if (job.status === "running") this.timer = window.setTimeout(poll, PROGRESS_EVERY_MS);
  }

  // ---- step 4: per-item results, paged ----

  private results(job: BulkJob, keep: { bar: HTMLElement; line: HTMLElement; counts: HTMLElement }): void {
    const gen = this.generation;
    const outcome = h("select", { id: "bulk-outcome" }, h("option", { value: "" }, "All outcomes"));
    for (const o of BULK_OUTCOMES) if (job.outcomes[o] > 0) outcome.append(h("option", { value: o }, `${OUTCOME_TEXT[o]} (${num(job.outcomes[o])})`));
    const tbody = h("tbody", {});
    const table = h(
      "table",
      { class: "bulk-items", id: "bulk-items" },
      h("caption", { class: "visually-hidden" }, "Per-run results"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Run"), h("th", { scope: "col" }, "Result"), h("th", { scope: "col" }, "Detail"))),
      tbody,
    );
    const more = h("button", { type: "button", class: "btn", id: "bulk-more", hidden: true }, "Load more");
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const close = h("button", { type: "button", class: "btn btn-primary", id: "bulk-close" }, "Done");
    let cursor: string | null = null;
    const load = (reset: boolean): void => {
      if (reset) {
        tbody.replaceChildren();
        cursor = null;
      }
      more.disabled = true;
      bulkApi
        .items(this.api, job.id, { limit: ITEMS_PAGE, cursor, outcome: outcome.value })
        .then((page) => {
          if (gen !== this.generation) return;
          for (const it of page.data) {
            tbody.append(
              h(
                "tr",
                { "data-run": it.run_id },
                h("td", {}, h("a", { href: `/runs/${encodeURIComponent(it.run_id)}`, class: "mono" }, it.run_id)),
                h("td", {}, it.outcome ? OUTCOME_TEXT[it.outcome] : humanize(it.state)),
                h("td", {}, detailText(it)),
              ),
            );
          }
          cursor = page.next_cursor;
          more.hidden = cursor === null;
          more.disabled = false;
        })
        .catch((e: unknown) => {
          if (gen !== this.generation) return;
          more.disabled = false;
          error.hidden = false;
          setText(error, `Results could not be read: ${errorText(e)}`);
        });
    };
    outcome.addEventListener("change", () => load(true));
    more.addEventListener("click", () => load(false));
    close.addEventListener("click", () => this.close());
    replace(
      this.body,
      keep.bar,
      keep.line,
      keep.counts,
      h("div", { class: "field" }, h("label", { for: "bulk-outcome" }, "Show"), outcome),
      h("div", { class: "bulk-items-wrap" }, table),
      more,
      error,
      h("div", { class: "dialog-actions" }, close),
    );
    load(true);
    close.focus();
  }

  dispose(): void {
    this.stop();
    this.close();
    this.el.remove();
  }
}
