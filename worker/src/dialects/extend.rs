//! Seed 003: Extend's `POST /workflow_runs/{id}/cancel` (and `GET /workflow_runs/{id}`).
//! camelCase, `object: "workflow_run"`, upper-case statuses, errors as
//! `{code, message, retryable, requestId}`.
//!
//! A refused cancel (the run is in review, already ended or already cancelled) is a 400, not a
//! 409: the Extend SDK retries 409 twice with backoff before failing, which would cost its users
//! seconds for an answer that cannot change.

use runbrake_core::{CancelOutcome, Dialect, Status};
use serde_json::{Map, Value, json};

use super::render::{attr, base, merged, text, time};
use super::{Answer, Ctx, Failure, settled};
use crate::run_object::protocol::Snapshot;

/// The one API version served; a request without the header gets it too.
pub const API_VERSION: &str = "2026-02-09";

fn error(status: u16, code: &str, message: String, retryable: bool, ctx: &Ctx) -> Answer {
    Answer::new(
        status,
        json!({
            "code": code,
            "message": message,
            "retryable": retryable,
            "requestId": ctx.request_id,
        }),
    )
}

/// Extend's error bodies.
pub fn failure(f: &Failure, ctx: &Ctx) -> Answer {
    match f {
        Failure::Unauthorized(e) => error(401, "UNAUTHORIZED", e.message().to_owned(), false, ctx),
        Failure::Forbidden => error(
            403,
            "FORBIDDEN",
            "This route needs a user key; executor keys only move runs through their lifecycle"
                .to_owned(),
            false,
            ctx,
        ),
        Failure::RunNotFound => error(
            404,
            "NOT_FOUND",
            "Workflow run not found".to_owned(),
            false,
            ctx,
        ),
        Failure::NoRoute => error(404, "NOT_FOUND", "No such endpoint".to_owned(), false, ctx),
        Failure::MethodNotAllowed(allow) => error(
            405,
            "METHOD_NOT_ALLOWED",
            format!("This endpoint only accepts {allow}"),
            false,
            ctx,
        ),
        Failure::Invalid(i) => error(
            400,
            "INVALID_REQUEST",
            format!("{}; Path: {}", i.msg, i.path()),
            false,
            ctx,
        ),
        Failure::TooLarge(limit) => error(
            413,
            "PAYLOAD_TOO_LARGE",
            format!("Request body too large: at most {limit} bytes"),
            false,
            ctx,
        ),
        Failure::Conflict(m) => error(400, "INVALID_REQUEST", m.clone(), false, ctx),
        Failure::Internal => error(
            500,
            "INTERNAL_ERROR",
            "Internal error; nothing was changed".to_owned(),
            true,
            ctx,
        ),
        Failure::Gate {
            status, message, ..
        } => {
            let code = match status {
                429 => "RATE_LIMIT_EXCEEDED",
                401 => "UNAUTHORIZED",
                403 => "FORBIDDEN",
                _ => "INVALID_REQUEST",
            };
            error(*status, code, message.clone(), *status == 429, ctx)
        }
    }
}

/// Fields computed from the run; the rest of its attributes (`files`, `stepRuns`, `usage`,
/// `reviewedByUser`, `dashboardUrl`…) are echoed as stored.
const COMPUTED: [&str; 13] = [
    "object",
    "id",
    "workflow",
    "workflowVersion",
    "status",
    "metadata",
    "batchId",
    "failureReason",
    "failureMessage",
    "initialRunAt",
    "startTime",
    "endTime",
    "reviewed",
];

