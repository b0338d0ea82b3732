//! The native API's view of a run: what it is about, where it is, its timing in RFC 3339, and
//! the core's raw state (so the dashboard's Wasm helpers work on exactly what the server has).

use runbrake_core::{Dialect, Status, format_rfc3339};
use serde_json::{Value, json};

use crate::run_object::protocol::Snapshot;

fn time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(format_rfc3339(ms)))
}

pub fn run(s: &Snapshot) -> Value {
    let st = &s.state;
    let t = &st.timing;
    let cancel = match &st.status {
        Status::Cancelling {
            requested_at,
            deadline,
            by,
            reason,
            command_id,
            ..
        } => json!({
            "requested_at": format_rfc3339(requested_at.to_owned()),
            "deadline": format_rfc3339(deadline.to_owned()),
            "by": by, "reason": reason, "command_id": command_id,
        }),
        Status::Cancelled {
            reason,
            by,
            forced,
            effective_at,
            command_id,
        } => json!({
            "effective_at": format_rfc3339(effective_at.to_owned()),
            "forced": forced, "by": by, "reason": reason, "command_id": command_id,
        }),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. } => Value::Null,
    };
    let vocabulary: serde_json::Map<String, Value> = Dialect::ALL
        .iter()
        .map(|d| {
            (
                d.code().to_owned(),
                Value::String(d.project_status(&st.status).to_owned()),
            )
        })
        .collect();
    let mut children = serde_json::to_value(st.children).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut children {
        map.insert("total".to_owned(), json!(st.children.total()));
    }
    json!({
        "id": st.id,
        "kind": st.kind,
        "name": s.info.name,
        "status": st.status_kind().as_str(),
        "wait_reason": st.status.wait_reason(),
        "version": st.version,
        "workflow": s.info.workflow,
        "trigger": s.info.trigger,
        "metadata": s.info.metadata,
        "batch_id": s.info.batch_id,
        "tags": s.info.tags,
        "attributes": s.info.attributes,
        "parent_run_id": s.info.parent_run_id,
        "sub_runs": st.sub_runs,
        "children": children,
        "cancel": cancel,
        "late": st.late,
        "vocabulary": vocabulary,
        "timing": {
            "created_at": format_rfc3339(t.created_at),
            "updated_at": format_rfc3339(t.updated_at),
            "started_at": time(t.started_at),
            "completed_at": time(t.completed_at),
            "human_waiting_started_at": time(t.human_waiting_started_at),
            "accumulated_human_waiting_ms": t.human_waiting_ms(s.now),
            "duration_ms": st.duration_ms(s.now),
            "active_duration_ms": st.active_duration_ms(s.now),
        },
        "state": st,
    })
}
