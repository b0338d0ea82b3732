//! Stored format v1 must keep loading (T2). Two kinds of fixtures under `tests/fixtures/v1/`:
//!
//! - `states/<name>.json`: a stored `RunState` in every status; each must load, carry `v: 1`,
//!   round-trip to the same JSON, and equal the state today's code reaches the same way.
//! - `logs/<scenario>.json`: a golden event log per lifecycle path with its final state;
//!   `fold(events) == final_state`, and running the scenario's commands today produces the
//!   same events (so behaviour changes show up as fixture diffs).
//!
//! Fixtures change only with an explicit format migration. To regenerate after an intended
//! change: `RUNBRAKE_BLESS=1 cargo test -p runbrake-core --test fixtures`, then review the diff.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use std::path::PathBuf;

use common::*;
use runbrake_core::*;
use serde_json::{Value, json};

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(sub)
}

fn bless() -> bool {
    std::env::var_os("RUNBRAKE_BLESS").is_some()
}

fn write(path: &PathBuf, v: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

fn read(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with RUNBRAKE_BLESS=1 once)", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn stored_states_of_every_status_load_and_round_trip() {
    for name in STATES {
        let path = dir("states").join(format!("{name}.json"));
        let built = serde_json::to_value(state(name)).unwrap();
        if bless() {
            write(&path, &built);
        }
        let stored = read(&path);
        let loaded: RunState = serde_json::from_value(stored.clone())
            .unwrap_or_else(|e| panic!("{name}: stored v1 state no longer loads: {e}"));
        assert_eq!(loaded.v, 1);
        assert_eq!(
            serde_json::to_value(&loaded).unwrap(),
            stored,
            "{name}: round trip"
        );
        assert_eq!(stored, built, "{name}: today's code stores it differently");
    }
}

/// A lifecycle path: the commands (with their times) after `create`.
struct Scenario {
    name: &'static str,
    create: CreateArgs,
    steps: Vec<(Command, Millis)>,
}

fn plain(initial: InitialStatus) -> CreateArgs {
    CreateArgs {
        id: "run_1".into(),
        kind: RunKind::Workflow,
        initial,
        default_grace_ms: None,
        children: None,
        sub_runs: vec![],
    }
}

fn with_id(id: &str) -> Command {
    cancel_with(|a| {
        a.command_id = Some(id.into());
        a.reason = Some("no longer needed".into());
    })
}