/// Seed 003's `WorkflowRun`.
pub fn workflow_run(run: &Snapshot, ctx: &Ctx) -> Value {
    let (st, info) = (&run.state, &run.info);
    let a = &info.attributes;
    let wf = &info.workflow;
    let created = time(Some(st.timing.created_at));
    let mut m = base(a, &COMPUTED);
    m.insert("object".to_owned(), json!("workflow_run"));
    m.insert("id".to_owned(), json!(st.id));

    // The workflow and its version: ids and names from the run; their own timestamps and
    // creators from the attributes when the creator stored them, else the run's creation.
    let mut workflow = Map::new();
    workflow.insert("object".to_owned(), json!("workflow"));
    workflow.insert("id".to_owned(), json!(wf.id.clone().unwrap_or_default()));
    workflow.insert(
        "name".to_owned(),
        json!(
            wf.name
                .clone()
                .or_else(|| info.name.clone())
                .unwrap_or_default()
        ),
    );
    let mut workflow = merged(a, "workflow", workflow);
    if let Value::Object(w) = &mut workflow {
        w.entry("createdAt").or_insert_with(|| created.clone());
        w.entry("updatedAt").or_insert_with(|| created.clone());
    }
    m.insert("workflow".to_owned(), workflow);
    let mut version = Map::new();
    version.insert("object".to_owned(), json!("workflow_version"));
    version.insert(
        "id".to_owned(),
        json!(wf.version_id.clone().unwrap_or_default()),
    );
    version.insert(
        "version".to_owned(),
        json!(wf.version.clone().unwrap_or_else(|| "draft".to_owned())),
    );
    let mut version = merged(a, "workflowVersion", version);
    if let Value::Object(v) = &mut version {
        v.entry("createdAt").or_insert_with(|| created.clone());
    }
    m.insert("workflowVersion".to_owned(), version);

    // The run's page in runbrake's dashboard, unless the creator stored the vendor's URL.
    m.entry("dashboardUrl")
        .or_insert_with(|| json!(format!("{}/runs/{}", ctx.origin, st.id)));
    m.insert(
        "status".to_owned(),
        json!(Dialect::ExtendWorkflow.project_status(&st.status)),
    );
    m.insert("metadata".to_owned(), Value::Object(info.metadata.clone()));
    m.insert("batchId".to_owned(), text(info.batch_id.as_deref()));
    if !matches!(m.get("files"), Some(Value::Array(_))) {
        m.insert("files".to_owned(), json!([]));
    }
    if !matches!(m.get("stepRuns"), Some(Value::Array(_))) {
        m.insert("stepRuns".to_owned(), json!([]));
    }
    m.entry("usage").or_insert(Value::Null);
    m.entry("reviewedByUser").or_insert(Value::Null);

    let (failure_reason, failure_message) = match &st.status {
        Status::Failed { message, code } => (
            json!(
                code.clone()
                    .unwrap_or_else(|| "WORKFLOW_RUN_FAILED".to_owned())
            ),
            json!(message),
        ),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Rejected { .. }
        | Status::Cancelled { .. } => (Value::Null, Value::Null),
    };
    m.insert("failureReason".to_owned(), failure_reason);
    m.insert("failureMessage".to_owned(), failure_message);
    // A rejected run was reviewed: when, and the reviewer's note, come from the run itself.
    if let Status::Rejected { note } = &st.status {
        m.insert("rejectionNote".to_owned(), text(note.as_deref()));
        if attr(a, "reviewedAt").is_none() {
            m.insert("reviewedAt".to_owned(), time(st.timing.completed_at));
        }
    }
    m.entry("rejectionNote").or_insert(Value::Null);
    m.entry("reviewedAt").or_insert(Value::Null);
    let reviewed = matches!(st.status, Status::Rejected { .. })
        || attr(a, "reviewed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        || attr(a, "reviewedAt").is_some();
    m.insert("reviewed".to_owned(), json!(reviewed));
    m.insert("initialRunAt".to_owned(), created);
    m.insert("startTime".to_owned(), time(st.timing.started_at));
    m.insert("endTime".to_owned(), time(st.timing.completed_at));
    Value::Object(m)
}

/// Seed 003's cancel: 200 `CANCELLED` or `CANCELLING`, else 400.
pub fn cancel(outcome: &CancelOutcome, run: &Snapshot, ctx: &Ctx) -> Answer {
    match settled(outcome) {
        CancelOutcome::CancelledNow { .. }
        | CancelOutcome::Requested { .. }
        | CancelOutcome::AlreadyRequested { .. } => Answer::new(200, workflow_run(run, ctx)),
        CancelOutcome::AlreadyCancelled { .. }
        | CancelOutcome::AlreadyTerminal { .. }
        | CancelOutcome::NotCancellable { .. }
        | CancelOutcome::PreconditionFailed { .. }
        | CancelOutcome::Replayed { .. } => {
            let status = Dialect::ExtendWorkflow.project_status(&run.state.status);
            error(
                400,
                "INVALID_REQUEST",
                format!(
                    "Workflow run {} cannot be cancelled: its status is {status}. Only workflow runs with a status of PENDING or PROCESSING can be cancelled.",
                    run.state.id
                ),
                false,
                ctx,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::fixtures::{T0, snapshot};
    use runbrake_core::{RunKind, StatusKind};

    fn ctx() -> Ctx {
        Ctx {
            request_id: "req_1".to_owned(),
            origin: "http://127.0.0.1:8787".to_owned(),
        }
    }

    fn run(state: &str) -> Snapshot {
        snapshot(
            RunKind::ExtendWorkflow,
            "workflow_run_1",
            state,
            json!({
                "files": [{"object": "file", "id": "file_1", "name": "a.pdf", "metadata": {}, "createdAt": "2026-05-01T14:00:00Z", "updatedAt": "2026-05-01T14:00:00Z"}],
                "stepRuns": [],
                "usage": {"credits": 1.5},
                "workflow": {"createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-02-01T00:00:00Z"},
                "status": "IGNORED",
            }),
        )
    }

    #[test]
    fn the_run_has_every_required_field() {
        let r = workflow_run(&run("running"), &ctx());
        for key in [
            "object",
            "id",
            "workflow",
            "workflowVersion",
            "dashboardUrl",
            "status",
            "metadata",
            "files",
            "reviewed",
            "stepRuns",
        ] {
            assert!(r.get(key).is_some(), "{key} missing");
        }
        assert_eq!(r["object"], "workflow_run");
        assert_eq!(r["status"], "PROCESSING");
        assert_eq!(
            r["workflow"],
            json!({"object": "workflow", "id": "wf_abc", "name": "Invoice Processing", "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-02-01T00:00:00Z"})
        );
        assert_eq!(
            r["workflowVersion"],
            json!({"object": "workflow_version", "id": "ver_7", "version": "7", "createdAt": "2026-05-01T14:30:00Z"})
        );
        assert_eq!(r["files"][0]["id"], "file_1");
        assert_eq!(r["usage"]["credits"], 1.5);
        assert_eq!(r["batchId"], "batch_1");
        assert_eq!(r["initialRunAt"], "2026-05-01T14:30:00Z");
        assert_eq!(r["startTime"], "2026-05-01T14:30:01Z");
        assert_eq!(r["endTime"], Value::Null);
        assert_eq!(
            r["dashboardUrl"],
            "http://127.0.0.1:8787/runs/workflow_run_1"
        );
        assert_eq!(r["reviewed"], false);
    }

    #[test]
    fn statuses_and_outcomes() {
        let c = ctx();
        let now = CancelOutcome::CancelledNow {
            effective_at: T0,
            forced: false,
        };
        assert_eq!(
            cancel(&now, &run("cancelled"), &c).body["status"],
            "CANCELLED"
        );
        let req = CancelOutcome::Requested { deadline: T0 };
        assert_eq!(
            cancel(&req, &run("cancelling"), &c).body["status"],
            "CANCELLING"
        );
        for (outcome, state) in [
            (
                CancelOutcome::NotCancellable {
                    state: StatusKind::Waiting,
                },
                "waiting",
            ),
            (
                CancelOutcome::AlreadyTerminal {
                    state: StatusKind::Completed,
                    since: T0,
                    lost_race: true,
                },
                "completed",
            ),
            (
                CancelOutcome::AlreadyCancelled {
                    effective_at: T0,
                    forced: false,
                },
                "cancelled",
            ),
        ] {
            let a = cancel(&outcome, &run(state), &c);
            assert_eq!(a.status, 400, "{state}");
            assert_eq!(a.body["code"], "INVALID_REQUEST");
            assert_eq!(a.body["retryable"], false);
            assert_eq!(a.body["requestId"], "req_1");
        }
        let failed = workflow_run(&run("failed"), &c);
        assert_eq!(failed["status"], "FAILED");
        assert_eq!(failed["failureReason"], "E42");
        assert_eq!(failed["failureMessage"], "boom");
        let rejected = workflow_run(&run("rejected"), &c);
        assert_eq!(rejected["status"], "REJECTED");
        assert_eq!(rejected["reviewed"], true);
        assert_eq!(rejected["rejectionNote"], "Invalid invoice format");
        assert_eq!(rejected["reviewedAt"], "2026-05-01T14:30:08Z");
        assert_eq!(workflow_run(&run("waiting"), &c)["status"], "NEEDS_REVIEW");
        assert_eq!(workflow_run(&run("queued"), &c)["status"], "PENDING");
        assert_eq!(workflow_run(&run("completed"), &c)["status"], "PROCESSED");
    }

    #[test]
    fn errors_are_extend_shaped() {
        let c = ctx();
        let a = failure(&Failure::RunNotFound, &c);
        assert_eq!(
            a,
            Answer::new(
                404,
                json!({"code": "NOT_FOUND", "message": "Workflow run not found", "retryable": false, "requestId": "req_1"})
            )
        );
        assert_eq!(
            failure(&Failure::Unauthorized(crate::auth::AuthError::Invalid), &c).body["code"],
            "UNAUTHORIZED"
        );
        assert_eq!(failure(&Failure::Internal, &c).body["retryable"], true);
    }
}
