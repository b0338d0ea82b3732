//! Per-dialect status projections (one table per dialect) and the rule that ties each route's
//! policy to its vocabulary: a status word the contract calls cancellable is cancellable.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use runbrake_core::dialect::{status_000, status_001, status_003, status_004};
use runbrake_core::*;

fn by() -> By {
    By {
        source: Source::Api,
        actor: None,
    }
}

fn lease() -> Lease {
    Lease {
        id: "L".into(),
        executor: "e".into(),
        expires_at: 10,
    }
}

/// One status of every shape, named.
fn statuses() -> Vec<(&'static str, Status)> {
    vec![
        ("pending", Status::Pending),
        ("queued", Status::Queued),
        ("running", Status::Running { lease: None }),
        (
            "running_leased",
            Status::Running {
                lease: Some(lease()),
            },
        ),
        (
            "waiting_human_review",
            Status::Waiting {
                reason: WaitReason::HumanReview,
            },
        ),
        (
            "waiting_sleep",
            Status::Waiting {
                reason: WaitReason::Sleep,
            },
        ),
        (
            "waiting_event",
            Status::Waiting {
                reason: WaitReason::Event,
            },
        ),
        (
            "cancelling",
            Status::Cancelling {
                requested_at: 1,
                deadline: 2,
                by: by(),
                reason: None,
                command_id: None,
                lease: lease(),
            },
        ),
        ("completed", Status::Completed),
        (
            "failed",
            Status::Failed {
                message: "m".into(),
                code: None,
            },
        ),
        ("rejected", Status::Rejected { note: None }),
        (
            "cancelled",
            Status::Cancelled {
                reason: None,
                by: by(),
                forced: false,
                effective_at: 3,
                command_id: None,
            },
        ),
    ]
}

fn check(f: fn(&Status) -> &'static str, table: &[(&str, &str)]) {
    let all = statuses();
    assert_eq!(table.len(), all.len(), "one row per status");
    for (name, status) in all {
        let expected = table
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no row for {name}"))
            .1;
        assert_eq!(f(&status), expected, "{name}");
    }
}

#[test]
fn dialect_000_retab_workflow() {
    check(
        status_000,
        &[
            ("pending", "pending"),
            ("queued", "pending"),
            ("running", "running"),
            ("running_leased", "running"),
            ("waiting_human_review", "awaiting_review"),
            ("waiting_sleep", "running"),
            ("waiting_event", "running"),
            ("cancelling", "running"),
            ("completed", "completed"),
            ("failed", "error"),
            ("rejected", "error"),
            ("cancelled", "cancelled"),
        ],
    );
}

#[test]
fn dialect_001_002_retab_tests_and_experiments() {
    check(
        status_001,
        &[
            ("pending", "pending"),
            ("queued", "queued"),
            ("running", "running"),
            ("running_leased", "running"),
            ("waiting_human_review", "running"),
            ("waiting_sleep", "running"),
            ("waiting_event", "running"),
            ("cancelling", "running"),
            ("completed", "completed"),
            ("failed", "error"),
            ("rejected", "error"),
            ("cancelled", "cancelled"),
        ],
    );
}

#[test]
fn dialect_003_extend() {
    check(
        status_003,
        &[
            ("pending", "PENDING"),
            ("queued", "PENDING"),
            ("running", "PROCESSING"),
            ("running_leased", "PROCESSING"),
            ("waiting_human_review", "NEEDS_REVIEW"),
            ("waiting_sleep", "PROCESSING"),
            ("waiting_event", "PROCESSING"),
            ("cancelling", "CANCELLING"),
            ("completed", "PROCESSED"),
            ("failed", "FAILED"),
            ("rejected", "REJECTED"),
            ("cancelled", "CANCELLED"),
        ],
    );
}

#[test]
fn dialect_004_generic() {
    check(
        status_004,
        &[
            ("pending", "running"),
            ("queued", "running"),
            ("running", "running"),
            ("running_leased", "running"),
            ("waiting_human_review", "waiting"),
            ("waiting_sleep", "waiting"),
            ("waiting_event", "waiting"),
            ("cancelling", "running"),
            ("completed", "success"),
            ("failed", "failure"),
            ("rejected", "failure"),
            ("cancelled", "cancelled"),
        ],
    );
}

#[test]
fn project_status_dispatches_to_the_dialect_tables() {
    for (_, s) in statuses() {
        assert_eq!(Dialect::RetabWorkflow.project_status(&s), status_000(&s));
        assert_eq!(
            Dialect::RetabWorkflowTest.project_status(&s),
            status_001(&s)
        );
        assert_eq!(Dialect::RetabExperiment.project_status(&s), status_001(&s));
        assert_eq!(Dialect::ExtendWorkflow.project_status(&s), status_003(&s));
        assert_eq!(Dialect::Generic.project_status(&s), status_004(&s));
    }
}

/// For every non-cancelling, non-terminal status: the policy allows it exactly when the
/// contract's word for it is one the contract lets clients cancel.
#[test]
fn policies_match_the_cancellable_vocabulary() {
    for d in Dialect::ALL {
        let p = d.policy();
        for (name, s) in statuses() {
            if s.is_terminal() || s.kind() == StatusKind::Cancelling {
                assert!(!p.allows(&s), "{d:?} {name}");
                continue;
            }
            let word = d.project_status(&s);
            assert_eq!(
                p.allows(&s),
                d.cancellable_words().contains(&word),
                "{d:?}: {name} shows as {word}"
            );
        }
    }
}

#[test]
fn presets_as_documented() {
    use PolicyState::*;
    assert_eq!(
        CancelPolicy::native().cancellable,
        PolicyState::ALL.to_vec()
    );
    assert_eq!(Dialect::RetabWorkflow.policy(), CancelPolicy::native());
    assert_eq!(Dialect::Generic.policy(), CancelPolicy::native());
    for d in [Dialect::RetabWorkflowTest, Dialect::RetabExperiment] {
        assert_eq!(d.policy().grace, Grace::Fixed(0));
    }
    let extend = Dialect::ExtendWorkflow.policy();
    assert!(!extend.cancellable.contains(&WaitingHumanReview));
    assert!(extend.cancellable.contains(&Pending) && extend.cancellable.contains(&Running));
    assert_eq!(extend.grace, Grace::Default);
    for d in Dialect::ALL {
        assert_eq!(
            d.run_kind(),
            [
                RunKind::Workflow,
                RunKind::WorkflowTest,
                RunKind::Experiment,
                RunKind::ExtendWorkflow,
                RunKind::Generic,
            ][Dialect::ALL.iter().position(|x| *x == d).unwrap()]
        );
    }
}
