/* tslint:disable */
/* eslint-disable */

/**
 * Milliseconds since the Unix epoch (UTC): a JavaScript number, exact up to year 287,396.
 */
export type Millis = number;


/**
 * A child item as created: its id (unique within the run) and starting bucket.
 */
export interface NewChild {
    id: string;
    status?: ChildStatus;
}

/**
 * A new run: its state and the decision (events, effects, reply) that created it.
 */
export interface Created {
    state: RunState;
    decision: Decision;
}

/**
 * A vendor contract (seed number in the docs).
 */
export type Dialect = "retab_workflow" | "retab_workflow_test" | "retab_experiment" | "extend_workflow" | "generic";

/**
 * An event in a run's log: `seq` starts at 1 and has no gaps; `at` is the decision time.
 */
export interface EventRecord {
    seq: number;
    at: Millis;
    event: Event;
}

/**
 * An executor's claim on a running run. The id is chosen by the caller (the Worker generates
 * it); the core only compares it, so it has no randomness of its own.
 */
export interface Lease {
    id: string;
    executor: string;
    expires_at: Millis;
}

/**
 * An optimistic cancel the user just sent.
 */
export interface PendingCancel {
    command_id?: string;
    requested_at: Millis;
}

/**
 * Children at creation: either counts only (the items are tracked elsewhere) or the items.
 */
export type ChildrenInit = NewChild[] | ChildCounts;

/**
 * Everything that can happen to a run, as data (`{"type": "cancel", ...}`).
 */
export type Command = ({ type: "create" } & CreateArgs) | { type: "enqueue" } | ({ type: "claim" } & ClaimArgs) | ({ type: "heartbeat" } & HeartbeatArgs) | ({ type: "wait" } & WaitArgs) | ({ type: "resume" } & ResumeArgs) | ({ type: "complete" } & CompleteArgs) | ({ type: "fail" } & FailArgs) | ({ type: "reject" } & RejectArgs) | ({ type: "cancel" } & CancelArgs) | ({ type: "ack_cancel" } & AckCancelArgs) | { type: "deadline_fired" } | ({ type: "add_children" } & AddChildrenArgs) | ({ type: "update_child" } & UpdateChildArgs) | ({ type: "attach_sub_run" } & AttachSubRunArgs);

/**
 * How a cancel became effective.
 */
export type CancelVia = "immediate" | "ack" | "deadline" | "late_completion" | "late_failure";

/**
 * How long an executor gets to stop.
 */
export type Grace = "default" | { fixed: number };

/**
 * How many children are in each bucket. The items themselves live outside the state (a SQL
 * table in the Worker, a [`crate::ChildTable`] in JavaScript) so that a run with 100,000
 * children still loads and stores in microseconds.
 */
export interface ChildCounts {
    pending?: number;
    running?: number;
    cancelling?: number;
    completed?: number;
    failed?: number;
    cancelled?: number;
}

/**
 * Lifecycle bucket of one child item (a step, a test case, an experiment result).
 */
export type ChildStatus = "pending" | "running" | "cancelling" | "completed" | "failed" | "cancelled";

/**
 * One fact about a run. `snake_case`, tagged by `type`.
 */
export type Event = { type: "created"; id: string; kind: RunKind; status: Status; default_grace_ms?: number; children?: ChildCounts; sub_runs?: string[] } | { type: "enqueued" } | { type: "claimed"; lease: Lease } | { type: "lease_extended"; lease_id: string; expires_at: Millis } | { type: "lease_expired"; lease_id: string } | { type: "wait_started"; reason: WaitReason; released_lease_id?: string } | { type: "resumed"; lease: Lease } | { type: "completed"; output?: unknown } | { type: "failed"; message: string; code?: string } | { type: "rejected"; note?: string } | { type: "cancel_requested"; by: By; reason?: string; command_id?: string; deadline: Millis } | { type: "cancelled"; by: By; reason?: string; command_id?: string; forced: boolean; via: CancelVia } | { type: "late_completion"; lease_id?: string; output?: unknown } | { type: "late_failure"; lease_id?: string; message: string; code?: string } | { type: "cancel_recorded"; command_id: string; fingerprint: CancelFingerprint; reply: CancelReply } | { type: "children_added"; items: NewChild[] } | { type: "child_changed"; id: string; from: ChildStatus; to: ChildStatus } | { type: "children_cancelled"; from: ChildStatus; count: number } | { type: "children_cancelling"; count: number } | { type: "sub_run_attached"; id: string };

