//! What a command answers. Every reply names the resulting status and version, so a caller
//! never has to guess who won.

use serde::{Deserialize, Serialize};

use crate::state::{By, ChildCounts, StatusKind};
use crate::time::Millis;

/// The reply to any command: one variant per command family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Reply {
    /// create, enqueue, reject.
    Run(RunReply),
    /// claim, heartbeat, wait, resume, complete, fail, ack_cancel.
    Executor(ExecutorReply),
    Cancel(CancelReply),
    /// deadline_fired.
    Deadline(DeadlineReply),
    /// add_children, update_child.
    Children(ChildrenReply),
    /// attach_sub_run.
    SubRun(SubRunReply),
}

/// Status after a lifecycle command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct RunReply {
    pub status: StatusKind,
    pub version: u64,
}

/// What happened to an executor's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExecutorOutcome {
    Applied,
    /// The same report again (e.g. `complete` on the run this lease completed): nothing to do.
    Duplicate,
    /// The report came after a cancel was accepted (or after the run ended). The run is `state`
    /// since `since`; the report is logged once (`recorded`) and changes nothing else.
    Late {
        state: StatusKind,
        since: Millis,
        recorded: bool,
    },
}

/// The executor protocol's reply: a heartbeat learns here that a cancel was requested and by
/// when it must stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct ExecutorReply {
    pub outcome: ExecutorOutcome,
    pub status: StatusKind,
    pub version: u64,
    /// Expiry of the executor's lease after this command (if it still holds one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<Millis>,
    pub cancel_requested: bool,
    /// The cancel deadline, when cancelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Millis>,
}

/// The one answer every cancel route maps. See the crate docs for the decision order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CancelOutcome {
    /// No live executor (or grace 0): the run is cancelled in this reply.
    CancelledNow {
        effective_at: Millis,
        forced: bool,
    },
    /// The executor has until `deadline` to stop; then the run is cancelled regardless.
    Requested {
        deadline: Millis,
    },
    /// An earlier cancel is in progress.
    AlreadyRequested {
        deadline: Millis,
        requested_at: Millis,
    },
    AlreadyCancelled {
        effective_at: Millis,
        forced: bool,
    },
    /// The run ended (`state`) at `since`. `lost_race`: within a few seconds before this cancel
    /// ("lost the race moments ago"), otherwise "finished long ago".
    AlreadyTerminal {
        state: StatusKind,
        since: Millis,
        lost_race: bool,
    },
    /// The caller's policy does not cancel runs in this state.
    NotCancellable {
        state: StatusKind,
    },
    PreconditionFailed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_status_in: Option<Vec<StatusKind>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<u64>,
        actual_status: StatusKind,
        actual_version: u64,
    },
    /// This `command_id` was answered before: `original` is that answer, unchanged.
    Replayed {
        original: Box<CancelReply>,
    },
}

impl CancelOutcome {
    /// Did this cancel (now or earlier) stop, or start stopping, the run?
    pub fn took_effect(&self) -> bool {
        match self {
            CancelOutcome::CancelledNow { .. }
            | CancelOutcome::Requested { .. }
            | CancelOutcome::AlreadyRequested { .. }
            | CancelOutcome::AlreadyCancelled { .. } => true,
            CancelOutcome::AlreadyTerminal { .. }
            | CancelOutcome::NotCancellable { .. }
            | CancelOutcome::PreconditionFailed { .. } => false,
            CancelOutcome::Replayed { original } => original.outcome.took_effect(),
        }
    }
}

/// The reply to a cancel: the outcome plus the run's resulting status and children.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct CancelReply {
    pub outcome: CancelOutcome,
    pub status: StatusKind,
    pub version: u64,
    pub children: ChildCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Millis>,
}

/// What the alarm did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineAction {
    /// Not due yet (or nothing pending): alarms may fire early or twice.
    Nothing,
    /// The cancel deadline passed: cancelled, forced.
    CancelForced,
    /// The running executor's lease expired: back to queued.
    LeaseExpired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct DeadlineReply {
    pub action: DeadlineAction,
    pub status: StatusKind,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct ChildrenReply {
    pub children: ChildCounts,
    pub version: u64,
}

/// Whether `attach_sub_run` added the sub-run or found it already attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum AttachOutcome {
    Attached,
    AlreadyAttached,
}

/// The cancel a sub-run attached to a cancelling or cancelled parent takes at once: the same
/// parameters as the `cascade_cancel` effect, so applying both is one cancel (same
/// `command_id`, same fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct SubRunCancel {
    pub command_id: String,
    /// What is left of the parent's grace (0 under a cancelled parent).
    pub grace_ms: u64,
    /// The parent's deadline (or now, under a cancelled parent).
    pub deadline: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub by: By,
}

/// The parent's answer to `attach_sub_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct SubRunReply {
    pub outcome: AttachOutcome,
    pub sub_run_id: String,
    /// The parent's status and version after the command.
    pub status: StatusKind,
    pub version: u64,
    /// How many sub-runs the parent has.
    pub sub_runs: u64,
    /// Set when the parent is cancelling or cancelled: the sub-run must take this cancel in the
    /// write that creates it, so it never starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<SubRunCancel>,
}
