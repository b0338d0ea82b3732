//! The stored shape of one run. It is loaded and saved on every request, so it holds only what
//! the rules need: the status, counts of children (never the children themselves), the run's
//! sub-run ids and the cancel receipts that idempotency keys replay.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::command::cancel::CancelFingerprint;
use crate::reply::CancelReply;
use crate::time::Millis;

/// Stored format version of [`RunState`]. Bumped only with an explicit migration; the fixtures
/// under `tests/fixtures/v1` must keep loading.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// Grace period used when neither the cancel command, the caller's policy nor the run says.
pub const DEFAULT_GRACE_MS: u64 = 30_000;

/// Longest grace a cancel may grant: a deadline further out would leave a run "cancelling" for
/// longer than any user waits.
pub const MAX_GRACE_MS: u64 = 24 * 60 * 60 * 1000;

/// Lease length when a heartbeat does not say.
pub const DEFAULT_LEASE_MS: u64 = 30_000;

/// Longest lease a claim or heartbeat may take.
pub const MAX_LEASE_MS: u64 = 24 * 60 * 60 * 1000;

/// Distinct cancel `command_id`s remembered per run; the next new one is refused.
pub const MAX_COMMAND_IDS: usize = 1_000;

/// Sub-runs one run may have (named at creation or attached later).
pub const MAX_SUB_RUNS: usize = 1_000;

/// Children a run may count (all buckets together).
pub const MAX_CHILDREN: u64 = 1_000_000;

/// Items one `add_children` (or `create`) may carry, so one request stays one bounded write.
pub const MAX_CHILDREN_PER_COMMAND: usize = 10_000;

/// A terminal transition this recent (ms) before a cancel means the cancel "lost the race";
/// older means the run "finished long ago".
pub const LOST_RACE_WINDOW_MS: u64 = 5_000;

/// Which product a run belongs to; each dialect route only finds runs of its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Workflow,
    WorkflowTest,
    Experiment,
    ExtendWorkflow,
    Generic,
}

/// Why a run is waiting. Only `human_review` counts as human waiting time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    HumanReview,
    Sleep,
    Event,
}

/// An executor's claim on a running run. The id is chosen by the caller (the Worker generates
/// it); the core only compares it, so it has no randomness of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct Lease {
    pub id: String,
    pub executor: String,
    pub expires_at: Millis,
}

impl Lease {
    /// A lease is live strictly before its expiry: at `expires_at` it is already gone.
    pub fn is_live(&self, now: Millis) -> bool {
        now < self.expires_at
    }
}

/// Where a cancel came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The native API.
    Api,
    Dashboard,
    /// A parent run's cancel reaching its sub-run.
    Cascade,
    /// A bulk cancel job (its id is the actor).
    Bulk,
    /// Seed 000 route.
    RetabWorkflow,
    /// Seed 001 route.
    RetabWorkflowTest,
    /// Seed 002 route.
    RetabExperiment,
    /// Seed 003 route.
    ExtendWorkflow,
    /// Seed 004 route.
    Generic,
}

/// Who asked: the route and, when known, the caller (an API key id, a user, a parent run id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct By {
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// The canonical lifecycle. `cancelling` always has a deadline and the executor's lease (a run
/// only enters it when an executor holds a live lease). The last four are terminal and absorb
/// every later command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Status {
    Pending,
    Queued,
    /// `lease: null` is a run that is running without an executor claim (created as running).
    Running {
        #[cfg_attr(feature = "js", tsify(type = "Lease | null"))]
        lease: Option<Lease>,
    },
    Waiting {
        reason: WaitReason,
    },
    Cancelling {
        requested_at: Millis,
        deadline: Millis,
        by: By,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command_id: Option<String>,
        lease: Lease,
    },
    Completed,
    Failed {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    Rejected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Cancelled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        by: By,
        /// True when the deadline (or a zero grace) ended the run rather than the executor.
        forced: bool,
        effective_at: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command_id: Option<String>,
    },
}

/// The name of a [`Status`] without its data: what policies, preconditions and indexes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    Pending,
    Queued,
    Running,
    Waiting,
    Cancelling,
    Completed,
    Failed,
    Rejected,
    Cancelled,
}

impl StatusKind {
    /// Every kind, in lifecycle order.
    pub const ALL: [StatusKind; 9] = [
        StatusKind::Pending,
        StatusKind::Queued,
        StatusKind::Running,
        StatusKind::Waiting,
        StatusKind::Cancelling,
        StatusKind::Completed,
        StatusKind::Failed,
        StatusKind::Rejected,
        StatusKind::Cancelled,
    ];

