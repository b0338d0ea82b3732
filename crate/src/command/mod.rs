//! Commands and the decision function. One file per command; each has a `decide_*` that reads
//! the state and returns a [`Decision`] or a [`CommandError`], and never mutates anything.

pub mod ack_cancel;
pub mod attach_sub_run;
pub mod cancel;
pub mod children;
pub mod claim;
pub mod complete;
pub mod create;
pub mod deadline;
pub mod enqueue;
pub mod fail;
pub mod heartbeat;
pub mod reject;
pub mod resume;
pub mod wait;

use serde::{Deserialize, Serialize};

use crate::effect::{Effect, WebhookEvent};
use crate::error::CommandError;
use crate::event::Event;
use crate::event::{EventRecord, evolve};
use crate::reply::Reply;
use crate::state::{ChildStatus, Lease, MAX_LEASE_MS, RunState, Status, StatusKind, WaitReason};
use crate::time::Millis;

pub use ack_cancel::AckCancelArgs;
pub use attach_sub_run::AttachSubRunArgs;
pub use cancel::{CancelArgs, CancelFingerprint};
pub use children::{AddChildrenArgs, UpdateChildArgs};
pub use claim::ClaimArgs;
pub use complete::CompleteArgs;
pub use create::{ChildrenInit, CreateArgs, InitialStatus};
pub use fail::FailArgs;
pub use heartbeat::HeartbeatArgs;
pub use reject::RejectArgs;
pub use resume::ResumeArgs;
pub use wait::WaitArgs;

/// Everything that can happen to a run, as data (`{"type": "cancel", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    Create(CreateArgs),
    Enqueue,
    Claim(ClaimArgs),
    Heartbeat(HeartbeatArgs),
    Wait(WaitArgs),
    Resume(ResumeArgs),
    Complete(CompleteArgs),
    Fail(FailArgs),
    Reject(RejectArgs),
    Cancel(CancelArgs),
    AckCancel(AckCancelArgs),
    /// The Worker's alarm: a cancel deadline or a lease expiry may have passed.
    DeadlineFired,
    AddChildren(AddChildrenArgs),
    UpdateChild(UpdateChildArgs),
    /// A sub-run created after this run joins its cascade (see [`attach_sub_run`]).
    AttachSubRun(AttachSubRunArgs),
}

/// The name of a command, for errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    Create,
    Enqueue,
    Claim,
    Heartbeat,
    Wait,
    Resume,
    Complete,
    Fail,
    Reject,
    Cancel,
    AckCancel,
    DeadlineFired,
    AddChildren,
    UpdateChild,
    AttachSubRun,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Create => "create",
            CommandKind::Enqueue => "enqueue",
            CommandKind::Claim => "claim",
            CommandKind::Heartbeat => "heartbeat",
            CommandKind::Wait => "wait",
            CommandKind::Resume => "resume",
            CommandKind::Complete => "complete",
            CommandKind::Fail => "fail",
            CommandKind::Reject => "reject",
            CommandKind::Cancel => "cancel",
            CommandKind::AckCancel => "ack_cancel",
            CommandKind::DeadlineFired => "deadline_fired",
            CommandKind::AddChildren => "add_children",
            CommandKind::UpdateChild => "update_child",
            CommandKind::AttachSubRun => "attach_sub_run",
        }
    }
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::Create(_) => CommandKind::Create,
            Command::Enqueue => CommandKind::Enqueue,
            Command::Claim(_) => CommandKind::Claim,
            Command::Heartbeat(_) => CommandKind::Heartbeat,
            Command::Wait(_) => CommandKind::Wait,
            Command::Resume(_) => CommandKind::Resume,
            Command::Complete(_) => CommandKind::Complete,
            Command::Fail(_) => CommandKind::Fail,
            Command::Reject(_) => CommandKind::Reject,
            Command::Cancel(_) => CommandKind::Cancel,
            Command::AckCancel(_) => CommandKind::AckCancel,
            Command::DeadlineFired => CommandKind::DeadlineFired,
            Command::AddChildren(_) => CommandKind::AddChildren,
            Command::UpdateChild(_) => CommandKind::UpdateChild,
            Command::AttachSubRun(_) => CommandKind::AttachSubRun,
        }
    }
}

/// The result of a command: events to append (in order), effects to carry out after they are
/// stored, the reply, and when the Worker's alarm must fire next (`None`: delete it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct Decision {
    pub events: Vec<EventRecord>,
    pub effects: Vec<Effect>,
    pub reply: Reply,
    pub next_deadline: Option<Millis>,
}

