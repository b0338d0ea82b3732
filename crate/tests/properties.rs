//! T1/T2: random command sequences (random clocks, executors that never ack, duplicate cancels
//! with the same or a different payload, alarm ticks, evictions) against a small reference
//! model, with the invariants checked after every step.
//!
//! Cases: `PROPTEST_CASES` (proptest's default config reads it; 256 when unset).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::collections::BTreeMap;

use proptest::prelude::*;
use runbrake_core::*;

const T0: Millis = 1_777_645_800_000;

#[derive(Debug, Clone)]
enum Op {
    Enqueue,
    Claim {
        lease: u8,
        ms: u64,
    },
    Heartbeat {
        lease: u8,
    },
    Wait {
        lease: Option<u8>,
        reason: WaitReason,
    },
    Resume {
        lease: u8,
    },
    Complete {
        lease: Option<u8>,
    },
    Fail {
        lease: Option<u8>,
    },
    Reject,
    Cancel {
        id: Option<u8>,
        payload: u8,
        grace: Option<u64>,
        policy: u8,
        if_version: Option<u64>,
    },
    Ack {
        lease: u8,
    },
    Deadline,
    AddChildren {
        n: usize,
    },
    UpdateChild {
        pick: usize,
        to: ChildStatus,
    },
    /// A sub-run created after the run (a few ids, so some attaches repeat).
    AttachSubRun {
        n: u8,
    },
    /// Move the clock (a little backwards sometimes).
    Tick {
        delta: i64,
    },
    /// Serialize and reload the state, as a Durable Object evicted between requests.
    Evict,
}

fn reason() -> impl Strategy<Value = WaitReason> {
    prop_oneof![
        Just(WaitReason::HumanReview),
        Just(WaitReason::Sleep),
        Just(WaitReason::Event)
    ]
}

fn child_status() -> impl Strategy<Value = ChildStatus> {
    prop::sample::select(ChildStatus::ALL.to_vec())
}

fn op() -> impl Strategy<Value = Op> {
    let lease = 0u8..4;
    prop_oneof![
        1 => Just(Op::Enqueue),
        3 => (lease.clone(), prop_oneof![Just(500u64), Just(30_000u64)])
            .prop_map(|(lease, ms)| Op::Claim { lease, ms }),
        2 => lease.clone().prop_map(|lease| Op::Heartbeat { lease }),
        2 => (prop::option::of(lease.clone()), reason())
            .prop_map(|(lease, reason)| Op::Wait { lease, reason }),
        2 => lease.clone().prop_map(|lease| Op::Resume { lease }),
        2 => prop::option::of(lease.clone()).prop_map(|lease| Op::Complete { lease }),
        1 => prop::option::of(lease.clone()).prop_map(|lease| Op::Fail { lease }),
        1 => Just(Op::Reject),
        5 => (
            prop::option::of(0u8..4),
            0u8..2,
            prop::option::of(prop_oneof![Just(0u64), Just(500u64), Just(30_000u64)]),
            0u8..6,
            prop::option::weighted(0.2, 0u64..12),
        )
            .prop_map(|(id, payload, grace, policy, if_version)| Op::Cancel {
                id,
                payload,
                grace,
                policy,
                if_version
            }),
        2 => lease.clone().prop_map(|lease| Op::Ack { lease }),
        3 => Just(Op::Deadline),
        1 => (0usize..4).prop_map(|n| Op::AddChildren { n }),
        2 => (any::<usize>(), child_status()).prop_map(|(pick, to)| Op::UpdateChild { pick, to }),
        2 => (0u8..6).prop_map(|n| Op::AttachSubRun { n }),
        4 => prop_oneof![-2_000i64..0, 0i64..2_000, 0i64..120_000].prop_map(|delta| Op::Tick { delta }),
        1 => Just(Op::Evict),
    ]
}

