//! Cancel semantics, one user-visible promise per test.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use runbrake_core::*;

const NOW: Millis = T0 + 1_000;

fn cancel_reply(d: &Decision) -> &CancelReply {
    match &d.reply {
        Reply::Cancel(r) => r,
        other => panic!("not a cancel reply: {other:?}"),
    }
}

fn with_id(id: &str) -> Command {
    cancel_with(|a| {
        a.command_id = Some(id.into());
        a.reason = Some("user asked".into());
    })
}

#[test]
fn repeated_command_id_replays_the_first_reply_without_events() {
    let mut s = state("running");
    let first = step(&mut s, &with_id("k1"), NOW);
    let first_reply = cancel_reply(&first).clone();
    assert!(matches!(
        first_reply.outcome,
        CancelOutcome::Requested { .. }
    ));
    // The run moves on (the executor acks) and the client retries.
    step(&mut s, &ack("L1"), NOW + 10);
    let before = s.clone();
    let again = step(&mut s, &with_id("k1"), NOW + 20);
    assert!(again.events.is_empty() && again.effects.is_empty());
    assert_eq!(s, before);
    match &cancel_reply(&again).outcome {
        CancelOutcome::Replayed { original } => assert_eq!(**original, first_reply),
        other => panic!("expected replayed, got {other:?}"),
    }
    assert_eq!(cancel_reply(&again).status, StatusKind::Cancelled);
}

#[test]
fn same_command_id_with_other_parameters_is_a_conflict() {
    let mut s = state("running");
    step(&mut s, &with_id("k1"), NOW);
    let other = cancel_with(|a| {
        a.command_id = Some("k1".into());
        a.reason = Some("something else".into());
    });
    let err = decide(&s, &other, NOW).unwrap_err();
    assert_eq!(err.code(), "idempotency_conflict");
    // `by` is not part of the request's identity.
    let other_caller = cancel_with(|a| {
        a.command_id = Some("k1".into());
        a.reason = Some("user asked".into());
        a.by.source = Source::Dashboard;
    });
    assert!(decide(&s, &other_caller, NOW).is_ok());
}

