//! Events: the facts a decision produces, in order, each with its `seq`. The run's state is
//! the fold of its events ([`fold`]); the Worker stores both and the tests check they agree.
//!
//! Child events are bulk (`children_cancelled{from, count}`) so that the Worker applies a cancel
//! of 100,000 children with one `UPDATE … WHERE status = from`.

use serde::{Deserialize, Serialize};

use crate::command::cancel::CancelFingerprint;
use crate::error::EvolveError;
use crate::reply::CancelReply;
use crate::state::{
    By, CancelRecord, ChildCounts, ChildStatus, LateKind, LateRecord, Lease, NewChild, RunKind,
    RunState, STATE_FORMAT_VERSION, Status, Timing, WaitReason,
};
use crate::time::Millis;

/// How a cancel became effective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum CancelVia {
    /// No live lease: cancelled in the reply to the cancel.
    Immediate,
    /// The executor acknowledged.
    Ack,
    /// The deadline (or the lease's expiry) passed without an ack.
    Deadline,
    /// The executor reported completion during the grace period.
    LateCompletion,
    /// The executor reported failure during the grace period.
    LateFailure,
}

/// One fact about a run. `snake_case`, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Created {
        id: String,
        kind: RunKind,
        status: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_grace_ms: Option<u64>,
        #[serde(default)]
        children: ChildCounts,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sub_runs: Vec<String>,
    },
    Enqueued,
    Claimed {
        lease: Lease,
    },
    LeaseExtended {
        lease_id: String,
        expires_at: Millis,
    },
    /// A running run's lease passed its expiry: back to `queued`, the lease revoked for good.
    LeaseExpired {
        lease_id: String,
    },
    WaitStarted {
        reason: WaitReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        released_lease_id: Option<String>,
    },
    Resumed {
        lease: Lease,
    },
    Completed {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "js", tsify(type = "unknown", optional))]
        output: Option<serde_json::Value>,
    },
    Failed {
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    Rejected {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The one effective cancel of a run whose executor holds a live lease.
    CancelRequested {
        by: By,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command_id: Option<String>,
        deadline: Millis,
    },
    /// The run is cancelled (effective at this record's `at`).
    Cancelled {
        by: By,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command_id: Option<String>,
        forced: bool,
        via: CancelVia,
    },
    /// The executor reported success after the cancel was accepted. Recorded, never a status.
    LateCompletion {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lease_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "js", tsify(type = "unknown", optional))]
        output: Option<serde_json::Value>,
    },
    /// The executor reported failure after the cancel was accepted. Recorded, never a status.
    LateFailure {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lease_id: Option<String>,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
    },
    /// A cancel with a `command_id` was answered: the receipt a retry replays.
    CancelRecorded {
        command_id: String,
        fingerprint: CancelFingerprint,
        reply: CancelReply,
    },
    ChildrenAdded {
        items: Vec<NewChild>,
    },
    ChildChanged {
        id: String,
        from: ChildStatus,
        to: ChildStatus,
    },
    /// Every child in bucket `from` (there are `count`) is now cancelled.
    ChildrenCancelled {
        from: ChildStatus,
        count: u64,
    },
    /// Every running child (there are `count`) is now cancelling; they follow the run's deadline.
    ChildrenCancelling {
        count: u64,
    },
    /// A sub-run created after this run was attached to it (a cancel cascades to it).
    SubRunAttached {
        id: String,
    },
}

impl Event {
    /// The `type` tag, for logs and error messages.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Created { .. } => "created",
            Event::Enqueued => "enqueued",
            Event::Claimed { .. } => "claimed",
            Event::LeaseExtended { .. } => "lease_extended",
            Event::LeaseExpired { .. } => "lease_expired",
            Event::WaitStarted { .. } => "wait_started",
            Event::Resumed { .. } => "resumed",
            Event::Completed { .. } => "completed",
            Event::Failed { .. } => "failed",
            Event::Rejected { .. } => "rejected",
            Event::CancelRequested { .. } => "cancel_requested",
            Event::Cancelled { .. } => "cancelled",
            Event::LateCompletion { .. } => "late_completion",
            Event::LateFailure { .. } => "late_failure",
            Event::CancelRecorded { .. } => "cancel_recorded",
            Event::ChildrenAdded { .. } => "children_added",
            Event::ChildChanged { .. } => "child_changed",
            Event::ChildrenCancelled { .. } => "children_cancelled",
            Event::ChildrenCancelling { .. } => "children_cancelling",
            Event::SubRunAttached { .. } => "sub_run_attached",
        }
    }
}

