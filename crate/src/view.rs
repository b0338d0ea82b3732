//! Client-side view helpers: what the dashboard (and any UI) shows, computed by the same code
//! that decides on the server, so the browser and the server cannot disagree.
//!
//! A [`RunView`] is the last state the client has seen (`seq` = its version) plus, while the
//! user's cancel is in flight, a `pending` optimistic cancel. The display never flaps: once the
//! user pressed Cancel the view shows "cancelling" until the server either confirms (the run is
//! cancelling or cancelled) or says the cancel did not take effect.

use serde::{Deserialize, Serialize};

use crate::error::EvolveError;
use crate::event::{Event, EventRecord, evolve};
use crate::policy::CancelPolicy;
use crate::reply::CancelReply;
use crate::state::{RunState, StatusKind};
use crate::time::Millis;

/// Can this caller cancel this run now? True exactly when a cancel (with no preconditions)
/// would answer `cancelled_now` or `requested`.
pub fn can_cancel(state: &RunState, policy: &CancelPolicy) -> bool {
    !state.is_terminal() && policy.allows(&state.status)
}

/// An optimistic cancel the user just sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct PendingCancel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    pub requested_at: Millis,
}

/// What a client shows for one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct RunView {
    pub state: RunState,
    /// The last event seq merged (= `state.version`).
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingCancel>,
}

impl RunView {
    pub fn new(state: RunState) -> Self {
        RunView {
            seq: state.version,
            state,
            pending: None,
        }
    }

    /// The status to display: `cancelling` while an optimistic cancel is pending.
    pub fn display_status(&self) -> StatusKind {
        match self.pending {
            Some(_) => StatusKind::Cancelling,
            None => self.state.status_kind(),
        }
    }
}

/// Marks an optimistic cancel, unless the run is terminal or already cancelling (then the
/// view is returned unchanged: there is nothing to anticipate).
pub fn apply_optimistic(view: &RunView, pending: PendingCancel) -> RunView {
    let mut next = view.clone();
    if !view.state.is_terminal() && view.state.status.cancel_deadline().is_none() {
        next.pending = Some(pending);
    }
    next
}

/// What merging one event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum MergeStatus {
    /// The event was new and is now in the view.
    Applied,
    /// Already seen (`seq <= view.seq`): ignored, as a resumed stream repeats itself.
    Stale,
    /// Events are missing between the view and this one: reload the run, then resume.
    Gap,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct MergeResult {
    pub view: RunView,
    pub status: MergeStatus,
}

/// Reconciles one server event with the view, by `seq`.
pub fn merge_event(view: &RunView, record: &EventRecord) -> Result<MergeResult, EvolveError> {
    if record.seq <= view.seq {
        return Ok(MergeResult {
            view: view.clone(),
            status: MergeStatus::Stale,
        });
    }
    if record.seq > view.seq.saturating_add(1) {
        return Ok(MergeResult {
            view: view.clone(),
            status: MergeStatus::Gap,
        });
    }
    let mut next = view.clone();
    evolve(&mut next.state, record)?;
    next.seq = record.seq;
    next.pending = settle(next.pending.take(), &next.state, Some(record));
    Ok(MergeResult {
        view: next,
        status: MergeStatus::Applied,
    })
}

/// Applies the server's reply to the user's cancel: if it did not take effect (the run had
/// already ended, the policy refused, a precondition failed), the optimistic mark is dropped.
pub fn merge_cancel_reply(view: &RunView, reply: &CancelReply) -> RunView {
    let mut next = view.clone();
    if !reply.outcome.took_effect() {
        next.pending = None;
    }
    next
}

/// Keeps the pending mark until the server's state or answer settles it.
fn settle(
    pending: Option<PendingCancel>,
    state: &RunState,
    record: Option<&EventRecord>,
) -> Option<PendingCancel> {
    let p = pending?;
    // Confirmed (cancelling/cancelled) or overtaken (the run ended another way).
    if state.is_terminal() || state.status.cancel_deadline().is_some() {
        return None;
    }
    // The server recorded our cancel and it did not take effect.
    if let Some(EventRecord {
        event: Event::CancelRecorded {
            command_id, reply, ..
        },
        ..
    }) = record
        && p.command_id.as_deref() == Some(command_id.as_str())
        && !reply.outcome.took_effect()
    {
        return None;
    }
    Some(p)
}
