//! `enqueue`: pending → queued (the run may now be claimed).

use super::{Builder, CommandKind, Decided, invalid_transition};
use crate::event::Event;
use crate::state::{RunState, Status};
use crate::time::Millis;

pub(crate) fn decide_enqueue(state: &RunState, now: Millis) -> Decided {
    match &state.status {
        Status::Pending => {
            let mut b = Builder::new(state, now);
            b.push(Event::Enqueued)?;
            Ok(b)
        }
        Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => Err(invalid_transition(state, CommandKind::Enqueue)),
    }
}
