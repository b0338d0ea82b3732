// The native API, as the dashboard uses it. Shapes follow worker/openapi.json; the core's own
// types (RunState, EventRecord, CancelReply…) come from the Wasm package's generated `.d.ts`.

import type {
  CancelFingerprint,
  CancelOutcome,
  CancelReply,
  ChildCounts,
  ChildStatus,
  EventRecord,
  LateRecord,
  RunKind,
  RunState,
  StatusKind,
  WaitReason,
} from "runbrake-core";

export const STATUSES: readonly StatusKind[] = [
  "pending",
  "queued",
  "running",
  "waiting",
  "cancelling",
  "completed",
  "failed",
  "rejected",
  "cancelled",
];
export const TERMINAL: ReadonlySet<StatusKind> = new Set(["completed", "failed", "rejected", "cancelled"]);
export const KINDS: readonly RunKind[] = ["workflow", "workflow_test", "experiment", "extend_workflow", "generic"];

export interface Caller {
  org_id: string;
  key_id: string;
  role: "user" | "executor";
}

/** A run as the organisation's index lists it (times in epoch ms). */
export interface RunSummary {
  id: string;
  seq: number;
  kind: RunKind;
  status: StatusKind;
  wait_reason: WaitReason | null;
  name: string | null;
  workflow_id: string | null;
  batch_id: string | null;
  tags: string[];
  parent_run_id: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  completed_at: number | null;
  deadline: number | null;
  children: ChildCounts;
  sub_runs: number;
}

export type StatusCounts = Record<StatusKind | "total", number>;

export interface RunList {
  data: RunSummary[];
  next_cursor: string | null;
  counts: StatusCounts;
}

export interface WorkflowRef {
  id?: string;
  version_id?: string;
  version?: string;
  name?: string;
}

export interface Trigger {
  type: string;
  actor?: string;
}

/** The native API's view of one run (`GET /api/runs/{id}`). */
export interface RunDto {
  id: string;
  kind: RunKind;
  name: string | null;
  status: StatusKind;
  wait_reason: WaitReason | null;
  version: number;
  workflow: WorkflowRef;
  trigger: Trigger;
  metadata: Record<string, unknown>;
  batch_id: string | null;
  tags: string[];
  attributes: Record<string, unknown>;
  parent_run_id: string | null;
  sub_runs: string[];
  children: ChildCounts & { total: number };
  late: LateRecord | null;
  vocabulary: Record<string, string>;
  state: RunState;
}

/** What a run stream's snapshot carries: the state, what the run is about, the server's clock. */
export interface RunSnapshot {
  state: RunState;
  info: {
    name?: string;
    workflow?: WorkflowRef;
    trigger?: Trigger;
    metadata?: Record<string, unknown>;
    batch_id?: string;
    tags?: string[];
    attributes?: Record<string, unknown>;
    parent_run_id?: string;
  };
  now: number;
}

export interface EventPage {
  data: EventRecord[];
  next_after_seq: number | null;
  version: number;
}

export interface ChildRow {
  id: string;
  status: ChildStatus;
  name: string | null;
}

export interface ChildPage {
  data: ChildRow[];
  next_after: string | null;
  counts: ChildCounts;
  total: number;
}

export interface CancelResponse {
  outcome: CancelOutcome;
  cancel: CancelReply;
  run: RunDto;
}

export interface CancelReceipt {
  command_id: string;
  parameters: CancelFingerprint;
  reply: CancelReply;
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
}

/** A refusal or failure, with what the service said (or what went wrong on the way). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
  /** True when the request may never have reached the service (retry with the same id). */
  get network(): boolean {
    return this.status === 0;
  }
}

export type Query = Record<string, string | number | undefined | null>;

