// The run list: filters, counts per status, and a virtual list fed by cursor pages and kept
// live by the organisation's WebSocket (no polling). Only the rows on screen exist in the DOM,
// so the list stays smooth however many runs are loaded.

import type { ChildCounts, StatusKind } from "runbrake-core";
import { ApiError, KINDS, STATUSES, type Api, type RunList, type RunSummary, type StatusCounts } from "./api";
import type { AppContext, Screen } from "./app";
import { coreReady, DIALECT_OF, initCore, kindLabel } from "./core";
import { announce, h, replace, setText } from "./dom";
import { filtersToSearch, isFiltered, listQuery, matches, onlyStatus, parseFilters, TIME_RANGES, type Filters, type TimeRange } from "./filters";
import { absolute, clockMs, num, refreshTimes, relative, shortAbsolute, timeEl } from "./format";
import { LiveSocket } from "./live";
import { badge, dialectText, statusLabel, waitLabel } from "./status";
import { BulkDialog, MAX_SELECTED } from "./bulk";

const FIRST_PAGE = 100;
const NEXT_PAGE = 200;
const OVERSCAN = 8;

type OrgMessage =
  | { type: "hello"; seq: number }
  | { type: "run"; seq: number; run: RunSummary }
  | { type: "resync"; seq: number }
  | { type: "pong"; seq: number };

function finished(c: ChildCounts): number {
  return (c.completed ?? 0) + (c.failed ?? 0) + (c.cancelled ?? 0);
}
function totalChildren(c: ChildCounts): number {
  return finished(c) + (c.pending ?? 0) + (c.running ?? 0) + (c.cancelling ?? 0);
}

/** Newest first: created_at, then id, both descending (the index's order). */
function before(a: RunSummary, b: RunSummary): boolean {
  return a.created_at !== b.created_at ? a.created_at > b.created_at : a.id > b.id;
}

/** The first page, asked for at start-up (before the view exists), for these filters. */
let prefetched: { search: string; page: Promise<RunList> } | null = null;

export function prefetchList(api: Api, search: string): void {
  const f = parseFilters(search);
  const page = api.list({ ...listQuery(f, Date.now()), limit: FIRST_PAGE });
  page.catch(() => {}); // a failure is reported when the view reads it
  prefetched = { search: filtersToSearch(f), page };
}

function takePrefetched(f: Filters): Promise<RunList> | null {
  const p = prefetched;
  prefetched = null;
  return p && p.search === filtersToSearch(f) ? p.page : null;
}

export class ListView implements Screen {
  readonly el: HTMLElement;
  private filters: Filters;
  private rows: RunSummary[] = [];
  private pos = new Map<string, number>();
  /** Latest seq and status seen per run (list pages and stream), for counts and staleness. */
  private known = new Map<string, { seq: number; status: StatusKind }>();
  /** Runs that changed so they no longer match the filters (kept in place, marked). */
  private left = new Set<string>();
  private cursor: string | null = null;
  private complete = false;
  private loading = false;
  private loadingGen = -1;
  private loadError: string | null = null;
  private generation = 0;
  private counts: StatusCounts | null = null;
  private changeSeq: number | null = null;
  private headBeforeHello = false;
  private headLoaded = false;
  /** Runs pushed before the first page arrived. */
  private early: RunSummary[] = [];
  private socket: LiveSocket;
  private rowH = 52;
  private renderQueued = false;
  private rowEls = new Map<string, HTMLElement>();
  /** Rows to highlight once when they are next drawn (new arrivals). */
  private flash = new Set<string>();
  private activeIndex = 0;
  private countsTimer: number | undefined;
  private clock: number | undefined;
  private resizeObserver: ResizeObserver;
  /** Rows ticked for a bulk cancel (kept across filter changes until cleared or cancelled). */
  private selected = new Set<string>();
  private readonly bulk: BulkDialog;
  private readonly bulkBar: { count: HTMLElement; selected: HTMLButtonElement; clearSel: HTMLButtonElement; all: HTMLInputElement };

