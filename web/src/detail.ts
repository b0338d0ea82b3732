// One run: lifecycle, timing, children, what it is about, how each contract names its status,
// cancel receipts and the event log, all kept live by the run's WebSocket. The Cancel button,
// the instant "Cancelling…" and the merge of pushed events are the core's (Wasm) decisions.

import type { By, CancelVia, ChildCounts, ChildStatus, EventRecord, RunState, RunView } from "runbrake-core";
import { ApiError, TERMINAL, type ChildRow, type RunDto, type RunSnapshot } from "./api";
import type { AppContext, Screen } from "./app";
import { CancelDialog } from "./cancel";
import { core, DIALECT_OF, initCore, kindLabel, learnServerNow, serverNow } from "./core";
import { announce, h, replace, setText } from "./dom";
import { absolute, clockMs, countdown, duration, humanize, num, refreshTimes, timeEl } from "./format";
import { LiveSocket } from "./live";
import { badge, dialectText, statusLabel } from "./status";
import { byText, describeEnd, describeEvent, describeOutcome, sourceText, type Said } from "./words";

type RunMessage =
  | { type: "event"; seq: number; record: EventRecord }
  | { type: "snapshot"; seq: number; run: RunSnapshot }
  | { type: "update"; seq: number; events: EventRecord[]; run: RunSnapshot }
  | { type: "resync"; seq: number };

const CHILD_BUCKETS: ChildStatus[] = ["pending", "running", "cancelling", "completed", "failed", "cancelled"];
const TIMELINE_WINDOW = 2000;
const CHILD_PAGE = 100;

type Info = RunSnapshot["info"];

interface MyCancel {
  commandId: string;
  reason: string;
  graceMs: number | undefined;
  inFlight: boolean;
}

function infoOf(dto: RunDto): Info {
  const info: Info = {
    workflow: dto.workflow,
    trigger: dto.trigger,
    metadata: dto.metadata,
    tags: dto.tags,
    attributes: dto.attributes,
  };
  if (dto.name !== null) info.name = dto.name;
  if (dto.batch_id !== null) info.batch_id = dto.batch_id;
  if (dto.parent_run_id !== null) info.parent_run_id = dto.parent_run_id;
  return info;
}

function withoutPending(v: RunView): RunView {
  const { pending: _dropped, ...rest } = v;
  return rest;
}

function newCommandId(): string {
  return `dash-${crypto.randomUUID()}`;
}

export class DetailView implements Screen {
  readonly el: HTMLElement;
  private view: RunView | null = null;
  private info: Info = {};
  private readonly events = new Map<number, EventRecord>();
  private eventsFrom = 0;
  private socket: LiveSocket | null = null;
  private disposed = false;
  private mine: MyCancel | null = null;
  /** The answer to the user's cancel; `waiting`: it asked the executor to stop (a follow-up comes). */
  private result: { said: Said; retry: boolean; waiting?: { requestedAt: number } } | null = null;
  private readonly dialog = new CancelDialog();
  private ticker: number | undefined;
  private children: ChildRow[] = [];
  private childFilter: ChildStatus | "" = "";
  private childNext: string | null = null;
  private childLoading = false;
  private timelineDirty = true;
  private aboutKey = "";
  private resyncing = false;

  // DOM
  private readonly body: HTMLElement;
  private readonly nameEl = h("h1", { id: "run-name", class: "run-name" });
  private readonly idEl = h("p", { class: "run-id mono" });
  private readonly statusEl = h("div", { class: "status-line", id: "run-status" });
  private readonly cancelBtn = h("button", { type: "button", class: "btn btn-danger", id: "cancel-run", "aria-describedby": "cancel-why" }, "Cancel run…");
  private readonly cancelWhy = h("p", { class: "hint", id: "cancel-why" });
  private readonly resultEl = h("div", { class: "cancel-result", id: "cancel-result", role: "status", "aria-live": "polite" });
  private readonly countdownEl = h("div", { class: "countdown-panel", id: "countdown", hidden: true });
  private readonly lifecycleEl = h("dl", { class: "facts" });
  private readonly timingEl = h("dl", { class: "facts" });
  private readonly childrenEl = h("div", { class: "children" });
  private readonly childListEl = h("ul", { class: "child-list", "aria-label": "Children" });
  private readonly childMore = h("button", { type: "button", class: "btn btn-quiet", hidden: true }, "Load more children");
  private readonly childSelect = h("select", { id: "child-filter" });
  private readonly childFilterField = h("div", { class: "field inline" }, h("label", { for: "child-filter" }, "Show"), this.childSelect);
  private readonly aboutEl = h("dl", { class: "facts" });
  private readonly vocabEl = h("tbody");
  private readonly receiptsEl = h("div", { class: "receipts" });
  private readonly timelineEl = h("ol", { class: "timeline", id: "timeline", "aria-label": "Event log, newest first" });
  private readonly timelineNote = h("p", { class: "hint" });