    pub fn is_terminal(self) -> bool {
        match self {
            StatusKind::Pending
            | StatusKind::Queued
            | StatusKind::Running
            | StatusKind::Waiting
            | StatusKind::Cancelling => false,
            StatusKind::Completed
            | StatusKind::Failed
            | StatusKind::Rejected
            | StatusKind::Cancelled => true,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Pending => "pending",
            StatusKind::Queued => "queued",
            StatusKind::Running => "running",
            StatusKind::Waiting => "waiting",
            StatusKind::Cancelling => "cancelling",
            StatusKind::Completed => "completed",
            StatusKind::Failed => "failed",
            StatusKind::Rejected => "rejected",
            StatusKind::Cancelled => "cancelled",
        }
    }
}

impl Status {
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::Pending => StatusKind::Pending,
            Status::Queued => StatusKind::Queued,
            Status::Running { .. } => StatusKind::Running,
            Status::Waiting { .. } => StatusKind::Waiting,
            Status::Cancelling { .. } => StatusKind::Cancelling,
            Status::Completed => StatusKind::Completed,
            Status::Failed { .. } => StatusKind::Failed,
            Status::Rejected { .. } => StatusKind::Rejected,
            Status::Cancelled { .. } => StatusKind::Cancelled,
        }
    }

    pub fn is_terminal(&self) -> bool {
        self.kind().is_terminal()
    }

    /// The executor lease this status carries, live or not.
    pub fn lease(&self) -> Option<&Lease> {
        match self {
            Status::Running { lease } => lease.as_ref(),
            Status::Cancelling { lease, .. } => Some(lease),
            Status::Pending
            | Status::Queued
            | Status::Waiting { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => None,
        }
    }

    /// The waiting reason, when waiting.
    pub fn wait_reason(&self) -> Option<WaitReason> {
        match self {
            Status::Waiting { reason } => Some(*reason),
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => None,
        }
    }

    /// The cancel deadline, when cancelling.
    pub fn cancel_deadline(&self) -> Option<Millis> {
        match self {
            Status::Cancelling { deadline, .. } => Some(*deadline),
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Waiting { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => None,
        }
    }
}

/// Lifecycle bucket of one child item (a step, a test case, an experiment result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
#[serde(rename_all = "snake_case")]
pub enum ChildStatus {
    Pending,
    Running,
    Cancelling,
    Completed,
    Failed,
    Cancelled,
}

impl ChildStatus {
    pub const ALL: [ChildStatus; 6] = [
        ChildStatus::Pending,
        ChildStatus::Running,
        ChildStatus::Cancelling,
        ChildStatus::Completed,
        ChildStatus::Failed,
        ChildStatus::Cancelled,
    ];

    pub fn is_terminal(self) -> bool {
        match self {
            ChildStatus::Pending | ChildStatus::Running | ChildStatus::Cancelling => false,
            ChildStatus::Completed | ChildStatus::Failed | ChildStatus::Cancelled => true,
        }
    }
}

/// How many children are in each bucket. The items themselves live outside the state (a SQL
/// table in the Worker, a [`crate::ChildTable`] in JavaScript) so that a run with 100,000
/// children still loads and stores in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct ChildCounts {
    #[serde(default)]
    pub pending: u64,
    #[serde(default)]
    pub running: u64,
    #[serde(default)]
    pub cancelling: u64,
    #[serde(default)]
    pub completed: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub cancelled: u64,
}

impl ChildCounts {
    /// Sum of all buckets (saturating: the cap keeps it far from overflow).
    pub fn total(&self) -> u64 {
        self.pending
            .saturating_add(self.running)
            .saturating_add(self.cancelling)
            .saturating_add(self.completed)
            .saturating_add(self.failed)
            .saturating_add(self.cancelled)
    }

    pub fn get(&self, s: ChildStatus) -> u64 {
        match s {
            ChildStatus::Pending => self.pending,
            ChildStatus::Running => self.running,
            ChildStatus::Cancelling => self.cancelling,
            ChildStatus::Completed => self.completed,
            ChildStatus::Failed => self.failed,
            ChildStatus::Cancelled => self.cancelled,
        }
    }

    pub(crate) fn slot(&mut self, s: ChildStatus) -> &mut u64 {
        match s {
            ChildStatus::Pending => &mut self.pending,
            ChildStatus::Running => &mut self.running,
            ChildStatus::Cancelling => &mut self.cancelling,
            ChildStatus::Completed => &mut self.completed,
            ChildStatus::Failed => &mut self.failed,
            ChildStatus::Cancelled => &mut self.cancelled,
        }
    }

    /// Moves `count` children from one bucket to another; `None` (and no change) if `from`
    /// holds fewer, so counts can never go negative.
    pub(crate) fn moved(&self, from: ChildStatus, to: ChildStatus, count: u64) -> Option<Self> {
        let mut next = *self;
        let f = next.slot(from);
        *f = f.checked_sub(count)?;
        let t = next.slot(to);
        *t = t.checked_add(count)?;
        Some(next)
    }

    /// Children not yet in a final bucket.
    pub fn in_flight(&self) -> u64 {
        self.pending
            .saturating_add(self.running)
            .saturating_add(self.cancelling)
    }
}

