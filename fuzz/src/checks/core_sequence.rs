//! Target (b): the core's `decide`/`evolve` over an `Arbitrary` run and command sequence.
//!
//! Ids, leases and `command_id`s come from small alphabets so that repeats (a duplicate cancel,
//! a stale lease, a reused lease id) are common; numbers (grace, lease length, versions, clock
//! steps, child counts) are raw so that the edges (0, `u64::MAX`) are reached. Besides what
//! [`super::decide_checked`] asserts for every decision, after every step:
//! - the log's seqs are 1..=n and `fold(log)` equals the live state (replay = live);
//! - at most one `cancel_requested` and one terminal event in the whole log;
//! - one `cancel_recorded` per `command_id`, and a repeated `command_id` with the same
//!   parameters is answered with the receipt's reply;
//! - the children counts add up to the children the run was given.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use runbrake_core::{
    AckCancelArgs, AddChildrenArgs, AttachSubRunArgs, By, CancelArgs, CancelOutcome, CancelPolicy,
    ChildCounts, ChildStatus, ChildrenInit, ClaimArgs, Command, CompleteArgs, CreateArgs, Dialect,
    Event, EventRecord, FailArgs, Grace, HeartbeatArgs, InitialStatus, NewChild, PolicyState,
    RejectArgs, Reply, ResumeArgs, RunKind, RunState, Source, StatusKind, UpdateChildArgs,
    WaitArgs, WaitReason, create, fold,
};

use super::{T0, decide_checked};

#[derive(Debug, Arbitrary)]
struct Scenario {
    kind: u8,
    initial: u8,
    default_grace_ms: Option<u64>,
    children: Children,
    sub_runs: u8,
    steps: Vec<Step>,
}

#[derive(Debug, Arbitrary)]
enum Children {
    None,
    Items(Vec<u8>),
    Counts([u32; 6]),
    Huge([u64; 6]),
}

#[derive(Debug, Arbitrary)]
struct Step {
    /// Clock move before the command; `back` moves it backwards instead.
    dt: u32,
    back: bool,
    op: Op,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Enqueue,
    Claim {
        lease: u8,
        ms: u64,
    },
    Heartbeat {
        lease: u8,
        ms: Option<u64>,
    },
    Wait {
        lease: Option<u8>,
        reason: u8,
    },
    Resume {
        lease: u8,
        ms: u64,
    },
    Complete {
        lease: Option<u8>,
    },
    Fail {
        lease: Option<u8>,
        code: bool,
    },
    Reject {
        note: bool,
    },
    Cancel(CancelOp),
    AckCancel {
        lease: u8,
    },
    DeadlineFired,
    AddChildren {
        items: Vec<(u8, u8)>,
    },
    UpdateChild {
        child: u8,
        current: u8,
        to: u8,
        lease: Option<u8>,
    },
    AttachSubRun {
        n: u8,
    },
    /// Serialize and reload the state, as an evicted Durable Object does.
    Evict,
}

#[derive(Debug, Arbitrary)]
struct CancelOp {
    id: Option<u8>,
    reason: Option<u8>,
    grace_ms: Option<u64>,
    if_status_in: Option<Vec<u8>>,
    if_version: Option<u64>,
    policy: Option<PolicyOp>,
    source: u8,
}

#[derive(Debug, Arbitrary)]
enum PolicyOp {
    Dialect(u8),
    Custom { states: Vec<u8>, grace: Option<u64> },
}

fn pick<T: Copy>(all: &[T], i: u8) -> T {
    all[usize::from(i) % all.len()]
}

const KINDS: [RunKind; 5] = [
    RunKind::Workflow,
    RunKind::WorkflowTest,
    RunKind::Experiment,
    RunKind::ExtendWorkflow,
    RunKind::Generic,
];
const REASONS: [WaitReason; 3] = [
    WaitReason::HumanReview,
    WaitReason::Sleep,
    WaitReason::Event,
];
const SOURCES: [Source; 4] = [
    Source::Api,
    Source::Dashboard,
    Source::Cascade,
    Source::Bulk,
];

fn lease(i: u8) -> String {
    format!("lease_{}", i % 4)
}