  constructor(
    private readonly ctx: AppContext,
    readonly runId: string,
  ) {
    this.cancelBtn.disabled = true;
    this.cancelBtn.addEventListener("click", () => this.openCancel());
    this.childSelect.append(h("option", { value: "" }, "All children"), ...CHILD_BUCKETS.map((b) => h("option", { value: b }, humanize(b))));
    this.childSelect.addEventListener("change", () => {
      this.childFilter = this.childSelect.value as ChildStatus | "";
      void this.loadChildren(true);
    });
    this.childMore.addEventListener("click", () => void this.loadChildren(false));

    const card = (id: string, title: string, ...content: (Node | null)[]) =>
      h("section", { class: `card card-${id}`, "aria-labelledby": `h-${id}` }, h("h2", { id: `h-${id}` }, title), ...content);

    this.body = h(
      "div",
      { class: "detail-body", hidden: true },
      h(
        "header",
        { class: "run-head" },
        h("div", { class: "run-title" }, this.nameEl, this.idEl, this.statusEl),
        h("div", { class: "run-actions" }, this.cancelBtn, this.cancelWhy),
      ),
      this.resultEl,
      this.countdownEl,
      h(
        "div",
        { class: "cards" },
        card("lifecycle", "Lifecycle", this.lifecycleEl),
        card("timing", "Timing", this.timingEl),
        card(
          "children",
          "Children",
          this.childrenEl,
          this.childFilterField,
          this.childListEl,
          this.childMore,
        ),
        card("receipts", "Cancel receipts", this.receiptsEl),
        card(
          "vocabulary",
          "Status in each contract",
          h(
            "table",
            { class: "vocab" },
            h("caption", { class: "visually-hidden" }, "The run's status as each vendor contract words it"),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Contract"), h("th", { scope: "col" }, "Status word"))),
            this.vocabEl,
          ),
        ),
        card("about", "About this run", this.aboutEl),
        card("timeline", "History", this.timelineNote, this.timelineEl),
      ),
    );
    this.el = h(
      "article",
      { class: "detail-view", "aria-labelledby": "run-name", "data-run-id": runId },
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "← All runs")),
      h("p", { class: "loading", id: "detail-loading" }, "Loading run…"),
      this.body,
      this.dialog.el,
    );
    void this.load();
  }

  shown(): void {
    document.title = `Run ${this.runId} · runbrake`;
  }

  // ---- loading and live merge ----

  private async load(): Promise<void> {
    let dto: RunDto;
    try {
      [dto] = await Promise.all([this.ctx.api.run(this.runId).then((r) => r.run), initCore()]);
    } catch (e) {
      if (this.disposed) return;
      const msg =
        e instanceof ApiError && e.status === 404
          ? "No run with this id in your organisation."
          : `Could not load the run: ${e instanceof Error ? e.message : String(e)}`;
      const loading = this.el.querySelector("#detail-loading");
      if (loading) replace(loading, h("span", { class: "error-text", role: "alert" }, msg));
      return;
    }
    if (this.disposed) return;
    this.view = core.newView(dto.state);
    this.info = infoOf(dto);
    this.el.querySelector("#detail-loading")?.remove();
    this.body.hidden = false;
    this.renderAll();
    this.socket = new LiveSocket({
      api: this.ctx.api,
      path: `/api/runs/${encodeURIComponent(this.runId)}/watch`,
      afterSeq: () => this.view?.seq ?? null,
      onMessage: (m) => this.onMessage(m as RunMessage),
      onState: (state, detail) => this.ctx.setLive("run", state, detail),
    });
    void this.loadEvents();
    void this.loadChildren(true);
    this.ticker = window.setInterval(() => this.tick(), 250);
  }

  /** The event log for the timeline: the latest TIMELINE_WINDOW events, by seq. */
  private async loadEvents(): Promise<void> {
    const version = this.view?.seq ?? 0;
    let after = Math.max(0, version - TIMELINE_WINDOW);
    this.eventsFrom = after;
    try {
      for (;;) {
        const page = await this.ctx.api.events(this.runId, after, 1000);
        if (this.disposed) return;
        for (const rec of page.data) this.events.set(rec.seq, rec);
        this.timelineDirty = true;
        this.renderTimeline();
        this.renderReceipts();
        if (page.next_after_seq === null || page.data.length === 0) break;
        after = page.next_after_seq;
      }
    } catch (e) {
      setText(this.timelineNote, `Could not load the history: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private onMessage(m: RunMessage): void {
    if (!this.view) return;
    switch (m.type) {
      case "event":
        this.merge([m.record]);
        break;
      case "snapshot":
        learnServerNow(m.run.now);
        this.info = m.run.info;
        this.rebase(m.run.state);
        break;
      case "update":
        learnServerNow(m.run.now);
        this.info = m.run.info;
        this.merge(m.events);
        this.rebase(m.run.state);
        break;
      case "resync":
        this.resyncing = true;
        return;
    }
    this.renderAll();
  }

  /** Merges pushed events in order (the core says applied, stale or gap). */
  private merge(records: EventRecord[]): void {
    for (const rec of records) {
      if (!this.view) return;
      this.events.set(rec.seq, rec);
      this.timelineDirty = true;
      const r = core.mergeEvent(this.view, rec);
      if (r.status === "applied") {
        this.view = r.view;
        this.applyToChildren(rec);
      }
      // "gap": some events are missing; the snapshot that follows (or the reconnect) rebases.
    }
  }

  /**
   * Moves the view to a newer server state (a snapshot after missed events, or the run in a
   * cancel's reply). Never to an older one: the display cannot flap back.
   */
  private rebase(state: RunState): void {
    const v = this.view;
    if (!v || state.version <= v.seq) return;
    const fresh = core.newView(state);
    this.view = v.pending ? core.applyOptimistic(fresh, v.pending) : fresh;
    // Events were missed (or are still on their way): fill the history in.
    this.resyncing = false;
    void this.fillEvents(v.seq);
  }

  private async fillEvents(after: number): Promise<void> {
    try {
      let from = after;
      for (let i = 0; i < 5; i++) {
        const page = await this.ctx.api.events(this.runId, from, 1000);
        if (this.disposed) return;
        for (const rec of page.data) this.events.set(rec.seq, rec);
        if (page.next_after_seq === null || page.data.length === 0) break;
        from = page.next_after_seq;
      }
      this.timelineDirty = true;
      this.renderTimeline();
      this.renderReceipts();
      void this.loadChildren(true);
    } catch {
      /* the history stays partial; the state itself is current */
    }
  }

  // ---- cancel ----

  private openCancel(): void {
    const v = this.view;
    if (!v || this.cancelBtn.disabled) return;
    this.dialog.open(v.state, this.info.name ?? this.runId, (choice) => {
      // A retry after a network error reuses its command_id; a new cancel gets a new one.
      this.mine = { commandId: newCommandId(), reason: choice.reason, graceMs: choice.graceMs, inFlight: false };
      void this.sendCancel();
    });
  }

  private async sendCancel(): Promise<void> {
    const mine = this.mine;
    const v = this.view;
    if (!mine || !v || mine.inFlight) return;
    mine.inFlight = true;
    // Instant: the core marks the view cancelling (unless the run is already ending).
    this.view = core.applyOptimistic(v, { command_id: mine.commandId, requested_at: serverNow() });
    this.result = null;
    this.renderAll();
    announce("Cancelling…");
    try {
      const res = await this.ctx.api.cancel(this.runId, {
        command_id: mine.commandId,
        ...(mine.reason ? { reason: mine.reason } : {}),
        ...(mine.graceMs === undefined ? {} : { grace_ms: mine.graceMs }),
        source: "dashboard",
      });
      if (this.disposed || !this.view) return;
      this.view = core.mergeCancelReply(this.view, res.cancel);
      this.rebase(res.run.state);
      const decidedAt = res.run.state.timing.updated_at;
      const o = res.outcome.kind === "replayed" ? res.outcome.original.outcome : res.outcome;
      const waiting = o.kind === "requested" ? o.deadline : o.kind === "already_requested" ? o.deadline : null;
      this.result = {
        said: describeOutcome(res.outcome, serverNow(), decidedAt),
        retry: false,
        ...(waiting !== null ? { waiting: { requestedAt: o.kind === "already_requested" ? o.requested_at : decidedAt } } : {}),
      };
      this.mine = null;
      announce(this.result.said.title);
    } catch (e) {
      if (this.disposed || !this.view) return;
      this.view = withoutPending(this.view);
      const err = e instanceof ApiError ? e : new ApiError(0, "network", String(e));
      const retriable = err.network || err.status >= 500;
      this.result = { said: this.errorText(err), retry: retriable };
      if (retriable) mine.inFlight = false;
      else this.mine = null;
      announce(this.result.said.title);
    } finally {
      if (this.mine) this.mine.inFlight = false;
    }
    this.renderAll();
  }

  /** A requested cancel that has since ended the run: the message says how, not "requested". */
  private followUp(): void {
    const r = this.result;
    const s = this.view?.state.status;
    if (!r?.waiting || !s || !TERMINAL.has(s.type)) return;
    if (s.type === "cancelled") {
      let via: CancelVia | null = null;
      for (const rec of this.events.values()) if (rec.event.type === "cancelled") via = rec.event.via;
      this.result = { said: describeEnd(s.effective_at, s.forced, via, r.waiting.requestedAt), retry: false };
    } else {
      this.result = { said: { title: `The run ended ${statusLabel(s.type).toLowerCase()} before it could be cancelled.`, detail: "Its own end came first.", tone: "warn" }, retry: false };
    }
  }

  private errorText(err: ApiError): Said {
    if (err.network)
      return {
        title: "Could not reach the service: your cancel may not have arrived.",
        detail: "Retrying sends the same request (same command id), so the run can never be cancelled twice.",
        tone: "error",
      };
    if (err.status === 403) return { title: "Your key cannot cancel runs.", detail: err.message, tone: "error" };
    if (err.status === 404) return { title: "This run no longer exists in your organisation.", detail: err.message, tone: "error" };
    if (err.status >= 500)
      return { title: "The service failed to answer the cancel.", detail: `${err.message} Retrying sends the same request, so it cannot cancel twice.`, tone: "error" };
    return { title: "The cancel was refused.", detail: err.message, tone: "error" };
  }

  // ---- rendering ----

  private renderAll(): void {
    if (!this.view) return;
    this.followUp();
    this.renderHead();
    this.renderResult();
    this.renderCountdown();
    this.renderLifecycle();
    this.renderTiming();
    this.renderChildren();
    this.renderAbout();
    this.renderVocabulary();
    this.renderReceipts();
    this.renderTimeline();
    this.dialog.update(this.view.state);
  }

  private renderHead(): void {
    const v = this.view;
    if (!v) return;
    const st = v.state;
    const name = this.info.name ?? st.id;
    setText(this.nameEl, name);
    setText(this.idEl, `${st.id} · ${kindLabel(st.kind)} · version ${v.seq}`);
    document.title = `${name} · runbrake`;
    const shown = core.displayStatus(v);
    const optimistic = v.pending !== undefined;
    const reason = st.status.type === "waiting" ? st.status.reason : null;
    const key = `${shown}|${optimistic}|${v.seq}`;
    if (this.statusEl.dataset["key"] !== key) {
      this.statusEl.dataset["key"] = key;
      this.statusEl.dataset["status"] = shown;
      replace(
        this.statusEl,
        badge(shown, { optimistic, id: "status-badge" }),
        reason ? h("span", { class: "status-note" }, humanize(reason)) : null,
        h("span", { class: "status-note", title: `Status word in contract ${DIALECT_OF[st.kind].code} (${DIALECT_OF[st.kind].label})` }, dialectText(st.kind, st.status.type, reason)),
      );
    }
    // The button: enabled exactly when the core says a cancel would take effect.
    const can = core.canCancel(st);
    let why = "";
    if (this.ctx.me.role !== "user") why = "Your key is an executor key; cancelling needs a user key.";
    else if (optimistic || this.mine?.inFlight) why = "Sending your cancel…";
    else if (st.status.type === "cancelling") why = "A cancel is in progress; see the deadline below.";
    else if (TERMINAL.has(st.status.type)) why = `${statusLabel(st.status.type)} runs cannot be cancelled.`;
    else if (!can) why = "This run cannot be cancelled in its current state.";
    const enabled = can && why === "";
    this.cancelBtn.disabled = !enabled;
    setText(this.cancelWhy, why);
    this.cancelWhy.hidden = why === "";
  }

  private shownResult: DetailView["result"] | undefined = undefined;

  private renderResult(): void {
    const r = this.result;
    // Rebuilt only when the message changes, so its buttons keep focus across live updates.
    if (r === this.shownResult) return;
    this.shownResult = r;
    if (!r) {
      if (this.resultEl.childElementCount) replace(this.resultEl);
      this.resultEl.hidden = true;
      return;
    }
    this.resultEl.hidden = false;
    this.resultEl.dataset["tone"] = r.said.tone;
    this.resultEl.setAttribute("role", r.said.tone === "error" ? "alert" : "status");
    const retry = r.retry ? h("button", { type: "button", class: "btn", id: "cancel-retry" }, "Retry the same cancel") : null;
    retry?.addEventListener("click", () => void this.sendCancel());
    const dismiss = h("button", { type: "button", class: "btn btn-quiet", "aria-label": "Dismiss this message" }, "Dismiss");
    dismiss.addEventListener("click", () => {
      this.result = null;
      if (!retry) this.mine = null;
      this.renderResult();
    });
    replace(this.resultEl, h("p", { class: "result-title" }, r.said.title), h("p", { class: "result-detail" }, r.said.detail), h("div", { class: "result-actions" }, retry, dismiss));
  }

  /** While cancelling: how long the executor has left, and what happens at the deadline. */
  private renderCountdown(): void {
    const st = this.view?.state;
    if (!st || st.status.type !== "cancelling") {
      this.countdownEl.hidden = true;
      if (this.countdownEl.childElementCount) replace(this.countdownEl);
      return;
    }
    const s = st.status;
    const until = core.nextDeadline(st) ?? s.deadline;
    const leaseFirst = s.lease.expires_at < s.deadline;
    const left = until - serverNow();
    this.countdownEl.hidden = false;
    this.countdownEl.dataset["passed"] = String(left <= 0);
    const clock = h("span", { class: "countdown-clock", id: "countdown-clock", role: "timer", "aria-live": "off" }, countdown(left));
    const what =
      left > 0
        ? `If executor ${s.lease.executor} has not stopped by ${clockMs(until)}${leaseFirst ? " (when its lease runs out, before the cancel deadline)" : ""}, the run is cancelled anyway (forced) and the executor's lease is revoked. A completion reported after the cancel is recorded as late and does not change the result.`
        : "The deadline has passed: the service is forcing the cancel and revoking the executor's lease now.";
    replace(
      this.countdownEl,
      h("p", { class: "countdown-title" }, left > 0 ? "Waiting for the executor to stop: " : "Deadline passed ", left > 0 ? clock : null),
      h("p", { class: "countdown-detail" }, what),
    );
  }

  private ticks = 0;

  /** Four times a second: the countdown; every second: live durations; every 5 s: "… ago". */
  private tick(): void {
    const st = this.view?.state;
    if (!st) return;
    this.ticks += 1;
    if (st.status.type === "cancelling") {
      const s = st.status;
      const until = core.nextDeadline(st) ?? s.deadline;
      const left = until - serverNow();
      const clock = this.countdownEl.querySelector("#countdown-clock");
      if (clock && left > 0) setText(clock, countdown(left));
      else if (this.countdownEl.dataset["passed"] !== String(left <= 0)) this.renderCountdown();
    }
    if (this.ticks % 4 === 0 && !TERMINAL.has(st.status.type)) this.renderTiming();
    if (this.ticks % 20 === 0) refreshTimes(this.el, serverNow());
  }

  private fact(dl: HTMLElement, label: string, ...value: (Node | string | null)[]): void {
    dl.append(h("dt", {}, label), h("dd", {}, ...value));
  }

  private renderLifecycle(): void {
    const v = this.view;
    if (!v) return;
    const key = `${v.seq}|${v.pending ? "p" : ""}`;
    if (this.lifecycleEl.dataset["key"] === key) return;
    this.lifecycleEl.dataset["key"] = key;
    const st = v.state;
    const s = st.status;
    const now = serverNow();
    const dl = this.lifecycleEl;
    dl.replaceChildren();
    this.fact(dl, "Status", statusLabel(s.type));
    switch (s.type) {
      case "running":
        this.fact(dl, "Executor", s.lease ? `${s.lease.executor} holds lease ${s.lease.id} until ${clockMs(s.lease.expires_at)}` : "none: running without an executor claim");
        break;
      case "waiting":
        this.fact(dl, "Waiting on", humanize(s.reason));
        break;
      case "cancelling":
        this.fact(dl, "Cancel requested", timeEl(s.requested_at, now), ` by ${byText(s.by)}`);
        this.fact(dl, "Reason", s.reason ?? "none given");
        this.fact(dl, "Deadline", `${clockMs(s.deadline)} (`, timeEl(s.deadline, now), ")");
        this.fact(dl, "Executor", `${s.lease.executor} (lease ${s.lease.id})`);
        break;
      case "cancelled":
        this.fact(dl, "Cancelled", timeEl(s.effective_at, now), ` at ${clockMs(s.effective_at)}${s.forced ? ", forced" : ""}`);
        this.fact(dl, "Cancelled by", byText(s.by));
        this.fact(dl, "Reason", s.reason ?? "none given");
        break;
      case "failed":
        this.fact(dl, "Error", s.code ? `${s.message} (${s.code})` : s.message);
        break;
      case "rejected":
        this.fact(dl, "Note", s.note ?? "—");
        break;
      case "pending":
      case "queued":
      case "completed":
        break;
    }
    if (st.late) {
      this.fact(
        dl,
        "Late report",
        h("span", { class: "late-pill" }, "Late"),
        ` The executor reported ${st.late.kind === "completion" ? "completion" : "a failure"} at ${clockMs(st.late.at)}, after the cancel was accepted. It is recorded; the result stays ${statusLabel(s.type).toLowerCase()}.`,
      );
    }
    if (v.pending) this.fact(dl, "Your cancel", "sent, waiting for the service to confirm…");
  }

  private renderTiming(): void {
    const st = this.view?.state;
    if (!st) return;
    const now = serverNow();
    const t = st.timing;
    const dur = core.durationMs(st, now);
    const active = core.activeDurationMs(st, now);
    const human = dur !== undefined && active !== undefined ? dur - active : (t.accumulated_human_waiting_ms ?? 0);
    const dl = this.timingEl;
    const at = (ms: number | undefined) => (ms === undefined ? "—" : h("span", {}, absolute(ms), " · ", timeEl(ms, now)));
    dl.replaceChildren();
    this.fact(dl, "Created", at(t.created_at));
    this.fact(dl, "Started", t.started_at === undefined ? "not yet" : at(t.started_at));
    this.fact(dl, TERMINAL.has(st.status.type) ? "Ended" : "Last change", at(t.completed_at ?? t.updated_at));
    this.fact(dl, "Duration", dur === undefined ? "never started" : `${duration(dur)}${TERMINAL.has(st.status.type) ? "" : " so far"}`);
    this.fact(dl, "Active", active === undefined ? "—" : `${duration(active)} (duration minus waiting on people)`);
    this.fact(dl, "Waiting on people", `${duration(human)}${t.human_waiting_started_at !== undefined ? " (waiting now)" : ""}`);
  }

  private renderChildren(): void {
    const st = this.view?.state;
    if (!st) return;
    const c: ChildCounts = st.children ?? {};
    const total = CHILD_BUCKETS.reduce((a, b) => a + (c[b] ?? 0), 0);
    const done = (c.completed ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);
    this.childFilterField.hidden = total === 0;
    this.childListEl.hidden = total === 0;
    if (total === 0) {
      replace(this.childrenEl, h("p", { class: "muted" }, st.sub_runs?.length ? "No child items (its sub-runs are listed below)." : "This run has no children."));
    } else {
      const bar = h("div", { class: "stack-bar", role: "img", "aria-label": CHILD_BUCKETS.map((b) => `${c[b] ?? 0} ${b}`).join(", ") });
      for (const b of CHILD_BUCKETS) {
        const n = c[b] ?? 0;
        if (n === 0) continue;
        const seg = h("span", { class: `seg c-${b}`, title: `${num(n)} ${b}` });
        seg.style.flexGrow = String(n);
        bar.append(seg);
      }
      replace(
        this.childrenEl,
        h("p", { class: "progress-line" }, h("progress", { max: total, value: done, id: "children-progress", "aria-label": "Children finished" }), ` ${num(done)} of ${num(total)} finished (${Math.floor((done / total) * 100)}%)`),
        bar,
        h("ul", { class: "legend" }, ...CHILD_BUCKETS.map((b) => h("li", { class: `c-${b}`, "data-bucket": b }, h("span", { class: "swatch", "aria-hidden": "true" }), `${humanize(b)} `, h("strong", {}, num(c[b] ?? 0))))),
      );
    }
    this.renderChildList();
  }

  private async loadChildren(reset: boolean): Promise<void> {
    if (this.childLoading) return;
    this.childLoading = true;
    try {
      const page = await this.ctx.api.children(this.runId, {
        status: this.childFilter,
        after: reset ? "" : (this.childNext ?? ""),
        limit: CHILD_PAGE,
      });
      if (this.disposed) return;
      this.children = reset ? page.data : [...this.children, ...page.data];
      this.childNext = page.data.length === CHILD_PAGE ? page.next_after : null;
    } catch {
      /* the counts above stay right; the item list is a convenience */
    } finally {
      this.childLoading = false;
    }
    this.renderChildList();
  }

  /** Pushed child events move the listed items too. */
  private applyToChildren(rec: EventRecord): void {
    const e = rec.event;
    if (e.type === "child_changed") {
      const row = this.children.find((c) => c.id === e.id);
      if (row) row.status = e.to;
    } else if (e.type === "children_cancelled") {
      for (const row of this.children) if (row.status === e.from) row.status = "cancelled";
    } else if (e.type === "children_cancelling") {
      for (const row of this.children) if (row.status === "running") row.status = "cancelling";
    } else if (e.type === "children_added") {
      void this.loadChildren(true);
    }
  }

  private renderChildList(): void {
    const rows = this.childFilter ? this.children.filter((c) => c.status === this.childFilter) : this.children;
    this.childListEl.replaceChildren(
      ...rows.map((c) => h("li", { class: `child c-${c.status}` }, h("span", { class: "swatch", "aria-hidden": "true" }), h("span", { class: "child-name" }, c.name ?? c.id), h("span", { class: "mono sub" }, c.name ? c.id : ""), h("span", { class: "child-status" }, humanize(c.status)))),
    );
    this.childMore.hidden = this.childNext === null;
  }

  private renderAbout(): void {
    const v = this.view;
    if (!v) return;
    const i = this.info;
    // Rebuilt only when what the run is about changes (its links keep focus otherwise).
    const key = JSON.stringify([i, v.state.sub_runs ?? [], v.state.default_grace_ms ?? null]);
    if (this.aboutKey === key) return;
    this.aboutKey = key;
    const dl = this.aboutEl;
    dl.replaceChildren();
    this.fact(dl, "Kind", `${kindLabel(v.state.kind)} · served by ${DIALECT_OF[v.state.kind].label} (${DIALECT_OF[v.state.kind].code})`);
    const wf = i.workflow ?? {};
    const wfText = [wf.name, wf.id, wf.version ? `version ${wf.version}` : "", wf.version_id].filter(Boolean).join(" · ");
    this.fact(dl, "Workflow", wfText || "—");
    this.fact(dl, "Trigger", i.trigger ? `${i.trigger.type}${i.trigger.actor ? ` by ${i.trigger.actor}` : ""}` : "—");
    this.fact(dl, "Batch", i.batch_id ? h("a", { href: `/?batch=${encodeURIComponent(i.batch_id)}` }, i.batch_id) : "—");
    const tags = i.tags ?? [];
    this.fact(dl, "Tags", ...(tags.length ? tags.map((t) => h("a", { class: "tag", href: `/?tag=${encodeURIComponent(t)}` }, t)) : ["—"]));
    if (i.parent_run_id) this.fact(dl, "Parent run", h("a", { href: `/runs/${encodeURIComponent(i.parent_run_id)}`, class: "mono" }, i.parent_run_id));
    const subs = v.state.sub_runs ?? [];
    if (subs.length) this.fact(dl, `Sub-runs (${subs.length})`, h("ul", { class: "sub-runs" }, ...subs.map((s) => h("li", {}, h("a", { href: `/runs/${encodeURIComponent(s)}`, class: "mono" }, s)))));
    const meta = Object.entries(i.metadata ?? {});
    this.fact(
      dl,
      "Metadata",
      meta.length
        ? h("dl", { class: "kv" }, ...meta.flatMap(([k, val]) => [h("dt", { class: "mono" }, k), h("dd", { class: "mono" }, typeof val === "string" ? val : JSON.stringify(val))]))
        : "—",
    );
    const attrs = i.attributes ?? {};
    if (Object.keys(attrs).length) {
      this.fact(dl, "Contract attributes", h("details", {}, h("summary", {}, `${Object.keys(attrs).length} fields`), h("pre", { class: "json" }, JSON.stringify(attrs, null, 2))));
    }
    if (v.state.default_grace_ms !== undefined) this.fact(dl, "Default grace", duration(v.state.default_grace_ms));
  }

  private renderVocabulary(): void {
    const st = this.view?.state;
    if (!st) return;
    const key = `${st.status.type}/${st.status.type === "waiting" ? st.status.reason : ""}`;
    if (this.vocabEl.dataset["key"] === key) return;
    this.vocabEl.dataset["key"] = key;
    this.vocabEl.replaceChildren(
      ...Object.values(DIALECT_OF).map((d) => {
        const own = d.dialect === DIALECT_OF[st.kind].dialect;
        return h(
          "tr",
          { class: own ? "own" : null },
          h("th", { scope: "row" }, `${d.code} ${d.label}`, own ? h("span", { class: "own-note" }, " (this run's)") : null),
          h("td", { class: "mono" }, core.projectStatus(st, d.dialect)),
        );
      }),
    );
  }

  /** Every cancel the run has answered with a command id, joined with who/when from the log. */
  private renderReceipts(): void {
    const st = this.view?.state;
    if (!st) return;
    const commands = Object.entries(st.commands ?? {});
    const recorded = new Map<string, EventRecord>();
    const byCmd = new Map<string, { by: By; reason?: string }>();
    for (const rec of this.events.values()) {
      const e = rec.event;
      if (e.type === "cancel_recorded") recorded.set(e.command_id, rec);
      if ((e.type === "cancel_requested" || e.type === "cancelled") && e.command_id) byCmd.set(e.command_id, { by: e.by, ...(e.reason ? { reason: e.reason } : {}) });
    }
    if (commands.length === 0) {
      replace(this.receiptsEl, h("p", { class: "muted" }, "No cancel with a request id yet. The dashboard sends one with every cancel; its answer is kept here as a receipt."));
      return;
    }
    const items = commands
      .map(([id, rec]) => ({ id, rec, at: recorded.get(id)?.at ?? null }))
      .sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
    const now = serverNow();
    replace(
      this.receiptsEl,
      h(
        "ul",
        { class: "receipt-list" },
        ...items.map(({ id, rec, at }) => {
          const who = byCmd.get(id);
          const said = describeOutcome(rec.reply.outcome, now, at);
          const grace = rec.fingerprint.grace_ms;
          return h(
            "li",
            { class: "receipt", "data-command-id": id, "data-tone": said.tone },
            h("p", { class: "receipt-outcome" }, said.title),
            h(
              "dl",
              { class: "kv" },
              h("dt", {}, "When"),
              h("dd", {}, at === null ? "—" : h("span", {}, `${absolute(at)} (`, timeEl(at, now), ")")),
              h("dt", {}, "Who"),
              h("dd", {}, who ? byText(who.by) : at !== null && this.ctx.me.role === "user" ? "not recorded for a cancel that did not take effect" : "—"),
              h("dt", {}, "Why"),
              h("dd", {}, rec.fingerprint.reason ?? "no reason given"),
              h("dt", {}, "Source"),
              h("dd", {}, who ? sourceText(who.by.source) : "—"),
              h("dt", {}, "Grace"),
              h("dd", {}, grace === undefined ? "run's default" : duration(grace)),
              h("dt", {}, "Outcome"),
              h("dd", {}, humanize(rec.reply.outcome.kind), ` → ${statusLabel(rec.reply.status).toLowerCase()}`),
              h("dt", {}, "Request id"),
              h("dd", { class: "mono" }, id),
            ),
          );
        }),
      ),
    );
  }

  private renderTimeline(): void {
    if (!this.timelineDirty || !this.view) return;
    this.timelineDirty = false;
    const now = serverNow();
    const recs = [...this.events.values()].sort((a, b) => b.seq - a.seq);
    const cancelAt = recs.find((r) => r.event.type === "cancel_requested" || r.event.type === "cancelled")?.at ?? null;
    const items: HTMLElement[] = [];
    let group: { name: string; list: HTMLElement; count: number; summary: HTMLElement } | null = null;
    for (const rec of recs) {
      const t = describeEvent(rec);
      const li = h(
        "li",
        { class: `event tone-${t.tone}${t.late ? " late" : ""}`, "data-seq": rec.seq, "data-type": rec.event.type },
        h("span", { class: "event-seq mono", "aria-label": `event ${rec.seq}` }, `#${rec.seq}`),
        h(
          "div",
          { class: "event-body" },
          h("p", { class: "event-title" }, t.late ? h("span", { class: "late-pill" }, "Late · after cancel") : null, t.title),
          t.detail ? h("p", { class: "event-detail" }, t.detail) : null,
        ),
        h("span", { class: "event-time" }, timeEl(rec.at, now), h("span", { class: "sub" }, clockMs(rec.at))),
      );
      if (t.group) {
        if (!group || group.name !== t.group) {
          const list = h("ol", { class: "timeline nested" });
          const summary = h("summary", {});
          const details = h("details", { class: "event-group" }, summary, list);
          group = { name: t.group, list, count: 0, summary };
          items.push(h("li", { class: "event-group-item" }, details));
        }
        group.list.append(li);
        group.count += 1;
        setText(group.summary, `${group.count} × ${group.name.toLowerCase()}`);
      } else {
        group = null;
        items.push(li);
      }
    }
    // Groups the reader opened stay open when new events arrive.
    const open = new Set<string>();
    for (const d of this.timelineEl.querySelectorAll<HTMLDetailsElement>("details[open]")) {
      const seq = d.querySelector<HTMLElement>(".event")?.dataset["seq"];
      if (seq) open.add(seq);
    }
    this.timelineEl.replaceChildren(...items);
    for (const d of this.timelineEl.querySelectorAll<HTMLDetailsElement>("details")) {
      if ([...d.querySelectorAll<HTMLElement>(".event")].some((e) => open.has(e.dataset["seq"] ?? ""))) d.open = true;
    }
    const missing = this.eventsFrom;
    setText(
      this.timelineNote,
      `${num(recs.length)} events, newest first.${missing > 0 ? ` ${num(missing)} earlier events are not shown.` : ""}${cancelAt !== null && this.view.state.late ? " Reports that arrived after the cancel are marked Late." : ""}`,
    );
  }

  dispose(): void {
    this.disposed = true;
    this.socket?.stop();
    window.clearInterval(this.ticker);
    this.dialog.dispose();
    this.el.remove();
  }
}
