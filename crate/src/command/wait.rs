//! `wait`: running → waiting. The executor releases its lease; a human-review wait opens a
//! human-waiting interval (closed by resume, reject or cancel).

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, check_lease, executor_reply, invalid_transition};
use crate::event::Event;
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{RunState, Status, WaitReason};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct WaitArgs {
    /// The current lease; omitted only for a run running without a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
    pub reason: WaitReason,
}

pub(crate) fn decide_wait(state: &RunState, args: &WaitArgs, now: Millis) -> Decided {
    let lease = check_lease(state, args.lease_id.as_deref(), now)?;
    match &state.status {
        Status::Running { .. } => {
            let mut b = Builder::new(state, now);
            b.push(Event::WaitStarted {
                reason: args.reason,
                released_lease_id: lease.map(|l| l.id.clone()),
            })?;
            let reply = executor_reply(&b, ExecutorOutcome::Applied);
            Ok(b.reply(Reply::Executor(reply)))
        }
        // A cancel was requested: the executor must stop (ack), not park the run.
        Status::Cancelling { .. }
        | Status::Pending
        | Status::Queued
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::Wait)),
    }
}
