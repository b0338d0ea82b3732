//! `heartbeat`: the executor proves it is alive and extends its lease. The reply is how an
//! executor without a WebSocket learns that a cancel was requested, and its deadline.

use serde::{Deserialize, Serialize};

use super::{
    Builder, CommandKind, Decided, check_lease, check_lease_ms, executor_reply, invalid_transition,
};
use crate::event::Event;
use crate::reply::{ExecutorOutcome, Reply};
use crate::state::{DEFAULT_LEASE_MS, RunState, Status};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct HeartbeatArgs {
    pub lease_id: String,
    /// New lease length from now; default 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<u64>,
}

pub(crate) fn decide_heartbeat(state: &RunState, args: &HeartbeatArgs, now: Millis) -> Decided {
    let lease_ms = args.lease_ms.unwrap_or(DEFAULT_LEASE_MS);
    check_lease_ms(lease_ms)?;
    check_lease(state, Some(&args.lease_id), now)?;
    match &state.status {
        Status::Running { .. } | Status::Cancelling { .. } => {
            let mut b = Builder::new(state, now);
            b.push(Event::LeaseExtended {
                lease_id: args.lease_id.clone(),
                expires_at: now.saturating_add(lease_ms),
            })?;
            let reply = executor_reply(&b, ExecutorOutcome::Applied);
            Ok(b.reply(Reply::Executor(reply)))
        }
        // Unreachable after check_lease (these hold no lease), kept explicit for exhaustiveness.
        Status::Pending
        | Status::Queued
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::Heartbeat)),
    }
}
