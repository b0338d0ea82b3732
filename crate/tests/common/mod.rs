//! Shared builders for the integration tests: named states reached through real commands.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use runbrake_core::*;

/// 2026-05-01T14:30:00Z
pub const T0: Millis = 1_777_645_800_000;

pub fn by() -> By {
    By {
        source: Source::Api,
        actor: Some("key_1".into()),
    }
}

pub fn create_cmd(initial: InitialStatus) -> CreateArgs {
    CreateArgs {
        id: "run_1".into(),
        kind: RunKind::Workflow,
        initial,
        default_grace_ms: None,
        children: Some(ChildrenInit::Counts(ChildCounts {
            pending: 2,
            running: 1,
            ..ChildCounts::default()
        })),
        sub_runs: vec![],
    }
}

pub fn claim(lease: &str, ms: u64) -> Command {
    Command::Claim(ClaimArgs {
        executor: format!("exec-{lease}"),
        lease_id: lease.into(),
        lease_ms: ms,
    })
}

pub fn heartbeat(lease: &str) -> Command {
    Command::Heartbeat(HeartbeatArgs {
        lease_id: lease.into(),
        lease_ms: None,
    })
}

pub fn wait(lease: Option<&str>, reason: WaitReason) -> Command {
    Command::Wait(WaitArgs {
        lease_id: lease.map(Into::into),
        reason,
    })
}

pub fn resume(lease: &str) -> Command {
    Command::Resume(ResumeArgs {
        executor: format!("exec-{lease}"),
        lease_id: lease.into(),
        lease_ms: 30_000,
    })
}

pub fn complete(lease: Option<&str>) -> Command {
    Command::Complete(CompleteArgs {
        lease_id: lease.map(Into::into),
        output: None,
    })
}

pub fn fail(lease: Option<&str>) -> Command {
    Command::Fail(FailArgs {
        lease_id: lease.map(Into::into),
        message: "boom".into(),
        code: None,
    })
}

pub fn reject() -> Command {
    Command::Reject(RejectArgs { note: None })
}

pub fn cancel_args() -> CancelArgs {
    CancelArgs::new(by())
}

pub fn cancel() -> Command {
    Command::Cancel(cancel_args())
}

pub fn cancel_with(f: impl FnOnce(&mut CancelArgs)) -> Command {
    let mut a = cancel_args();
    f(&mut a);
    Command::Cancel(a)
}

pub fn ack(lease: &str) -> Command {
    Command::AckCancel(AckCancelArgs {
        lease_id: lease.into(),
    })
}

pub fn update_child(id: &str, current: ChildStatus, to: ChildStatus) -> Command {
    Command::UpdateChild(UpdateChildArgs {
        child_id: id.into(),
        current,
        to,
        lease_id: None,
    })
}

pub fn attach_sub_run(id: &str) -> Command {
    Command::AttachSubRun(AttachSubRunArgs {
        sub_run_id: id.into(),
    })
}

pub fn add_children(n: usize) -> Command {
    Command::AddChildren(AddChildrenArgs {
        items: (0..n)
            .map(|i| NewChild {
                id: format!("new_{i}"),
                status: ChildStatus::Pending,
            })
            .collect(),
    })
}

/// Applies `cmd` at `at`, panicking with context on refusal (test setup only).
pub fn step(state: &mut RunState, cmd: &Command, at: Millis) -> Decision {
    match apply(state, cmd, at) {
        Ok(d) => d,
        Err(e) => panic!("setup step {cmd:?} refused: {e}"),
    }
}

/// The named states of the transition table, each reached through real commands:
/// lease `L1` (30 s) is claimed at T0+100; cancels happen at T0+200; ends at T0+300.
pub const STATES: [&str; 13] = [
    "pending",
    "queued",
    "running_unclaimed",
    "running",
    "running_expired",
    "waiting_review",
    "waiting_sleep",
    "cancelling",
    "cancelling_due",
    "completed",
    "failed",
    "rejected",
    "cancelled",
];

