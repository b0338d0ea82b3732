//! T3: await-point interleavings of the RunObject handler on one run.
//!
//! The Worker's RunObject answers every operation as
//!
//! ```text
//! read the request body   (await, not storage: the input gate is open)
//! load the run            (storage)
//! decide with the core    (pure)
//! append events, save     (storage)
//! check the alarm         (storage)
//! reply
//! ```
//!
//! and a Durable Object's input gate delivers no other event to the object while it awaits
//! storage. This test models the handler as those steps, split at every await, and runs 2–5
//! concurrent requests on one run (cancels with the same or different `command_id`s and
//! payloads, complete, fail, heartbeat, wait, ack-cancel, the alarm) in random interleavings: at
//! a storage await only the request holding the gate may continue; at any other await any
//! unfinished request may run next. Decisions come from the real core (`runbrake_core::apply`).
//!
//! After every interleaving the final event log, state and replies are checked: seqs 1..=n,
//! `fold(log) == state`, at most one `cancel_requested` and at most one terminal event, one
//! `cancel_recorded` per `command_id`, every write applied to the state it was decided on, every
//! reply consistent with the final state, and a repeated `command_id` answered with the first
//! reply.
//!
//! The mutation check runs the same interleavings through a broken handler that awaits something
//! other than storage between deciding and writing (so the gate opens there, as in the Worker's
//! `RACE_MUTANT`), and asserts that the same checks find violations of every kind.
//!
//! Cases: `PROPTEST_CASES` (10,000 in `make test`; `make proptest-long` runs more).
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use runbrake_core::*;

const T0: Millis = 1_777_645_800_000;
const LEASE: &str = "lease_A";
const STALE_LEASE: &str = "lease_old";
const EXECUTOR: &str = "exec-1";

/// Where the handler awaits between deciding and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// As the Worker does it: nothing but storage between the load and the write.
    Correct,
    /// A non-storage await (a timer, a fetch) between decide and write: the gate opens.
    OpenGate,
}

/// The run's state before the concurrent requests arrive.
#[derive(Debug, Clone, Copy)]
enum Start {
    Pending,
    Queued,
    /// `initial: running`, no executor claim.
    RunningUnclaimed,
    /// Claimed by [`LEASE`] (30 s lease).
    Leased,
    /// Claimed, then waiting for a human.
    Waiting,
    /// Claimed, and a cancel with a 1 s grace already accepted.
    Cancelling,
}

#[derive(Debug, Clone)]
enum Req {
    /// `command_id` `c0`/`c1` (or none), one of two reasons, a grace.
    Cancel {
        id: Option<u8>,
        payload: u8,
        grace: Option<u64>,
    },
    Complete {
        stale: bool,
    },
    Fail {
        stale: bool,
    },
    Heartbeat,
    /// running → waiting (human review).
    Wait,
    AckCancel,
    /// The alarm handler (`deadline_fired`).
    Alarm,
}

impl Req {
    fn command(&self) -> Command {
        let lease = |stale: bool| Some(if stale { STALE_LEASE } else { LEASE }.to_owned());
        match self {
            Req::Cancel { id, payload, grace } => {
                let mut a = CancelArgs::new(By {
                    source: Source::Api,
                    actor: Some("key_user".to_owned()),
                });
                a.command_id = id.map(|i| format!("c{i}"));
                a.reason = Some(format!("reason {payload}"));
                a.grace_ms = *grace;
                Command::Cancel(a)
            }
            Req::Complete { stale } => Command::Complete(CompleteArgs {
                lease_id: lease(*stale),
                output: None,
            }),
            Req::Fail { stale } => Command::Fail(FailArgs {
                lease_id: lease(*stale),
                message: "boom".to_owned(),
                code: None,
            }),
            Req::Heartbeat => Command::Heartbeat(HeartbeatArgs {
                lease_id: LEASE.to_owned(),
                lease_ms: None,
            }),
            Req::Wait => Command::Wait(WaitArgs {
                lease_id: lease(false),
                reason: WaitReason::HumanReview,
            }),
            Req::AckCancel => Command::AckCancel(AckCancelArgs {
                lease_id: LEASE.to_owned(),
            }),
            Req::Alarm => Command::DeadlineFired,
        }
    }
}

