//! One `check_*` per fuzz target. Each takes the raw input, never returns an error, and panics
//! (a crash libFuzzer saves) when the code under test panics or breaks an invariant.

pub mod body;
pub mod core_sequence;
pub mod ids;
pub mod ws_message;

use std::sync::OnceLock;

use runbrake_core::{
    By, CancelArgs, ChildStatus, ChildrenInit, ClaimArgs, Command, CompleteArgs, CreateArgs,
    EventRecord, FailArgs, InitialStatus, Millis, NewChild, RejectArgs, RunKind, RunState, Source,
    WaitArgs, WaitReason, apply, create,
};

pub use body::check_body;
pub use core_sequence::check_core_sequence;
pub use ids::check_ids;
pub use ws_message::check_ws_message;

/// Every target, by the name of its fuzz binary and its corpus folder.
pub const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("body", check_body),
    ("core_sequence", check_core_sequence),
    ("ids", check_ids),
    ("ws_message", check_ws_message),
];

/// 2026-05-01T14:30:00Z, the fixtures' clock.
pub const T0: Millis = 1_777_645_800_000;
pub const LEASE: &str = "lease_fixture";

/// A run of every status (and every wait reason), with children in every bucket, and its log.
pub struct Fixture {
    pub name: &'static str,
    pub state: RunState,
    pub log: Vec<EventRecord>,
}

fn build(name: &'static str, kind: RunKind, initial: InitialStatus, then: &[Command]) -> Fixture {
    // Every bucket a new child may start in (`cancelling` is reached only by a cancel).
    let items = ChildStatus::ALL
        .iter()
        .filter(|s| **s != ChildStatus::Cancelling)
        .enumerate()
        .map(|(i, s)| NewChild {
            id: format!("child_{i}"),
            status: *s,
        })
        .collect();
    let args = CreateArgs {
        id: format!("run_{name}"),
        kind,
        initial,
        default_grace_ms: None,
        children: Some(ChildrenInit::Items(items)),
        sub_runs: vec!["run_sub_a".to_owned()],
    };
    let (mut state, d) = create(&args, T0).expect("fixture create");
    let mut log = d.events;
    for (i, c) in then.iter().enumerate() {
        let d = apply(&mut state, c, T0 + 1 + i as u64).expect("fixture command");
        log.extend(d.events);
    }
    Fixture { name, state, log }
}

fn claim() -> Command {
    Command::Claim(ClaimArgs {
        executor: "exec_fixture".to_owned(),
        lease_id: LEASE.to_owned(),
        lease_ms: 60_000,
    })
}

fn wait(reason: WaitReason) -> Command {
    Command::Wait(WaitArgs {
        lease_id: Some(LEASE.to_owned()),
        reason,
    })
}

fn cancel(grace: u64) -> Command {
    let mut a = CancelArgs::new(By {
        source: Source::Api,
        actor: Some("key_fixture".to_owned()),
    });
    a.command_id = Some("fixture-cancel".to_owned());
    a.reason = Some("fixture".to_owned());
    a.grace_ms = Some(grace);
    Command::Cancel(a)
}

/// The fixtures, built once per process.
pub fn fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let lease = Some(LEASE.to_owned());
        let mut all = Vec::new();
        for kind in [
            RunKind::Workflow,
            RunKind::WorkflowTest,
            RunKind::Experiment,
            RunKind::ExtendWorkflow,
            RunKind::Generic,
        ] {
            all.extend([
                build("pending", kind, InitialStatus::Pending, &[]),
                build("queued", kind, InitialStatus::Queued, &[]),
                build("running_unclaimed", kind, InitialStatus::Running, &[]),
                build("running", kind, InitialStatus::Queued, &[claim()]),
                build(
                    "waiting_review",
                    kind,
                    InitialStatus::Queued,
                    &[claim(), wait(WaitReason::HumanReview)],
                ),
                build(
                    "waiting_sleep",
                    kind,
                    InitialStatus::Queued,
                    &[claim(), wait(WaitReason::Sleep)],
                ),
                build(
                    "cancelling",
                    kind,
                    InitialStatus::Queued,
                    &[claim(), cancel(30_000)],
                ),
                build(
                    "completed",
                    kind,
                    InitialStatus::Queued,
                    &[
                        claim(),
                        Command::Complete(CompleteArgs {
                            lease_id: lease.clone(),
                            output: None,
                        }),
                    ],
                ),
                build(
                    "failed",
                    kind,
                    InitialStatus::Queued,
                    &[
                        claim(),
                        Command::Fail(FailArgs {
                            lease_id: lease.clone(),
                            message: "fixture failure".to_owned(),
                            code: Some("E_FIXTURE".to_owned()),
                        }),
                    ],
                ),
                build(
                    "rejected",
                    kind,
                    InitialStatus::Queued,
                    &[
                        claim(),
                        wait(WaitReason::HumanReview),
                        Command::Reject(RejectArgs {
                            note: Some("fixture".to_owned()),
                        }),
                    ],
                ),
                build(
                    "cancelled",
                    kind,
                    InitialStatus::Queued,
                    &[claim(), cancel(0)],
                ),
            ]);
        }
        all
    })
}

/// Applies `command` to `state` at `now` the way the RunObject does, and checks what every
/// decision must satisfy: `decide` is pure and deterministic, never `corrupt`, its events are
/// numbered from the state's version and fold onto the state to give exactly the state `apply`
/// returns, and a terminal run stays in its terminal status.
pub fn decide_checked(state: &RunState, command: &Command, now: Millis) -> Option<RunState> {
    let before = state.clone();
    let first = runbrake_core::decide(state, command, now);
    assert_eq!(*state, before, "decide changed its input");
    let again = runbrake_core::decide(state, command, now);
    assert_eq!(first, again, "decide is not deterministic");
    let mut applied = state.clone();
    let via_apply = apply(&mut applied, command, now);
    assert_eq!(first, via_apply, "apply and decide disagree");
    match first {
        Err(runbrake_core::CommandError::Corrupt { detail }) => {
            panic!("decide produced a decision its own state refuses: {detail:?} for {command:?}")
        }
        Err(_) => {
            assert_eq!(applied, before, "a refused command changed the state");
            None
        }
        Ok(d) => {
            let mut folded = state.clone();
            for (i, e) in d.events.iter().enumerate() {
                assert_eq!(e.seq, state.version + 1 + i as u64, "event seq");
                runbrake_core::evolve(&mut folded, e).expect("the decision's own events apply");
            }
            assert_eq!(folded, applied, "events fold to another state than apply's");
            if state.is_terminal() {
                assert_eq!(
                    applied.status_kind(),
                    state.status_kind(),
                    "a terminal run changed status"
                );
            }
            if applied.status.cancel_deadline().is_some() {
                assert!(
                    applied.next_deadline().is_some(),
                    "cancelling without an alarm"
                );
            }
            let json = serde_json::to_string(&applied).expect("state serializes");
            let back: RunState = serde_json::from_str(&json).expect("state deserializes");
            assert_eq!(back, applied, "state serde round trip");
            Some(applied)
        }
    }
}
