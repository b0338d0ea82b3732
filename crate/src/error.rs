//! Refusals. A [`CommandError`] means "nothing happened": no event, no effect. Every variant has
//! a stable [`CommandError::code`] that the Worker maps to its route's error shape.

use serde::Serialize;

use crate::command::CommandKind;
use crate::state::{ChildStatus, StatusKind};
use crate::time::Millis;

/// Why `decide` refused a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum CommandError {
    /// The command does not apply in this status (e.g. `claim` on a completed run).
    InvalidTransition {
        command: CommandKind,
        status: StatusKind,
    },
    /// `create` for a run that exists.
    AlreadyExists { id: String },
    /// The lease is not the run's current one (never was, was released, or was revoked by a
    /// cancel or by expiry). The executor must stop.
    LeaseRevoked { lease_id: Option<String> },
    /// The lease is the current one but its expiry has passed.
    LeaseExpired {
        lease_id: String,
        expired_at: Millis,
    },
    /// `claim` while another executor holds a live lease.
    LeaseHeld { expires_at: Millis },
    /// A `command_id` seen before with different parameters (HTTP 422).
    IdempotencyConflict { command_id: String },
    /// The run has remembered the maximum number of distinct `command_id`s.
    TooManyCommands { limit: usize },
    /// A child transition the run's status does not allow (e.g. starting a child of a
    /// cancelling run: cancelled work is never re-run).
    ChildTransitionRefused {
        child_id: String,
        from: ChildStatus,
        to: ChildStatus,
        status: StatusKind,
    },
    /// A parameter is out of range or malformed.
    InvalidArgument { field: String, message: String },
    /// The decision could not be applied to the state: a bug or a corrupt stored state.
    Corrupt { detail: EvolveError },
}

impl CommandError {
    /// Stable machine-readable code (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::InvalidTransition { .. } => "invalid_transition",
            CommandError::AlreadyExists { .. } => "already_exists",
            CommandError::LeaseRevoked { .. } => "lease_revoked",
            CommandError::LeaseExpired { .. } => "lease_expired",
            CommandError::LeaseHeld { .. } => "lease_held",
            CommandError::IdempotencyConflict { .. } => "idempotency_conflict",
            CommandError::TooManyCommands { .. } => "too_many_commands",
            CommandError::ChildTransitionRefused { .. } => "child_transition_refused",
            CommandError::InvalidArgument { .. } => "invalid_argument",
            CommandError::Corrupt { .. } => "corrupt",
        }
    }

    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        CommandError::InvalidArgument {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl core::fmt::Display for CommandError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CommandError::InvalidTransition { command, status } => write!(
                f,
                "{} is not allowed while the run is {}",
                command.as_str(),
                status.as_str()
            ),
            CommandError::AlreadyExists { id } => write!(f, "run {id} already exists"),
            CommandError::LeaseRevoked { lease_id: Some(id) } => {
                write!(f, "lease {id} is not the run's current lease")
            }
            CommandError::LeaseRevoked { lease_id: None } => {
                f.write_str("the run is claimed; a lease id is required")
            }
            CommandError::LeaseExpired {
                lease_id,
                expired_at,
            } => write!(
                f,
                "lease {lease_id} expired at {}",
                crate::time::format_rfc3339(*expired_at)
            ),
            CommandError::LeaseHeld { expires_at } => write!(
                f,
                "another executor holds the run until {}",
                crate::time::format_rfc3339(*expires_at)
            ),
            CommandError::IdempotencyConflict { command_id } => write!(
                f,
                "command_id {command_id} was already used with different parameters"
            ),
            CommandError::TooManyCommands { limit } => {
                write!(f, "the run has reached its limit of {limit} command ids")
            }
            CommandError::ChildTransitionRefused {
                child_id,
                from,
                to,
                status,
            } => write!(
                f,
                "child {child_id} cannot go from {from:?} to {to:?} while the run is {}",
                status.as_str()
            ),
            CommandError::InvalidArgument { field, message } => write!(f, "{field}: {message}"),
            CommandError::Corrupt { detail } => write!(f, "corrupt run state: {detail}"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<EvolveError> for CommandError {
    fn from(detail: EvolveError) -> Self {
        CommandError::Corrupt { detail }
    }
}

/// Why an event could not be applied. Only a corrupt or foreign log produces one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum EvolveError {
    /// `seq` is not `version + 1`.
    OutOfOrder { expected: u64, got: u64 },
    /// The log does not start with `created`.
    NotCreated,
    /// A second `created`.
    AlreadyCreated,
    /// The event does not fit the status (e.g. `claimed` on a cancelled run).
    NotApplicable {
        event: &'static str,
        status: StatusKind,
    },
    /// A child event would make a bucket negative or overflow.
    ChildCounts,
}

impl EvolveError {
    /// Stable machine-readable code (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            EvolveError::OutOfOrder { .. } => "out_of_order",
            EvolveError::NotCreated => "not_created",
            EvolveError::AlreadyCreated => "already_created",
            EvolveError::NotApplicable { .. } => "not_applicable",
            EvolveError::ChildCounts => "child_counts",
        }
    }
}

impl core::fmt::Display for EvolveError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EvolveError::OutOfOrder { expected, got } => {
                write!(f, "event seq {got} where {expected} was expected")
            }
            EvolveError::NotCreated => f.write_str("the log does not start with created"),
            EvolveError::AlreadyCreated => f.write_str("created applied to an existing run"),
            EvolveError::NotApplicable { event, status } => {
                write!(f, "{event} cannot apply to a {} run", status.as_str())
            }
            EvolveError::ChildCounts => f.write_str("child counts would go negative"),
        }
    }
}

impl std::error::Error for EvolveError {}