function qs(query: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Called when the service says the key is no longer good (revoked mid-session). */
export type OnUnauthorized = (message: string) => void;

export class Api {
  constructor(
    private readonly key: string,
    private readonly onUnauthorized: OnUnauthorized = () => {},
  ) {}

  /**
   * One request. 2xx bodies are returned; for the cancel route, 409/412 are answers too
   * (`accept`), not errors.
   */
  async request<T>(method: string, path: string, o: { body?: unknown; query?: Query; accept?: number[] } = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${path}${qs(o.query)}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          accept: "application/json",
          ...(o.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: o.body === undefined ? null : JSON.stringify(o.body),
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "network", `The service could not be reached (${e instanceof Error ? e.message : String(e)})`);
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (res.ok || o.accept?.includes(res.status)) return body as T;
    const p = (body && typeof body === "object" ? body : {}) as Partial<Problem>;
    const err = new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? `The service answered ${res.status}`, body);
    if (res.status === 401) this.onUnauthorized(err.message);
    throw err;
  }

  me(): Promise<Caller> {
    return this.request("GET", "/api/me");
  }

  ticket(): Promise<{ ticket: string; expires_at: string }> {
    return this.request("POST", "/api/tickets");
  }

  list(query: Query): Promise<RunList> {
    return this.request("GET", "/api/runs", { query });
  }

  run(id: string): Promise<{ run: RunDto }> {
    return this.request("GET", `/api/runs/${encodeURIComponent(id)}`);
  }

  events(id: string, afterSeq: number, limit = 1000): Promise<EventPage> {
    return this.request("GET", `/api/runs/${encodeURIComponent(id)}/events`, { query: { after_seq: afterSeq, limit } });
  }

  children(id: string, query: Query): Promise<ChildPage> {
    return this.request("GET", `/api/runs/${encodeURIComponent(id)}/children`, { query });
  }

  cancel(id: string, body: { command_id: string; reason?: string; grace_ms?: number; source: "dashboard" }): Promise<CancelResponse> {
    return this.request("POST", `/api/runs/${encodeURIComponent(id)}/cancel`, { body, accept: [409, 412] });
  }

  receipt(id: string, commandId: string): Promise<CancelReceipt> {
    return this.request("GET", `/api/runs/${encodeURIComponent(id)}/cancellations/${encodeURIComponent(commandId)}`);
  }
}

// ---- bulk cancel jobs (`/api/bulk-cancels`, shapes as in worker/openapi.json) ----

/** What a bulk cancel selects: ids, or a filter of the organisation's index. */
export type BulkSelection =
  | { ids: string[] }
  | { filter: { status?: StatusKind[]; kind?: RunKind; batch_id?: string; tag?: string; created_from?: number; created_to?: number } };

export interface BulkSampleItem {
  id: string;
  status: StatusKind | null;
  kind: RunKind | null;
  name: string | null;
  created_at: string | null;
}

export interface BulkDryRun {
  dry_run_id: string;
  count: number;
  sample: BulkSampleItem[];
  reason: string | null;
  grace_ms: number | null;
  created_at: string;
  expires_at: string;
}

export const BULK_OUTCOMES = [
  "cancelled",
  "cancelling",
  "already_cancelled",
  "already_cancelling",
  "already_finished",
  "not_cancellable",
  "precondition_failed",
  "not_found",
  "aborted",
  "error",
] as const;
export type BulkOutcome = (typeof BULK_OUTCOMES)[number];
export type BulkItemState = "pending" | "in_flight" | "done" | "failed" | "skipped";

export interface BulkJob {
  id: string;
  dry_run_id: string;
  status: "running" | "completed" | "aborted";
  reason: string | null;
  grace_ms: number | null;
  created_at: string;
  finished_at: string | null;
  aborted_at: string | null;
  total: number;
  processed: number;
  progress: Record<BulkItemState, number>;
  outcomes: Record<BulkOutcome, number>;
}

export interface BulkItem {
  run_id: string;
  state: BulkItemState;
  outcome: BulkOutcome | null;
  detail: Record<string, unknown> | null;
  attempts: number;
  updated_at: string | null;
}

export interface BulkItemPage {
  data: BulkItem[];
  next_cursor: string | null;
}

export const bulkApi = {
  dryRun(api: Api, body: { selection: BulkSelection; reason?: string; grace_ms?: number; sample_size?: number }): Promise<BulkDryRun> {
    return api.request("POST", "/api/bulk-cancels/dry-run", { body });
  },
  start(api: Api, dryRunId: string, idempotencyKey: string, ratePerS?: number): Promise<{ job: BulkJob; replayed: boolean }> {
    const body = { dry_run_id: dryRunId, idempotency_key: idempotencyKey, ...(ratePerS === undefined ? {} : { rate_per_s: ratePerS }) };
    return api.request("POST", "/api/bulk-cancels", { body });
  },
  job(api: Api, id: string): Promise<{ job: BulkJob }> {
    return api.request("GET", `/api/bulk-cancels/${encodeURIComponent(id)}`);
  },
  abort(api: Api, id: string): Promise<{ job: BulkJob }> {
    return api.request("POST", `/api/bulk-cancels/${encodeURIComponent(id)}/abort`);
  },
  items(api: Api, id: string, query: Query): Promise<BulkItemPage> {
    return api.request("GET", `/api/bulk-cancels/${encodeURIComponent(id)}/items`, { query });
  },
};