fn req() -> impl Strategy<Value = Req> {
    prop_oneof![
        6 => (
            prop::option::weighted(0.8, 0u8..2),
            0u8..2,
            prop::option::of(prop_oneof![Just(0u64), Just(1_000u64), Just(30_000u64)]),
        )
            .prop_map(|(id, payload, grace)| Req::Cancel { id, payload, grace }),
        3 => prop::bool::weighted(0.2).prop_map(|stale| Req::Complete { stale }),
        2 => prop::bool::weighted(0.2).prop_map(|stale| Req::Fail { stale }),
        2 => Just(Req::Heartbeat),
        1 => Just(Req::Wait),
        2 => Just(Req::AckCancel),
        2 => Just(Req::Alarm),
    ]
}

fn start() -> impl Strategy<Value = Start> {
    prop_oneof![
        1 => Just(Start::Pending),
        1 => Just(Start::Queued),
        1 => Just(Start::RunningUnclaimed),
        3 => Just(Start::Leased),
        1 => Just(Start::Waiting),
        2 => Just(Start::Cancelling),
    ]
}

/// One generated case: the run, the concurrent requests, and the scheduler's choices (which
/// runnable request goes next, how far the clock moves per step).
#[derive(Debug, Clone)]
struct Case {
    start: Start,
    reqs: Vec<Req>,
    picks: Vec<u8>,
    ticks: Vec<u16>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        start(),
        prop::collection::vec(req(), 2..=5),
        prop::collection::vec(any::<u8>(), 40),
        prop::collection::vec(prop_oneof![3 => 0u16..50, 1 => 0u16..1_500], 40),
    )
        .prop_map(|(start, reqs, picks, ticks)| Case {
            start,
            reqs,
            picks,
            ticks,
        })
}

/// The object's storage: the event log and the saved state.
#[derive(Debug, Clone)]
struct Storage {
    events: Vec<EventRecord>,
    state: RunState,
}

fn setup(start: Start) -> Storage {
    let initial = match start {
        Start::Pending => InitialStatus::Pending,
        Start::Queued | Start::Leased | Start::Waiting | Start::Cancelling => InitialStatus::Queued,
        Start::RunningUnclaimed => InitialStatus::Running,
    };
    let args = CreateArgs {
        id: "run_t3".to_owned(),
        kind: RunKind::Workflow,
        initial,
        default_grace_ms: None,
        children: None,
        sub_runs: Vec::new(),
    };
    let (mut state, created) = create(&args, T0).expect("create");
    let mut events = created.events;
    let mut run = |state: &mut RunState, cmd: Command| {
        let d = apply(state, &cmd, T0).expect("setup command");
        events.extend(d.events);
    };
    if matches!(start, Start::Leased | Start::Waiting | Start::Cancelling) {
        run(
            &mut state,
            Command::Claim(ClaimArgs {
                executor: EXECUTOR.to_owned(),
                lease_id: LEASE.to_owned(),
                lease_ms: 30_000,
            }),
        );
    }
    if matches!(start, Start::Waiting) {
        run(
            &mut state,
            Command::Wait(WaitArgs {
                lease_id: Some(LEASE.to_owned()),
                reason: WaitReason::HumanReview,
            }),
        );
    }
    if matches!(start, Start::Cancelling) {
        let mut a = CancelArgs::new(By {
            source: Source::Api,
            actor: None,
        });
        a.grace_ms = Some(1_000);
        run(&mut state, Command::Cancel(a));
    }
    Storage { events, state }
}

/// Where a request's handler is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pc {
    ReadBody,
    Load,
    Decide,
    Write,
    Alarm,
    Reply,
    Done,
}

/// What a step ended on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Await {
    /// Storage: the input gate stays closed, only this request continues.
    Storage,
    /// Anything else: the gate is open, any request may run next.
    Other,
    Finished,
}

#[derive(Debug)]
struct Task {
    req: Req,
    pc: Pc,
    loaded: Option<RunState>,
    decided: Option<Result<(Decision, RunState), CommandError>>,
    reply: Option<Result<Reply, CommandError>>,
}

