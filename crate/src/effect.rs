//! Effects: work the Worker carries out after it has stored the events (data only; the core
//! performs none of it). All are safe to retry: cascades carry a derived `command_id`.

use serde::{Deserialize, Serialize};

use crate::state::{By, StatusKind, WaitReason};
use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Tell the connected executor now (its WebSocket) that it must stop by `deadline`; an
    /// executor that is not connected learns it from its next heartbeat.
    NotifyExecutor {
        lease_id: String,
        executor: String,
        deadline: Millis,
    },
    /// The run's summary changed: feed the organisation index (ordered by `version`).
    UpdateIndex {
        status: StatusKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait_reason: Option<WaitReason>,
        version: u64,
    },
    /// Cancel a sub-run (its own run object) with this command. `grace_ms` (not `deadline`) is
    /// what the sub-run's cancel carries, so a retried cascade has the same fingerprint.
    CascadeCancel {
        sub_run_id: String,
        command_id: String,
        deadline: Millis,
        grace_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        by: By,
    },
    EmitWebhook {
        event: WebhookEvent,
    },
}

/// Webhook event kinds (`run.cancel_requested` etc. on the wire is the Worker's business).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "js", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    RunCancelRequested,
    RunCancelled,
    RunCompleted,
    RunFailed,
    RunRejected,
}