/// Decides `command` against `state` at `now`. Pure: the state is not changed; apply the
/// returned events with [`evolve`] (or use [`apply`]).
///
/// `now` earlier than the run's last event is taken as the last event's time: inside one run
/// the clock never runs backwards, so timing stays consistent whatever the caller's clock does.
pub fn decide(state: &RunState, command: &Command, now: Millis) -> Result<Decision, CommandError> {
    decide_next(state, command, now).map(|(d, _)| d)
}

/// Decides and applies: on success `state` is the new state; on error it is unchanged.
pub fn apply(
    state: &mut RunState,
    command: &Command,
    now: Millis,
) -> Result<Decision, CommandError> {
    let (d, next) = decide_next(state, command, now)?;
    *state = next;
    Ok(d)
}

fn decide_next(
    state: &RunState,
    command: &Command,
    now: Millis,
) -> Result<(Decision, RunState), CommandError> {
    let now = now.max(state.timing.updated_at);
    match command {
        Command::Create(_) => Err(CommandError::AlreadyExists {
            id: state.id.clone(),
        }),
        Command::Enqueue => enqueue::decide_enqueue(state, now),
        Command::Claim(a) => claim::decide_claim(state, a, now),
        Command::Heartbeat(a) => heartbeat::decide_heartbeat(state, a, now),
        Command::Wait(a) => wait::decide_wait(state, a, now),
        Command::Resume(a) => resume::decide_resume(state, a, now),
        Command::Complete(a) => complete::decide_complete(state, a, now),
        Command::Fail(a) => fail::decide_fail(state, a, now),
        Command::Reject(a) => reject::decide_reject(state, a, now),
        Command::Cancel(a) => cancel::decide_cancel(state, a, now),
        Command::AckCancel(a) => ack_cancel::decide_ack_cancel(state, a, now),
        Command::DeadlineFired => deadline::decide_deadline_fired(state, now),
        Command::AddChildren(a) => children::decide_add_children(state, a, now),
        Command::UpdateChild(a) => children::decide_update_child(state, a, now),
        Command::AttachSubRun(a) => attach_sub_run::decide_attach_sub_run(state, a, now),
    }
    .map(|b| b.finish())
}

/// Accumulates one decision: each pushed event is applied to a copy of the state at once, so
/// the reply and effects are computed from the state the events really produce.
pub(crate) struct Builder {
    /// Status summary before the command; `None` for `create`.
    before: Option<(StatusKind, Option<WaitReason>)>,
    next: RunState,
    now: Millis,
    events: Vec<EventRecord>,
    effects: Vec<Effect>,
    reply: Option<Reply>,
}

pub(crate) type Decided = Result<Builder, CommandError>;

impl Builder {
    pub(crate) fn new(state: &RunState, now: Millis) -> Self {
        Builder {
            before: Some((state.status_kind(), state.status.wait_reason())),
            next: state.clone(),
            now,
            events: Vec::new(),
            effects: Vec::new(),
            reply: None,
        }
    }

    pub(crate) fn from_created(state: RunState, record: EventRecord) -> Self {
        Builder {
            before: None,
            now: record.at,
            next: state,
            events: vec![record],
            effects: Vec::new(),
            reply: None,
        }
    }

    pub(crate) fn push(&mut self, event: Event) -> Result<(), CommandError> {
        let record = EventRecord {
            seq: self.next.version.saturating_add(1),
            at: self.now,
            event,
        };
        evolve(&mut self.next, &record)?;
        self.events.push(record);
        Ok(())
    }

    pub(crate) fn state(&self) -> &RunState {
        &self.next
    }

    pub(crate) fn effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    pub(crate) fn reply(mut self, reply: Reply) -> Self {
        self.reply = Some(reply);
        self
    }

    fn finish(mut self) -> (Decision, RunState) {
        let after = (self.next.status_kind(), self.next.status.wait_reason());
        if Some(after) != self.before {
            self.effects.push(Effect::UpdateIndex {
                status: after.0,
                wait_reason: after.1,
                version: self.next.version,
            });
            let hook = match after.0 {
                StatusKind::Cancelling => Some(WebhookEvent::RunCancelRequested),
                StatusKind::Cancelled => Some(WebhookEvent::RunCancelled),
                StatusKind::Completed => Some(WebhookEvent::RunCompleted),
                StatusKind::Failed => Some(WebhookEvent::RunFailed),
                StatusKind::Rejected => Some(WebhookEvent::RunRejected),
                StatusKind::Pending
                | StatusKind::Queued
                | StatusKind::Running
                | StatusKind::Waiting => None,
            };
            if let Some(event) = hook
                && self.before.map(|b| b.0) != Some(after.0)
            {
                self.effects.push(Effect::EmitWebhook { event });
            }
        }
        let reply = self.reply.unwrap_or(Reply::Run(crate::reply::RunReply {
            status: after.0,
            version: self.next.version,
        }));
        let decision = Decision {
            events: self.events,
            effects: self.effects,
            reply,
            next_deadline: self.next.next_deadline(),
        };
        (decision, self.next)
    }
}

