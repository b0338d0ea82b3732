//! `reject`: a human rejects the run under review (waiting human_review → rejected).

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, invalid_transition};
use crate::event::Event;
use crate::state::{RunState, Status, WaitReason};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct RejectArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub(crate) fn decide_reject(state: &RunState, args: &RejectArgs, now: Millis) -> Decided {
    match &state.status {
        Status::Waiting { reason } => match reason {
            WaitReason::HumanReview => {
                let mut b = Builder::new(state, now);
                b.push(Event::Rejected {
                    note: args.note.clone(),
                })?;
                Ok(b)
            }
            WaitReason::Sleep | WaitReason::Event => {
                Err(invalid_transition(state, CommandKind::Reject))
            }
        },
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::Reject)),
    }
}
