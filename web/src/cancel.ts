// The cancel confirmation: optional reason and grace, and a preview of what will happen,
// decided by the core on the run's current state (the same decision the server will take).

import type { RunState } from "runbrake-core";
import { core, serverNow } from "./core";
import { h, setText } from "./dom";
import { clockMs, duration } from "./format";

export interface CancelChoice {
  reason: string;
  /** undefined: the run's default grace. */
  graceMs: number | undefined;
}

const GRACES: { value: string; label: string }[] = [
  { value: "", label: "Run's default" },
  { value: "0", label: "None: stop now (force)" },
  { value: "10000", label: "10 seconds" },
  { value: "30000", label: "30 seconds" },
  { value: "120000", label: "2 minutes" },
  { value: "600000", label: "10 minutes" },
];

const MAX_REASON = 512;

export class CancelDialog {
  readonly el: HTMLDialogElement;
  private readonly reason: HTMLTextAreaElement;
  private readonly grace: HTMLSelectElement;
  private readonly graceField: HTMLElement;
  private readonly preview: HTMLElement;
  private readonly counter: HTMLElement;
  private readonly confirm: HTMLButtonElement;
  private readonly title: HTMLElement;
  private state: RunState | null = null;
  private onConfirm: ((c: CancelChoice) => void) | null = null;

  constructor() {
    this.title = h("h2", { id: "cancel-title" }, "Cancel this run?");
    this.reason = h("textarea", { id: "cancel-reason", name: "reason", rows: 3, maxlength: MAX_REASON, "aria-describedby": "cancel-reason-count" });
    this.counter = h("span", { id: "cancel-reason-count", class: "hint" }, `0 / ${MAX_REASON}`);
    this.grace = h("select", { id: "cancel-grace", name: "grace", "aria-describedby": "cancel-preview" });
    this.graceField = h("div", { class: "field" }, h("label", { for: "cancel-grace" }, "Grace period for the executor"), this.grace);
    this.preview = h("p", { id: "cancel-preview", class: "preview", "aria-live": "polite" });
    this.confirm = h("button", { type: "submit", class: "btn btn-danger", value: "cancel", id: "cancel-confirm" }, "Cancel run");
    const keep = h("button", { type: "button", class: "btn", id: "cancel-keep", autofocus: true }, "Keep running");
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      this.title,
      this.preview,
      h("div", { class: "field" }, h("label", { for: "cancel-reason" }, "Reason (optional, shown in the run's history)"), this.reason, this.counter),
      this.graceField,
      h("div", { class: "dialog-actions" }, keep, this.confirm),
    );
    this.el = h("dialog", { class: "dialog", "aria-labelledby": "cancel-title", "aria-describedby": "cancel-preview" }, form);
    this.reason.addEventListener("input", () => setText(this.counter, `${this.reason.value.length} / ${MAX_REASON}`));
    this.grace.addEventListener("change", () => this.renderPreview());
    keep.addEventListener("click", () => this.el.close("keep"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      // One confirmation per opening, however fast the clicks.
      if (this.confirm.disabled || !this.onConfirm) return;
      this.confirm.disabled = true;
      const choose = this.onConfirm;
      this.onConfirm = null;
      const g = this.grace.value;
      this.el.close("cancel");
      choose({ reason: this.reason.value.trim(), graceMs: g === "" ? undefined : Number(g) });
    });
  }

  open(state: RunState, name: string, onConfirm: (c: CancelChoice) => void): void {
    if (this.el.open) return;
    this.state = state;
    this.onConfirm = onConfirm;
    this.confirm.disabled = false;
    setText(this.title, `Cancel “${name}”?`);
    this.grace.replaceChildren(
      ...GRACES.map((g) =>
        h("option", { value: g.value }, g.value === "" ? `${g.label} (${duration(state.default_grace_ms ?? 30_000)})` : g.label),
      ),
    );
    this.reason.value = "";
    setText(this.counter, `0 / ${MAX_REASON}`);
    this.renderPreview();
    this.el.showModal();
  }

  /** The run changed while the dialog is open: the preview follows it. */
  update(state: RunState): void {
    if (!this.el.open) return;
    this.state = state;
    this.renderPreview();
  }

  private renderPreview(): void {
    const state = this.state;
    if (!state) return;
    const g = this.grace.value;
    const graceMs = g === "" ? undefined : Number(g);
    let text: string;
    let leased = false;
    try {
      const d = core.decide(state, { type: "cancel", by: { source: "dashboard" }, ...(graceMs === undefined ? {} : { grace_ms: graceMs }) }, serverNow());
      const reply = d.reply;
      const o = reply.type === "cancel" ? reply.outcome : null;
      switch (o?.kind) {
        case "cancelled_now":
          text = o.forced
            ? "An executor is working on this run. With no grace period, it is cancelled at once and the executor's lease is revoked."
            : "No executor is working on this run: it will be cancelled at once.";
          leased = o.forced;
          break;
        case "requested":
          text = `An executor is working on this run. It will be told to stop and has until about ${clockMs(o.deadline)} (${duration(o.deadline - serverNow())}); then the run is cancelled anyway and the lease revoked.`;
          leased = true;
          break;
        case undefined:
          text = "";
          break;
        default:
          text = "This run cannot be cancelled now.";
      }
    } catch (e) {
      text = e instanceof Error ? e.message : String(e);
    }
    const children = state.children ? (state.children.pending ?? 0) + (state.children.running ?? 0) : 0;
    if (children > 0) text += ` ${children} unfinished children are cancelled with it (running ones follow the same deadline).`;
    if ((state.sub_runs?.length ?? 0) > 0) text += ` Its ${state.sub_runs?.length} sub-runs are cancelled too.`;
    setText(this.preview, text.trim());
    this.graceField.hidden = !leased && g === "";
  }

  dispose(): void {
    if (this.el.open) this.el.close();
    this.el.remove();
  }
}
