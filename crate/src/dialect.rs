//! The five vendor contracts' views of a run: total functions from the canonical [`Status`] to
//! each dialect's status word, and each route's cancel policy. Adapters in the Worker use these
//! and never re-decide cancellability.

use serde::{Deserialize, Serialize};

use crate::policy::{CancelPolicy, Grace, PolicyState};
use crate::state::{RunKind, Source, Status, WaitReason};

/// A vendor contract (seed number in the docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// 000: Retab workflow runs.
    RetabWorkflow,
    /// 001: Retab workflow-test runs.
    RetabWorkflowTest,
    /// 002: Retab experiment runs.
    RetabExperiment,
    /// 003: Extend workflow runs.
    ExtendWorkflow,
    /// 004: generic runs.
    Generic,
}

impl Dialect {
    pub const ALL: [Dialect; 5] = [
        Dialect::RetabWorkflow,
        Dialect::RetabWorkflowTest,
        Dialect::RetabExperiment,
        Dialect::ExtendWorkflow,
        Dialect::Generic,
    ];

    /// The seed number.
    pub fn code(self) -> &'static str {
        match self {
            Dialect::RetabWorkflow => "000",
            Dialect::RetabWorkflowTest => "001",
            Dialect::RetabExperiment => "002",
            Dialect::ExtendWorkflow => "003",
            Dialect::Generic => "004",
        }
    }

    /// The only run kind this dialect's routes can reach.
    pub fn run_kind(self) -> RunKind {
        match self {
            Dialect::RetabWorkflow => RunKind::Workflow,
            Dialect::RetabWorkflowTest => RunKind::WorkflowTest,
            Dialect::RetabExperiment => RunKind::Experiment,
            Dialect::ExtendWorkflow => RunKind::ExtendWorkflow,
            Dialect::Generic => RunKind::Generic,
        }
    }

    /// The `by.source` of cancels arriving through this dialect.
    pub fn source(self) -> Source {
        match self {
            Dialect::RetabWorkflow => Source::RetabWorkflow,
            Dialect::RetabWorkflowTest => Source::RetabWorkflowTest,
            Dialect::RetabExperiment => Source::RetabExperiment,
            Dialect::ExtendWorkflow => Source::ExtendWorkflow,
            Dialect::Generic => Source::Generic,
        }
    }

    /// The route's cancel policy. The cancellable states are exactly those whose projection is
    /// a status word the contract calls cancellable ([`Dialect::cancellable_words`]), so a
    /// client never sees a cancellable word and gets a refusal:
    /// - 000: every non-terminal state, default grace;
    /// - 001/002: pending, queued, running, and waiting (which these contracts show as
    ///   `running`), grace 0;
    /// - 003: everything except waiting on a human (`NEEDS_REVIEW`), default grace;
    /// - 004: every non-terminal state, default grace.
    pub fn policy(self) -> CancelPolicy {
        match self {
            Dialect::RetabWorkflow | Dialect::Generic => CancelPolicy::native(),
            Dialect::RetabWorkflowTest | Dialect::RetabExperiment => CancelPolicy {
                cancellable: PolicyState::ALL.to_vec(),
                grace: Grace::Fixed(0),
            },
            Dialect::ExtendWorkflow => CancelPolicy {
                cancellable: vec![
                    PolicyState::Pending,
                    PolicyState::Queued,
                    PolicyState::Running,
                    PolicyState::WaitingSleep,
                    PolicyState::WaitingEvent,
                ],
                grace: Grace::Default,
            },
        }
    }

    /// The status words the contract lets a client cancel.
    pub fn cancellable_words(self) -> &'static [&'static str] {
        match self {
            Dialect::RetabWorkflow => &["pending", "running", "awaiting_review"],
            Dialect::RetabWorkflowTest | Dialect::RetabExperiment => {
                &["pending", "queued", "running"]
            }
            Dialect::ExtendWorkflow => &["PENDING", "PROCESSING"],
            Dialect::Generic => &["running", "waiting"],
        }
    }

    /// The dialect's status word for a canonical status.
    pub fn project_status(self, status: &Status) -> &'static str {
        match self {
            Dialect::RetabWorkflow => status_000(status),
            Dialect::RetabWorkflowTest | Dialect::RetabExperiment => status_001(status),
            Dialect::ExtendWorkflow => status_003(status),
            Dialect::Generic => status_004(status),
        }
    }
}

/// 000 (Retab workflow runs): no `queued` in the SDK, so queued shows as `pending`; a cancel in
/// progress is still `running`; only a human wait is `awaiting_review`.
pub fn status_000(status: &Status) -> &'static str {
    match status {
        Status::Pending | Status::Queued => "pending",
        Status::Running { .. } | Status::Cancelling { .. } => "running",
        Status::Waiting { reason } => match reason {
            WaitReason::HumanReview => "awaiting_review",
            WaitReason::Sleep | WaitReason::Event => "running",
        },
        Status::Completed => "completed",
        // A rejected review ends the run unsuccessfully; the contract has no other word for it.
        Status::Failed { .. } | Status::Rejected { .. } => "error",
        Status::Cancelled { .. } => "cancelled",
    }
}

/// 001/002 (Retab workflow-test and experiment runs, `lifecycle.status`).
pub fn status_001(status: &Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::Queued => "queued",
        Status::Running { .. } | Status::Cancelling { .. } | Status::Waiting { .. } => "running",
        Status::Completed => "completed",
        Status::Failed { .. } | Status::Rejected { .. } => "error",
        Status::Cancelled { .. } => "cancelled",
    }
}

/// 003 (Extend workflow runs).
pub fn status_003(status: &Status) -> &'static str {
    match status {
        Status::Pending | Status::Queued => "PENDING",
        Status::Running { .. } => "PROCESSING",
        Status::Waiting { reason } => match reason {
            WaitReason::HumanReview => "NEEDS_REVIEW",
            WaitReason::Sleep | WaitReason::Event => "PROCESSING",
        },
        Status::Cancelling { .. } => "CANCELLING",
        Status::Completed => "PROCESSED",
        Status::Failed { .. } => "FAILED",
        Status::Rejected { .. } => "REJECTED",
        Status::Cancelled { .. } => "CANCELLED",
    }
}

/// 004 (generic runs): everything before a wait or an end is `running`.
pub fn status_004(status: &Status) -> &'static str {
    match status {
        Status::Pending | Status::Queued | Status::Running { .. } | Status::Cancelling { .. } => {
            "running"
        }
        Status::Waiting { .. } => "waiting",
        Status::Completed => "success",
        Status::Failed { .. } | Status::Rejected { .. } => "failure",
        Status::Cancelled { .. } => "cancelled",
    }
}
