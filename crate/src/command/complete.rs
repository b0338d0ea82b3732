//! `complete`: the executor reports success.
//!
//! - running → completed;
//! - cancelling → the accepted cancel wins: `late_completion` is logged and the run becomes
//!   cancelled (not forced; the executor did stop);
//! - already terminal → logged once as `late_completion` (a retry of the report that ended the
//!   run is a `duplicate`), status unchanged. Only the executor that last held the run's lease
//!   gets this answer; anyone else is refused with `lease_revoked`.

use serde::{Deserialize, Serialize};

use super::{
    Builder, CommandKind, Decided, check_lease, executor_reply, finish_cancel, invalid_transition,
};
use crate::error::CommandError;
use crate::event::{CancelVia, Event};
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{RunState, Status, StatusKind};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct CompleteArgs {
    /// The current lease; omitted only for a run running without a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
    /// Opaque result, stored in the event log (not in the state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "js", tsify(type = "unknown", optional))]
    pub output: Option<serde_json::Value>,
}

pub(crate) fn decide_complete(state: &RunState, args: &CompleteArgs, now: Millis) -> Decided {
    decide_report(
        state,
        args.lease_id.as_deref(),
        Report::Complete {
            output: args.output.clone(),
        },
        now,
    )
}

/// An executor's final report: success or failure.
pub(crate) enum Report {
    Complete {
        output: Option<serde_json::Value>,
    },
    Fail {
        message: String,
        code: Option<String>,
    },
}

impl Report {
    fn command(&self) -> CommandKind {
        match self {
            Report::Complete { .. } => CommandKind::Complete,
            Report::Fail { .. } => CommandKind::Fail,
        }
    }

    fn event(self) -> Event {
        match self {
            Report::Complete { output } => Event::Completed { output },
            Report::Fail { message, code } => Event::Failed { message, code },
        }
    }

    fn late_event(self, lease_id: Option<&str>) -> (Event, CancelVia) {
        let lease_id = lease_id.map(str::to_string);
        match self {
            Report::Complete { output } => (
                Event::LateCompletion { lease_id, output },
                CancelVia::LateCompletion,
            ),
            Report::Fail { message, code } => (
                Event::LateFailure {
                    lease_id,
                    message,
                    code,
                },
                CancelVia::LateFailure,
            ),
        }
    }

    /// Is the run's terminal status the one this report would have produced?
    fn matches(&self, status: StatusKind) -> bool {
        match self {
            Report::Complete { .. } => status == StatusKind::Completed,
            Report::Fail { .. } => status == StatusKind::Failed,
        }
    }
}

pub(crate) fn decide_report(
    state: &RunState,
    lease_id: Option<&str>,
    report: Report,
    now: Millis,
) -> Decided {
    let command = report.command();
    match &state.status {
        Status::Running { .. } => {
            check_lease(state, lease_id, now)?;
            let mut b = Builder::new(state, now);
            b.push(report.event())?;
            let reply = executor_reply(&b, ExecutorOutcome::Applied);
            Ok(b.reply(Reply::Executor(reply)))
        }
        Status::Cancelling { .. } => {
            check_lease(state, lease_id, now)?;
            let mut b = Builder::new(state, now);
            let (event, via) = report.late_event(lease_id);
            b.push(event)?;
            finish_cancel(&mut b, false, via)?;
            let reply = executor_reply(
                &b,
                ExecutorOutcome::Late {
                    state: StatusKind::Cancelled,
                    since: now,
                    recorded: true,
                },
            );
            Ok(b.reply(Reply::Executor(reply)))
        }
        Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => {
            if lease_id != state.last_lease_id.as_deref() {
                return Err(CommandError::LeaseRevoked {
                    lease_id: lease_id.map(str::to_string),
                });
            }
            let mut b = Builder::new(state, now);
            let kind = state.status_kind();
            let outcome = if report.matches(kind) {
                ExecutorOutcome::Duplicate
            } else {
                let recorded = state.late.is_none();
                if recorded {
                    b.push(report.late_event(lease_id).0)?;
                }
                ExecutorOutcome::Late {
                    state: kind,
                    since: state.timing.completed_at.unwrap_or(state.timing.updated_at),
                    recorded,
                }
            };
            let reply = executor_reply(&b, outcome);
            Ok(b.reply(Reply::Executor(reply)))
        }
        Status::Pending | Status::Queued | Status::Waiting { .. } => {
            check_lease(state, lease_id, now)?;
            Err(invalid_transition(state, command))
        }
    }
}