/// An event in a run's log: `seq` starts at 1 and has no gaps; `at` is the decision time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct EventRecord {
    pub seq: u64,
    pub at: Millis,
    pub event: Event,
}

/// Starts a run from its first event (`created`, seq 1).
pub fn init(record: &EventRecord) -> Result<RunState, EvolveError> {
    if record.seq != 1 {
        return Err(EvolveError::OutOfOrder {
            expected: 1,
            got: record.seq,
        });
    }
    match &record.event {
        Event::Created {
            id,
            kind,
            status,
            default_grace_ms,
            children,
            sub_runs,
        } => {
            let mut timing = Timing::new(record.at);
            if status.kind() == crate::state::StatusKind::Running {
                timing.started_at = Some(record.at);
            }
            Ok(RunState {
                v: STATE_FORMAT_VERSION,
                id: id.clone(),
                kind: *kind,
                status: status.clone(),
                version: 1,
                timing,
                children: *children,
                sub_runs: sub_runs.clone(),
                default_grace_ms: *default_grace_ms,
                last_lease_id: status.lease().map(|l| l.id.clone()),
                late: None,
                commands: Default::default(),
            })
        }
        Event::Enqueued
        | Event::Claimed { .. }
        | Event::LeaseExtended { .. }
        | Event::LeaseExpired { .. }
        | Event::WaitStarted { .. }
        | Event::Resumed { .. }
        | Event::Completed { .. }
        | Event::Failed { .. }
        | Event::Rejected { .. }
        | Event::CancelRequested { .. }
        | Event::Cancelled { .. }
        | Event::LateCompletion { .. }
        | Event::LateFailure { .. }
        | Event::CancelRecorded { .. }
        | Event::ChildrenAdded { .. }
        | Event::ChildChanged { .. }
        | Event::ChildrenCancelled { .. }
        | Event::ChildrenCancelling { .. }
        | Event::SubRunAttached { .. } => Err(EvolveError::NotCreated),
    }
}

/// Rebuilds a run from its whole log. `fold(log) == live state` is a tested invariant.
pub fn fold(log: &[EventRecord]) -> Result<RunState, EvolveError> {
    let (first, rest) = log.split_first().ok_or(EvolveError::NotCreated)?;
    let mut state = init(first)?;
    for r in rest {
        evolve(&mut state, r)?;
    }
    Ok(state)
}

fn start_running(state: &mut RunState, lease: &Lease, at: Millis) {
    state.timing.close_human_wait(at);
    state.timing.started_at.get_or_insert(at);
    state.last_lease_id = Some(lease.id.clone());
    state.status = Status::Running {
        lease: Some(lease.clone()),
    };
}

fn require_running(state: &RunState, ev: &Event) -> Result<(), EvolveError> {
    match &state.status {
        Status::Running { .. } => Ok(()),
        Status::Pending
        | Status::Queued
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(not_applicable(state, ev)),
    }
}

fn not_applicable(state: &RunState, event: &Event) -> EvolveError {
    EvolveError::NotApplicable {
        event: event.name(),
        status: state.status_kind(),
    }
}

