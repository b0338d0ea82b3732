//! Cancel policy: which states a caller may cancel, and with what grace. It is an input to the
//! cancel command, never a second decision: every route passes its preset and maps the one
//! outcome the core returns.

use serde::{Deserialize, Serialize};

use crate::dialect::Dialect;
use crate::state::{Status, WaitReason};

/// The states a policy can name. Waiting is split by reason because contracts differ there: a
/// run waiting on a human is `NEEDS_REVIEW` to Extend (not cancellable) while one sleeping is
/// `PROCESSING` (cancellable). Cancelling and terminal runs are answered before the policy is
/// consulted, so they have no entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum PolicyState {
    Pending,
    Queued,
    Running,
    WaitingHumanReview,
    WaitingSleep,
    WaitingEvent,
}

impl PolicyState {
    pub const ALL: [PolicyState; 6] = [
        PolicyState::Pending,
        PolicyState::Queued,
        PolicyState::Running,
        PolicyState::WaitingHumanReview,
        PolicyState::WaitingSleep,
        PolicyState::WaitingEvent,
    ];

    /// The policy state of a status; `None` for cancelling and terminal runs.
    pub fn of(status: &Status) -> Option<PolicyState> {
        match status {
            Status::Pending => Some(PolicyState::Pending),
            Status::Queued => Some(PolicyState::Queued),
            Status::Running { .. } => Some(PolicyState::Running),
            Status::Waiting { reason } => Some(match reason {
                WaitReason::HumanReview => PolicyState::WaitingHumanReview,
                WaitReason::Sleep => PolicyState::WaitingSleep,
                WaitReason::Event => PolicyState::WaitingEvent,
            }),
            Status::Cancelling { .. }
            | Status::Completed
            | Status::Failed { .. }
            | Status::Rejected { .. }
            | Status::Cancelled { .. } => None,
        }
    }
}

/// How long an executor gets to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Grace {
    /// The command's `grace_ms`, else the run's default, else 30 s.
    #[default]
    Default,
    /// Always this many ms, whatever the command says (0 = cancel in the reply).
    Fixed(u64),
}

/// Which states a caller may cancel, and with what grace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[cfg_attr(feature = "js", tsify(hashmap_as_object, missing_as_null))]
pub struct CancelPolicy {
    pub cancellable: Vec<PolicyState>,
    #[serde(default)]
    pub grace: Grace,
}

impl Default for CancelPolicy {
    fn default() -> Self {
        CancelPolicy::native()
    }
}

impl CancelPolicy {
    /// The native API: every non-terminal state, default grace.
    pub fn native() -> Self {
        CancelPolicy {
            cancellable: PolicyState::ALL.to_vec(),
            grace: Grace::Default,
        }
    }

    /// The preset of a dialect route (see [`Dialect::policy`]).
    pub fn for_dialect(d: Dialect) -> Self {
        d.policy()
    }

    pub fn allows(&self, status: &Status) -> bool {
        PolicyState::of(status).is_some_and(|s| self.cancellable.contains(&s))
    }

    /// Sorted, deduplicated copy: two policies that allow the same states fingerprint equal.
    pub fn normalized(&self) -> Self {
        let mut cancellable = self.cancellable.clone();
        cancellable.sort();
        cancellable.dedup();
        CancelPolicy {
            cancellable,
            grace: self.grace,
        }
    }
}