  // DOM
  private readonly chips = new Map<StatusKind | "all", { btn: HTMLButtonElement; count: HTMLElement }>();
  private readonly summary: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly foot: HTMLElement;
  private readonly table: HTMLElement;
  private readonly form: {
    q: HTMLInputElement;
    kind: HTMLSelectElement;
    batch: HTMLInputElement;
    tag: HTMLInputElement;
    time: HTMLSelectElement;
    from: HTMLInputElement;
    to: HTMLInputElement;
    custom: HTMLElement;
    clear: HTMLButtonElement;
  };

  constructor(
    private readonly ctx: AppContext,
    query: string,
  ) {
    this.filters = parseFilters(query);

    // Counts per status (the whole organisation); each is also a status filter toggle.
    const chipBar = h("div", { class: "chips", role: "group", "aria-label": "Filter by status (counts are for the whole organisation)" });
    const allCount = h("span", { class: "chip-count" }, "–");
    const allBtn = h("button", { type: "button", class: "chip chip-all", "aria-pressed": "false" }, "All ", allCount);
    allBtn.addEventListener("click", () => this.setFilters({ ...this.filters, status: [] }));
    chipBar.append(allBtn);
    this.chips.set("all", { btn: allBtn, count: allCount });
    for (const s of STATUSES) {
      const count = h("span", { class: "chip-count" }, "–");
      const btn = h("button", { type: "button", class: `chip s-${s}`, "aria-pressed": "false", "data-status": s }, h("span", { class: "dot", "aria-hidden": "true" }), `${statusLabel(s)} `, count);
      btn.addEventListener("click", () => {
        const has = this.filters.status.includes(s);
        const status = has ? this.filters.status.filter((x) => x !== s) : STATUSES.filter((x) => x === s || this.filters.status.includes(x));
        this.setFilters({ ...this.filters, status });
      });
      chipBar.append(btn);
      this.chips.set(s, { btn, count });
    }

    // Filters.
    const q = h("input", { id: "f-q", type: "search", placeholder: "Run id or name", autocomplete: "off", spellcheck: "false" });
    const kind = h("select", { id: "f-kind" }, h("option", { value: "" }, "All kinds"));
    for (const k of KINDS) kind.append(h("option", { value: k }, `${kindLabel(k)} (${DIALECT_OF[k].code})`));
    const batch = h("input", { id: "f-batch", type: "text", placeholder: "batch id", autocomplete: "off", spellcheck: "false" });
    const tag = h("input", { id: "f-tag", type: "text", placeholder: "tag", autocomplete: "off", spellcheck: "false" });
    const time = h("select", { id: "f-time" });
    for (const t of TIME_RANGES) time.append(h("option", { value: t.value }, t.label));
    const from = h("input", { id: "f-from", type: "datetime-local", step: "1" });
    const to = h("input", { id: "f-to", type: "datetime-local", step: "1" });
    const custom = h(
      "div",
      { class: "field-pair", hidden: true },
      h("div", { class: "field" }, h("label", { for: "f-from" }, "Created from"), from),
      h("div", { class: "field" }, h("label", { for: "f-to" }, "Created before"), to),
    );
    const clear = h("button", { type: "button", class: "btn btn-quiet" }, "Clear filters");
    this.form = { q, kind, batch, tag, time, from, to, custom, clear };
    const field = (id: string, label: string, control: HTMLElement) => h("div", { class: "field" }, h("label", { for: id }, label), control);
    const filterForm = h(
      "form",
      { class: "filters", role: "search", "aria-label": "Run filters" },
      field("f-q", "Search", q),
      field("f-kind", "Kind", kind),
      field("f-batch", "Batch", batch),
      field("f-tag", "Tag", tag),
      field("f-time", "Created", time),
      custom,
      h("div", { class: "field field-actions" }, clear),
    );
    filterForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.readForm();
    });
    let typing: number | undefined;
    for (const input of [q, batch, tag]) {
      input.addEventListener("input", () => {
        window.clearTimeout(typing);
        typing = window.setTimeout(() => this.readForm(), 300);
      });
    }
    for (const control of [kind, time, from, to]) control.addEventListener("change", () => this.readForm());
    clear.addEventListener("click", () => this.setFilters(parseFilters("")));
    const disclosure = h(
      "details",
      { class: "filters-disclosure", open: window.matchMedia("(min-width: 760px)").matches },
      h("summary", {}, "Filters"),
      filterForm,
    );

    // Bulk cancel: the ticked rows, or everything the filters match (dry run → confirm →
    // progress → results, in the bulk dialog).
    this.bulk = new BulkDialog(ctx.api, () => this.setSelected([]));
    const selCount = h("span", { id: "bulk-selected-count", "aria-live": "polite" }, "No runs selected");
    const cancelSelected = h("button", { type: "button", class: "btn btn-danger", id: "bulk-cancel-selected", hidden: true }, "Cancel selected…");
    const clearSel = h("button", { type: "button", class: "btn btn-quiet", id: "bulk-clear", hidden: true }, "Clear selection");
    const cancelMatching = h("button", { type: "button", class: "btn", id: "bulk-cancel-matching" }, "Cancel all matching…");
    const bulkSlot = h("div", { class: "bulk-slot", id: "bulk-actions", role: "group", "aria-label": "Bulk cancel" }, selCount, cancelSelected, clearSel, cancelMatching);
    cancelSelected.addEventListener("click", () => this.bulk.open({ type: "ids", ids: [...this.selected] }));
    clearSel.addEventListener("click", () => this.setSelected([]));
    cancelMatching.addEventListener("click", () => this.bulk.open({ type: "filter", filters: this.filters }));
    const selectAll = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select every loaded run (up to 10,000)" });
    selectAll.addEventListener("change", () => this.setSelected(selectAll.checked ? this.rows.slice(0, MAX_SELECTED).map((r) => r.id) : []));
    this.bulkBar = { count: selCount, selected: cancelSelected, clearSel, all: selectAll };

    this.summary = h("p", { class: "list-summary", id: "list-summary", "aria-live": "polite" });

    // The virtual table.
    const head = h(
      "div",
      { class: "thead", role: "rowgroup" },
      h(
        "div",
        { class: "row row-head", role: "row", "aria-rowindex": 1 },
        h("span", { role: "columnheader", class: "c-select" }, selectAll),
        h("span", { role: "columnheader", class: "c-status" }, "Status"),
        h("span", { role: "columnheader", class: "c-name" }, "Run"),
        h("span", { role: "columnheader", class: "c-kind" }, "Kind · batch · tags"),
        h("span", { role: "columnheader", class: "c-children" }, "Children"),
        h("span", { role: "columnheader", class: "c-created" }, "Created"),
        h("span", { role: "columnheader", class: "c-updated" }, "Last change"),
      ),
    );
    this.spacer = h("div", { class: "spacer" });
    this.foot = h("div", { class: "list-foot", "aria-live": "polite" });
    this.viewport = h("div", { class: "viewport", role: "rowgroup" }, this.spacer);
    this.table = h(
      "div",
      { class: "runs-table", role: "table", "aria-label": "Runs, newest first", "aria-describedby": "list-summary list-keys", "aria-rowcount": -1 },
      head,
      this.viewport,
    );
    const keys = h("p", { class: "hint keys-hint", id: "list-keys" }, "Keyboard: ↑ ↓ move between runs, Page Up/Down and Home/End jump, Enter opens, Space selects for a bulk cancel.");
    this.el = h(
      "section",
      { class: "list-view", "aria-labelledby": "list-title" },
      h("div", { class: "list-head" }, h("h1", { id: "list-title" }, "Runs"), this.summary),
      chipBar,
      disclosure,
      bulkSlot,
      this.table,
      this.bulk.el,
      this.foot,
      keys,
    );

    this.viewport.addEventListener("scroll", () => this.scheduleRender(), { passive: true });
    this.viewport.addEventListener("keydown", (ev) => this.onKey(ev));
    this.viewport.addEventListener("change", (ev) => {
      const box = ev.target as HTMLInputElement;
      const id = box.closest<HTMLElement>(".row")?.dataset["id"];
      if (!box.matches("input.select") || !id) return;
      const next = new Set(this.selected);
      if (box.checked && next.size < MAX_SELECTED) next.add(id);
      else next.delete(id);
      this.setSelected([...next]);
    });
    this.viewport.addEventListener("focusin", (ev) => {
      const row = (ev.target as Element).closest<HTMLElement>(".row");
      const i = row ? Number(row.dataset["index"]) : NaN;
      if (Number.isFinite(i)) this.activeIndex = i;
    });
    this.resizeObserver = new ResizeObserver(() => {
      this.measure();
      this.scheduleRender();
    });
    this.resizeObserver.observe(this.viewport);

    this.syncForm();
    this.socket = new LiveSocket({
      api: ctx.api,
      path: "/api/watch",
      afterSeq: () => this.changeSeq,
      onMessage: (m) => this.onMessage(m as OrgMessage),
      onState: (state, detail) => ctx.setLive("list", state, detail),
    });
    void this.reload();
    // Rows drawn before the core was ready lack their contract's status word: add it.
    if (!coreReady()) void initCore().then(() => this.redrawVisible(), () => {});
    // Relative times move on; nothing is fetched.
    this.clock = window.setInterval(() => refreshTimes(this.viewport, Date.now()), 5_000);
  }

  shown(): void {
    document.title = "Runs · runbrake";
    this.measure();
    this.render();
  }

  // ---- filters ----

  private syncForm(): void {
    const f = this.filters;
    const { q, kind, batch, tag, time, from, to, custom, clear } = this.form;
    if (document.activeElement !== q) q.value = f.q;
    kind.value = f.kind ?? "";
    if (document.activeElement !== batch) batch.value = f.batch;
    if (document.activeElement !== tag) tag.value = f.tag;
    time.value = f.time;
    from.value = f.from;
    to.value = f.to;
    custom.hidden = f.time !== "custom";
    clear.disabled = !isFiltered(f);
    for (const [s, chip] of this.chips) {
      const pressed = s === "all" ? f.status.length === 0 : f.status.includes(s);
      chip.btn.setAttribute("aria-pressed", String(pressed));
    }
  }

  private readForm(): void {
    const { q, kind, batch, tag, time, from, to } = this.form;
    const next: Filters = {
      ...this.filters,
      q: q.value,
      kind: (kind.value || null) as Filters["kind"],
      batch: batch.value,
      tag: tag.value,
      time: time.value as TimeRange,
      from: from.value,
      to: to.value,
    };
    this.setFilters(next);
  }

  private setFilters(f: Filters): void {
    // The URL holds the filters; the app routes the change back to applyQuery.
    this.ctx.navigate(`/${filtersToSearch(f)}`, { replace: true });
  }

  /** The page URL's query changed (filters, back/forward). */
  applyQuery(query: string): void {
    const next = parseFilters(query);
    if (filtersToSearch(next) === filtersToSearch(this.filters)) return;
    this.filters = next;
    this.syncForm();
    void this.reload();
  }

  // ---- loading ----

  private async reload(): Promise<void> {
    const gen = ++this.generation;
    this.rows = [];
    this.pos.clear();
    this.left.clear();
    this.cursor = null;
    this.complete = false;
    this.loadError = null;
    this.activeIndex = 0;
    this.headLoaded = false;
    this.early = [];
    this.loading = false;
    this.headBeforeHello = this.changeSeq === null;
    this.viewport.scrollTop = 0;
    this.renderAll();
    await this.loadMore(gen, FIRST_PAGE);
  }

  /** The first page of a (re)load is in. */
  private headArrived(): void {
    this.headLoaded = true;
    for (const r of this.early.splice(0)) this.applyPushed(r);
    performance.mark("runbrake:list-ready");
    this.el.dataset["ready"] = "true";
    // The list was read before the stream said where it starts: read the head once more so a
    // change in between cannot be missed (merged by seq, so nothing moves backwards).
    if (this.headBeforeHello && this.changeSeq !== null) void this.refreshHead();
  }

  private async loadMore(gen = this.generation, limit = this.rows.length ? NEXT_PAGE : FIRST_PAGE): Promise<void> {
    // One page at a time per generation; a reload starts a new generation at once.
    if ((this.loading && this.loadingGen === gen) || this.complete) return;
    this.loading = true;
    this.loadingGen = gen;
    this.loadError = null;
    this.renderFoot();
    let head = false;
    try {
      const early = this.cursor === null ? takePrefetched(this.filters) : null;
      const page = await (early ?? this.ctx.api.list({ ...listQuery(this.filters, Date.now()), limit, cursor: this.cursor ?? "" }));
      if (gen !== this.generation) return;
      if (this.rows.length === 0) performance.mark("runbrake:list-data");
      this.counts = page.counts;
      for (const r of page.data) this.absorb(r, true);
      this.cursor = page.next_cursor;
      this.complete = page.next_cursor === null;
      head = !this.headLoaded;
    } catch (e) {
      if (gen !== this.generation) return;
      this.loadError = e instanceof ApiError ? e.message : String(e);
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.renderAll();
        if (head) this.headArrived();
      }
    }
  }

  private async refreshHead(): Promise<void> {
    const gen = this.generation;
    try {
      const page = await this.ctx.api.list({ ...listQuery(this.filters, Date.now()), limit: FIRST_PAGE });
      if (gen !== this.generation) return;
      this.counts = page.counts;
      for (const r of page.data) this.absorb(r, false);
      this.renderAll();
    } catch {
      /* the stream still carries every later change */
    }
  }

  private async refreshCounts(): Promise<void> {
    try {
      const page = await this.ctx.api.list({ limit: 1 });
      this.counts = page.counts;
      this.renderCounts();
      this.renderSummary();
    } catch {
      /* counts stay as they were; the next change tries again */
    }
  }

  private scheduleCountsRefresh(): void {
    if (this.countsTimer !== undefined) return;
    this.countsTimer = window.setTimeout(() => {
      this.countsTimer = undefined;
      void this.refreshCounts();
    }, 800);
  }

  // ---- live ----

  private onMessage(m: OrgMessage): void {
    switch (m.type) {
      case "hello": {
        const first = this.changeSeq === null;
        this.changeSeq = Math.max(this.changeSeq ?? 0, m.seq);
        if (first && this.headBeforeHello && this.headLoaded) void this.refreshHead();
        return;
      }
      case "run":
        this.changeSeq = Math.max(this.changeSeq ?? 0, m.seq);
        // Before the first page is in, a pushed run has no place yet: keep it for then.
        if (this.headLoaded) this.applyPushed(m.run);
        else this.early.push(m.run);
        return;
      case "resync":
        // Changes were missed beyond what the service keeps: read the list again.
        this.changeSeq = m.seq;
        void this.reload();
        return;
      case "pong":
        return;
    }
  }

  /** A summary pushed by the stream: counts, then the row (in place, inserted, or not ours). */
  private applyPushed(r: RunSummary): void {
    const prev = this.known.get(r.id);
    if (prev && prev.seq >= r.seq) return;
    if (this.counts) {
      if (prev) {
        if (prev.status !== r.status) {
          this.counts[prev.status] = Math.max(0, this.counts[prev.status] - 1);
          this.counts[r.status] += 1;
        }
      } else if (r.seq === 1) {
        this.counts[r.status] += 1;
        this.counts.total += 1;
      } else {
        this.scheduleCountsRefresh();
      }
    }
    this.absorb(r, false);
    this.renderCounts();
    this.renderSummary();
  }

  /** Takes a summary into the list if it is newer than what is shown. */
  private absorb(r: RunSummary, fromPage: boolean): void {
    const prev = this.known.get(r.id);
    if (prev && (prev.seq > r.seq || (prev.seq === r.seq && !fromPage))) return;
    this.known.set(r.id, { seq: r.seq, status: r.status });
    const i = this.pos.get(r.id);
    const now = Date.now();
    if (i !== undefined) {
      const old = this.rows[i];
      if (old && old.seq > r.seq) return;
      this.rows[i] = r;
      if (matches(this.filters, r, now)) this.left.delete(r.id);
      else this.left.add(r.id);
      if (!fromPage) this.updateRow(r.id, true);
      return;
    }
    if (fromPage) {
      // Pages arrive in order: append.
      this.pos.set(r.id, this.rows.length);
      this.rows.push(r);
      return;
    }
    if (!matches(this.filters, r, now)) return;
    const last = this.rows[this.rows.length - 1];
    // Beyond the loaded range: it will come with a later page.
    if (!this.complete && last && before(last, r)) return;
    this.insert(r);
  }

  private insert(r: RunSummary): void {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const row = this.rows[mid];
      if (row && before(row, r)) lo = mid + 1;
      else hi = mid;
    }
    this.rows.splice(lo, 0, r);
    for (let k = lo; k < this.rows.length; k++) {
      const row = this.rows[k];
      if (row) this.pos.set(row.id, k);
    }
    // Keep what the user is looking at still: a run added above the first visible row
    // pushes the scroll position down by one row (at the very top, new runs appear).
    const top = this.viewport.scrollTop;
    if (top > 0 && lo * this.rowH < top + this.rowH / 2) this.viewport.scrollTop = top + this.rowH;
    if (this.activeIndex >= lo && this.rows.length > 1) this.activeIndex += 1;
    this.flash.add(r.id);
    this.scheduleRender();
  }

  // ---- rendering ----

  private measure(): void {
    const v = parseFloat(getComputedStyle(this.viewport).getPropertyValue("--row-h"));
    if (Number.isFinite(v) && v > 0) this.rowH = v;
  }

  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private renderAll(): void {
    this.renderCounts();
    this.renderSummary();
    this.renderFoot();
    this.render();
  }

  private renderCounts(): void {
    const c = this.counts;
    for (const [s, chip] of this.chips) {
      const n = c ? (s === "all" ? c.total : c[s]) : null;
      setText(chip.count, n === null ? "–" : num(n));
      chip.btn.title = n === null ? "" : `${num(n)} ${s === "all" ? "runs in the organisation" : `${statusLabel(s as StatusKind).toLowerCase()} runs in the organisation`}`;
    }
  }

  private renderSummary(): void {
    const loaded = this.rows.length;
    let text: string;
    if (this.loading && loaded === 0) text = "Loading runs…";
    else if (this.complete) text = loaded === 1 ? "1 matching run" : `${num(loaded)} matching runs`;
    else if (this.counts && onlyStatus(this.filters)) {
      const total = this.filters.status.length ? this.filters.status.reduce((a, s) => a + (this.counts?.[s] ?? 0), 0) : this.counts.total;
      text = `${num(total)} matching runs · ${num(loaded)} loaded, more as you scroll`;
    } else text = `${num(loaded)} matching runs loaded, more as you scroll`;
    setText(this.summary, text);
    this.table.setAttribute("aria-rowcount", this.complete ? String(loaded + 1) : "-1");
  }

  private renderFoot(): void {
    if (this.loadError) {
      const retry = h("button", { type: "button", class: "btn" }, "Try again");
      retry.addEventListener("click", () => void this.loadMore());
      replace(this.foot, h("span", { class: "error-text", role: "alert" }, `Could not load runs: ${this.loadError}`), " ", retry);
    } else if (this.loading) {
      replace(this.foot, h("span", { class: "muted" }, this.rows.length ? "Loading more runs…" : "Loading runs…"));
    } else if (this.rows.length === 0) {
      replace(
        this.foot,
        h(
          "p",
          { class: "empty" },
          isFiltered(this.filters)
            ? "No runs match these filters."
            : "No runs yet. Runs created through the API (POST /api/runs) or a vendor route appear here as they happen.",
        ),
      );
    } else if (this.complete) {
      replace(this.foot, h("span", { class: "muted" }, `End of the list · ${num(this.rows.length)} runs`));
    } else {
      replace(this.foot);
    }
  }

  private render(): void {
    if (!this.el.isConnected) return;
    const n = this.rows.length;
    this.spacer.style.height = `${n * this.rowH}px`;
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowH) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + height) / this.rowH) + OVERSCAN);
    // The roving tab stop stays on screen: if it scrolled away, the first visible row takes it.
    const focusInside = this.viewport.contains(document.activeElement);
    if (!focusInside && (this.activeIndex < first || this.activeIndex >= last)) this.activeIndex = Math.min(n - 1, Math.max(0, Math.floor(top / this.rowH)));
    const keep = new Set<string>();
    for (let i = first; i < last; i++) {
      const r = this.rows[i];
      if (r) keep.add(r.id);
    }
    for (const [id, el] of this.rowEls) {
      if (!keep.has(id)) {
        el.remove();
        this.rowEls.delete(id);
      }
    }
    // Rows in DOM order = list order (for screen readers). Rows that stay keep their relative
    // order, so only new ones are inserted, and a focused row is never moved.
    let prev: HTMLElement | null = null;
    for (let i = first; i < last; i++) {
      const r = this.rows[i];
      if (!r) continue;
      let el = this.rowEls.get(r.id);
      if (!el) {
        el = h("div", { class: "row", role: "row" });
        this.rowEls.set(r.id, el);
        this.fillRow(el, r);
      } else if (el.dataset["seq"] !== String(r.seq) || el.dataset["left"] !== String(this.left.has(r.id))) {
        this.fillRow(el, r);
      }
      if (prev ? prev.nextElementSibling !== el : this.spacer.firstElementChild !== el) {
        if (prev) prev.after(el);
        else this.spacer.prepend(el);
      }
      if (el.dataset["index"] !== String(i)) {
        el.dataset["index"] = String(i);
        el.setAttribute("aria-rowindex", String(i + 2));
        el.style.transform = `translateY(${i * this.rowH}px)`;
      }
      const link = el.querySelector("a");
      const tab = i === this.activeIndex ? "0" : "-1";
      if (link && link.getAttribute("tabindex") !== tab) link.setAttribute("tabindex", tab);
      if (this.flash.delete(r.id)) this.pulse(el);
      prev = el;
    }
    // Near the end of what is loaded: fetch the next page.
    if (!this.complete && !this.loading && !this.loadError && n > 0 && last >= n - OVERSCAN * 2) void this.loadMore();
  }

  private fillRow(el: HTMLElement, r: RunSummary): void {
    const now = Date.now();
    const left = this.left.has(r.id);
    el.dataset["id"] = r.id;
    el.dataset["seq"] = String(r.seq);
    el.dataset["status"] = r.status;
    el.dataset["left"] = String(left);
    el.classList.toggle("row-left", left);
    const total = totalChildren(r.children);
    const done = finished(r.children);
    const statusSub =
      r.status === "cancelling" && r.deadline !== null
        ? h("span", { class: "sub" }, "deadline ", timeEl(r.deadline, now))
        : h(
            "span",
            { class: "sub", title: `Status word in contract ${DIALECT_OF[r.kind].code} (${DIALECT_OF[r.kind].label})` },
            r.wait_reason ? `${waitLabel(r.wait_reason)} · ` : "",
            dialectText(r.kind, r.status, r.wait_reason),
          );
    const tags = r.tags.length ? r.tags.map((t) => h("span", { class: "tag" }, t)) : [];
    const ended = r.completed_at ?? r.updated_at;
    el.replaceChildren(
      h(
        "span",
        { role: "cell", class: "c-select" },
        h("input", { type: "checkbox", class: "select", "aria-label": `Select ${r.name ?? r.id}`, checked: this.selected.has(r.id), tabindex: "-1" }),
      ),
      h("span", { role: "cell", class: "c-status" }, badge(r.status), statusSub),
      h(
        "span",
        { role: "cell", class: "c-name" },
        h("a", { href: `/runs/${encodeURIComponent(r.id)}`, class: "run-link", tabindex: "-1" }, r.name ?? r.id),
        h("span", { class: "sub mono" }, r.id, left ? h("span", { class: "left-note" }, " · no longer matches the filters") : null),
      ),
      h(
        "span",
        { role: "cell", class: "c-kind" },
        h("span", {}, kindLabel(r.kind)),
        h("span", { class: "sub" }, r.batch_id ? h("span", { class: "mono" }, r.batch_id) : null, ...tags),
      ),
      h(
        "span",
        { role: "cell", class: "c-children" },
        total > 0 ? h("progress", { max: total, value: done, "aria-label": `${done} of ${total} children finished` }) : null,
        h("span", { class: "sub" }, total > 0 ? `${num(done)} / ${num(total)}` : r.sub_runs > 0 ? `${r.sub_runs} sub-runs` : "—"),
      ),
      h("span", { role: "cell", class: "c-created" }, timeEl(r.created_at, now), h("span", { class: "sub" }, shortAbsolute(r.created_at))),
      h(
        "span",
        { role: "cell", class: "c-updated" },
        timeEl(ended, now),
        h("span", { class: "sub", title: absolute(ended) }, r.completed_at !== null ? `ended ${clockMs(r.completed_at)}` : clockMs(r.updated_at)),
      ),
    );
    el.setAttribute("aria-label", `${r.name ?? r.id}, ${statusLabel(r.status)}, created ${relative(r.created_at, now)}`);
  }

  // ---- selection (bulk cancel) ----

  private setSelected(ids: string[]): void {
    this.selected = new Set(ids);
    const n = this.selected.size;
    const { count, selected, clearSel, all } = this.bulkBar;
    setText(count, n === 0 ? "No runs selected" : `${num(n)} selected`);
    // Only what applies is shown: the selection's buttons appear once a run is ticked.
    selected.hidden = n === 0;
    clearSel.hidden = n === 0;
    all.checked = n > 0 && n >= Math.min(this.rows.length, MAX_SELECTED);
    all.indeterminate = n > 0 && !all.checked;
    for (const [id, el] of this.rowEls) {
      const box = el.querySelector<HTMLInputElement>("input.select");
      if (box) box.checked = this.selected.has(id);
    }
  }

  private redrawVisible(): void {
    for (const [id, el] of this.rowEls) {
      const i = this.pos.get(id);
      const r = i === undefined ? undefined : this.rows[i];
      if (r) this.fillRow(el, r);
    }
  }

  /** A pushed change to a row: redrawn now if it is on screen (no frame delay). */
  private updateRow(id: string, pulse: boolean): void {
    const el = this.rowEls.get(id);
    const i = this.pos.get(id);
    const r = i === undefined ? undefined : this.rows[i];
    if (!el || !r) return;
    const hadFocus = el.contains(document.activeElement);
    this.fillRow(el, r);
    const link = el.querySelector("a");
    link?.setAttribute("tabindex", i === this.activeIndex ? "0" : "-1");
    if (hadFocus) link?.focus({ preventScroll: true });
    if (pulse) this.pulse(el);
    if (this.left.has(id)) announce(`${r.name ?? r.id} is now ${statusLabel(r.status).toLowerCase()}`);
  }

  private pulse(el: HTMLElement): void {
    el.classList.remove("pulse");
    void el.offsetWidth;
    el.classList.add("pulse");
  }

  // ---- keyboard ----

  private onKey(ev: KeyboardEvent): void {
    const n = this.rows.length;
    if (n === 0) return;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / this.rowH) - 1);
    let i = this.activeIndex;
    switch (ev.key) {
      case "ArrowDown":
        i += 1;
        break;
      case "ArrowUp":
        i -= 1;
        break;
      case "PageDown":
        i += page;
        break;
      case "PageUp":
        i -= page;
        break;
      case "Home":
        i = 0;
        break;
      case "End":
        i = n - 1;
        break;
      case " ":
      case "x": {
        // Space or x ticks the focused run for a bulk cancel.
        const r = this.rows[i];
        if (!r) return;
        ev.preventDefault();
        const next = new Set(this.selected);
        if (next.has(r.id)) next.delete(r.id);
        else if (next.size < MAX_SELECTED) next.add(r.id);
        this.setSelected([...next]);
        return;
      }
      default:
        return;
    }
    ev.preventDefault();
    this.focusIndex(Math.min(n - 1, Math.max(0, i)));
  }

  private focusIndex(i: number): void {
    this.activeIndex = i;
    const top = i * this.rowH;
    const vp = this.viewport;
    if (top < vp.scrollTop) vp.scrollTop = top;
    else if (top + this.rowH > vp.scrollTop + vp.clientHeight) vp.scrollTop = top + this.rowH - vp.clientHeight;
    this.render();
    const r = this.rows[i];
    const link = r ? this.rowEls.get(r.id)?.querySelector("a") : null;
    link?.focus({ preventScroll: true });
  }

  dispose(): void {
    this.generation += 1;
    this.socket.stop();
    this.bulk.dispose();
    this.resizeObserver.disconnect();
    window.clearInterval(this.clock);
    window.clearTimeout(this.countsTimer);
    this.el.remove();
  }
}
