//! `cancel`: the decision this crate exists for.
//!
//! Order of checks (first match answers):
//! 1. `command_id` seen before → `replayed` with the first reply (same parameters) or
//!    `idempotency_conflict` (different parameters). No event.
//! 2. terminal → `already_cancelled` / `already_terminal` (lost the race, or long ago).
//! 3. cancelling → `already_requested`.
//! 4. `if_status_in` / `if_version` → `precondition_failed`.
//! 5. the caller's policy → `not_cancellable`.
//! 6. the rule: no live executor lease, or grace 0 → `cancelled_now`; otherwise `cancelling`
//!    with `deadline = now + grace` → `requested`.
//!
//! Every answer to a cancel with a `command_id` is recorded (`cancel_recorded`), including
//! refusals, so that a retry gets exactly the same answer whatever happened in between.

use serde::{Deserialize, Serialize};

use super::{Builder, Decided, cancel_all_children};
use crate::effect::Effect;
use crate::error::CommandError;
use crate::event::{CancelVia, Event};
use crate::policy::{CancelPolicy, Grace};
use crate::reply::{CancelOutcome, CancelReply, Reply};
use crate::state::{
    By, DEFAULT_GRACE_MS, LOST_RACE_WINDOW_MS, MAX_COMMAND_IDS, MAX_GRACE_MS, RunState, Source,
    Status, StatusKind,
};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct CancelArgs {
    /// Idempotency key: a retry with the same key and parameters gets the first reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub by: By,
    /// Grace for the executor; 0 = force now. Ignored when the policy fixes the grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<u64>,
    /// Cancel only if the run's status is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_status_in: Option<Vec<StatusKind>>,
    /// Cancel only if the run's version is this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_version: Option<u64>,
    /// The caller's policy; the native one when omitted.
    #[serde(default)]
    pub policy: CancelPolicy,
}

/// The parameters that make two cancels with one `command_id` "the same request". `by` is not
/// part of it: the caller's identity is checked by the Worker, not by the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct CancelFingerprint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_status_in: Option<Vec<StatusKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_version: Option<u64>,
    pub policy: CancelPolicy,
}

impl CancelArgs {
    /// A cancel from `by` with everything else defaulted (native policy, default grace).
    pub fn new(by: By) -> Self {
        CancelArgs {
            command_id: None,
            reason: None,
            by,
            grace_ms: None,
            if_status_in: None,
            if_version: None,
            policy: CancelPolicy::native(),
        }
    }

    /// Canonical form of the parameters (sets sorted and deduplicated).
    pub fn fingerprint(&self) -> CancelFingerprint {
        CancelFingerprint {
            reason: self.reason.clone(),
            grace_ms: self.grace_ms,
            if_status_in: self.if_status_in.as_ref().map(|v| {
                let mut v = v.clone();
                v.sort();
                v.dedup();
                v
            }),
            if_version: self.if_version,
            policy: self.policy.normalized(),
        }
    }

    /// The grace this cancel grants: the policy's fixed grace (a contract is a contract), else
    /// the command's, else the run's default, else 30 s.
    pub fn grace_for(&self, state: &RunState) -> u64 {
        match self.policy.grace {
            Grace::Fixed(ms) => ms,
            Grace::Default => self
                .grace_ms
                .or(state.default_grace_ms)
                .unwrap_or(DEFAULT_GRACE_MS),
        }
    }
}

fn reply_for(state: &RunState, outcome: CancelOutcome, version: u64) -> CancelReply {
    CancelReply {
        outcome,
        status: state.status_kind(),
        version,
        children: state.children,
        deadline: state.status.cancel_deadline(),
    }
}

