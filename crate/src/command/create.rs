//! `create`: the first event of a run. There is no prior state, so this is
//! [`decide_create`] rather than a case of `decide`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Builder, Decision};
use crate::error::CommandError;
use crate::event::{Event, EventRecord, init};
use crate::reply::{Reply, RunReply};
use crate::state::{
    ChildCounts, MAX_CHILDREN, MAX_GRACE_MS, MAX_SUB_RUNS, NewChild, RunKind, RunState, Status,
};
use crate::time::Millis;

/// The status a run starts in. `running` means running without an executor claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    #[default]
    Pending,
    Queued,
    Running,
}

/// Children at creation: either counts only (the items are tracked elsewhere) or the items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(untagged)]
pub enum ChildrenInit {
    Items(Vec<NewChild>),
    Counts(ChildCounts),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct CreateArgs {
    pub id: String,
    pub kind: RunKind,
    #[serde(default)]
    pub initial: InitialStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_grace_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<ChildrenInit>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_runs: Vec<String>,
}

/// Decides the creation of a run: `created` (seq 1), then `children_added` when items are
/// given. Fold the events (or use [`create`]) to get the state.
pub fn decide_create(args: &CreateArgs, now: Millis) -> Result<Decision, CommandError> {
    create(args, now).map(|(_, d)| d)
}

/// Creates a run: its state and the decision that produced it.
pub fn create(args: &CreateArgs, now: Millis) -> Result<(RunState, Decision), CommandError> {
    if args.id.is_empty() {
        return Err(CommandError::invalid("id", "must not be empty"));
    }
    if args.default_grace_ms.is_some_and(|g| g > MAX_GRACE_MS) {
        return Err(CommandError::invalid(
            "default_grace_ms",
            format!("must be at most {MAX_GRACE_MS}"),
        ));
    }
    if args.sub_runs.len() > MAX_SUB_RUNS {
        return Err(CommandError::invalid(
            "sub_runs",
            format!("at most {MAX_SUB_RUNS}"),
        ));
    }
    let unique: BTreeSet<&str> = args.sub_runs.iter().map(String::as_str).collect();
    if unique.len() != args.sub_runs.len() || unique.contains(args.id.as_str()) {
        return Err(CommandError::invalid(
            "sub_runs",
            "must be distinct and not the run itself",
        ));
    }
    let status = match args.initial {
        InitialStatus::Pending => Status::Pending,
        InitialStatus::Queued => Status::Queued,
        InitialStatus::Running => Status::Running { lease: None },
    };
    let (counts, items) = match &args.children {
        None => (ChildCounts::default(), None),
        Some(ChildrenInit::Counts(c)) => {
            if c.cancelling > 0 {
                return Err(CommandError::invalid(
                    "children.cancelling",
                    "a new run has no cancelling children",
                ));
            }
            if c.total() > MAX_CHILDREN {
                return Err(CommandError::invalid(
                    "children",
                    format!("at most {MAX_CHILDREN} children"),
                ));
            }
            (*c, None)
        }
        Some(ChildrenInit::Items(items)) => {
            super::children::validate_new_children(items, 0)?;
            (ChildCounts::default(), Some(items.clone()))
        }
    };
    let record = EventRecord {
        seq: 1,
        at: now,
        event: Event::Created {
            id: args.id.clone(),
            kind: args.kind,
            status,
            default_grace_ms: args.default_grace_ms,
            children: counts,
            sub_runs: args.sub_runs.clone(),
        },
    };
    let state = init(&record)?;
    let mut b = Builder::from_created(state, record);
    if let Some(items) = items
        && !items.is_empty()
    {
        b.push(Event::ChildrenAdded { items })?;
    }
    let reply = Reply::Run(RunReply {
        status: b.state().status_kind(),
        version: b.state().version,
    });
    let (decision, state) = b.reply(reply).finish();
    Ok((state, decision))
}
