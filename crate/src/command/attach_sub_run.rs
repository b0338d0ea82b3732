//! `attach_sub_run`: a sub-run created after its parent joins the parent's cascade.
//!
//! A sub-run is a run of its own (its own Durable Object). `create{sub_runs}` names the sub-runs
//! that exist when the parent is created; a sub-run created later names its parent, and the
//! Worker attaches it here *before* creating it, so a cancel of the parent always reaches it:
//!
//! - parent pending, queued, running or waiting → `sub_run_attached`; a later cancel of the
//!   parent cascades to it like to every other sub-run.
//! - parent cancelling or cancelled → `sub_run_attached`, and the reply (and a `cascade_cancel`
//!   effect) carry the cancel the new sub-run takes at once, in the same write that creates it:
//!   cancelled work is never (re-)run. Under a cancelling parent the sub-run follows the
//!   parent's deadline; under a cancelled one it is cancelled with grace 0.
//! - parent completed, failed or rejected → `invalid_transition`: a run that ended starts no new
//!   work.
//! - already attached → no event (`already_attached`, the same cancel in the reply), so a retried
//!   attach is harmless.
//! - the run itself, an empty id, or more than [`MAX_SUB_RUNS`] sub-runs → `invalid_argument`.

use serde::{Deserialize, Serialize};

use super::{Builder, CommandKind, Decided, invalid_transition};
use crate::effect::Effect;
use crate::error::CommandError;
use crate::event::Event;
use crate::reply::{AttachOutcome, Reply, SubRunCancel, SubRunReply};
use crate::state::{By, MAX_SUB_RUNS, RunState, Source, Status};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
pub struct AttachSubRunArgs {
    pub sub_run_id: String,
}

/// The cancel a sub-run attached now must take at once, when the parent's cancel was already
/// accepted. Deterministic in the stored status and `now`.
pub(crate) fn inherited_cancel(state: &RunState, now: Millis) -> Option<SubRunCancel> {
    let (command_id, since, deadline, reason) = match &state.status {
        Status::Cancelling {
            requested_at,
            deadline,
            reason,
            command_id,
            ..
        } => (command_id, *requested_at, *deadline, reason),
        Status::Cancelled {
            reason,
            effective_at,
            command_id,
            ..
        } => (command_id, *effective_at, now, reason),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. } => return None,
    };
    // The parent's own cascade id when its cancel had one (what its other sub-runs got).
    let command_id = match command_id {
        Some(id) => format!("{id}:cascade"),
        None => format!("{}@{since}:cascade", state.id),
    };
    Some(SubRunCancel {
        command_id,
        grace_ms: deadline.saturating_sub(now),
        deadline: deadline.max(now),
        reason: reason.clone(),
        by: By {
            source: Source::Cascade,
            actor: Some(state.id.clone()),
        },
    })
}