pub(crate) fn decide_cancel(state: &RunState, args: &CancelArgs, now: Millis) -> Decided {
    let fingerprint = args.fingerprint();
    if let Some(id) = &args.command_id {
        if id.is_empty() {
            return Err(CommandError::invalid("command_id", "must not be empty"));
        }
        if let Some(record) = state.commands.get(id) {
            if record.fingerprint != fingerprint {
                return Err(CommandError::IdempotencyConflict {
                    command_id: id.clone(),
                });
            }
            let outcome = CancelOutcome::Replayed {
                original: Box::new(record.reply.clone()),
            };
            let reply = reply_for(state, outcome, state.version);
            return Ok(Builder::new(state, now).reply(Reply::Cancel(reply)));
        }
        if state.commands.len() >= MAX_COMMAND_IDS {
            return Err(CommandError::TooManyCommands {
                limit: MAX_COMMAND_IDS,
            });
        }
    }
    if args.grace_ms.is_some_and(|g| g > MAX_GRACE_MS) {
        return Err(CommandError::invalid(
            "grace_ms",
            format!("must be at most {MAX_GRACE_MS}"),
        ));
    }
    if let Grace::Fixed(g) = args.policy.grace
        && g > MAX_GRACE_MS
    {
        return Err(CommandError::invalid(
            "policy.grace",
            format!("must be at most {MAX_GRACE_MS}"),
        ));
    }

    let mut b = Builder::new(state, now);
    let outcome = match &state.status {
        Status::Cancelled {
            effective_at,
            forced,
            ..
        } => CancelOutcome::AlreadyCancelled {
            effective_at: *effective_at,
            forced: *forced,
        },
        Status::Completed | Status::Failed { .. } | Status::Rejected { .. } => {
            let since = state.timing.completed_at.unwrap_or(state.timing.updated_at);
            CancelOutcome::AlreadyTerminal {
                state: state.status_kind(),
                since,
                lost_race: now.saturating_sub(since) <= LOST_RACE_WINDOW_MS,
            }
        }
        Status::Cancelling {
            deadline,
            requested_at,
            ..
        } => CancelOutcome::AlreadyRequested {
            deadline: *deadline,
            requested_at: *requested_at,
        },
        Status::Pending | Status::Queued | Status::Running { .. } | Status::Waiting { .. } => {
            let status_ok = args
                .if_status_in
                .as_ref()
                .is_none_or(|s| s.contains(&state.status_kind()));
            let version_ok = args.if_version.is_none_or(|v| v == state.version);
            if !(status_ok && version_ok) {
                CancelOutcome::PreconditionFailed {
                    expected_status_in: fingerprint.if_status_in.clone(),
                    expected_version: args.if_version,
                    actual_status: state.status_kind(),
                    actual_version: state.version,
                }
            } else if !args.policy.allows(&state.status) {
                CancelOutcome::NotCancellable {
                    state: state.status_kind(),
                }
            } else {
                effective_cancel(&mut b, state, args, now)?
            }
        }
    };

    let recorded = u64::from(args.command_id.is_some());
    let reply = reply_for(
        b.state(),
        outcome,
        b.state().version.saturating_add(recorded),
    );
    if let Some(id) = &args.command_id {
        b.push(Event::CancelRecorded {
            command_id: id.clone(),
            fingerprint,
            reply: reply.clone(),
        })?;
    }
    Ok(b.reply(Reply::Cancel(reply)))
}

/// The one effective cancel of a run: emits exactly one of `cancel_requested` or `cancelled`.
fn effective_cancel(
    b: &mut Builder,
    state: &RunState,
    args: &CancelArgs,
    now: Millis,
) -> Result<CancelOutcome, CommandError> {
    let grace = args.grace_for(state);
    let deadline = now.saturating_add(grace);
    let live = state.live_lease(now).cloned();
    let outcome = match live {
        Some(lease) if grace > 0 => {
            b.push(Event::CancelRequested {
                by: args.by.clone(),
                reason: args.reason.clone(),
                command_id: args.command_id.clone(),
                deadline,
            })?;
            // Pending children never start; running ones follow the run's deadline.
            let pending = b.state().children.pending;
            if pending > 0 {
                b.push(Event::ChildrenCancelled {
                    from: crate::state::ChildStatus::Pending,
                    count: pending,
                })?;
            }
            let running = b.state().children.running;
            if running > 0 {
                b.push(Event::ChildrenCancelling { count: running })?;
            }
            b.effect(Effect::NotifyExecutor {
                lease_id: lease.id,
                executor: lease.executor,
                deadline,
            });
            CancelOutcome::Requested { deadline }
        }
        live => {
            let forced = live.is_some();
            b.push(Event::Cancelled {
                by: args.by.clone(),
                reason: args.reason.clone(),
                command_id: args.command_id.clone(),
                forced,
                via: CancelVia::Immediate,
            })?;
            cancel_all_children(b)?;
            if let Some(lease) = live {
                // Grace 0 with a live executor: its lease is revoked now; tell it to stop.
                b.effect(Effect::NotifyExecutor {
                    lease_id: lease.id,
                    executor: lease.executor,
                    deadline: now,
                });
            }
            CancelOutcome::CancelledNow {
                effective_at: now,
                forced,
            }
        }
    };
    // The first event of this cancel names it when the caller gave no command_id.
    let cascade_id = match &args.command_id {
        Some(id) => format!("{id}:cascade"),
        None => format!("{}@{}:cascade", state.id, state.version.saturating_add(1)),
    };
    for sub in &state.sub_runs {
        b.effect(Effect::CascadeCancel {
            sub_run_id: sub.clone(),
            command_id: cascade_id.clone(),
            deadline,
            grace_ms: grace,
            reason: args.reason.clone(),
            by: By {
                source: Source::Cascade,
                actor: Some(state.id.clone()),
            },
        });
    }
    Ok(outcome)
}