fn scenarios() -> Vec<Scenario> {
    use InitialStatus::*;
    let t = |ms: u64| T0 + ms;
    let claimed = |extra: Vec<(Command, Millis)>| {
        let mut v = vec![(claim("L1", 30_000), T0 + 100)];
        v.extend(extra);
        v
    };
    let items = CreateArgs {
        children: Some(ChildrenInit::Items(vec![
            NewChild {
                id: "step_1".into(),
                status: ChildStatus::Completed,
            },
            NewChild {
                id: "step_2".into(),
                status: ChildStatus::Running,
            },
            NewChild {
                id: "step_3".into(),
                status: ChildStatus::Pending,
            },
            NewChild {
                id: "step_4".into(),
                status: ChildStatus::Pending,
            },
        ])),
        ..plain(Queued)
    };
    vec![
        Scenario {
            name: "pending_cancelled_now",
            create: plain(Pending),
            steps: vec![(with_id("c1"), t(1_000))],
        },
        Scenario {
            name: "queued_cancelled_now",
            create: plain(Queued),
            steps: vec![(cancel(), t(1_000))],
        },
        Scenario {
            name: "claim_complete",
            create: plain(Queued),
            steps: claimed(vec![
                (heartbeat("L1"), t(5_000)),
                (complete(Some("L1")), t(9_000)),
            ]),
        },
        Scenario {
            name: "claim_fail",
            create: plain(Queued),
            steps: claimed(vec![(fail(Some("L1")), t(9_000))]),
        },
        Scenario {
            name: "running_unclaimed_complete",
            create: plain(Running),
            steps: vec![(complete(None), t(2_000))],
        },
        Scenario {
            name: "cancel_then_ack",
            create: plain(Queued),
            steps: claimed(vec![
                (with_id("c1"), t(1_000)),
                (heartbeat("L1"), t(2_000)),
                (ack("L1"), t(3_000)),
            ]),
        },
        Scenario {
            name: "deadline_escalation",
            create: plain(Queued),
            steps: claimed(vec![
                (cancel_with(|a| a.grace_ms = Some(10_000)), t(1_000)),
                (Command::DeadlineFired, t(5_000)),
                (Command::DeadlineFired, t(11_000)),
                (Command::DeadlineFired, t(11_500)),
            ]),
        },
        Scenario {
            name: "cancel_after_complete_lost_race",
            create: plain(Queued),
            steps: claimed(vec![
                (complete(Some("L1")), t(1_000)),
                (with_id("c1"), t(2_000)),
            ]),
        },
        Scenario {
            name: "cancel_after_complete_long_ago",
            create: plain(Queued),
            steps: claimed(vec![
                (complete(Some("L1")), t(1_000)),
                (with_id("c1"), t(3_600_000)),
            ]),
        },
        Scenario {
            name: "double_cancel",
            create: plain(Queued),
            steps: claimed(vec![(with_id("c1"), t(1_000)), (with_id("c2"), t(1_500))]),
        },
        Scenario {
            name: "cancel_during_cancelling_replayed",
            create: plain(Queued),
            steps: claimed(vec![
                (with_id("c1"), t(1_000)),
                (with_id("c1"), t(1_200)),
                (cancel(), t(1_300)),
            ]),
        },
        Scenario {
            name: "cancel_after_cancelled",
            create: plain(Queued),
            steps: vec![(with_id("c1"), t(1_000)), (with_id("c2"), t(2_000))],
        },
        Scenario {
            name: "late_completion",
            create: plain(Queued),
            steps: claimed(vec![
                (with_id("c1"), t(1_000)),
                (complete(Some("L1")), t(2_000)),
                (complete(Some("L1")), t(2_500)),
            ]),
        },
        Scenario {
            name: "late_failure",
            create: plain(Queued),
            steps: claimed(vec![
                (with_id("c1"), t(1_000)),
                (fail(Some("L1")), t(2_000)),
            ]),
        },
        Scenario {
            name: "late_completion_after_forced",
            create: plain(Queued),
            steps: claimed(vec![
                (cancel_with(|a| a.grace_ms = Some(1_000)), t(1_000)),
                (Command::DeadlineFired, t(2_000)),
                (complete(Some("L1")), t(4_000)),
            ]),
        },
        Scenario {
            name: "lease_expiry_requeue",
            create: plain(Queued),
            steps: vec![
                (claim("L1", 1_000), t(100)),
                (Command::DeadlineFired, t(1_100)),
                (claim("L2", 30_000), t(2_000)),
                (complete(Some("L2")), t(3_000)),
            ],
        },
        Scenario {
            name: "cancel_with_expired_lease",
            create: plain(Queued),
            steps: vec![(claim("L1", 1_000), t(100)), (cancel(), t(5_000))],
        },
        Scenario {
            name: "human_review_reject",
            create: plain(Queued),
            steps: claimed(vec![
                (wait(Some("L1"), WaitReason::HumanReview), t(1_000)),
                (reject(), t(61_000)),
            ]),
        },
        Scenario {
            name: "human_review_resume_complete",
            create: plain(Queued),
            steps: claimed(vec![
                (wait(Some("L1"), WaitReason::HumanReview), t(1_000)),
                (resume("L2"), t(31_000)),
                (complete(Some("L2")), t(40_000)),
            ]),
        },
        Scenario {
            name: "cancel_while_waiting_on_human",
            create: plain(Queued),
            steps: claimed(vec![
                (wait(Some("L1"), WaitReason::HumanReview), t(1_000)),
                (with_id("c1"), t(11_000)),
            ]),
        },
        Scenario {
            name: "grace_zero_forced",
            create: plain(Queued),
            steps: claimed(vec![(
                cancel_with(|a| {
                    a.command_id = Some("c1".into());
                    a.policy = Dialect::RetabExperiment.policy();
                }),
                t(1_000),
            )]),
        },
        Scenario {
            name: "not_cancellable_needs_review",
            create: plain(Queued),
            steps: claimed(vec![
                (wait(Some("L1"), WaitReason::HumanReview), t(1_000)),
                (
                    cancel_with(|a| {
                        a.command_id = Some("c1".into());
                        a.policy = Dialect::ExtendWorkflow.policy();
                    }),
                    t(2_000),
                ),
            ]),
        },
        Scenario {
            name: "precondition_failed",
            create: plain(Queued),
            steps: claimed(vec![(
                cancel_with(|a| {
                    a.command_id = Some("c1".into());
                    a.if_version = Some(1);
                }),
                t(1_000),
            )]),
        },
        Scenario {
            name: "children_cascade",
            create: items,
            steps: claimed(vec![
                (
                    update_child("step_3", ChildStatus::Pending, ChildStatus::Running),
                    t(500),
                ),
                (add_children(1), t(600)),
                (with_id("c1"), t(1_000)),
                (
                    update_child("step_2", ChildStatus::Cancelling, ChildStatus::Completed),
                    t(1_500),
                ),
                (ack("L1"), t(2_000)),
            ]),
        },
        Scenario {
            name: "sub_runs_cascade",
            create: CreateArgs {
                sub_runs: vec!["sub_1".into(), "sub_2".into()],
                default_grace_ms: Some(5_000),
                ..plain(Queued)
            },
            steps: claimed(vec![
                (with_id("c1"), t(1_000)),
                (Command::DeadlineFired, t(6_000)),
            ]),
        },
        Scenario {
            name: "sub_runs_attached_late",
            create: CreateArgs {
                sub_runs: vec!["sub_1".into()],
                ..plain(Queued)
            },
            steps: vec![
                (attach_sub_run("sub_2"), t(500)),
                (with_id("c1"), t(1_000)),
                (attach_sub_run("sub_3"), t(2_000)),
                (attach_sub_run("sub_3"), t(2_500)),
            ],
        },
    ]
}

