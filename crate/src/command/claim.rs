//! `claim`: an executor takes a run with a lease.
//!
//! Allowed from `queued`, and from `running` when no live lease is held (a run created as
//! running, or one whose executor's lease expired before the alarm put it back in the queue).
//! Not from `pending`: a pending run is not yet released for execution (`enqueue` first).

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, executor_reply, invalid_transition, new_lease};
use crate::error::CommandError;
use crate::event::Event;
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{RunState, Status};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct ClaimArgs {
    pub executor: String,
    /// Chosen by the caller; must differ from the run's previous lease id.
    pub lease_id: String,
    pub lease_ms: u64,
}

pub(crate) fn decide_claim(state: &RunState, args: &ClaimArgs, now: Millis) -> Decided {
    let mut b = Builder::new(state, now);
    match &state.status {
        Status::Queued | Status::Running { lease: None } => {}
        Status::Running { lease: Some(l) } => {
            if l.is_live(now) {
                return Err(CommandError::LeaseHeld {
                    expires_at: l.expires_at,
                });
            }
            // Revoke the dead lease first, so the log says why the executor changed.
            b.push(Event::LeaseExpired {
                lease_id: l.id.clone(),
            })?;
        }
        Status::Pending
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => return Err(invalid_transition(state, CommandKind::Claim)),
    }
    let lease = new_lease(state, &args.executor, &args.lease_id, args.lease_ms, now)?;
    b.push(Event::Claimed { lease })?;
    let reply = executor_reply(&b, ExecutorOutcome::Applied);
    Ok(b.reply(Reply::Executor(reply)))
}