/// Checks that `given` is the run's current, live lease. `Ok(None)`: the run holds no lease
/// and the caller gave none (a run running without a claim).
pub(crate) fn check_lease<'a>(
    state: &'a RunState,
    given: Option<&str>,
    now: Millis,
) -> Result<Option<&'a Lease>, CommandError> {
    match (state.status.lease(), given) {
        (None, None) => Ok(None),
        (None, Some(id)) => Err(CommandError::LeaseRevoked {
            lease_id: Some(id.to_string()),
        }),
        (Some(_), None) => Err(CommandError::LeaseRevoked { lease_id: None }),
        (Some(l), Some(id)) if l.id != id => Err(CommandError::LeaseRevoked {
            lease_id: Some(id.to_string()),
        }),
        (Some(l), Some(_)) if !l.is_live(now) => Err(CommandError::LeaseExpired {
            lease_id: l.id.clone(),
            expired_at: l.expires_at,
        }),
        (Some(l), Some(_)) => Ok(Some(l)),
    }
}

/// Validates a new lease's id and length. A lease id is never reused: the previous one may
/// have been revoked, and "revoked" must stay revoked.
pub(crate) fn new_lease(
    state: &RunState,
    executor: &str,
    lease_id: &str,
    lease_ms: u64,
    now: Millis,
) -> Result<Lease, CommandError> {
    if lease_id.is_empty() {
        return Err(CommandError::invalid("lease_id", "must not be empty"));
    }
    if state.last_lease_id.as_deref() == Some(lease_id) {
        return Err(CommandError::invalid(
            "lease_id",
            "lease ids are never reused",
        ));
    }
    check_lease_ms(lease_ms)?;
    Ok(Lease {
        id: lease_id.to_string(),
        executor: executor.to_string(),
        expires_at: now.saturating_add(lease_ms),
    })
}

pub(crate) fn check_lease_ms(lease_ms: u64) -> Result<(), CommandError> {
    if lease_ms == 0 || lease_ms > MAX_LEASE_MS {
        return Err(CommandError::invalid(
            "lease_ms",
            format!("must be between 1 and {MAX_LEASE_MS}"),
        ));
    }
    Ok(())
}

pub(crate) fn invalid_transition(state: &RunState, command: CommandKind) -> CommandError {
    CommandError::InvalidTransition {
        command,
        status: state.status_kind(),
    }
}

/// The executor reply for the state the builder has reached.
pub(crate) fn executor_reply(
    b: &Builder,
    outcome: crate::reply::ExecutorOutcome,
) -> crate::reply::ExecutorReply {
    let s = b.state();
    crate::reply::ExecutorReply {
        outcome,
        status: s.status_kind(),
        version: s.version,
        lease_expires_at: s.status.lease().map(|l| l.expires_at),
        cancel_requested: s.status.cancel_deadline().is_some(),
        deadline: s.status.cancel_deadline(),
    }
}

/// Cancels every child not yet final (pending, running, cancelling), one bulk event per bucket.
pub(crate) fn cancel_all_children(b: &mut Builder) -> Result<(), CommandError> {
    for from in [
        ChildStatus::Pending,
        ChildStatus::Running,
        ChildStatus::Cancelling,
    ] {
        let count = b.state().children.get(from);
        if count > 0 {
            b.push(Event::ChildrenCancelled { from, count })?;
        }
    }
    Ok(())
}

/// Ends a `cancelling` run: `cancelled` (copying who asked and why) and every in-flight child
/// cancelled.
pub(crate) fn finish_cancel(
    b: &mut Builder,
    forced: bool,
    via: crate::event::CancelVia,
) -> Result<(), CommandError> {
    let (by, reason, command_id) = match &b.state().status {
        Status::Cancelling {
            by,
            reason,
            command_id,
            ..
        } => (by.clone(), reason.clone(), command_id.clone()),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => {
            return Err(invalid_transition(b.state(), CommandKind::AckCancel));
        }
    };
    b.push(Event::Cancelled {
        by,
        reason,
        command_id,
        forced,
        via,
    })?;
    cancel_all_children(b)
}