fn run(s: &Scenario) -> (Vec<EventRecord>, RunState, Vec<Value>) {
    let (mut state, d) = create(&s.create, T0).unwrap();
    let mut events = d.events;
    let mut replies = vec![serde_json::to_value(&d.reply).unwrap()];
    for (cmd, at) in &s.steps {
        let d = apply(&mut state, cmd, *at)
            .unwrap_or_else(|e| panic!("{}: {cmd:?} refused: {e}", s.name));
        events.extend(d.events);
        replies.push(serde_json::to_value(&d.reply).unwrap());
    }
    (events, state, replies)
}

#[test]
fn golden_event_logs_fold_to_their_final_state() {
    let all = scenarios();
    assert!(all.len() >= 20);
    for s in &all {
        let path = dir("logs").join(format!("{}.json", s.name));
        let (events, state, replies) = run(s);
        let built = json!({
            "name": s.name,
            "events": events,
            "replies": replies,
            "final_state": state,
        });
        if bless() {
            write(&path, &built);
        }
        let stored = read(&path);
        let log: Vec<EventRecord> = serde_json::from_value(stored["events"].clone())
            .unwrap_or_else(|e| panic!("{}: stored events no longer load: {e}", s.name));
        let expected: RunState = serde_json::from_value(stored["final_state"].clone()).unwrap();
        assert_eq!(
            fold(&log).unwrap(),
            expected,
            "{}: fold(log) != final state",
            s.name
        );
        assert_eq!(
            stored, built,
            "{}: today's code decides this path differently",
            s.name
        );
    }
}

#[test]
fn golden_logs_cover_the_paths_users_ask_about() {
    let names: Vec<&str> = scenarios().iter().map(|s| s.name).collect();
    for required in [
        "cancel_after_complete_lost_race",
        "double_cancel",
        "cancel_during_cancelling_replayed",
        "deadline_escalation",
        "late_completion",
        "lease_expiry_requeue",
    ] {
        assert!(names.contains(&required), "{required}");
    }
    // Every terminal status is reached by some fixture.
    let finals: Vec<StatusKind> = scenarios().iter().map(|s| run(s).1.status_kind()).collect();
    for k in [
        StatusKind::Completed,
        StatusKind::Failed,
        StatusKind::Rejected,
        StatusKind::Cancelled,
    ] {
        assert!(finals.contains(&k), "{k:?}");
    }
}