/**
 * One run, as stored. See the crate docs for the lifecycle.
 */
export interface RunState {
    /**
     * Stored format version ([`STATE_FORMAT_VERSION`]).
     */
    v: number;
    id: string;
    kind: RunKind;
    status: Status;
    /**
     * Seq of the last applied event; what `if_version` compares with.
     */
    version: number;
    timing: Timing;
    children?: ChildCounts;
    sub_runs?: string[];
    default_grace_ms?: number;
    /**
     * The most recent executor lease id, kept after the lease ends so that the executor that
     * held it gets a "you lost, here is why" answer instead of a bare refusal.
     */
    last_lease_id?: string;
    late?: LateRecord;
    /**
     * Cancel receipts by `command_id` (at most [`MAX_COMMAND_IDS`]).
     */
    commands?: Record<string, CancelRecord>;
}

/**
 * Status after a lifecycle command.
 */
export interface RunReply {
    status: StatusKind;
    version: number;
}

/**
 * The cancel a sub-run attached to a cancelling or cancelled parent takes at once: the same
 * parameters as the `cascade_cancel` effect, so applying both is one cancel (same
 * `command_id`, same fingerprint).
 */
export interface SubRunCancel {
    command_id: string;
    /**
     * What is left of the parent's grace (0 under a cancelled parent).
     */
    grace_ms: number;
    /**
     * The parent's deadline (or now, under a cancelled parent).
     */
    deadline: Millis;
    reason?: string;
    by: By;
}

/**
 * The canonical lifecycle. `cancelling` always has a deadline and the executor's lease (a run
 * only enters it when an executor holds a live lease). The last four are terminal and absorb
 * every later command.
 */
export type Status = { type: "pending" } | { type: "queued" } | { type: "running"; lease: Lease | null } | { type: "waiting"; reason: WaitReason } | { type: "cancelling"; requested_at: Millis; deadline: Millis; by: By; reason?: string; command_id?: string; lease: Lease } | { type: "completed" } | { type: "failed"; message: string; code?: string } | { type: "rejected"; note?: string } | { type: "cancelled"; reason?: string; by: By; forced: boolean; effective_at: Millis; command_id?: string };

/**
 * The executor protocol's reply: a heartbeat learns here that a cancel was requested and by
 * when it must stop.
 */
export interface ExecutorReply {
    outcome: ExecutorOutcome;
    status: StatusKind;
    version: number;
    /**
     * Expiry of the executor's lease after this command (if it still holds one).
     */
    lease_expires_at?: Millis;
    cancel_requested: boolean;
    /**
     * The cancel deadline, when cancelling.
     */
    deadline?: Millis;
}

/**
 * The first late completion/failure (only the first is logged, so a retrying executor cannot
 * grow the log without bound).
 */
export interface LateRecord {
    kind: LateKind;
    at: Millis;
}

/**
 * The first reply to a cancel carrying a `command_id`, kept so a retry gets it back unchanged.
 */
export interface CancelRecord {
    fingerprint: CancelFingerprint;
    reply: CancelReply;
}

/**
 * The name of a [`Status`] without its data: what policies, preconditions and indexes use.
 */
export type StatusKind = "pending" | "queued" | "running" | "waiting" | "cancelling" | "completed" | "failed" | "rejected" | "cancelled";