/// A child item as created: its id (unique within the run) and starting bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct NewChild {
    pub id: String,
    #[serde(default = "default_child_status")]
    pub status: ChildStatus,
}

fn default_child_status() -> ChildStatus {
    ChildStatus::Pending
}

/// When things happened. `started_at` is the first time the run was running; `completed_at` is
/// set by the terminal transition (for a cancel, its effective time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct Timing {
    pub created_at: Millis,
    /// Time of the last event. Commands decided at an earlier `now` are decided at this time
    /// instead, so a clock that steps back can never make `completed_at < started_at`.
    pub updated_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Millis>,
    /// Start of the open human-review interval, if the run is waiting on a human now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_waiting_started_at: Option<Millis>,
    #[serde(default)]
    pub accumulated_human_waiting_ms: u64,
}

impl Timing {
    pub(crate) fn new(at: Millis) -> Self {
        Timing {
            created_at: at,
            updated_at: at,
            started_at: None,
            completed_at: None,
            human_waiting_started_at: None,
            accumulated_human_waiting_ms: 0,
        }
    }

    /// Wall time from first start to the end (terminal) or to `now` (live). `None` if the run
    /// never started: a run cancelled while queued has no duration, not a zero one.
    pub fn duration_ms(&self, now: Millis) -> Option<u64> {
        let start = self.started_at?;
        let end = self.completed_at.unwrap_or(now.max(self.updated_at));
        Some(end.saturating_sub(start))
    }

    /// Human waiting time so far, including an open interval up to `now`.
    pub fn human_waiting_ms(&self, now: Millis) -> u64 {
        let open = self
            .human_waiting_started_at
            .map_or(0, |s| now.max(self.updated_at).saturating_sub(s));
        self.accumulated_human_waiting_ms.saturating_add(open)
    }

    /// Duration minus human waiting: the time the run spent working or waiting on machines.
    pub fn active_duration_ms(&self, now: Millis) -> Option<u64> {
        let d = self.duration_ms(now)?;
        Some(d.saturating_sub(self.human_waiting_ms(now)))
    }

    /// Closes an open human-waiting interval at `at`.
    pub(crate) fn close_human_wait(&mut self, at: Millis) {
        if let Some(s) = self.human_waiting_started_at.take() {
            self.accumulated_human_waiting_ms = self
                .accumulated_human_waiting_ms
                .saturating_add(at.saturating_sub(s));
        }
    }
}

/// The first reply to a cancel carrying a `command_id`, kept so a retry gets it back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct CancelRecord {
    pub fingerprint: CancelFingerprint,
    pub reply: CancelReply,
}

/// What kind of executor report arrived after the cancel had been accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum LateKind {
    Completion,
    Failure,
}

/// The first late completion/failure (only the first is logged, so a retrying executor cannot
/// grow the log without bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct LateRecord {
    pub kind: LateKind,
    pub at: Millis,
}

/// One run, as stored. See the crate docs for the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct RunState {
    /// Stored format version ([`STATE_FORMAT_VERSION`]).
    pub v: u32,
    pub id: String,
    pub kind: RunKind,
    pub status: Status,
    /// Seq of the last applied event; what `if_version` compares with.
    pub version: u64,
    pub timing: Timing,
    #[serde(default)]
    pub children: ChildCounts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_runs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_grace_ms: Option<u64>,
    /// The most recent executor lease id, kept after the lease ends so that the executor that
    /// held it gets a "you lost, here is why" answer instead of a bare refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_lease_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRecord>,
    /// Cancel receipts by `command_id` (at most [`MAX_COMMAND_IDS`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, CancelRecord>,
}

impl RunState {
    pub fn status_kind(&self) -> StatusKind {
        self.status.kind()
    }

    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The executor lease if it is still live at `now`.
    pub fn live_lease(&self, now: Millis) -> Option<&Lease> {
        self.status.lease().filter(|l| l.is_live(now))
    }

    /// When the Worker's alarm must fire next: the earliest of the cancel deadline and the
    /// lease expiry. `None` when nothing is pending in time.
    pub fn next_deadline(&self) -> Option<Millis> {
        match &self.status {
            Status::Cancelling {
                deadline, lease, ..
            } => Some((*deadline).min(lease.expires_at)),
            Status::Running { lease } => lease.as_ref().map(|l| l.expires_at),
            Status::Pending
            | Status::Queued
            | Status::Waiting { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => None,
        }
    }

    /// See [`Timing::duration_ms`].
    pub fn duration_ms(&self, now: Millis) -> Option<u64> {
        self.timing.duration_ms(now)
    }

    /// See [`Timing::active_duration_ms`].
    pub fn active_duration_ms(&self, now: Millis) -> Option<u64> {
        self.timing.active_duration_ms(now)
    }

    /// When the run became terminal, if it is.
    pub fn terminal_since(&self) -> Option<Millis> {
        if self.is_terminal() {
            self.timing.completed_at
        } else {
            None
        }
    }
}