fn policy_states() -> Vec<PolicyState> {
    PolicyState::ALL.to_vec()
}

impl CancelOp {
    fn args(&self) -> CancelArgs {
        let mut a = CancelArgs::new(By {
            source: pick(&SOURCES, self.source),
            actor: Some("key_fuzz".to_owned()),
        });
        a.command_id = self.id.map(|i| format!("cmd_{}", i % 3));
        a.reason = self.reason.map(|r| format!("reason {}", r % 2));
        a.grace_ms = self.grace_ms;
        a.if_status_in = self
            .if_status_in
            .as_ref()
            .map(|v| v.iter().map(|s| pick(&StatusKind::ALL, *s)).collect());
        a.if_version = self.if_version;
        if let Some(p) = &self.policy {
            a.policy = match p {
                PolicyOp::Dialect(d) => pick(&Dialect::ALL, *d).policy(),
                PolicyOp::Custom { states, grace } => CancelPolicy {
                    cancellable: states.iter().map(|s| pick(&policy_states(), *s)).collect(),
                    grace: grace.map_or(Grace::Default, Grace::Fixed),
                },
            };
        }
        a
    }
}

impl Op {
    fn command(&self) -> Option<Command> {
        Some(match self {
            Op::Enqueue => Command::Enqueue,
            Op::Claim { lease: l, ms } => Command::Claim(ClaimArgs {
                executor: "exec_fuzz".to_owned(),
                lease_id: lease(*l),
                lease_ms: *ms,
            }),
            Op::Heartbeat { lease: l, ms } => Command::Heartbeat(HeartbeatArgs {
                lease_id: lease(*l),
                lease_ms: *ms,
            }),
            Op::Wait { lease: l, reason } => Command::Wait(WaitArgs {
                lease_id: l.map(lease),
                reason: pick(&REASONS, *reason),
            }),
            Op::Resume { lease: l, ms } => Command::Resume(ResumeArgs {
                executor: "exec_fuzz".to_owned(),
                lease_id: lease(*l),
                lease_ms: *ms,
            }),
            Op::Complete { lease: l } => Command::Complete(CompleteArgs {
                lease_id: l.map(lease),
                output: Some(serde_json::json!({ "ok": true })),
            }),
            Op::Fail { lease: l, code } => Command::Fail(FailArgs {
                lease_id: l.map(lease),
                message: "fuzz failure".to_owned(),
                code: code.then(|| "E_FUZZ".to_owned()),
            }),
            Op::Reject { note } => Command::Reject(RejectArgs {
                note: note.then(|| "no".to_owned()),
            }),
            Op::Cancel(c) => Command::Cancel(c.args()),
            Op::AckCancel { lease: l } => Command::AckCancel(AckCancelArgs {
                lease_id: lease(*l),
            }),
            Op::DeadlineFired => Command::DeadlineFired,
            Op::AddChildren { items } => Command::AddChildren(AddChildrenArgs {
                items: items
                    .iter()
                    .map(|(id, s)| NewChild {
                        id: format!("child_{}", id % 16),
                        status: pick(&ChildStatus::ALL, *s),
                    })
                    .collect(),
            }),
            Op::UpdateChild {
                child,
                current,
                to,
                lease: l,
            } => Command::UpdateChild(UpdateChildArgs {
                child_id: format!("child_{}", child % 16),
                current: pick(&ChildStatus::ALL, *current),
                to: pick(&ChildStatus::ALL, *to),
                lease_id: l.map(lease),
            }),
            Op::AttachSubRun { n } => Command::AttachSubRun(AttachSubRunArgs {
                sub_run_id: format!("run_sub_{}", n % 5),
            }),
            Op::Evict => return None,
        })
    }
}

fn children_init(c: &Children) -> Option<ChildrenInit> {
    let counts = |v: [u64; 6]| ChildCounts {
        pending: v[0],
        running: v[1],
        cancelling: v[2],
        completed: v[3],
        failed: v[4],
        cancelled: v[5],
    };
    match c {
        Children::None => None,
        Children::Items(v) => Some(ChildrenInit::Items(
            v.iter()
                .enumerate()
                .map(|(i, s)| NewChild {
                    id: format!("child_{i}"),
                    status: pick(&ChildStatus::ALL, *s),
                })
                .collect(),
        )),
        Children::Counts(v) => Some(ChildrenInit::Counts(counts(v.map(u64::from)))),
        Children::Huge(v) => Some(ChildrenInit::Counts(counts(*v))),
    }
}

