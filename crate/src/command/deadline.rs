//! `deadline_fired`: the Worker's alarm. Idempotent: an alarm that fires early, late or twice
//! only acts on what is due at `now`.
//!
//! - cancelling, and the deadline passed or the executor's lease expired (nobody is left to
//!   ack) → cancelled, forced;
//! - running with an expired lease → queued (`lease_expired`; that lease is revoked for good);
//! - anything else → nothing.

use super::{Builder, Decided, finish_cancel};
use crate::event::{CancelVia, Event};
use crate::reply::{DeadlineAction, DeadlineReply, Reply};
use crate::state::{RunState, Status};
use crate::time::Millis;

pub(crate) fn decide_deadline_fired(state: &RunState, now: Millis) -> Decided {
    let mut b = Builder::new(state, now);
    let action = match &state.status {
        Status::Cancelling {
            deadline, lease, ..
        } => {
            if now >= *deadline || !lease.is_live(now) {
                finish_cancel(&mut b, true, CancelVia::Deadline)?;
                DeadlineAction::CancelForced
            } else {
                DeadlineAction::Nothing
            }
        }
        Status::Running { lease: Some(l) } => {
            if l.is_live(now) {
                DeadlineAction::Nothing
            } else {
                b.push(Event::LeaseExpired {
                    lease_id: l.id.clone(),
                })?;
                DeadlineAction::LeaseExpired
            }
        }
        Status::Running { lease: None }
        | Status::Pending
        | Status::Queued
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => DeadlineAction::Nothing,
    };
    let reply = Reply::Deadline(DeadlineReply {
        action,
        status: b.state().status_kind(),
        version: b.state().version,
    });
    Ok(b.reply(reply))
}
