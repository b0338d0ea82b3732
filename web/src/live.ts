// A live stream from the service over a WebSocket: a fresh single-use ticket for every
// (re)connect (browsers cannot send an Authorization header on a WebSocket, and keys never go
// in URLs), resume by `after_seq`, reconnect with backoff, and an honest connection state.

import type { Api } from "./api";
import { ApiError } from "./api";

export type LiveState = "connecting" | "live" | "reconnecting" | "closed";

export interface LiveOptions {
  api: Api;
  /** `/api/watch` or `/api/runs/{id}/watch`. */
  path: string;
  /** Where to resume from (the last seq applied), or null for "from now". */
  afterSeq: () => number | null;
  onMessage: (msg: unknown) => void;
  onState?: (state: LiveState, detail: string) => void;
}

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];

export class LiveSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  state: LiveState = "connecting";

  constructor(private readonly o: LiveOptions) {
    void this.connect();
    window.addEventListener("online", this.onOnline);
  }

  private readonly onOnline = (): void => {
    if (this.state === "reconnecting") {
      window.clearTimeout(this.timer);
      void this.connect();
    }
  };

  private setState(state: LiveState, detail = ""): void {
    this.state = state;
    this.o.onState?.(state, detail);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting", this.attempt === 0 ? "" : `attempt ${this.attempt + 1}`);
    let ticket: string;
    try {
      ticket = (await this.o.api.ticket()).ticket;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return this.stop();
      return this.retry(e instanceof Error ? e.message : "no ticket");
    }
    if (this.stopped) return;
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams({ ticket });
    const after = this.o.afterSeq();
    if (after !== null) params.set("after_seq", String(after));
    const ws = new WebSocket(`${proto}//${window.location.host}${this.o.path}?${params.toString()}`);
    this.ws = ws;
    let opened = false;
    ws.addEventListener("open", () => {
      opened = true;
      this.attempt = 0;
      this.setState("live");
    });
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") return;
      let msg: unknown;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.o.onMessage(msg);
    });
    ws.addEventListener("close", (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.retry(opened ? `connection closed (${ev.code})` : "could not connect");
    });
  }

  private retry(why: string): void {
    if (this.stopped) return;
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] ?? 8000;
    this.attempt += 1;
    this.setState("reconnecting", `${why}; retrying in ${Math.round(wait / 100) / 10} s`);
    this.timer = window.setTimeout(() => void this.connect(), wait);
  }

  /** Closes this connection and opens a new one (resuming from `afterSeq`). */
  reconnect(): void {
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "resync");
    window.clearTimeout(this.timer);
    this.attempt = 0;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "bye");
    this.setState("closed");
  }
}