/// Runs one segment of `t` (up to its next await) against `store` at `now`.
fn step(
    t: &mut Task,
    store: &mut Storage,
    now: Millis,
    variant: Variant,
    v: &mut Vec<String>,
) -> Await {
    match t.pc {
        Pc::ReadBody => {
            t.pc = Pc::Load;
            Await::Other
        }
        Pc::Load => {
            t.loaded = Some(store.state.clone());
            t.pc = Pc::Decide;
            Await::Storage
        }
        Pc::Decide => {
            let mut next = t.loaded.clone().expect("loaded");
            t.decided = Some(apply(&mut next, &t.req.command(), now).map(|d| (d, next)));
            t.pc = Pc::Write;
            match variant {
                // No await between deciding and writing: straight on.
                Variant::Correct => step(t, store, now, variant, v),
                Variant::OpenGate => Await::Other,
            }
        }
        Pc::Write => {
            t.pc = Pc::Alarm;
            match &t.decided {
                Some(Ok((d, next))) if !d.events.is_empty() => {
                    let decided_on = t.loaded.as_ref().expect("loaded").version;
                    if store.state.version != decided_on {
                        v.push(format!(
                            "lost update: decided on version {decided_on}, storage was at {}",
                            store.state.version
                        ));
                    }
                    // As the broken Worker handler does: append after whatever is stored now,
                    // and save the decided state over it. (In the correct handler the two
                    // numberings agree.)
                    let last = store.events.last().map_or(0, |e| e.seq);
                    for (i, e) in d.events.iter().enumerate() {
                        store.events.push(EventRecord {
                            seq: last + 1 + i as u64,
                            ..e.clone()
                        });
                    }
                    store.state = next.clone();
                    Await::Storage
                }
                Some(_) => step(t, store, now, variant, v),
                None => panic!("write before decide"),
            }
        }
        Pc::Alarm => {
            // `ensure_alarm`: reads (and may move) the alarm, a storage await.
            t.pc = Pc::Reply;
            Await::Storage
        }
        Pc::Reply => {
            t.reply = Some(match t.decided.take().expect("decided") {
                Ok((d, _)) => Ok(d.reply),
                Err(e) => Err(e),
            });
            t.pc = Pc::Done;
            Await::Finished
        }
        Pc::Done => Await::Finished,
    }
}

#[derive(Debug, Default)]
struct Outcome {
    violations: Vec<String>,
    /// Steps at which two or more requests were in flight at once.
    overlapped: bool,
}

/// Runs the case's requests in the interleaving its choices pick, then checks the result.
fn run(case: &Case, variant: Variant) -> Outcome {
    let mut store = setup(case.start);
    let mut tasks: Vec<Task> = case
        .reqs
        .iter()
        .map(|r| Task {
            req: r.clone(),
            pc: Pc::ReadBody,
            loaded: None,
            decided: None,
            reply: None,
        })
        .collect();
    let mut out = Outcome::default();
    let mut now = T0 + 10;
    let mut gate: Option<usize> = None;
    let mut n = 0usize;
    loop {
        let runnable: Vec<usize> = match gate {
            Some(i) => vec![i],
            None => (0..tasks.len())
                .filter(|&i| tasks[i].pc != Pc::Done)
                .collect(),
        };
        let Some(&first) = runnable.first() else {
            break;
        };
        let started = tasks
            .iter()
            .filter(|t| !matches!(t.pc, Pc::ReadBody | Pc::Done))
            .count();
        out.overlapped |= started >= 2;
        let pick = case
            .picks
            .get(n)
            .map_or(first, |&p| runnable[usize::from(p) % runnable.len()]);
        now += u64::from(case.ticks.get(n).copied().unwrap_or(10));
        n += 1;
        gate = match step(
            &mut tasks[pick],
            &mut store,
            now,
            variant,
            &mut out.violations,
        ) {
            Await::Storage => Some(pick),
            Await::Other | Await::Finished => None,
        };
    }
    check(&store, &tasks, &mut out.violations);
    out
}

fn status_of(reply: &Reply) -> StatusKind {
    match reply {
        Reply::Run(r) => r.status,
        Reply::Executor(r) => r.status,
        Reply::Cancel(r) => r.status,
        Reply::Deadline(r) => r.status,
        Reply::Children(_) | Reply::SubRun(_) => panic!("not sent in this test"),
    }
}

fn settled(outcome: &CancelOutcome) -> &CancelOutcome {
    match outcome {
        CancelOutcome::Replayed { original } => settled(&original.outcome),
        other => other,
    }
}

fn first_reply(reply: &CancelReply) -> &CancelReply {
    match &reply.outcome {
        CancelOutcome::Replayed { original } => first_reply(original),
        _ => reply,
    }
}