pub fn state(name: &str) -> RunState {
    let init = match name {
        "pending" => InitialStatus::Pending,
        "running_unclaimed" => InitialStatus::Running,
        _ => InitialStatus::Queued,
    };
    let (mut s, _) = create(&create_cmd(init), T0).expect("create");
    let lease_ms = if name == "running_expired" {
        500
    } else {
        30_000
    };
    match name {
        "pending" | "queued" | "running_unclaimed" => return s,
        _ => {
            step(&mut s, &claim("L1", lease_ms), T0 + 100);
        }
    }
    match name {
        "running" | "running_expired" => {}
        "waiting_review" => {
            step(&mut s, &wait(Some("L1"), WaitReason::HumanReview), T0 + 200);
        }
        "waiting_sleep" => {
            step(&mut s, &wait(Some("L1"), WaitReason::Sleep), T0 + 200);
        }
        "cancelling" => {
            step(
                &mut s,
                &cancel_with(|a| a.grace_ms = Some(30_000)),
                T0 + 200,
            );
        }
        "cancelling_due" => {
            step(&mut s, &cancel_with(|a| a.grace_ms = Some(500)), T0 + 200);
        }
        "completed" => {
            step(&mut s, &complete(Some("L1")), T0 + 300);
        }
        "failed" => {
            step(&mut s, &fail(Some("L1")), T0 + 300);
        }
        "rejected" => {
            step(&mut s, &wait(Some("L1"), WaitReason::HumanReview), T0 + 200);
            step(&mut s, &reject(), T0 + 300);
        }
        "cancelled" => {
            step(
                &mut s,
                &cancel_with(|a| a.grace_ms = Some(30_000)),
                T0 + 200,
            );
            step(&mut s, &ack("L1"), T0 + 300);
        }
        other => panic!("unknown state {other}"),
    }
    s
}

/// One-line description of a decision, as the transition table spells it.
pub fn describe(result: &Result<Decision, CommandError>, state_after: StatusKind) -> String {
    match result {
        Err(e) => format!("error {}", e.code()),
        Ok(d) => {
            let status = state_after.as_str();
            let suffix = match &d.reply {
                Reply::Cancel(r) => Some(outcome_label(&r.outcome)),
                Reply::Executor(r) => match &r.outcome {
                    ExecutorOutcome::Applied => None,
                    ExecutorOutcome::Duplicate => Some("duplicate".to_string()),
                    ExecutorOutcome::Late { .. } => Some("late".to_string()),
                },
                Reply::Deadline(r) => Some(
                    match r.action {
                        DeadlineAction::Nothing => "nothing",
                        DeadlineAction::CancelForced => "cancel_forced",
                        DeadlineAction::LeaseExpired => "lease_expired",
                    }
                    .to_string(),
                ),
                Reply::SubRun(r) => Some(
                    match (r.outcome, r.cancel.is_some()) {
                        (AttachOutcome::Attached, false) => "attached",
                        (AttachOutcome::Attached, true) => "attached(cancel)",
                        (AttachOutcome::AlreadyAttached, false) => "already_attached",
                        (AttachOutcome::AlreadyAttached, true) => "already_attached(cancel)",
                    }
                    .to_string(),
                ),
                Reply::Run(_) | Reply::Children(_) => None,
            };
            match suffix {
                Some(s) => format!("{status} {s}"),
                None => status.to_string(),
            }
        }
    }
}

pub fn outcome_label(o: &CancelOutcome) -> String {
    match o {
        CancelOutcome::CancelledNow { forced: false, .. } => "cancelled_now".into(),
        CancelOutcome::CancelledNow { forced: true, .. } => "cancelled_now(forced)".into(),
        CancelOutcome::Requested { .. } => "requested".into(),
        CancelOutcome::AlreadyRequested { .. } => "already_requested".into(),
        CancelOutcome::AlreadyCancelled { .. } => "already_cancelled".into(),
        CancelOutcome::AlreadyTerminal {
            lost_race: true, ..
        } => "already_terminal(lost_race)".into(),
        CancelOutcome::AlreadyTerminal {
            lost_race: false, ..
        } => "already_terminal(long_ago)".into(),
        CancelOutcome::NotCancellable { .. } => "not_cancellable".into(),
        CancelOutcome::PreconditionFailed { .. } => "precondition_failed".into(),
        CancelOutcome::Replayed { original } => {
            format!("replayed({})", outcome_label(&original.outcome))
        }
    }
}
