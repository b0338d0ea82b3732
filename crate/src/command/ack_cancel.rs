//! `ack_cancel`: the executor confirms it stopped. Cancelling → cancelled (not forced); its
//! in-flight children are cancelled with it.

use serde::{Deserialize, Serialize};

use super::{
    Builder, CommandKind, Decided, check_lease, executor_reply, finish_cancel, invalid_transition,
};
use crate::event::CancelVia;
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{RunState, Status};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct AckCancelArgs {
    pub lease_id: String,
}

pub(crate) fn decide_ack_cancel(state: &RunState, args: &AckCancelArgs, now: Millis) -> Decided {
    // A run already cancelled (say by its deadline) has no lease: the ack is refused like any
    // other command from a revoked executor.
    check_lease(state, Some(&args.lease_id), now)?;
    match &state.status {
        Status::Cancelling { .. } => {
            let mut b = Builder::new(state, now);
            finish_cancel(&mut b, false, CancelVia::Ack)?;
            let reply = executor_reply(&b, ExecutorOutcome::Applied);
            Ok(b.reply(Reply::Executor(reply)))
        }
        // Nothing to acknowledge.
        Status::Running { .. }
        | Status::Pending
        | Status::Queued
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::AckCancel)),
    }
}