/**
 * The name of a command, for errors and logs.
 */
export type CommandKind = "create" | "enqueue" | "claim" | "heartbeat" | "wait" | "resume" | "complete" | "fail" | "reject" | "cancel" | "ack_cancel" | "deadline_fired" | "add_children" | "update_child" | "attach_sub_run";

/**
 * The one answer every cancel route maps. See the crate docs for the decision order.
 */
export type CancelOutcome = { kind: "cancelled_now"; effective_at: Millis; forced: boolean } | { kind: "requested"; deadline: Millis } | { kind: "already_requested"; deadline: Millis; requested_at: Millis } | { kind: "already_cancelled"; effective_at: Millis; forced: boolean } | { kind: "already_terminal"; state: StatusKind; since: Millis; lost_race: boolean } | { kind: "not_cancellable"; state: StatusKind } | { kind: "precondition_failed"; expected_status_in?: StatusKind[]; expected_version?: number; actual_status: StatusKind; actual_version: number } | { kind: "replayed"; original: CancelReply };

/**
 * The parameters that make two cancels with one `command_id` "the same request". `by` is not
 * part of it: the caller's identity is checked by the Worker, not by the key.
 */
export interface CancelFingerprint {
    reason?: string;
    grace_ms?: number;
    if_status_in?: StatusKind[];
    if_version?: number;
    policy: CancelPolicy;
}

/**
 * The parent's answer to `attach_sub_run`.
 */
export interface SubRunReply {
    outcome: AttachOutcome;
    sub_run_id: string;
    /**
     * The parent's status and version after the command.
     */
    status: StatusKind;
    version: number;
    /**
     * How many sub-runs the parent has.
     */
    sub_runs: number;
    /**
     * Set when the parent is cancelling or cancelled: the sub-run must take this cancel in the
     * write that creates it, so it never starts.
     */
    cancel?: SubRunCancel;
}

/**
 * The reply to a cancel: the outcome plus the run's resulting status and children.
 */
export interface CancelReply {
    outcome: CancelOutcome;
    status: StatusKind;
    version: number;
    children: ChildCounts;
    deadline?: Millis;
}

/**
 * The reply to any command: one variant per command family.
 */
export type Reply = ({ type: "run" } & RunReply) | ({ type: "executor" } & ExecutorReply) | ({ type: "cancel" } & CancelReply) | ({ type: "deadline" } & DeadlineReply) | ({ type: "children" } & ChildrenReply) | ({ type: "sub_run" } & SubRunReply);

/**
 * The result of a command: events to append (in order), effects to carry out after they are
 * stored, the reply, and when the Worker's alarm must fire next (`None`: delete it).
 */
export interface Decision {
    events: EventRecord[];
    effects: Effect[];
    reply: Reply;
    next_deadline: Millis | null;
}

/**
 * The states a policy can name. Waiting is split by reason because contracts differ there: a
 * run waiting on a human is `NEEDS_REVIEW` to Extend (not cancellable) while one sleeping is
 * `PROCESSING` (cancellable). Cancelling and terminal runs are answered before the policy is
 * consulted, so they have no entry.
 */
export type PolicyState = "pending" | "queued" | "running" | "waiting_human_review" | "waiting_sleep" | "waiting_event";

/**
 * The status a run starts in. `running` means running without an executor claim.
 */
export type InitialStatus = "pending" | "queued" | "running";

/**
 * Webhook event kinds (`run.cancel_requested` etc. on the wire is the Worker's business).
 */
export type WebhookEvent = "run_cancel_requested" | "run_cancelled" | "run_completed" | "run_failed" | "run_rejected";

/**
 * What a client shows for one run.
 */
export interface RunView {
    state: RunState;
    /**
     * The last event seq merged (= `state.version`).
     */
    seq: number;
    pending?: PendingCancel;
}

/**
 * What happened to an executor's report.
 */
