//! `resume`: waiting → running under a new executor lease (closes a human-waiting interval).

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, executor_reply, invalid_transition, new_lease};
use crate::event::Event;
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{RunState, Status};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct ResumeArgs {
    pub executor: String,
    pub lease_id: String,
    pub lease_ms: u64,
}

pub(crate) fn decide_resume(state: &RunState, args: &ResumeArgs, now: Millis) -> Decided {
    match &state.status {
        Status::Waiting { .. } => {
            let lease = new_lease(state, &args.executor, &args.lease_id, args.lease_ms, now)?;
            let mut b = Builder::new(state, now);
            b.push(Event::Resumed { lease })?;
            let reply = executor_reply(&b, ExecutorOutcome::Applied);
            Ok(b.reply(Reply::Executor(reply)))
        }
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::Resume)),
    }
}
