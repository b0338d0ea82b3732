//! The run summary the organisation index stores and lists (and the dashboard's list shows).

use runbrake_core::RunState;
use serde_json::{Value, json};

use crate::run_info::RunInfo;

pub fn of(state: &RunState, info: &RunInfo) -> Value {
    json!({
        "id": state.id,
        "seq": state.version,
        "kind": state.kind,
        "status": state.status_kind().as_str(),
        "wait_reason": state.status.wait_reason(),
        "name": info.name,
        "workflow_id": info.workflow.id,
        "batch_id": info.batch_id,
        "tags": info.tags,
        "parent_run_id": info.parent_run_id,
        "created_at": state.timing.created_at,
        "updated_at": state.timing.updated_at,
        "started_at": state.timing.started_at,
        "completed_at": state.timing.completed_at,
        "deadline": state.status.cancel_deadline(),
        "children": state.children,
        "sub_runs": state.sub_runs.len(),
    })
}