fn initial() -> impl Strategy<Value = (InitialStatus, Vec<ChildStatus>, usize)> {
    (
        prop_oneof![
            Just(InitialStatus::Pending),
            Just(InitialStatus::Queued),
            Just(InitialStatus::Running)
        ],
        prop::collection::vec(
            prop::sample::select(vec![
                ChildStatus::Pending,
                ChildStatus::Running,
                ChildStatus::Completed,
            ]),
            0..5,
        ),
        0usize..3,
    )
}

fn lease_name(l: u8) -> String {
    format!("L{l}")
}

fn policy(p: u8) -> CancelPolicy {
    match p {
        0 => CancelPolicy::native(),
        n => Dialect::ALL[usize::from(n - 1) % 5].policy(),
    }
}

/// The reference model: what status each command should lead to, from rules written out
/// again in their simplest form (no events, no replies).
#[derive(Debug, Clone)]
struct Model {
    kind: StatusKind,
    reason: Option<WaitReason>,
    lease: Option<(String, Millis)>,
    deadline: Option<Millis>,
    last_lease: Option<String>,
    /// command_id → (payload, first reply)
    ids: BTreeMap<String, (String, CancelReply)>,
}

impl Model {
    fn live(&self, now: Millis) -> bool {
        self.lease.as_ref().is_some_and(|(_, exp)| now < *exp)
    }

    fn lease_ok(&self, given: Option<&str>, now: Millis) -> bool {
        match (&self.lease, given) {
            (None, None) => true,
            (Some((id, exp)), Some(g)) => id == g && now < *exp,
            _ => false,
        }
    }

    fn terminal(&self) -> bool {
        self.kind.is_terminal()
    }

    /// `Some(kind)` if the command should succeed with that resulting status.
    fn predict(&self, cmd: &Command, now: Millis, state: &RunState) -> Option<StatusKind> {
        use StatusKind as K;
        let k = self.kind;
        match cmd {
            Command::Create(_) => None,
            Command::Enqueue => (k == K::Pending).then_some(K::Queued),
            Command::Claim(a) => {
                let free = k == K::Queued || (k == K::Running && !self.live(now));
                (free && self.last_lease.as_deref() != Some(a.lease_id.as_str()))
                    .then_some(K::Running)
            }
            Command::Heartbeat(a) => ((k == K::Running || k == K::Cancelling)
                && self.lease_ok(Some(&a.lease_id), now))
            .then_some(k),
            Command::Wait(_) if k != K::Running => None,
            Command::Wait(a) => self
                .lease_ok(a.lease_id.as_deref(), now)
                .then_some(K::Waiting),
            Command::Resume(a) => (k == K::Waiting
                && self.last_lease.as_deref() != Some(a.lease_id.as_str()))
            .then_some(K::Running),
            Command::Complete(CompleteArgs { lease_id, .. })
            | Command::Fail(FailArgs { lease_id, .. }) => {
                let ok = self.lease_ok(lease_id.as_deref(), now);
                match k {
                    K::Running if ok => Some(if matches!(cmd, Command::Complete(_)) {
                        K::Completed
                    } else {
                        K::Failed
                    }),
                    K::Cancelling if ok => Some(K::Cancelled),
                    _ if self.terminal() && lease_id.as_deref() == self.last_lease.as_deref() => {
                        Some(k)
                    }
                    _ => None,
                }
            }
            Command::Reject(_) => {
                (self.reason == Some(WaitReason::HumanReview)).then_some(K::Rejected)
            }
            Command::Cancel(a) => {
                if self.terminal() || k == K::Cancelling {
                    return Some(k);
                }
                let pre = a.if_version.is_none_or(|v| v == state.version);
                if !pre || !a.policy.allows(&state.status) {
                    return Some(k);
                }
                let grace = a.grace_for(state);
                Some(if self.live(now) && grace > 0 {
                    K::Cancelling
                } else {
                    K::Cancelled
                })
            }
            Command::AckCancel(a) => (k == K::Cancelling && self.lease_ok(Some(&a.lease_id), now))
                .then_some(K::Cancelled),
            Command::DeadlineFired => Some(match k {
                K::Cancelling if self.deadline.is_some_and(|d| now >= d) || !self.live(now) => {
                    K::Cancelled
                }
                K::Running if self.lease.is_some() && !self.live(now) => K::Queued,
                _ => k,
            }),
            Command::AddChildren(a) => {
                (!self.terminal() && k != K::Cancelling && !a.items.is_empty()).then_some(k)
            }
            Command::AttachSubRun(_) => {
                let ended = matches!(k, K::Completed | K::Failed | K::Rejected);
                (!ended).then_some(k)
            }
            Command::UpdateChild(a) => {
                if self.terminal() || a.current == a.to {
                    return None;
                }
                let ok = match a.to {
                    ChildStatus::Running => a.current == ChildStatus::Pending && k != K::Cancelling,
                    ChildStatus::Completed | ChildStatus::Failed | ChildStatus::Cancelled => {
                        !a.current.is_terminal()
                    }
                    ChildStatus::Pending | ChildStatus::Cancelling => false,
                };
                ok.then_some(k)
            }
        }
    }