/// The log-wide invariants (see the module docs).
fn check_log(log: &[EventRecord], live: &RunState) {
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1, "seq gap or repeat in the log");
    }
    assert_eq!(
        live.version,
        log.len() as u64,
        "version is not the last seq"
    );
    let folded = fold(log).expect("the log folds");
    assert_eq!(
        &folded, live,
        "replay of the log differs from the live state"
    );
    let count = |f: fn(&Event) -> bool| log.iter().filter(|r| f(&r.event)).count();
    assert!(
        count(|e| matches!(e, Event::CancelRequested { .. })) <= 1,
        "two cancel_requested events"
    );
    assert!(
        count(|e| matches!(
            e,
            Event::Completed { .. }
                | Event::Failed { .. }
                | Event::Rejected { .. }
                | Event::Cancelled { .. }
        )) <= 1,
        "two terminal events"
    );
    let mut receipts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in log {
        if let Event::CancelRecorded { command_id, .. } = &r.event {
            let n = receipts.entry(command_id).or_default();
            *n += 1;
            assert_eq!(*n, 1, "two receipts for {command_id}");
        }
    }
}

pub fn check_core_sequence(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(s) = Scenario::arbitrary(&mut u) else {
        return;
    };
    let args = CreateArgs {
        id: "run_fuzz".to_owned(),
        kind: pick(&KINDS, s.kind),
        initial: pick(
            &[
                InitialStatus::Pending,
                InitialStatus::Queued,
                InitialStatus::Running,
            ],
            s.initial,
        ),
        default_grace_ms: s.default_grace_ms,
        children: children_init(&s.children),
        sub_runs: (0..s.sub_runs % 4)
            .map(|i| format!("run_sub_{i}"))
            .collect(),
    };
    let Ok((mut state, created)) = create(&args, T0) else {
        return;
    };
    let mut log = created.events;
    check_log(&log, &state);
    let mut now = T0;
    for step in s.steps.iter().take(64) {
        now = if step.back {
            now.saturating_sub(u64::from(step.dt))
        } else {
            now.saturating_add(u64::from(step.dt))
        };
        let Some(cmd) = step.op.command() else {
            let json = serde_json::to_string(&state).expect("state serializes");
            state = serde_json::from_str(&json).expect("state reloads");
            continue;
        };
        let receipt = match &cmd {
            Command::Cancel(CancelArgs {
                command_id: Some(id),
                ..
            }) => state.commands.get(id).cloned(),
            _ => None,
        };
        let decided = runbrake_core::decide(&state, &cmd, now);
        let Some(next) = decide_checked(&state, &cmd, now) else {
            continue;
        };
        let d = decided.expect("decide_checked saw Ok");
        if let (Some(rec), Command::Cancel(c), Reply::Cancel(r)) = (&receipt, &cmd, &d.reply) {
            if rec.fingerprint == c.fingerprint() {
                assert!(d.events.is_empty(), "a replayed cancel wrote events");
                match &r.outcome {
                    CancelOutcome::Replayed { original } => {
                        assert_eq!(**original, rec.reply, "replay differs from the receipt")
                    }
                    other => panic!("a repeated command_id answered {other:?}"),
                }
            }
        }
        log.extend(d.events);
        state = next;
        check_log(&log, &state);
        assert_eq!(
            state.children.total(),
            children_given(&log),
            "children lost or made"
        );
    }
}

/// Children the run was created with (as counts) plus every child item added since.
fn children_given(log: &[EventRecord]) -> u64 {
    log.iter()
        .map(|r| match &r.event {
            Event::Created { children, .. } => children.total(),
            Event::ChildrenAdded { items } => items.len() as u64,
            _ => 0,
        })
        .fold(0, u64::saturating_add)
}
