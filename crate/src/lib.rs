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
//!                      enqueue             claim(lease)
//!  create ──> pending ─────────> queued ──────────────> running{lease} ──complete──> completed
//!    │                             ^   deadline_fired       │    ^     ──fail──────> failed
//!    │                             └── (lease expired) ─────┘    │
//!    │ (created running)                             wait(reason)│resume(new lease)
//!    └────────────────────────────> running{lease: null}         v    │
//!                                   (claim takes it over)    waiting{reason}
//!                                                                 │ reject (human_review only)
//!                                                                 v
//!                                                              rejected
//!
//!  create{initial} starts the run as pending, queued or running (without a claim).
//!
//!  cancel, from pending | queued | waiting | running without a live lease:
//!        ──> cancelled{forced: false}                              (in the reply)
//!  cancel, from running with a live lease:
//!        grace 0 ──> cancelled{forced: true}                       (in the reply)
//!        grace > 0 ──> cancelling{deadline = now + grace, lease}
//!                        ├─ ack_cancel / complete / fail (late_*) ──> cancelled{forced: false}
//!                        └─ deadline_fired at/after the deadline
//!                           (or after the lease expired)          ──> cancelled{forced: true}
//!
//!  completed, failed, rejected and cancelled are terminal and absorb every command: a later
//!  cancel is answered (already_cancelled / already_terminal), a late complete or fail from the
//!  last executor is logged once (late_completion / late_failure), anything else is refused.
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
//! the run's deadline); sub-runs get an [`Effect::CascadeCancel`]. A sub-run created after its
//! parent is attached first ([`command::attach_sub_run`]); under a parent whose cancel was
//! already accepted it is cancelled in the write that creates it, so it never starts.
//!
//! ## Formats
//!
//! Everything is serde with stable snake_case JSON; [`RunState`] carries `"v": 1`. Stored runs
//! of each version are kept as fixtures under `tests/fixtures/` and must keep loading.
#![cfg_attr(not(feature = "js"), forbid(unsafe_code))]
#![cfg_attr(feature = "js", deny(unsafe_code))]
// Decisions must not panic and every rule must name every state (no catch-all arms).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::wildcard_enum_match_arm,
        clippy::match_wildcard_for_single_variants
    )
)]

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
    AckCancelArgs, AddChildrenArgs, AttachSubRunArgs, CancelArgs, CancelFingerprint, ChildrenInit,
    ClaimArgs, Command, CommandKind, CompleteArgs, CreateArgs, Decision, FailArgs, HeartbeatArgs,
    InitialStatus, RejectArgs, ResumeArgs, UpdateChildArgs, WaitArgs, apply, decide,
};
pub use dialect::Dialect;
pub use effect::{Effect, WebhookEvent};
pub use error::{CommandError, EvolveError};
pub use event::{CancelVia, Event, EventRecord, evolve, fold, init};
pub use policy::{CancelPolicy, Grace, PolicyState};
pub use reply::{
    AttachOutcome, CancelOutcome, CancelReply, ChildrenReply, DeadlineAction, DeadlineReply,
    ExecutorOutcome, ExecutorReply, Reply, RunReply, SubRunCancel, SubRunReply,
};
pub use state::{
    By, CancelRecord, ChildCounts, ChildStatus, LateKind, LateRecord, Lease, MAX_SUB_RUNS,
    NewChild, RunKind, RunState, Source, Status, StatusKind, Timing, WaitReason,
};
pub use time::{Millis, format_rfc3339, parse_rfc3339};
pub use view::{
    MergeResult, MergeStatus, PendingCancel, RunView, apply_optimistic, can_cancel,
    merge_cancel_reply, merge_event,
};
