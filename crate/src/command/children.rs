//! Child items (steps, test cases, experiment results). The state keeps only counts per bucket;
//! the caller keeps the items and applies the events (one SQL statement per bulk event).
//!
//! `update_child` carries the child's current stored status (the core does not store items);
//! the core checks the move against the run: once a run is cancelling or terminal no child may
//! start (cancelled work is never re-run), while a child already in flight may still finish.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, check_lease, invalid_transition};
use crate::error::CommandError;
use crate::event::Event;
use crate::reply::{ChildrenReply, Reply};
use crate::state::{
    ChildStatus, MAX_CHILDREN, MAX_CHILDREN_PER_COMMAND, NewChild, RunState, Status,
};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct AddChildrenArgs {
    pub items: Vec<NewChild>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct UpdateChildArgs {
    pub child_id: String,
    /// The child's status as the caller has it stored.
    pub current: ChildStatus,
    pub to: ChildStatus,
    /// The executor's lease, when an executor reports; checked if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<String>,
}

/// Checks a batch of new children: bounded size, distinct non-empty ids, no `cancelling`
/// (only a run's cancel puts children there), and the run-wide cap. Ids already stored are
/// the caller's to reject: the core does not hold them.
pub(crate) fn validate_new_children(items: &[NewChild], existing: u64) -> Result<(), CommandError> {
    if items.len() > MAX_CHILDREN_PER_COMMAND {
        return Err(CommandError::invalid(
            "items",
            format!("at most {MAX_CHILDREN_PER_COMMAND} per command"),
        ));
    }
    let total = existing.saturating_add(items.len() as u64);
    if total > MAX_CHILDREN {
        return Err(CommandError::invalid(
            "items",
            format!("a run has at most {MAX_CHILDREN} children"),
        ));
    }
    let mut seen = BTreeSet::new();
    for item in items {
        if item.id.is_empty() {
            return Err(CommandError::invalid("items.id", "must not be empty"));
        }
        if !seen.insert(item.id.as_str()) {
            return Err(CommandError::invalid(
                "items.id",
                format!("duplicate id {}", item.id),
            ));
        }
        if item.status == ChildStatus::Cancelling {
            return Err(CommandError::invalid(
                "items.status",
                "a new child cannot be cancelling",
            ));
        }
    }
    Ok(())
}

fn children_reply(b: Builder) -> Builder {
    let reply = Reply::Children(ChildrenReply {
        children: b.state().children,
        version: b.state().version,
    });
    b.reply(reply)
}

pub(crate) fn decide_add_children(
    state: &RunState,
    args: &AddChildrenArgs,
    now: Millis,
) -> Decided {
    match &state.status {
        Status::Pending | Status::Queued | Status::Running { .. } | Status::Waiting { .. } => {}
        // No new work once a cancel is accepted, nor after the end.
        Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => {
            return Err(invalid_transition(state, CommandKind::AddChildren));
        }
    }
    if args.items.is_empty() {
        return Err(CommandError::invalid("items", "must not be empty"));
    }
    validate_new_children(&args.items, state.children.total())?;
    let mut b = Builder::new(state, now);
    b.push(Event::ChildrenAdded {
        items: args.items.clone(),
    })?;
    Ok(children_reply(b))
}

/// May a child move `from` → `to` while its run is in `status`?
pub fn child_move_allowed(status: &Status, from: ChildStatus, to: ChildStatus) -> bool {
    let run_may_start_children = match status {
        Status::Pending | Status::Queued | Status::Running { .. } | Status::Waiting { .. } => true,
        Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => false,
    };
    match (from, to) {
        (ChildStatus::Pending, ChildStatus::Running) => run_may_start_children,
        (
            ChildStatus::Pending | ChildStatus::Running | ChildStatus::Cancelling,
            ChildStatus::Completed | ChildStatus::Failed | ChildStatus::Cancelled,
        ) => true,
        // Only the run's cancel moves children to cancelling; nothing goes back to pending or
        // out of a final bucket.
        (
            ChildStatus::Pending
            | ChildStatus::Running
            | ChildStatus::Cancelling
            | ChildStatus::Completed
            | ChildStatus::Failed
            | ChildStatus::Cancelled,
            ChildStatus::Pending | ChildStatus::Cancelling,
        )
        | (
            ChildStatus::Running
            | ChildStatus::Cancelling
            | ChildStatus::Completed
            | ChildStatus::Failed
            | ChildStatus::Cancelled,
            ChildStatus::Running,
        )
        | (
            ChildStatus::Completed | ChildStatus::Failed | ChildStatus::Cancelled,
            ChildStatus::Completed | ChildStatus::Failed | ChildStatus::Cancelled,
        ) => false,
    }
}

pub(crate) fn decide_update_child(
    state: &RunState,
    args: &UpdateChildArgs,
    now: Millis,
) -> Decided {
    if state.is_terminal() {
        // Terminal runs absorb everything, their children's counts included.
        return Err(invalid_transition(state, CommandKind::UpdateChild));
    }
    if let Some(lease_id) = &args.lease_id {
        check_lease(state, Some(lease_id), now)?;
    }
    if args.child_id.is_empty() {
        return Err(CommandError::invalid("child_id", "must not be empty"));
    }
    if state.children.get(args.current) == 0 {
        return Err(CommandError::invalid(
            "current",
            format!("the run has no {:?} child", args.current),
        ));
    }
    if !child_move_allowed(&state.status, args.current, args.to) {
        return Err(CommandError::ChildTransitionRefused {
            child_id: args.child_id.clone(),
            from: args.current,
            to: args.to,
            status: state.status_kind(),
        });
    }
    let mut b = Builder::new(state, now);
    b.push(Event::ChildChanged {
        id: args.child_id.clone(),
        from: args.current,
        to: args.to,
    })?;
    Ok(children_reply(b))
}
