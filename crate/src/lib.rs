//! # runbrake-core
//!
//! The one place that decides what a cancel (or any other command) does to a workflow run.
//! The Worker, the dashboard and npm users all call this code; nobody else decides
//! cancellability.
//!
//! It is **sans-IO**: no I/O, no clock, no randomness. The caller passes the time in
//! (`now`), gets events, effects, a reply and the next deadline out, and does the I/O itself:
//!
//! ```text
//! let state: RunState = serde_json::from_str(stored)?;
//! let d = decide(&state, &cmd, now)?;           // pure
//! for e in &d.events { evolve(&mut state, e)?; } // or apply(&mut state, &cmd, now)
//! // persist d.events + state, carry out d.effects, set the alarm at d.next_deadline,
//! // answer with d.reply
//! ```
//!
//! ## Run lifecycle
//!
//! ```text
//!                 create(initial)
//!        ┌──────────────┼───────────────────────┐
//!        v              v                       v
//!   ┌─────────┐ enqueue ┌────────┐  claim   ┌──────────────────┐  wait(reason)  ┌─────────────────┐
//!   │ pending │────────>│ queued │─────────>│ running{lease?}  │───────────────>│ waiting{reason} │
//!   └─────────┘         └────────┘<─────────│                  │<───────────────│                 │
//!        │                  │   deadline_fired└──────────────────┘ resume(lease) └─────────────────┘
//!        │                  │   (lease expired)   │  │  │  │ cancel (live lease, grace > 0)  │   │
//!        │                  │                     │  │  │  v                                 │   │ reject
//!        │                  │                     │  │  │ ┌──────────────────────────────┐   │   │ (human_review)
//!        │                  │                     │  │  │ │ cancelling{deadline, lease}  │   │   v
//!        │                  │          complete   │  │  │ └──────────────────────────────┘   │ ┌──────────┐
//!        │                  │     ┌───────────────┘  │  │   │ ack_cancel    │ deadline_fired │ │ rejected │
//!        │                  │     v          fail    │  │   │ complete/fail │ (forced)       │ └──────────┘
//!        │                  │ ┌───────────┐ ┌────────┘  │   │ (late_*)      │                │
//!        │                  │ │ completed │ │ failed │  │   v               v                │
//!        │                  │ └───────────┘ └────────┘  │ ┌────────────────────────────────┐ │
//!        └──────────────────┴────────── cancel ─────────┴>│ cancelled{forced, effective_at}│<┘
//!           (no live lease, or grace 0: cancelled at once)└────────────────────────────────┘
//!
//!   completed, failed, rejected, cancelled are terminal: they absorb every command. A late
//!   complete/fail is logged (late_completion/late_failure) and never changes the status.
//! ```
//!
//! ## Cancel
//!
//! [`command::cancel`] documents the order of checks and the outcomes ([`CancelOutcome`]).
//! A run whose executor holds a live lease goes to `cancelling` with a deadline (grace from the
//! policy, the command, the run, else 30 s); anything else is cancelled at once. The executor's
//! `ack_cancel` (or a late `complete`/`fail`) ends it unforced; the deadline ends it forced.
//!
//! ## Children and sub-runs
//!
//! A run stores only counts of its children per bucket ([`ChildCounts`]); the items live with
//! the caller ([`ChildTable`] in memory, a SQL table in the Worker) and follow bulk events. A
//! cancel cancels pending children at once and moves running ones to `cancelling` (they follow
//! the run's deadline); sub-runs get an [`Effect::CascadeCancel`].
//!
//! ## Formats
//!
//! Everything is serde with stable snake_case JSON; [`RunState`] carries `"v": 1`. Stored runs
//! of each version are kept as fixtures under `tests/fixtures/` and must keep loading.
#![cfg_attr(not(feature = "js"), forbid(unsafe_code))]
#![cfg_attr(feature = "js", deny(unsafe_code))]

pub mod child_table;
pub mod command;
pub mod dialect;
pub mod effect;
pub mod error;
pub mod event;
pub mod policy;
pub mod reply;
pub mod state;
pub mod time;
pub mod view;

#[cfg(feature = "js")]
pub mod js;

pub use child_table::{ChildTable, ChildTableError};
pub use command::children::child_move_allowed;
pub use command::create::{create, decide_create};
pub use command::{
    AckCancelArgs, AddChildrenArgs, CancelArgs, CancelFingerprint, ChildrenInit, ClaimArgs,
    Command, CommandKind, CompleteArgs, CreateArgs, Decision, FailArgs, HeartbeatArgs,
    InitialStatus, RejectArgs, ResumeArgs, UpdateChildArgs, WaitArgs, apply, decide,
};
pub use dialect::Dialect;
pub use effect::{Effect, WebhookEvent};
pub use error::{CommandError, EvolveError};
pub use event::{CancelVia, Event, EventRecord, evolve, fold, init};
pub use policy::{CancelPolicy, Grace, PolicyState};
pub use reply::{
    CancelOutcome, CancelReply, ChildrenReply, DeadlineAction, DeadlineReply, ExecutorOutcome,
    ExecutorReply, Reply, RunReply,
};
pub use state::{
    By, CancelRecord, ChildCounts, ChildStatus, LateKind, LateRecord, Lease, NewChild, RunKind,
    RunState, Source, Status, StatusKind, Timing, WaitReason,
};
pub use time::{Millis, format_rfc3339, parse_rfc3339};
pub use view::{
    MergeResult, MergeStatus, PendingCancel, RunView, apply_optimistic, can_cancel,
    merge_cancel_reply, merge_event,
};