/// The invariants; each violation is named by the invariant it breaks (the text before ':').
fn check(store: &Storage, tasks: &[Task], v: &mut Vec<String>) {
    let log = &store.events;
    for (i, e) in log.iter().enumerate() {
        if e.seq != i as u64 + 1 {
            v.push(format!("seq: event {i} has seq {}", e.seq));
        }
    }
    match fold(log) {
        Ok(folded) if folded == store.state => {}
        Ok(_) => v.push("replay: fold(log) differs from the stored state".to_owned()),
        Err(e) => v.push(format!("replay: the log does not fold: {e}")),
    }
    let count = |f: &dyn Fn(&Event) -> bool| log.iter().filter(|r| f(&r.event)).count();
    let requested = count(&|e| matches!(e, Event::CancelRequested { .. }));
    if requested > 1 {
        v.push(format!("one cancel: {requested} cancel_requested events"));
    }
    let terminal = count(&|e| {
        matches!(
            e,
            Event::Completed { .. }
                | Event::Failed { .. }
                | Event::Rejected { .. }
                | Event::Cancelled { .. }
        )
    });
    if terminal > 1 {
        v.push(format!("terminal: {terminal} terminal events"));
    }
    let mut recorded: BTreeMap<&str, usize> = BTreeMap::new();
    for r in log {
        if let Event::CancelRecorded { command_id, .. } = &r.event {
            *recorded.entry(command_id).or_default() += 1;
        }
    }
    for (id, n) in &recorded {
        if *n > 1 {
            v.push(format!("command_id: {n} cancel_recorded events for {id}"));
        }
    }

    let fin = store.state.status_kind();
    let mut first: BTreeMap<String, CancelReply> = BTreeMap::new();
    let mut conflicted: BTreeSet<String> = BTreeSet::new();
    for t in tasks {
        let Some(reply) = &t.reply else {
            v.push("reply: a request never answered".to_owned());
            continue;
        };
        let reply = match reply {
            Ok(r) => r,
            Err(CommandError::IdempotencyConflict { command_id }) => {
                conflicted.insert(command_id.clone());
                continue;
            }
            Err(_) => continue,
        };
        let said = status_of(reply);
        if said.is_terminal() && said != fin {
            v.push(format!(
                "reply: {:?} answered {said:?}, the run ended {fin:?}",
                t.req
            ));
        }
        match reply {
            Reply::Cancel(c) => {
                let ok = match settled(&c.outcome) {
                    CancelOutcome::CancelledNow { .. } | CancelOutcome::AlreadyCancelled { .. } => {
                        fin == StatusKind::Cancelled
                    }
                    CancelOutcome::Requested { .. } | CancelOutcome::AlreadyRequested { .. } => {
                        matches!(fin, StatusKind::Cancelling | StatusKind::Cancelled)
                    }
                    CancelOutcome::AlreadyTerminal { state, .. } => *state == fin,
                    CancelOutcome::NotCancellable { .. }
                    | CancelOutcome::PreconditionFailed { .. }
                    | CancelOutcome::Replayed { .. } => true,
                };
                if !ok {
                    v.push(format!(
                        "reply: cancel answered {:?}, the run ended {fin:?}",
                        c.outcome
                    ));
                }
                if let Req::Cancel { id: Some(id), .. } = &t.req {
                    let key = format!("c{id}");
                    let original = first_reply(c).clone();
                    match store.state.commands.get(&key) {
                        Some(rec) if rec.reply != original => v.push(format!(
                            "command_id: {key} answered {:?}, its receipt says {:?}",
                            original.outcome, rec.reply.outcome
                        )),
                        Some(_) => {}
                        None => v.push(format!("command_id: {key} answered but has no receipt")),
                    }
                    if let Some(prev) = first.get(&key) {
                        if *prev != original {
                            v.push(format!("command_id: two different first replies for {key}"));
                        }
                    } else {
                        first.insert(key, original);
                    }
                }
            }
            Reply::Executor(e) => {
                if let ExecutorOutcome::Late { state, .. } = &e.outcome
                    && *state != fin
                {
                    v.push(format!(
                        "reply: late report saw {state:?}, the run ended {fin:?}"
                    ));
                }
            }
            Reply::Deadline(d) => {
                if d.action == DeadlineAction::CancelForced && fin != StatusKind::Cancelled {
                    v.push(format!(
                        "reply: the alarm forced a cancel, the run ended {fin:?}"
                    ));
                }
            }
            Reply::Run(_) | Reply::Children(_) | Reply::SubRun(_) => {}
        }
    }
    // A conflict is only right when the key's receipt was made with another payload.
    for key in conflicted {
        if !store.state.commands.contains_key(&key) {
            v.push(format!(
                "command_id: conflict on {key}, which has no receipt"
            ));
        }
    }
}