    /// Re-reads the model's view of the lease and deadline from the state (the model does
    /// not re-derive expiry times: it checks statuses).
    fn sync(&mut self, s: &RunState) {
        self.kind = s.status_kind();
        self.reason = s.status.wait_reason();
        self.lease = s.status.lease().map(|l| (l.id.clone(), l.expires_at));
        self.deadline = s.status.cancel_deadline();
        self.last_lease = s.last_lease_id.clone();
    }
}

fn check_invariants(s: &RunState, log: &[EventRecord], table: &ChildTable, now: Millis) {
    // seq strictly increasing without gaps, and the state is the fold of its log.
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1, "seq gap");
    }
    assert_eq!(s.version, log.len() as u64);
    assert_eq!(&fold(log).expect("fold"), s, "fold(log) != live state");
    // At most one cancel request and one cancellation per run.
    let requested = log
        .iter()
        .filter(|r| matches!(r.event, Event::CancelRequested { .. }))
        .count();
    let cancelled = log
        .iter()
        .filter(|r| matches!(r.event, Event::Cancelled { .. }))
        .count();
    assert!(
        requested <= 1 && cancelled <= 1,
        "{requested} requests, {cancelled} cancels"
    );
    assert_eq!(cancelled == 1, s.status_kind() == StatusKind::Cancelled);
    if requested == 1 {
        assert!(matches!(
            s.status_kind(),
            StatusKind::Cancelling | StatusKind::Cancelled
        ));
    }
    // Every cancelling state has a deadline, and the alarm is set.
    if let Status::Cancelling {
        requested_at,
        deadline,
        ..
    } = &s.status
    {
        assert!(deadline >= requested_at);
        assert!(s.next_deadline().is_some());
    }
    // Children: the counts agree with the items and nothing is negative by construction.
    assert_eq!(table.counts(), s.children);
    assert_eq!(table.len() as u64, s.children.total());
    if s.status_kind() == StatusKind::Cancelled {
        assert_eq!(
            s.children.in_flight(),
            0,
            "a cancelled run has no live children"
        );
    }
    // Timing.
    let t = &s.timing;
    assert!(t.created_at <= t.updated_at);
    if let (Some(a), Some(b)) = (t.started_at, t.completed_at) {
        assert!(a <= b, "started after completed");
    }
    assert_eq!(t.completed_at.is_some(), s.is_terminal());
    if let Some(d) = s.duration_ms(now) {
        let active = s.active_duration_ms(now).unwrap();
        assert!(active <= d);
        assert!(t.human_waiting_ms(now) <= d, "waiting longer than the run");
    }
    assert_eq!(
        t.human_waiting_started_at.is_some(),
        s.status.wait_reason() == Some(WaitReason::HumanReview)
    );
    // Sub-runs are distinct and never the run itself.
    let mut subs = s.sub_runs.clone();
    subs.sort();
    subs.dedup();
    assert_eq!(subs.len(), s.sub_runs.len(), "duplicate sub-run");
    assert!(!s.sub_runs.contains(&s.id));
    // Evict: the stored form reloads to the same run.
    let json = serde_json::to_string(s).unwrap();
    assert_eq!(&serde_json::from_str::<RunState>(&json).unwrap(), s);
}