/// Applies one event. It checks `seq == version + 1` and that the event fits the status (a log
/// that does not fit is corrupt), and changes nothing when it returns an error.
pub fn evolve(state: &mut RunState, record: &EventRecord) -> Result<(), EvolveError> {
    let expected = state.version.saturating_add(1);
    if record.seq != expected {
        return Err(EvolveError::OutOfOrder {
            expected,
            got: record.seq,
        });
    }
    let at = record.at;
    let ev = &record.event;
    let terminal = state.is_terminal();
    match ev {
        Event::Created { .. } => return Err(EvolveError::AlreadyCreated),
        Event::Enqueued => match &state.status {
            Status::Pending => state.status = Status::Queued,
            Status::Queued
            | Status::Running { .. }
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::Claimed { lease } => {
            let fits = match &state.status {
                Status::Queued => true,
                Status::Running { lease: old } => old.as_ref().is_none_or(|l| !l.is_live(at)),
                Status::Pending
                | Status::Waiting { .. }
                | Status::Cancelling { .. }
                | Status::Completed
                | Status::Failed { .. }
                | Status::Rejected { .. }
                | Status::Cancelled { .. } => false,
            };
            if !fits {
                return Err(not_applicable(state, ev));
            }
            start_running(state, lease, at);
        }
        Event::Resumed { lease } => match &state.status {
            Status::Waiting { .. } => start_running(state, lease, at),
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::LeaseExtended {
            lease_id,
            expires_at,
        } => match &mut state.status {
            Status::Running { lease: Some(l) } | Status::Cancelling { lease: l, .. }
                if l.id == *lease_id =>
            {
                l.expires_at = *expires_at;
            }
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::LeaseExpired { lease_id } => match &state.status {
            Status::Running { lease: Some(l) } if l.id == *lease_id => {
                state.status = Status::Queued;
            }
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::WaitStarted { reason, .. } => match &state.status {
            Status::Running { .. } => {
                if *reason == WaitReason::HumanReview {
                    state.timing.human_waiting_started_at = Some(at);
                }
                state.status = Status::Waiting { reason: *reason };
            }
            Status::Pending
            | Status::Queued
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::Completed { .. } => {
            require_running(state, ev)?;
            state.status = Status::Completed;
            state.timing.completed_at = Some(at);
        }
        Event::Failed { message, code } => {
            require_running(state, ev)?;
            state.status = Status::Failed {
                message: message.clone(),
                code: code.clone(),
            };
            state.timing.completed_at = Some(at);
        }
        Event::Rejected { note } => match &state.status {
            Status::Waiting {
                reason: WaitReason::HumanReview,
            } => {
                state.timing.close_human_wait(at);
                state.status = Status::Rejected { note: note.clone() };
                state.timing.completed_at = Some(at);
            }
            Status::Pending
            | Status::Queued
            | Status::Running { .. }
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::CancelRequested {
            by,
            reason,
            command_id,
            deadline,
        } => match &state.status {
            Status::Running { lease: Some(l) } => {
                state.status = Status::Cancelling {
                    requested_at: at,
                    deadline: *deadline,
                    by: by.clone(),
                    reason: reason.clone(),
                    command_id: command_id.clone(),
                    lease: l.clone(),
                };
            }
            Status::Pending
            | Status::Queued
            | Status::Running { lease: None }
            | Status::Waiting { .. }
            | Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => return Err(not_applicable(state, ev)),
        },
        Event::Cancelled {
            by,
            reason,
            command_id,
            forced,
            ..
        } => {
            if terminal {
                return Err(not_applicable(state, ev));
            }
            state.timing.close_human_wait(at);
            state.timing.completed_at = Some(at);
            state.status = Status::Cancelled {
                reason: reason.clone(),
                by: by.clone(),
                forced: *forced,
                effective_at: at,
                command_id: command_id.clone(),
            };
        }
        Event::LateCompletion { .. } => {
            state.late.get_or_insert(LateRecord {
                kind: LateKind::Completion,
                at,
            });
        }
        Event::LateFailure { .. } => {
            state.late.get_or_insert(LateRecord {
                kind: LateKind::Failure,
                at,
            });
        }
        Event::CancelRecorded {
            command_id,
            fingerprint,
            reply,
        } => {
            if state.commands.contains_key(command_id) {
                return Err(not_applicable(state, ev));
            }
            state.commands.insert(
                command_id.clone(),
                CancelRecord {
                    fingerprint: fingerprint.clone(),
                    reply: reply.clone(),
                },
            );
        }
        Event::ChildrenAdded { items } => {
            let mut next = state.children;
            for item in items {
                let slot = next.slot(item.status);
                *slot = slot.checked_add(1).ok_or(EvolveError::ChildCounts)?;
            }
            state.children = next;
        }
        Event::ChildChanged { from, to, .. } => {
            state.children = state
                .children
                .moved(*from, *to, 1)
                .ok_or(EvolveError::ChildCounts)?;
        }
        Event::ChildrenCancelled { from, count } => {
            state.children = state
                .children
                .moved(*from, ChildStatus::Cancelled, *count)
                .ok_or(EvolveError::ChildCounts)?;
        }
        Event::ChildrenCancelling { count } => {
            state.children = state
                .children
                .moved(ChildStatus::Running, ChildStatus::Cancelling, *count)
                .ok_or(EvolveError::ChildCounts)?;
        }
        Event::SubRunAttached { id } => {
            let ended = match &state.status {
                Status::Completed | Status::Failed { .. } | Status::Rejected { .. } => true,
                Status::Pending
                | Status::Queued
                | Status::Running { .. }
                | Status::Waiting { .. }
                | Status::Cancelling { .. }
                | Status::Cancelled { .. } => false,
            };
            if ended || id.is_empty() || *id == state.id || state.sub_runs.contains(id) {
                return Err(not_applicable(state, ev));
            }
            state.sub_runs.push(id.clone());
        }
    }
    state.version = record.seq;
    state.timing.updated_at = state.timing.updated_at.max(at);
    Ok(())
}
