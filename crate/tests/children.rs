//! Children at scale: 100,000 items per run, cancelled in one decision.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use runbrake_core::*;

const T0: Millis = 1_777_645_800_000;

fn big_run(n: usize) -> (RunState, ChildTable) {
    let (mut s, d) = create(
        &CreateArgs {
            id: "big".into(),
            kind: RunKind::WorkflowTest,
            initial: InitialStatus::Queued,
            default_grace_ms: None,
            children: None,
            sub_runs: vec![],
        },
        T0,
    )
    .unwrap();
    let mut table = ChildTable::new();
    for e in &d.events {
        table.apply(e).unwrap();
    }
    let mut added = 0;
    while added < n {
        let batch = (n - added).min(10_000);
        let items = (added..added + batch)
            .map(|i| NewChild {
                id: format!("case_{i:06}"),
                // A tenth are already running.
                status: if i % 10 == 0 {
                    ChildStatus::Running
                } else {
                    ChildStatus::Pending
                },
            })
            .collect();
        let d = apply(&mut s, &Command::AddChildren(AddChildrenArgs { items }), T0).unwrap();
        for e in &d.events {
            table.apply(e).unwrap();
        }
        added += batch;
    }
    let d = apply(
        &mut s,
        &Command::Claim(ClaimArgs {
            executor: "e".into(),
            lease_id: "L".into(),
            lease_ms: 60_000,
        }),
        T0 + 1,
    )
    .unwrap();
    for e in &d.events {
        table.apply(e).unwrap();
    }
    (s, table)
}

#[test]
fn cancelling_a_run_with_100k_children_is_fast_and_counts_add_up() {
    let (s, mut table) = big_run(100_000);
    assert_eq!(s.children.total(), 100_000);
    assert_eq!(table.counts(), s.children);

    let cmd = Command::Cancel(CancelArgs::new(By {
        source: Source::Api,
        actor: None,
    }));
    let started = Instant::now();
    let mut state = s.clone();
    let d = decide(&state, &cmd, T0 + 10).unwrap();
    for e in &d.events {
        evolve(&mut state, e).unwrap();
        table.apply(e).unwrap();
    }
    let took = started.elapsed();

    // Bulk events only: request, pending → cancelled, running → cancelling.
    assert_eq!(d.events.len(), 3);
    assert_eq!(state.children.cancelled, 90_000);
    assert_eq!(state.children.cancelling, 10_000);
    assert_eq!(table.counts(), state.children);
    assert_eq!(table.get("case_000001"), Some(ChildStatus::Cancelled));
    assert_eq!(table.get("case_000010"), Some(ChildStatus::Cancelling));
    // The stored state stays small: counts, not items.
    assert!(serde_json::to_string(&state).unwrap().len() < 2_000);

    // < 50 ms natively in an optimised build; debug builds get headroom.
    let budget = if cfg!(debug_assertions) {
        Duration::from_millis(500)
    } else {
        Duration::from_millis(50)
    };
    assert!(took < budget, "cancel of 100k children took {took:?}");
    eprintln!("cancel of 100,000 children (decide + evolve + ChildTable): {took:?}");

    // Finalising moves the in-flight ones in one more bulk event.
    let d = apply(
        &mut state,
        &Command::AckCancel(AckCancelArgs {
            lease_id: "L".into(),
        }),
        T0 + 20,
    )
    .unwrap();
    for e in &d.events {
        table.apply(e).unwrap();
    }
    assert_eq!(state.children.cancelled, 100_000);
    assert_eq!(table.counts(), state.children);
}

#[test]
fn child_table_refuses_events_it_cannot_follow() {
    let (s, mut table) = big_run(10);
    let bogus = EventRecord {
        seq: s.version + 1,
        at: T0,
        event: Event::ChildChanged {
            id: "case_000001".into(),
            from: ChildStatus::Running,
            to: ChildStatus::Completed,
        },
    };
    assert!(
        table.apply(&bogus).is_err(),
        "case_000001 is pending, not running"
    );
    let before = table.clone();
    let wrong_count = EventRecord {
        seq: s.version + 1,
        at: T0,
        event: Event::ChildrenCancelled {
            from: ChildStatus::Pending,
            count: 3,
        },
    };
    assert!(table.apply(&wrong_count).is_err());
    assert_eq!(table, before, "a refused event changes nothing");
}

#[test]
fn add_children_is_bounded_and_ids_are_distinct() {
    let (s, _) = big_run(0);
    let too_many = (0..10_001)
        .map(|i| NewChild {
            id: format!("x{i}"),
            status: ChildStatus::Pending,
        })
        .collect();
    let err = decide(
        &s,
        &Command::AddChildren(AddChildrenArgs { items: too_many }),
        T0,
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
    let dup = vec![
        NewChild {
            id: "a".into(),
            status: ChildStatus::Pending,
        },
        NewChild {
            id: "a".into(),
            status: ChildStatus::Pending,
        },
    ];
    let err = decide(
        &s,
        &Command::AddChildren(AddChildrenArgs { items: dup }),
        T0,
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_argument");
}