fn to_command(op: &Op, table: &ChildTable, next_child: &mut usize) -> Option<Command> {
    Some(match op {
        Op::Enqueue => Command::Enqueue,
        Op::Claim { lease, ms } => Command::Claim(ClaimArgs {
            executor: "exec".into(),
            lease_id: lease_name(*lease),
            lease_ms: *ms,
        }),
        Op::Heartbeat { lease } => Command::Heartbeat(HeartbeatArgs {
            lease_id: lease_name(*lease),
            lease_ms: None,
        }),
        Op::Wait { lease, reason } => Command::Wait(WaitArgs {
            lease_id: lease.map(lease_name),
            reason: *reason,
        }),
        Op::Resume { lease } => Command::Resume(ResumeArgs {
            executor: "exec".into(),
            lease_id: lease_name(*lease),
            lease_ms: 30_000,
        }),
        Op::Complete { lease } => Command::Complete(CompleteArgs {
            lease_id: lease.map(lease_name),
            output: None,
        }),
        Op::Fail { lease } => Command::Fail(FailArgs {
            lease_id: lease.map(lease_name),
            message: "x".into(),
            code: None,
        }),
        Op::Reject => Command::Reject(RejectArgs { note: None }),
        Op::Cancel {
            id,
            payload,
            grace,
            policy: p,
            if_version,
        } => Command::Cancel(CancelArgs {
            command_id: id.map(|i| format!("k{i}")),
            reason: Some(format!("reason {payload}")),
            by: By {
                source: Source::Api,
                actor: None,
            },
            grace_ms: *grace,
            if_status_in: None,
            if_version: *if_version,
            policy: policy(*p),
        }),
        Op::Ack { lease } => Command::AckCancel(AckCancelArgs {
            lease_id: lease_name(*lease),
        }),
        Op::Deadline => Command::DeadlineFired,
        Op::AddChildren { n } => Command::AddChildren(AddChildrenArgs {
            items: (0..*n)
                .map(|_| {
                    *next_child += 1;
                    NewChild {
                        id: format!("c{next_child}"),
                        status: ChildStatus::Pending,
                    }
                })
                .collect(),
        }),
        Op::UpdateChild { pick, to } => {
            if table.is_empty() {
                return None;
            }
            let (id, current) = table.iter().nth(pick % table.len())?;
            Command::UpdateChild(UpdateChildArgs {
                child_id: id.to_string(),
                current,
                to: *to,
                lease_id: None,
            })
        }
        Op::AttachSubRun { n } => Command::AttachSubRun(AttachSubRunArgs {
            sub_run_id: format!("late{n}"),
        }),
        Op::Tick { .. } | Op::Evict => return None,
    })
}