#[test]
fn refusals_with_a_command_id_are_recorded_and_replayed_unchanged() {
    let extend = CancelPolicy::for_dialect(Dialect::ExtendWorkflow);
    let mut s = state("waiting_review");
    let cmd = cancel_with(|a| {
        a.command_id = Some("k1".into());
        a.policy = extend.clone();
    });
    let first = step(&mut s, &cmd, NOW);
    assert_eq!(
        cancel_reply(&first).outcome,
        CancelOutcome::NotCancellable {
            state: StatusKind::Waiting
        }
    );
    assert_eq!(first.events.len(), 1, "only the receipt is logged");
    // The run becomes cancellable under that policy; the retry still gets the first answer.
    step(&mut s, &resume("L2"), NOW + 1);
    let again = step(&mut s, &cmd, NOW + 2);
    assert_eq!(s.status_kind(), StatusKind::Running);
    match &cancel_reply(&again).outcome {
        CancelOutcome::Replayed { original } => {
            assert_eq!(**original, *cancel_reply(&first))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn at_most_one_thousand_command_ids_per_run() {
    let mut s = state("cancelled");
    for i in 0..1_000 {
        step(&mut s, &with_id(&format!("k{i}")), NOW + i);
    }
    let err = decide(&s, &with_id("k-new"), NOW + 2_000).unwrap_err();
    assert_eq!(err.code(), "too_many_commands");
    // Known ids still replay.
    let d = decide(&s, &with_id("k7"), NOW + 2_000).unwrap();
    assert!(matches!(
        cancel_reply(&d).outcome,
        CancelOutcome::Replayed { .. }
    ));
}

#[test]
fn exactly_one_cancel_requested_event_however_many_cancels() {
    let mut s = state("running");
    let mut log = Vec::new();
    for i in 0..5 {
        log.extend(step(&mut s, &with_id(&format!("k{i}")), NOW + i).events);
        log.extend(step(&mut s, &cancel(), NOW + i).events);
    }
    let requested = log
        .iter()
        .filter(|r| matches!(r.event, Event::CancelRequested { .. }))
        .count();
    assert_eq!(requested, 1);
}

#[test]
fn preconditions_are_checked_after_terminal_and_before_policy() {
    let s = state("running");
    let d = decide(
        &s,
        &cancel_with(|a| a.if_version = Some(s.version + 5)),
        NOW,
    )
    .unwrap();
    assert_eq!(
        cancel_reply(&d).outcome,
        CancelOutcome::PreconditionFailed {
            expected_status_in: None,
            expected_version: Some(s.version + 5),
            actual_status: StatusKind::Running,
            actual_version: s.version,
        }
    );
    assert!(d.events.is_empty());
    let d = decide(
        &s,
        &cancel_with(|a| a.if_status_in = Some(vec![StatusKind::Queued, StatusKind::Pending])),
        NOW,
    )
    .unwrap();
    assert!(matches!(
        cancel_reply(&d).outcome,
        CancelOutcome::PreconditionFailed { .. }
    ));
    let d = decide(&s, &cancel_with(|a| a.if_version = Some(s.version)), NOW).unwrap();
    assert!(matches!(
        cancel_reply(&d).outcome,
        CancelOutcome::Requested { .. }
    ));
    // A finished run says so even when the precondition would fail.
    let done = state("completed");
    let d = decide(&done, &cancel_with(|a| a.if_version = Some(0)), NOW).unwrap();
    assert!(matches!(
        cancel_reply(&d).outcome,
        CancelOutcome::AlreadyTerminal { .. }
    ));
}

#[test]
fn live_lease_gets_a_deadline_and_the_executor_is_told() {
    let s = state("running");
    let d = decide(&s, &cancel_with(|a| a.grace_ms = Some(10_000)), NOW).unwrap();
    let deadline = NOW + 10_000;
    assert_eq!(
        cancel_reply(&d).outcome,
        CancelOutcome::Requested { deadline }
    );
    assert_eq!(cancel_reply(&d).deadline, Some(deadline));
    assert!(d.effects.contains(&Effect::NotifyExecutor {
        lease_id: "L1".into(),
        executor: "exec-L1".into(),
        deadline,
    }));
    assert!(d.effects.contains(&Effect::EmitWebhook {
        event: WebhookEvent::RunCancelRequested
    }));
    let last = d.events.last().unwrap().seq;
    assert!(d.effects.contains(&Effect::UpdateIndex {
        status: StatusKind::Cancelling,
        wait_reason: None,
        version: last,
    }));
    // The alarm is set to the deadline (the lease outlives it).
    assert_eq!(d.next_deadline, Some(deadline));
}

#[test]
fn grace_comes_from_policy_then_command_then_run_then_thirty_seconds() {
    let s = state("running");
    let deadline_of =
        |cmd: &Command, s: &RunState| match cancel_reply(&decide(s, cmd, NOW).unwrap()).outcome {
            CancelOutcome::Requested { deadline } => deadline - NOW,
            ref o => panic!("{o:?}"),
        };
    assert_eq!(deadline_of(&cancel(), &s), 30_000);
    let mut with_default = s.clone();
    with_default.default_grace_ms = Some(5_000);
    assert_eq!(deadline_of(&cancel(), &with_default), 5_000);
    assert_eq!(
        deadline_of(&cancel_with(|a| a.grace_ms = Some(7_000)), &with_default),
        7_000
    );
    let fixed = cancel_with(|a| {
        a.grace_ms = Some(7_000);
        a.policy.grace = Grace::Fixed(2_000);
    });
    assert_eq!(deadline_of(&fixed, &with_default), 2_000);
}

#[test]
fn grace_zero_cancels_at_once_forced_and_revokes_the_lease() {
    let mut s = state("running");
    let policy = CancelPolicy::for_dialect(Dialect::RetabWorkflowTest);
    let d = step(&mut s, &cancel_with(|a| a.policy = policy.clone()), NOW);
    assert_eq!(
        cancel_reply(&d).outcome,
        CancelOutcome::CancelledNow {
            effective_at: NOW,
            forced: true
        }
    );
    assert!(d.effects.contains(&Effect::NotifyExecutor {
        lease_id: "L1".into(),
        executor: "exec-L1".into(),
        deadline: NOW,
    }));
    assert_eq!(d.next_deadline, None);
    // Every child is final: "in-flight children follow" the run into cancelled.
    assert_eq!(s.children.in_flight(), 0);
    assert_eq!(s.children.cancelled, 3);
    assert_eq!(
        decide(&s, &heartbeat("L1"), NOW + 1).unwrap_err().code(),
        "lease_revoked"
    );
}

#[test]
fn cancel_cascades_to_children_and_counts_add_up() {
    let mut s = state("running");
    let d = step(&mut s, &cancel(), NOW);
    let r = cancel_reply(&d);
    assert_eq!(
        r.children,
        ChildCounts {
            cancelled: 2,
            cancelling: 1,
            ..ChildCounts::default()
        }
    );
    assert!(d.events.iter().any(|e| e.event
        == Event::ChildrenCancelled {
            from: ChildStatus::Pending,
            count: 2
        }));
    assert!(
        d.events
            .iter()
            .any(|e| e.event == Event::ChildrenCancelling { count: 1 })
    );
    // No child may start now; the in-flight one may still finish.
    let start = update_child("c1", ChildStatus::Cancelling, ChildStatus::Running);
    assert_eq!(
        decide(&s, &start, NOW).unwrap_err().code(),
        "child_transition_refused"
    );
    step(&mut s, &ack("L1"), NOW + 1);
    assert_eq!(
        s.children,
        ChildCounts {
            cancelled: 3,
            ..ChildCounts::default()
        }
    );
}

#[test]
fn cancel_cascades_to_sub_runs_with_stable_command_ids() {
    let mut args = create_cmd(InitialStatus::Queued);
    args.sub_runs = vec!["sub_a".into(), "sub_b".into()];
    let (s, _) = create(&args, T0).unwrap();
    let d = decide(&s, &with_id("k9"), NOW).unwrap();
    let cascades: Vec<_> = d
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::CascadeCancel {
                sub_run_id,
                command_id,
                grace_ms,
                by,
                ..
            } => Some((
                sub_run_id.clone(),
                command_id.clone(),
                *grace_ms,
                by.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(cascades.len(), 2);
    for (i, sub) in ["sub_a", "sub_b"].iter().enumerate() {
        assert_eq!(cascades[i].0, *sub);
        assert_eq!(cascades[i].1, "k9:cascade");
        assert_eq!(cascades[i].2, 30_000);
        assert_eq!(cascades[i].3.source, Source::Cascade);
    }
    // Without a command id the derived id names the run and the event seq: still deterministic.
    let a = decide(&s, &cancel(), NOW).unwrap();
    let b = decide(&s, &cancel(), NOW + 5).unwrap();
    let id_of = |d: &Decision| {
        d.effects.iter().find_map(|e| match e {
            Effect::CascadeCancel { command_id, .. } => Some(command_id.clone()),
            _ => None,
        })
    };
    assert_eq!(id_of(&a), id_of(&b));
    assert_eq!(
        id_of(&a).unwrap(),
        format!("run_1@{}:cascade", s.version + 1)
    );
}

#[test]
fn late_completion_never_undoes_the_cancel_and_is_logged_once() {
    let mut s = state("cancelling");
    let d = step(&mut s, &complete(Some("L1")), NOW);
    assert_eq!(s.status_kind(), StatusKind::Cancelled);
    assert!(matches!(s.status, Status::Cancelled { forced: false, .. }));
    assert!(matches!(d.events[0].event, Event::LateCompletion { .. }));
    let again = step(&mut s, &complete(Some("L1")), NOW + 1);
    assert!(again.events.is_empty(), "logged only once");
    match &again.reply {
        Reply::Executor(r) => assert_eq!(
            r.outcome,
            ExecutorOutcome::Late {
                state: StatusKind::Cancelled,
                since: NOW,
                recorded: false
            }
        ),
        other => panic!("{other:?}"),
    }
    // Someone else's completion is refused outright.
    assert_eq!(
        decide(&s, &complete(Some("L9")), NOW).unwrap_err().code(),
        "lease_revoked"
    );
}

#[test]
fn heartbeat_tells_the_executor_about_the_cancel() {
    let s = state("cancelling");
    let d = decide(&s, &heartbeat("L1"), NOW).unwrap();
    match d.reply {
        Reply::Executor(r) => {
            assert!(r.cancel_requested);
            assert_eq!(r.deadline, Some(T0 + 200 + 30_000));
            assert_eq!(r.status, StatusKind::Cancelling);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn deadline_escalation_is_forced_and_idempotent() {
    let mut s = state("cancelling");
    let early = step(&mut s, &Command::DeadlineFired, T0 + 5_000);
    assert!(early.events.is_empty());
    assert_eq!(
        early.next_deadline,
        Some(T0 + 30_100),
        "lease expires before the deadline"
    );
    let due = step(&mut s, &Command::DeadlineFired, T0 + 30_100);
    assert!(matches!(s.status, Status::Cancelled { forced: true, .. }));
    assert!(due.effects.contains(&Effect::EmitWebhook {
        event: WebhookEvent::RunCancelled
    }));
    assert_eq!(due.next_deadline, None);
    let twice = step(&mut s, &Command::DeadlineFired, T0 + 30_200);
    assert!(twice.events.is_empty() && twice.effects.is_empty());
}

#[test]
fn expired_lease_goes_back_to_queue_and_is_revoked_forever() {
    let mut s = state("running_expired");
    step(&mut s, &Command::DeadlineFired, NOW);
    assert_eq!(s.status_kind(), StatusKind::Queued);
    assert_eq!(
        decide(&s, &complete(Some("L1")), NOW).unwrap_err().code(),
        "lease_revoked"
    );
    assert_eq!(
        decide(&s, &claim("L1", 1_000), NOW).unwrap_err().code(),
        "invalid_argument"
    );
    step(&mut s, &claim("L2", 1_000), NOW);
    assert_eq!(s.status_kind(), StatusKind::Running);
}

#[test]
fn timing_counts_human_waiting_and_a_cancel_closes_it() {
    let mut s = state("running"); // started at T0+100
    step(
        &mut s,
        &wait(Some("L1"), WaitReason::HumanReview),
        T0 + 1_100,
    );
    assert_eq!(s.timing.human_waiting_started_at, Some(T0 + 1_100));
    step(&mut s, &resume("L2"), T0 + 3_100);
    assert_eq!(s.timing.accumulated_human_waiting_ms, 2_000);
    step(
        &mut s,
        &wait(Some("L2"), WaitReason::HumanReview),
        T0 + 4_100,
    );
    // While waiting, the open interval counts.
    assert_eq!(s.timing.human_waiting_ms(T0 + 5_100), 3_000);
    step(&mut s, &cancel(), T0 + 6_100);
    assert_eq!(s.timing.human_waiting_started_at, None);
    assert_eq!(s.timing.accumulated_human_waiting_ms, 4_000);
    assert_eq!(s.timing.completed_at, Some(T0 + 6_100));
    assert_eq!(s.duration_ms(T0 + 99_999), Some(6_000));
    assert_eq!(s.active_duration_ms(T0 + 99_999), Some(2_000));
    // A run cancelled before it ever started has no duration.
    let mut q = state("queued");
    step(&mut q, &cancel(), NOW);
    assert_eq!(q.duration_ms(NOW + 10), None);
}

#[test]
fn a_clock_that_steps_back_never_breaks_timing() {
    let mut s = state("running");
    let d = step(&mut s, &complete(Some("L1")), T0 - 50_000);
    assert_eq!(d.events[0].at, T0 + 100, "decided at the last event's time");
    assert!(s.timing.started_at <= s.timing.completed_at);
}

#[test]
fn decide_is_pure_and_apply_matches_evolve() {
    let s = state("running");
    let copy = s.clone();
    let d = decide(&s, &cancel(), NOW).unwrap();
    assert_eq!(s, copy);
    let mut evolved = s.clone();
    for e in &d.events {
        evolve(&mut evolved, e).unwrap();
    }
    let mut applied = s.clone();
    apply(&mut applied, &cancel(), NOW).unwrap();
    assert_eq!(evolved, applied);
    // Events must be applied in order.
    let mut wrong = s.clone();
    assert!(matches!(
        evolve(&mut wrong, &d.events[1]),
        Err(EvolveError::OutOfOrder { .. })
    ));
    assert_eq!(wrong, s);
}

#[test]
fn can_cancel_agrees_with_decide_in_every_state_and_policy() {
    let policies: Vec<CancelPolicy> = std::iter::once(CancelPolicy::native())
        .chain(Dialect::ALL.iter().map(|d| d.policy()))
        .collect();
    for name in STATES {
        let s = state(name);
        for p in &policies {
            let d = decide(&s, &cancel_with(|a| a.policy = p.clone()), NOW).unwrap();
            let effective = matches!(
                cancel_reply(&d).outcome,
                CancelOutcome::CancelledNow { .. } | CancelOutcome::Requested { .. }
            );
            let shown = can_cancel(&s, p);
            assert_eq!(shown, effective, "{name} {p:?}");
        }
    }
}
