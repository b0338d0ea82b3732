// The signed-in application: the header (organisation, live state, sign-out) and the two
// screens, routed by path (`/` the run list, `/runs/{id}` a run) with the History API.

import type { Api, Caller } from "./api";
import { byId, setText } from "./dom";
import type { LiveState } from "./live";
import { ListView } from "./list";
import { DetailView } from "./detail";

export interface Screen {
  readonly el: HTMLElement;
  /** Called when the screen is shown again (the list is kept while a run is open). */
  shown?(): void;
  dispose(): void;
}

export interface AppContext {
  api: Api;
  me: Caller;
  navigate(path: string, opts?: { replace?: boolean }): void;
  /** Reports a stream's state to the header's indicator. */
  setLive(source: string, state: LiveState, detail: string): void;
}

const LIVE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
};

export class App {
  private list: ListView | null = null;
  private listQuery = "";
  private screen: Screen | null = null;
  private readonly live = new Map<string, { state: LiveState; detail: string }>();
  readonly ctx: AppContext;

  constructor(
    private readonly main: HTMLElement,
    api: Api,
    me: Caller,
    private readonly onSignOut: () => void,
  ) {
    this.ctx = {
      api,
      me,
      navigate: (path, opts) => this.navigate(path, opts),
      setLive: (source, state, detail) => this.setLive(source, state, detail),
    };
    byId("session").hidden = false;
    setText(byId("who"), `${me.org_id} · ${me.role} key`);
    byId("who").title = `Organisation ${me.org_id}, key ${me.key_id} (${me.role})`;
    byId("sign-out").addEventListener("click", this.signOut);
    window.addEventListener("popstate", this.onPop);
    document.addEventListener("click", this.onClick);
    this.route();
  }

  private readonly signOut = (): void => this.onSignOut();

  private readonly onPop = (): void => this.route();

  /** Same-origin links move within the app without a page load. */
  private readonly onClick = (ev: MouseEvent): void => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download")) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    if (!(url.pathname === "/" || url.pathname.startsWith("/runs/"))) return;
    ev.preventDefault();
    this.navigate(`${url.pathname}${url.search}`);
  };

  navigate(path: string, opts: { replace?: boolean } = {}): void {
    const current = `${window.location.pathname}${window.location.search}`;
    if (path === current && !opts.replace) return;
    if (opts.replace) window.history.replaceState(null, "", path);
    else window.history.pushState(null, "", path);
    this.route();
  }

  private route(): void {
    const path = window.location.pathname;
    const m = /^\/runs\/([^/]+)\/?$/.exec(path);
    const previous = this.screen;
    if (m?.[1]) {
      const id = decodeURIComponent(m[1]);
      if (previous instanceof DetailView && previous.runId === id) return;
      if (previous && previous !== this.list) previous.dispose();
      this.screen = new DetailView(this.ctx, id);
      this.mount(this.screen);
      return;
    }
    if (path !== "/") {
      window.history.replaceState(null, "", "/");
    }
    const query = window.location.search;
    if (previous && previous !== this.list) previous.dispose();
    if (this.list && this.listQuery !== query) {
      // Same screen, other filters: the list reloads itself (keeps its live stream).
      this.list.applyQuery(query);
      this.listQuery = query;
    }
    if (!this.list) {
      this.list = new ListView(this.ctx, query);
      this.listQuery = query;
    }
    this.screen = this.list;
    this.mount(this.list);
  }

  private mount(screen: Screen): void {
    if (this.main.firstElementChild !== screen.el || this.main.childElementCount !== 1) {
      this.main.replaceChildren(screen.el);
    }
    screen.shown?.();
  }

  private setLive(source: string, state: LiveState, detail: string): void {
    if (state === "closed") this.live.delete(source);
    else this.live.set(source, { state, detail });
    // The worst state of the open streams is what the header says.
    const order: LiveState[] = ["reconnecting", "connecting", "live"];
    const states = [...this.live.values()];
    const worst = order.find((s) => states.some((x) => x.state === s));
    const el = byId("live");
    const shown = worst ?? "closed";
    el.dataset["state"] = shown;
    setText(el, LIVE_TEXT[shown]);
    el.title =
      shown === "live"
        ? "Updates are pushed by the service as they happen"
        : (states.find((x) => x.state === shown)?.detail ?? "No live connection");
  }

  dispose(): void {
    byId("sign-out").removeEventListener("click", this.signOut);
    window.removeEventListener("popstate", this.onPop);
    document.removeEventListener("click", this.onClick);
    if (this.screen && this.screen !== this.list) this.screen.dispose();
    this.list?.dispose();
    this.list = null;
    this.screen = null;
    byId("session").hidden = true;
    this.live.clear();
  }
}