export type ExecutorOutcome = { kind: "applied" } | { kind: "duplicate" } | { kind: "late"; state: StatusKind; since: Millis; recorded: boolean };

/**
 * What kind of executor report arrived after the cancel had been accepted.
 */
export type LateKind = "completion" | "failure";

/**
 * What merging one event did.
 */
export type MergeStatus = "applied" | "stale" | "gap";

/**
 * What the alarm did.
 */
export type DeadlineAction = "nothing" | "cancel_forced" | "lease_expired";

/**
 * When things happened. `started_at` is the first time the run was running; `completed_at` is
 * set by the terminal transition (for a cancel, its effective time).
 */
export interface Timing {
    created_at: Millis;
    /**
     * Time of the last event. Commands decided at an earlier `now` are decided at this time
     * instead, so a clock that steps back can never make `completed_at < started_at`.
     */
    updated_at: Millis;
    started_at?: Millis;
    completed_at?: Millis;
    /**
     * Start of the open human-review interval, if the run is waiting on a human now.
     */
    human_waiting_started_at?: Millis;
    accumulated_human_waiting_ms?: number;
}

/**
 * Where a cancel came from.
 */
export type Source = "api" | "dashboard" | "cascade" | "bulk" | "retab_workflow" | "retab_workflow_test" | "retab_experiment" | "extend_workflow" | "generic";

/**
 * Whether `attach_sub_run` added the sub-run or found it already attached.
 */
export type AttachOutcome = "attached" | "already_attached";

/**
 * Which product a run belongs to; each dialect route only finds runs of its own kind.
 */
export type RunKind = "workflow" | "workflow_test" | "experiment" | "extend_workflow" | "generic";

/**
 * Which states a caller may cancel, and with what grace.
 */
export interface CancelPolicy {
    cancellable: PolicyState[];
    grace?: Grace;
}

/**
 * Who asked: the route and, when known, the caller (an API key id, a user, a parent run id).
 */
export interface By {
    source: Source;
    actor?: string;
}

/**
 * Why a run is waiting. Only `human_review` counts as human waiting time.
 */
export type WaitReason = "human_review" | "sleep" | "event";

export interface AckCancelArgs {
    lease_id: string;
}

export interface AddChildrenArgs {
    items: NewChild[];
}

export interface AttachSubRunArgs {
    sub_run_id: string;
}

export interface CancelArgs {
    /**
     * Idempotency key: a retry with the same key and parameters gets the first reply.
     */
    command_id?: string;
    reason?: string;
    by: By;
    /**
     * Grace for the executor; 0 = force now. Ignored when the policy fixes the grace.
     */
    grace_ms?: number;
    /**
     * Cancel only if the run's status is one of these.
     */
    if_status_in?: StatusKind[];
    /**
     * Cancel only if the run's version is this.
     */
    if_version?: number;
    /**
     * The caller's policy; the native one when omitted.
     */
    policy?: CancelPolicy;
}

export interface ChildrenReply {
    children: ChildCounts;
    version: number;
}

export interface ClaimArgs {
    executor: string;
    /**
     * Chosen by the caller; must differ from the run's previous lease id.
     */
    lease_id: string;
    lease_ms: number;
}

export interface CompleteArgs {
    /**
     * The current lease; omitted only for a run running without a claim.
     */
    lease_id?: string;
    /**
     * Opaque result, stored in the event log (not in the state).
     */
    output?: unknown;
}

export interface CreateArgs {
    id: string;
    kind: RunKind;
    initial?: InitialStatus;
    default_grace_ms?: number;
    children?: ChildrenInit;
    sub_runs?: string[];
}

export interface DeadlineReply {
    action: DeadlineAction;
    status: StatusKind;
    version: number;
}

export interface FailArgs {
    lease_id?: string;
    message: string;
    code?: string;
}

export interface HeartbeatArgs {
    lease_id: string;
    /**
     * New lease length from now; default 30 s.
     */
    lease_ms?: number;
}