pub(crate) fn decide_attach_sub_run(
    state: &RunState,
    args: &AttachSubRunArgs,
    now: Millis,
) -> Decided {
    let id = args.sub_run_id.as_str();
    if id.is_empty() {
        return Err(CommandError::invalid("sub_run_id", "must not be empty"));
    }
    if id == state.id {
        return Err(CommandError::invalid(
            "sub_run_id",
            "a run cannot be its own sub-run",
        ));
    }
    match &state.status {
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Cancelled { .. } => {}
        Status::Completed | Status::Failed { .. } | Status::Rejected { .. } => {
            return Err(invalid_transition(state, CommandKind::AttachSubRun));
        }
    }
    let cancel = inherited_cancel(state, now);
    let mut b = Builder::new(state, now);
    let outcome = if state.sub_runs.iter().any(|s| s == id) {
        AttachOutcome::AlreadyAttached
    } else {
        if state.sub_runs.len() >= MAX_SUB_RUNS {
            return Err(CommandError::invalid(
                "sub_run_id",
                format!("a run has at most {MAX_SUB_RUNS} sub-runs"),
            ));
        }
        b.push(Event::SubRunAttached { id: id.to_owned() })?;
        if let Some(c) = &cancel {
            b.effect(Effect::CascadeCancel {
                sub_run_id: id.to_owned(),
                command_id: c.command_id.clone(),
                deadline: c.deadline,
                grace_ms: c.grace_ms,
                reason: c.reason.clone(),
                by: c.by.clone(),
            });
        }
        AttachOutcome::Attached
    };
    let reply = Reply::SubRun(SubRunReply {
        outcome,
        sub_run_id: id.to_owned(),
        status: b.state().status_kind(),
        version: b.state().version,
        sub_runs: b.state().sub_runs.len() as u64,
        cancel,
    });
    Ok(b.reply(reply))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::command::{CancelArgs, ClaimArgs, Command, CreateArgs, InitialStatus, apply};
    use crate::event::fold;
    use crate::state::{RunKind, StatusKind};

    const T0: Millis = 1_000_000;

    fn parent() -> RunState {
        crate::command::create::create(
            &CreateArgs {
                id: "p".into(),
                kind: RunKind::Generic,
                initial: InitialStatus::Queued,
                default_grace_ms: None,
                children: None,
                sub_runs: vec!["s0".into()],
            },
            T0,
        )
        .unwrap()
        .0
    }

    fn attach(id: &str) -> Command {
        Command::AttachSubRun(AttachSubRunArgs {
            sub_run_id: id.into(),
        })
    }

    fn by() -> By {
        By {
            source: Source::Api,
            actor: None,
        }
    }

    fn sub_reply(d: &crate::command::Decision) -> SubRunReply {
        match &d.reply {
            Reply::SubRun(r) => r.clone(),
            other => panic!("not a sub-run reply: {other:?}"),
        }
    }

    #[test]
    fn attaches_to_a_live_parent_and_the_next_cancel_cascades() {
        let mut s = parent();
        let d = apply(&mut s, &attach("s1"), T0 + 1).unwrap();
        let r = sub_reply(&d);
        assert_eq!(r.outcome, AttachOutcome::Attached);
        assert_eq!(r.cancel, None);
        assert_eq!(r.sub_runs, 2);
        assert!(d.effects.is_empty(), "{:?}", d.effects);
        assert_eq!(s.sub_runs, vec!["s0".to_owned(), "s1".to_owned()]);
        let c = apply(&mut s, &Command::Cancel(CancelArgs::new(by())), T0 + 2).unwrap();
        let cascaded: Vec<&str> = c
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::CascadeCancel { sub_run_id, .. } => Some(sub_run_id.as_str()),
                Effect::NotifyExecutor { .. }
                | Effect::UpdateIndex { .. }
                | Effect::EmitWebhook { .. } => None,
            })
            .collect();
        assert_eq!(cascaded, vec!["s0", "s1"]);
    }

    #[test]
    fn a_second_attach_changes_nothing() {
        let mut s = parent();
        apply(&mut s, &attach("s1"), T0 + 1).unwrap();
        let before = s.clone();
        let d = apply(&mut s, &attach("s1"), T0 + 2).unwrap();
        assert!(d.events.is_empty());
        assert_eq!(sub_reply(&d).outcome, AttachOutcome::AlreadyAttached);
        assert_eq!(s, before);
    }

    #[test]
    fn under_a_cancelled_parent_the_sub_run_is_cancelled_at_once() {
        let mut s = parent();
        let mut c = CancelArgs::new(by());
        c.command_id = Some("k1".into());
        c.reason = Some("stop".into());
        apply(&mut s, &Command::Cancel(c), T0 + 1).unwrap();
        let d = apply(&mut s, &attach("late"), T0 + 5).unwrap();
        let r = sub_reply(&d);
        let cancel = r.cancel.clone().unwrap();
        assert_eq!(cancel.command_id, "k1:cascade");
        assert_eq!(cancel.grace_ms, 0);
        assert_eq!(cancel.reason.as_deref(), Some("stop"));
        assert_eq!(cancel.by.source, Source::Cascade);
        assert!(d.effects.iter().any(|e| matches!(
            e,
            Effect::CascadeCancel { sub_run_id, grace_ms: 0, .. } if sub_run_id == "late"
        )));
        assert_eq!(s.status_kind(), StatusKind::Cancelled);
        assert!(s.sub_runs.contains(&"late".to_owned()));
    }

    #[test]
    fn under_a_cancelling_parent_the_sub_run_follows_its_deadline() {
        let mut s = parent();
        apply(
            &mut s,
            &Command::Claim(ClaimArgs {
                executor: "e".into(),
                lease_id: "L".into(),
                lease_ms: 60_000,
            }),
            T0,
        )
        .unwrap();
        let mut c = CancelArgs::new(by());
        c.grace_ms = Some(10_000);
        apply(&mut s, &Command::Cancel(c), T0 + 1_000).unwrap();
        let d = apply(&mut s, &attach("late"), T0 + 4_000).unwrap();
        let cancel = sub_reply(&d).cancel.unwrap();
        assert_eq!(cancel.deadline, T0 + 11_000);
        assert_eq!(cancel.grace_ms, 7_000);
        assert_eq!(cancel.command_id, format!("p@{}:cascade", T0 + 1_000));
    }

    #[test]
    fn refusals_change_nothing() {
        let mut s = parent();
        for (cmd, code) in [
            (attach(""), "invalid_argument"),
            (attach("p"), "invalid_argument"),
        ] {
            let before = s.clone();
            assert_eq!(apply(&mut s, &cmd, T0).unwrap_err().code(), code);
            assert_eq!(s, before);
        }
        for i in 1..MAX_SUB_RUNS {
            apply(&mut s, &attach(&format!("s{i}")), T0).unwrap();
        }
        assert_eq!(s.sub_runs.len(), MAX_SUB_RUNS);
        assert_eq!(
            apply(&mut s, &attach("one-too-many"), T0)
                .unwrap_err()
                .code(),
            "invalid_argument"
        );
        // A retried attach of a known sub-run still answers at the cap.
        assert!(apply(&mut s, &attach("s1"), T0).is_ok());
    }

    #[test]
    fn the_log_folds_to_the_state() {
        let (mut s, d) = crate::command::create::create(
            &CreateArgs {
                id: "p".into(),
                kind: RunKind::Generic,
                initial: InitialStatus::Pending,
                default_grace_ms: None,
                children: None,
                sub_runs: vec![],
            },
            T0,
        )
        .unwrap();
        let mut log = d.events;
        for (i, at) in [(1, T0 + 1), (2, T0 + 2)] {
            log.extend(apply(&mut s, &attach(&format!("s{i}")), at).unwrap().events);
        }
        log.extend(
            apply(&mut s, &Command::Cancel(CancelArgs::new(by())), T0 + 3)
                .unwrap()
                .events,
        );
        log.extend(apply(&mut s, &attach("s3"), T0 + 4).unwrap().events);
        assert_eq!(fold(&log).unwrap(), s);
    }
}