fn run_case(
    init: (InitialStatus, Vec<ChildStatus>, usize),
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let (initial, kids, subs) = init;
    let items: Vec<NewChild> = kids
        .iter()
        .enumerate()
        .map(|(i, s)| NewChild {
            id: format!("init{i}"),
            status: *s,
        })
        .collect();
    let args = CreateArgs {
        id: "run".into(),
        kind: RunKind::Generic,
        initial,
        default_grace_ms: None,
        children: Some(ChildrenInit::Items(items)),
        sub_runs: (0..subs).map(|i| format!("sub{i}")).collect(),
    };
    let mut now = T0;
    let (mut s, d) = create(&args, now).unwrap();
    let mut log = d.events.clone();
    let mut table = ChildTable::new();
    for e in &log {
        table.apply(e).unwrap();
    }
    let mut model = Model {
        kind: s.status_kind(),
        reason: None,
        lease: None,
        deadline: None,
        last_lease: None,
        ids: BTreeMap::new(),
    };
    let mut next_child = 0usize;
    check_invariants(&s, &log, &table, now);

    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Tick { delta } => {
                now = now.saturating_add_signed(*delta);
                continue;
            }
            Op::Evict => {
                s = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
                continue;
            }
            _ => {}
        }
        let Some(cmd) = to_command(op, &table, &mut next_child) else {
            continue;
        };
        let eff_now = now.max(s.timing.updated_at);
        let before = s.clone();
        let predicted = model.predict(&cmd, eff_now, &s);
        let result = apply(&mut s, &cmd, now);
        let ctx = || format!("step {i}: {op:?} from {:?}", before.status);

        // Idempotency: a known command_id replays or conflicts, whatever the state.
        if let Command::Cancel(a) = &cmd
            && let Some(id) = &a.command_id
        {
            let payload = serde_json::to_string(&a.fingerprint()).unwrap();
            if let Some((first_payload, first_reply)) = model.ids.get(id) {
                if *first_payload == payload {
                    let d = result
                        .as_ref()
                        .map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                    prop_assert!(d.events.is_empty(), "{}", ctx());
                    match &d.reply {
                        Reply::Cancel(CancelReply {
                            outcome: CancelOutcome::Replayed { original },
                            ..
                        }) => prop_assert_eq!(&**original, first_reply, "{}", ctx()),
                        other => prop_assert!(false, "{}: not replayed: {other:?}", ctx()),
                    }
                } else {
                    prop_assert_eq!(
                        result.as_ref().err().map(CommandError::code),
                        Some("idempotency_conflict"),
                        "{}",
                        ctx()
                    );
                }
                prop_assert_eq!(&s, &before);
                continue;
            }
        }

        match &result {
            Err(_) => {
                prop_assert_eq!(&s, &before, "{}: a refusal changed the state", ctx());
                prop_assert_eq!(predicted, None, "{}: refused: {:?}", ctx(), result);
            }
            Ok(d) => {
                prop_assert_eq!(
                    predicted,
                    Some(s.status_kind()),
                    "{}: got {:?}",
                    ctx(),
                    s.status
                );
                if before.is_terminal() {
                    prop_assert_eq!(
                        &s.status,
                        &before.status,
                        "{}: terminal is absorbing",
                        ctx()
                    );
                }
                prop_assert_eq!(d.next_deadline, s.next_deadline());
                // Seqs continue the log.
                for (j, e) in d.events.iter().enumerate() {
                    prop_assert_eq!(e.seq, before.version + 1 + j as u64);
                    prop_assert_eq!(e.at, eff_now);
                    table
                        .apply(e)
                        .map_err(|e| TestCaseError::fail(format!("{}: {e}", ctx())))?;
                }
                log.extend(d.events.iter().cloned());
                // Replies agree with the resulting state.
                match &d.reply {
                    Reply::Cancel(r) => {
                        prop_assert_eq!(r.status, s.status_kind());
                        prop_assert_eq!(r.version, s.version);
                        prop_assert_eq!(r.children, s.children);
                        prop_assert_eq!(r.deadline, s.status.cancel_deadline());
                        if let Command::Cancel(a) = &cmd {
                            if let Some(id) = &a.command_id {
                                let payload = serde_json::to_string(&a.fingerprint()).unwrap();
                                model.ids.insert(id.clone(), (payload, r.clone()));
                            }
                            // The button (can_cancel) is enabled exactly when a cancel takes effect.
                            let effective = matches!(
                                r.outcome,
                                CancelOutcome::CancelledNow { .. }
                                    | CancelOutcome::Requested { .. }
                            );
                            let expected = can_cancel(&before, &a.policy)
                                && a.if_version.is_none_or(|v| v == before.version);
                            prop_assert_eq!(effective, expected, "{}", ctx());
                            // An effective cancel cascades to every sub-run, attached ones too.
                            let cascades = d
                                .effects
                                .iter()
                                .filter(|e| matches!(e, Effect::CascadeCancel { .. }))
                                .count();
                            let expected = if effective { s.sub_runs.len() } else { 0 };
                            prop_assert_eq!(cascades, expected, "{}", ctx());
                        }
                    }
                    Reply::Executor(r) => {
                        prop_assert_eq!(r.status, s.status_kind());
                        prop_assert_eq!(r.version, s.version);
                        prop_assert_eq!(
                            r.cancel_requested,
                            s.status_kind() == StatusKind::Cancelling
                        );
                    }
                    Reply::Run(r) => {
                        prop_assert_eq!(r.status, s.status_kind());
                        prop_assert_eq!(r.version, s.version);
                    }
                    Reply::Deadline(r) => prop_assert_eq!(r.status, s.status_kind()),
                    Reply::Children(r) => prop_assert_eq!(r.children, s.children),
                    Reply::SubRun(r) => {
                        prop_assert_eq!(r.status, s.status_kind());
                        prop_assert_eq!(r.version, s.version);
                        prop_assert_eq!(r.sub_runs, s.sub_runs.len() as u64);
                        prop_assert!(s.sub_runs.contains(&r.sub_run_id), "{}", ctx());
                        // A sub-run joining a run whose cancel was accepted is cancelled at
                        // once (reply), and the cascade says so too when it is new (effect).
                        let cancel_accepted = matches!(
                            s.status_kind(),
                            StatusKind::Cancelling | StatusKind::Cancelled
                        );
                        prop_assert_eq!(r.cancel.is_some(), cancel_accepted, "{}", ctx());
                        let cascades = d
                            .effects
                            .iter()
                            .filter(|e| matches!(e, Effect::CascadeCancel { sub_run_id, .. } if *sub_run_id == r.sub_run_id))
                            .count();
                        let new = r.outcome == AttachOutcome::Attached;
                        prop_assert_eq!(cascades, usize::from(new && cancel_accepted), "{}", ctx());
                        prop_assert_eq!(d.events.len(), usize::from(new), "{}", ctx());
                    }
                }
                // UpdateIndex whenever the summary changed, with the final version.
                let changed = before.status_kind() != s.status_kind()
                    || before.status.wait_reason() != s.status.wait_reason();
                let index = d.effects.iter().any(|e| {
                    matches!(e, Effect::UpdateIndex { status, version, .. }
                        if *status == s.status_kind() && *version == s.version)
                });
                prop_assert_eq!(changed, index, "{}", ctx());
            }
        }
        model.sync(&s);
        check_invariants(&s, &log, &table, eff_now);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_command_sequences_keep_every_invariant(
        init in initial(),
        ops in prop::collection::vec(op(), 0..50),
    ) {
        run_case(init, ops)?;
    }
}