export interface MergeResult {
    view: RunView;
    status: MergeStatus;
}

export interface RejectArgs {
    note?: string;
}

export interface ResumeArgs {
    executor: string;
    lease_id: string;
    lease_ms: number;
}

export interface UpdateChildArgs {
    child_id: string;
    /**
     * The child's status as the caller has it stored.
     */
    current: ChildStatus;
    to: ChildStatus;
    /**
     * The executor's lease, when an executor reports; checked if given.
     */
    lease_id?: string;
}

export interface WaitArgs {
    /**
     * The current lease; omitted only for a run running without a claim.
     */
    lease_id?: string;
    reason: WaitReason;
}

export type Effect = { type: "notify_executor"; lease_id: string; executor: string; deadline: Millis } | { type: "update_index"; status: StatusKind; wait_reason?: WaitReason; version: number } | { type: "cascade_cancel"; sub_run_id: string; command_id: string; deadline: Millis; grace_ms: number; reason?: string; by: By } | { type: "emit_webhook"; event: WebhookEvent };


/**
 * Child items of one run, kept in memory and driven by the run's events.
 */
export class ChildTable {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Applies one event (non-child events are ignored). Throws if the table and the event
     * disagree (missed events).
     */
    apply(event: EventRecord): void;
    counts(): ChildCounts;
    /**
     * The child's status, or `undefined`.
     */
    get(id: string): any;
    constructor();
    readonly size: number;
}

/**
 * Duration minus human waiting.
 */
export function activeDurationMs(state: RunState, now: number): number | undefined;

/**
 * Marks an optimistic cancel (shows "Cancelling…" at once) unless the run is terminal.
 */
export function applyOptimistic(view: RunView, cancel: PendingCancel): RunView;

/**
 * Whether the Cancel button should be enabled (native policy when none is given).
 */
export function canCancel(state: RunState, policy?: CancelPolicy | null): boolean;

/**
 * Creates a run.
 */
export function create(args: CreateArgs, now: number): Created;

/**
 * Decides a command against a run at `now` (ms). Does not change `state`.
 */
export function decide(state: RunState, command: Command, now: number): Decision;

/**
 * The cancel policy of a dialect route.
 */
export function dialectPolicy(dialect: Dialect): CancelPolicy;

/**
 * The status to display for a view.
 */
export function displayStatus(view: RunView): StatusKind;

/**
 * Wall time since the run started (to its end, or to `now`).
 */
export function durationMs(state: RunState, now: number): number | undefined;

/**
 * Applies one event record to a run and returns the new state.
 */
export function evolve(state: RunState, event: EventRecord): RunState;

/**
 * RFC 3339 UTC (`2026-05-01T14:30:00Z`, `.sss` only when not zero).
 */
export function formatRfc3339(ms: number): string;

/**
 * Applies the server's answer to the user's cancel (drops the optimistic mark if the cancel
 * did not take effect).
 */
export function mergeCancelReply(view: RunView, reply: CancelReply): RunView;

/**
 * Reconciles one server event with the view by `seq` (stale / applied / gap).
 */
export function mergeEvent(view: RunView, event: EventRecord): MergeResult;

/**
 * The native API's cancel policy.
 */
export function nativePolicy(): CancelPolicy;

/**
 * A view of a run with nothing pending.
 */
export function newView(state: RunState): RunView;

/**
 * When the run's next deadline falls (cancel deadline or lease expiry), if any.
 */
export function nextDeadline(state: RunState): number | undefined;

/**
 * `Date.now()`: the caller's clock, read here for convenience and passed in as `now`; the
 * decisions themselves never read it.
 */
export function nowMs(): number;

/**
 * Parses an RFC 3339 timestamp to ms since the epoch.
 */
export function parseRfc3339(s: string): number;

/**
 * The dialect's status word for a run.
 */
export function projectStatus(state: RunState, dialect: Dialect): string;