/// The invariant a violation names (the text before ':').
fn kind(violation: &str) -> &str {
    violation.split(':').next().unwrap_or(violation)
}

fn cases() -> u32 {
    Config::default().cases
}

#[derive(Debug, Default)]
struct Tally {
    cases: u64,
    overlapped: u64,
    violating: u64,
    kinds: BTreeMap<String, u64>,
}

#[test]
fn t3_interleavings() {
    let cases = cases();
    // The correct handler: every interleaving must pass (proptest shrinks a failure).
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| {
        let out = run(&c, Variant::Correct);
        let mut t = tally.borrow_mut();
        t.cases += 1;
        t.overlapped += u64::from(out.overlapped);
        prop_assert!(out.violations.is_empty(), "{:#?}", out.violations);
        Ok(())
    });
    let correct = tally.into_inner();

    // The mutation check: the same generator, the handler with an open gate, a fixed seed.
    let mut broken = Tally::default();
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
    );
    let strategy = case();
    for _ in 0..cases {
        let c = strategy.new_tree(&mut runner).expect("case").current();
        let out = run(&c, Variant::OpenGate);
        broken.cases += 1;
        broken.overlapped += u64::from(out.overlapped);
        if !out.violations.is_empty() {
            broken.violating += 1;
        }
        for k in out
            .violations
            .iter()
            .map(|s| kind(s).to_owned())
            .collect::<BTreeSet<_>>()
        {
            *broken.kinds.entry(k).or_default() += 1;
        }
    }
    println!(
        "T3: correct handler: {} interleavings ({} with requests overlapping), {}; \
         open-gate handler: {} of {} interleavings violate {:?}",
        correct.cases,
        correct.overlapped,
        if result.is_ok() {
            "0 violations"
        } else {
            "VIOLATION"
        },
        broken.violating,
        broken.cases,
        broken.kinds
    );
    let needed = [
        "one cancel",
        "terminal",
        "command_id",
        "reply",
        "replay",
        "lost update",
    ];
    let seen = |k: &str| broken.kinds.get(k).copied().unwrap_or(0);
    write_figures(
        &correct,
        result.is_ok(),
        &broken,
        &needed.map(|k| (k, seen(k))),
    );

    if let Err(e) = result {
        panic!("the correct handler broke an invariant: {e}");
    }
    assert!(
        correct.overlapped > 0,
        "no interleaving had two requests in flight"
    );
    assert!(
        broken.violating > 0,
        "the checks found nothing wrong with the open-gate handler"
    );
    for k in needed {
        assert!(
            seen(k) > 0,
            "the open-gate handler never broke {k:?}: {:?}",
            broken.kinds
        );
    }
}

/// tests/output/reliability/T3.json, in the rows format of tests/reliability/lib/figures.mjs.
fn write_figures(correct: &Tally, ok: bool, broken: &Tally, kinds: &[(&str, u64)]) {
    let mut rows = vec![
        serde_json::json!({
            "figure": "interleavings checked (correct handler)",
            "target": "10,000 (CI) / 1,000,000 (N)",
            "value": correct.cases,
            "pass": correct.cases >= u64::from(cases()),
        }),
        serde_json::json!({
            "figure": "interleavings with ≥ 2 requests in flight",
            "target": "> 0",
            "value": correct.overlapped,
            "pass": correct.overlapped > 0,
        }),
        serde_json::json!({
            "figure": "invariant violations (correct handler)",
            "target": "0",
            "value": if ok { 0 } else { 1 },
            "pass": ok,
        }),
        serde_json::json!({
            "figure": "mutation check: open-gate handler, interleavings with a violation",
            "target": "> 0",
            "value": broken.violating,
            "pass": broken.violating > 0,
        }),
    ];
    for (k, n) in kinds {
        rows.push(serde_json::json!({
            "figure": format!("mutation check: cases breaking \"{k}\""),
            "target": "> 0",
            "value": n,
            "pass": *n > 0,
        }));
    }
    let file = serde_json::json!({
        "id": "T3",
        "test": "Await-point interleavings of the RunObject handler (crate/tests/interleavings.rs)",
        "tier": if cases() > 10_000 { "long" } else { "ci" },
        "at": format_rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        ),
        "rows": rows,
    });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/output/reliability");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join("T3.json"),
            format!(
                "{}\n",
                serde_json::to_string_pretty(&file).unwrap_or_default()
            ),
        );
    }
}