/// An executor that never acks: whatever else happens, once the clock passes the deadline
/// and the alarm fires, the run is cancelled.
#[test]
fn never_stuck_in_cancelling() {
    proptest!(|(grace in 1u64..100_000, jump in 0u64..200_000, beats in 0usize..5)| {
        let (mut s, _) = create(&CreateArgs {
            id: "r".into(), kind: RunKind::Generic, initial: InitialStatus::Queued,
            default_grace_ms: None, children: None, sub_runs: vec![],
        }, T0).unwrap();
        apply(&mut s, &Command::Claim(ClaimArgs { executor: "e".into(), lease_id: "L".into(), lease_ms: 300_000 }), T0).unwrap();
        let mut c = CancelArgs::new(By { source: Source::Api, actor: None });
        c.grace_ms = Some(grace);
        apply(&mut s, &Command::Cancel(c), T0).unwrap();
        for b in 0..beats {
            let _ = apply(&mut s, &Command::Heartbeat(HeartbeatArgs { lease_id: "L".into(), lease_ms: Some(300_000) }), T0 + b as u64);
        }
        let at = T0 + jump;
        apply(&mut s, &Command::DeadlineFired, at).unwrap();
        prop_assert_eq!(s.status_kind() == StatusKind::Cancelled, at >= T0 + grace);
        if let Some(d) = s.next_deadline() {
            apply(&mut s, &Command::DeadlineFired, d).unwrap();
        }
        prop_assert_eq!(s.status_kind(), StatusKind::Cancelled);
    });
}
