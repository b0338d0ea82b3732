//! Seeds 000 (workflow runs), 001 (workflow-test runs) and 002 (experiment runs): Retab's
//! FastAPI contracts, snake_case, errors as `{"detail": …}`.
//!
//! - 000 answers every cancel with 200 and a `cancellation_status` (`cancelled`,
//!   `cancellation_requested`, or `cancellation_failed` with the real run); its run carries
//!   `lifecycle.status` and `lifecycle.kind` with the same word (the SDK discriminates on
//!   `status`, the seed's example on `kind`), and the top-level `workflow_id` and
//!   `workflow_version_id` the SDK requires beside the seed's `workflow{…}`.
//! - 001/002 cancel with grace 0 (the run is cancelled in the reply) and answer 404 for a run
//!   that is not pending, queued or running, including one already cancelled.
//!
//! Timing is rendered from stored instants only (no clock): `duration_ms` and
//! `active_duration_ms` are `null` until the run ends, so two reads of the same stored run are
//! byte-identical, which is what makes a `command_id` replay byte-identical.

use runbrake_core::{CancelOutcome, ChildCounts, Dialect, RunState, Status, WaitReason};
use serde_json::{Map, Value, json};

use super::render::{attr, attr_or, base, merged, text, time};
use super::{Answer, Failure, Invalid, parse_json_body, settled};
use crate::ids;
use crate::run_object::protocol::Snapshot;

/// The `inputs` of a run created without any.
fn empty_inputs() -> Value {
    json!({ "documents": {}, "json_data": {} })
}

/// The thing a route is about, for messages.
fn noun(d: Dialect) -> &'static str {
    match d {
        Dialect::RetabWorkflowTest => "Workflow test run",
        Dialect::RetabExperiment => "Experiment run",
        Dialect::RetabWorkflow | Dialect::ExtendWorkflow | Dialect::Generic => "Workflow run",
    }
}

/// FastAPI's error bodies.
pub fn failure(d: Dialect, f: &Failure) -> Answer {
    let detail = |status: u16, msg: String| Answer::new(status, json!({ "detail": msg }));
    match f {
        Failure::Unauthorized(e) => detail(401, e.message().to_owned()),
        Failure::Forbidden => detail(
            403,
            "This route needs a user key; executor keys only move runs through their lifecycle"
                .to_owned(),
        ),
        Failure::RunNotFound => detail(404, format!("{} not found", noun(d))),
        Failure::NoRoute => detail(404, "Not Found".to_owned()),
        Failure::MethodNotAllowed(_) => detail(405, "Method Not Allowed".to_owned()),
        Failure::Invalid(i) => Answer::new(
            422,
            json!({ "detail": [{ "type": i.kind, "loc": i.loc, "msg": i.msg, "input": i.input }] }),
        ),
        Failure::TooLarge(limit) => detail(
            413,
            format!("Request body too large: at most {limit} bytes"),
        ),
        Failure::Conflict(m) => detail(409, m.clone()),
        Failure::Internal => detail(500, "Internal Server Error".to_owned()),
        Failure::Gate {
            status, message, ..
        } => detail(*status, message.clone()),
    }
}

/// Seed 000's optional body: absent, `{}`, `null`, or `{"command_id": "…" | null}` (the
/// idempotency key). Unknown fields are ignored, as the vendor's pydantic model does.
pub fn parse_cancel_body(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<Option<String>, Invalid> {
    match parse_json_body(bytes, content_type)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => match m.get("command_id") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if ids::is_valid_command_id(s) => Ok(Some(s.clone())),
            Some(Value::String(s)) => Err(Invalid {
                loc: vec![json!("body"), json!("command_id")],
                msg: "Value error, command_id must be 1–255 characters of A–Z, a–z, 0–9, _, -, . or :"
                    .to_owned(),
                kind: "value_error",
                input: json!(s),
            }),
            Some(other) => Err(Invalid {
                loc: vec![json!("body"), json!("command_id")],
                msg: "Input should be a valid string".to_owned(),
                kind: "string_type",
                input: other.clone(),
            }),
        },
        Some(other) => Err(Invalid {
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary or object to extract fields from".to_owned(),
            kind: "model_attributes_type",
            input: other,
        }),
    }
}

/// Wall time from start to end, once the run has ended.
fn duration_ms(st: &RunState) -> Option<u64> {
    let t = &st.timing;
    match (t.started_at, t.completed_at) {
        (Some(s), Some(e)) => Some(e.saturating_sub(s)),
        (None | Some(_), None) | (None, Some(_)) => None,
    }
}

/// Duration minus time spent waiting on a human, once the run has ended.
fn active_duration_ms(st: &RunState) -> Option<u64> {
    let t = &st.timing;
    let end = t.completed_at?;
    let open = t
        .human_waiting_started_at
        .map_or(0, |s| end.saturating_sub(s));
    duration_ms(st).map(|d| d.saturating_sub(t.accumulated_human_waiting_ms.saturating_add(open)))
}

/// An ended run's error: the failure's message, or the reviewer's rejection.
fn error_parts(status: &Status) -> Option<(String, Value)> {
    match status {
        Status::Failed { message, code } => Some((
            message.clone(),
            json!({ "message": message, "error_code": code }),
        )),
        Status::Rejected { note } => {
            let message = note
                .clone()
                .unwrap_or_else(|| "Rejected during review".to_owned());
            Some((
                message.clone(),
                json!({ "message": message, "error_code": "rejected" }),
            ))
        }
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Cancelled { .. } => None,
    }
}

fn cancel_reason(status: &Status) -> Option<Value> {
    match status {
        Status::Cancelled { reason, .. } => Some(text(reason.as_deref())),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Cancelling { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. } => None,
    }
}

/// 000's lifecycle: `status` and `kind` carry the same word.
fn workflow_lifecycle(run: &Snapshot) -> Value {
    let st = &run.state;
    let word = Dialect::RetabWorkflow.project_status(&st.status);
    let mut m = Map::new();
    m.insert("status".to_owned(), json!(word));
    m.insert("kind".to_owned(), json!(word));
    if let Status::Waiting {
        reason: WaitReason::HumanReview,
    } = st.status
    {
        m.insert(
            "waiting_for_block_ids".to_owned(),
            attr_or(&run.info.attributes, "waiting_for_block_ids", json!([])),
        );
    }
    if let Some((message, details)) = error_parts(&st.status) {
        m.insert("message".to_owned(), json!(message));
        m.insert("details".to_owned(), details);
    }
    if let Some(reason) = cancel_reason(&st.status) {
        m.insert("reason".to_owned(), reason);
    }
    Value::Object(m)
}

fn workflow_timing(st: &RunState) -> Value {
    let t = &st.timing;
    json!({
        "created_at": time(Some(t.created_at)),
        "started_at": time(t.started_at),
        "completed_at": time(t.completed_at),
        "human_waiting_started_at": time(t.human_waiting_started_at),
        "accumulated_human_waiting_ms": t.accumulated_human_waiting_ms,
        "duration_ms": duration_ms(st),
        "active_duration_ms": active_duration_ms(st),
    })
}

/// Fields of a 000 run computed from the run itself; everything else in its attributes
/// (`inputs`, `organization_id`, …) is echoed as stored.
const WORKFLOW_COMPUTED: [&str; 8] = [
    "id",
    "workflow_id",
    "workflow_version_id",
    "workflow",
    "trigger",
    "lifecycle",
    "timing",
    "metadata",
];

/// Seed 000's `WorkflowRun` (also the bare body of `GET /v1/workflows/runs/{run_id}`).
pub fn workflow_run(run: &Snapshot) -> Value {
    let (st, info) = (&run.state, &run.info);
    let a = &info.attributes;
    let wf = &info.workflow;
    let mut m = base(a, &WORKFLOW_COMPUTED);
    m.insert("id".to_owned(), json!(st.id));
    m.insert(
        "workflow_id".to_owned(),
        json!(wf.id.clone().unwrap_or_default()),
    );
    m.insert(
        "workflow_version_id".to_owned(),
        json!(wf.version_id.clone().unwrap_or_default()),
    );
    m.entry("organization_id")
        .or_insert_with(|| json!(info.org_id));
    let mut workflow = Map::new();
    workflow.insert(
        "workflow_id".to_owned(),
        json!(wf.id.clone().unwrap_or_default()),
    );
    workflow.insert("snapshot_id".to_owned(), text(wf.version_id.as_deref()));
    workflow.insert(
        "name_at_run_time".to_owned(),
        text(wf.name.as_deref().or(info.name.as_deref())),
    );
    m.insert("workflow".to_owned(), merged(a, "workflow", workflow));
    m.insert("trigger".to_owned(), json!({ "type": info.trigger.kind }));
    m.insert("lifecycle".to_owned(), workflow_lifecycle(run));
    m.insert("timing".to_owned(), workflow_timing(st));
    if !matches!(m.get("inputs"), Some(Value::Object(_))) {
        m.insert("inputs".to_owned(), empty_inputs());
    }
    m.insert("metadata".to_owned(), string_metadata(&info.metadata));
    Value::Object(m)
}

/// Seed 000's `metadata` is `dict[str, str]` (the SDK refuses anything else), while a native
/// run's metadata may hold any JSON: other values are shown as their JSON text.
fn string_metadata(metadata: &Map<String, Value>) -> Value {
    Value::Object(
        metadata
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), Value::String(text))
            })
            .collect(),
    )
}

/// Seed 000: every decided cancel is a 200; the status says what happened.
pub fn cancel_workflow(outcome: &CancelOutcome, run: &Snapshot) -> Answer {
    let status = match settled(outcome) {
        CancelOutcome::CancelledNow { .. } | CancelOutcome::AlreadyCancelled { .. } => "cancelled",
        CancelOutcome::Requested { .. } | CancelOutcome::AlreadyRequested { .. } => {
            "cancellation_requested"
        }
        CancelOutcome::AlreadyTerminal { .. }
        | CancelOutcome::NotCancellable { .. }
        | CancelOutcome::PreconditionFailed { .. }
        | CancelOutcome::Replayed { .. } => "cancellation_failed",
    };
    Answer::new(
        200,
        json!({
            "run": workflow_run(run),
            // The run object records the cancel flag synchronously, before this reply.
            "redis_available": true,
            "cancellation_status": status,
        }),
    )
}

/// 001/002's lifecycle (`status` pending, queued, running, completed, error, cancelled).
fn batch_lifecycle(st: &RunState) -> Value {
    let word = Dialect::RetabExperiment.project_status(&st.status);
    let mut m = Map::new();
    m.insert("status".to_owned(), json!(word));
    if let Some((message, details)) = error_parts(&st.status) {
        m.insert("message".to_owned(), json!(message));
        m.insert("details".to_owned(), details);
    }
    if let Some(reason) = cancel_reason(&st.status) {
        m.insert("reason".to_owned(), reason);
    }
    Value::Object(m)
}

fn batch_timing(st: &RunState) -> Value {
    let t = &st.timing;
    json!({
        "created_at": time(Some(t.created_at)),
        "started_at": time(t.started_at),
        "completed_at": time(t.completed_at),
        "duration_ms": duration_ms(st),
    })
}

/// Children (test cases, experiment results) per lifecycle bucket, in Retab's words.
fn lifecycle_counts(c: &ChildCounts) -> Value {
    json!({
        "pending": c.pending,
        "queued": 0,
        "running": c.running.saturating_add(c.cancelling),
        "completed": c.completed,
        "error": c.failed,
        "cancelled": c.cancelled,
    })
}

/// A cancel 001/002 refuses: 404, as the contracts say for a run that is not pending, queued
/// or running.
fn not_cancellable(d: Dialect, run: &Snapshot) -> Answer {
    let word = d.project_status(&run.state.status);
    Answer::new(
        404,
        json!({
            "detail": format!(
                "{} {} is not in a cancellable (pending, queued, or running) state: it is {word}",
                noun(d),
                run.state.id
            )
        }),
    )
}

/// 001/002: the run is cancelled in the reply (grace 0). A cancel already in progress (one sent
/// through another route with a grace) is answered with the run as it is.
fn batch_cancel(d: Dialect, outcome: &CancelOutcome, run: &Snapshot, body: Value) -> Answer {
    match settled(outcome) {
        CancelOutcome::CancelledNow { .. }
        | CancelOutcome::Requested { .. }
        | CancelOutcome::AlreadyRequested { .. } => Answer::new(200, body),
        CancelOutcome::AlreadyCancelled { .. }
        | CancelOutcome::AlreadyTerminal { .. }
        | CancelOutcome::NotCancellable { .. }
        | CancelOutcome::PreconditionFailed { .. }
        | CancelOutcome::Replayed { .. } => not_cancellable(d, run),
    }
}

const TEST_COMPUTED: [&str; 9] = [
    "id",
    "workflow",
    "workflow_id",
    "workflow_version_id",
    "trigger",
    "lifecycle",
    "timing",
    "total_tests",
    "counts",
];

/// Seed 001's `WorkflowTestRun`: the required id, workflow (`version_id`), trigger (a
/// `ManualTrigger`: test runs are started by a person), lifecycle, timing and `total_tests`,
/// plus `counts` from the run's test cases and `target`/`test_id` as stored.
pub fn test_run(run: &Snapshot) -> Value {
    let (st, info) = (&run.state, &run.info);
    let a = &info.attributes;
    let wf = &info.workflow;
    let mut m = base(a, &TEST_COMPUTED);
    m.insert("id".to_owned(), json!(st.id));
    let mut workflow = Map::new();
    workflow.insert(
        "workflow_id".to_owned(),
        json!(wf.id.clone().unwrap_or_default()),
    );
    workflow.insert(
        "version_id".to_owned(),
        json!(wf.version_id.clone().unwrap_or_default()),
    );
    if let Some(name) = wf.name.as_deref() {
        workflow.insert("name".to_owned(), json!(name));
    }
    m.insert("workflow".to_owned(), merged(a, "workflow", workflow));
    m.insert(
        "workflow_id".to_owned(),
        json!(wf.id.clone().unwrap_or_default()),
    );
    m.insert(
        "workflow_version_id".to_owned(),
        json!(wf.version_id.clone().unwrap_or_default()),
    );
    let mut trigger = Map::new();
    trigger.insert("type".to_owned(), json!("manual"));
    m.insert("trigger".to_owned(), merged(a, "trigger", trigger));
    m.insert("lifecycle".to_owned(), batch_lifecycle(st));
    m.insert("timing".to_owned(), batch_timing(st));
    let total = match st.children.total() {
        0 => attr(a, "total_tests")
            .and_then(Value::as_u64)
            .unwrap_or_default(),
        n => n,
    };
    m.insert("total_tests".to_owned(), json!(total));
    let outcome = attr(a, "counts")
        .and_then(|c| c.get("outcome"))
        .cloned()
        .unwrap_or_else(|| json!({ "passed": 0, "failed": 0, "blocked": 0 }));
    m.insert(
        "counts".to_owned(),
        json!({ "lifecycle_counts": lifecycle_counts(&st.children), "outcome": outcome }),
    );
    m.entry("test_id").or_insert(Value::Null);
    Value::Object(m)
}

pub fn cancel_test(outcome: &CancelOutcome, run: &Snapshot) -> Answer {
    batch_cancel(Dialect::RetabWorkflowTest, outcome, run, test_run(run))
}

/// Seed 002's `CancelWorkflowExperimentRunResponse` (`id`, `lifecycle`), plus `timing` as the
/// seed's example shows it.
pub fn cancel_experiment(outcome: &CancelOutcome, run: &Snapshot) -> Answer {
    let st = &run.state;
    let body = json!({
        "id": st.id,
        "lifecycle": batch_lifecycle(st),
        "timing": batch_timing(st),
    });
    batch_cancel(Dialect::RetabExperiment, outcome, run, body)
}

const EXPERIMENT_COMPUTED: [&str; 11] = [
    "id",
    "workflow_id",
    "workflow_version_id",
    "trigger",
    "lifecycle",
    "timing",
    "parent_run_id",
    "total_document_count",
    "completed_document_count",
    "document_count",
    "error_count",
];

/// The SDK's `ExperimentRun` (`GET /v1/workflows/experiments/runs/{run_id}`). The experiment's
/// own fields (`experiment_id`, `block_id`, `block_type`, `n_consensus`, fingerprints, score…)
/// come from the run's attributes; required ones the creator left out get neutral defaults.
/// Document counts are the run's children (one per document result).
pub fn experiment_run(run: &Snapshot) -> Value {
    let (st, info) = (&run.state, &run.info);
    let a = &info.attributes;
    let mut m = base(a, &EXPERIMENT_COMPUTED);
    m.insert("id".to_owned(), json!(st.id));
    m.insert(
        "workflow_id".to_owned(),
        json!(info.workflow.id.clone().unwrap_or_default()),
    );
    m.insert(
        "workflow_version_id".to_owned(),
        json!(info.workflow.version_id.clone().unwrap_or_default()),
    );
    m.insert("trigger".to_owned(), json!({ "type": info.trigger.kind }));
    for (key, default) in [
        ("experiment_id", json!("")),
        ("block_id", json!("")),
        ("block_type", json!("extract")),
        ("n_consensus", json!(3)),
        ("block_execution_fingerprint", json!("")),
        ("documents_fingerprint", json!("")),
    ] {
        if attr(a, key).is_none() {
            m.insert(key.to_owned(), default);
        }
    }
    m.insert("lifecycle".to_owned(), batch_lifecycle(st));
    m.insert("timing".to_owned(), batch_timing(st));
    m.insert(
        "parent_run_id".to_owned(),
        text(info.parent_run_id.as_deref()),
    );
    let c = &st.children;
    m.insert("total_document_count".to_owned(), json!(c.total()));
    m.insert("document_count".to_owned(), json!(c.total()));
    m.insert("completed_document_count".to_owned(), json!(c.completed));
    m.insert("error_count".to_owned(), json!(c.failed));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialects::fixtures::{T0, snapshot};
    use runbrake_core::{CancelReply, RunKind, StatusKind};

    fn wf(state: &str) -> Snapshot {
        snapshot(
            RunKind::Workflow,
            "run_1",
            state,
            json!({ "inputs": { "documents": {}, "json_data": { "b1": { "x": 1 } } }, "organization_id": "org_123" }),
        )
    }

    #[test]
    fn workflow_metadata_holds_only_strings() {
        let mut run = wf("running");
        run.info.metadata = serde_json::from_value(
            json!({ "customer": "acme", "priority": 2, "tags": ["q3"], "x": null }),
        )
        .expect("metadata");
        assert_eq!(
            workflow_run(&run)["metadata"],
            json!({ "customer": "acme", "priority": "2", "tags": "[\"q3\"]", "x": "null" })
        );
    }

    #[test]
    fn cancel_statuses_follow_the_outcome() {
        let cases = [
            (
                CancelOutcome::CancelledNow {
                    effective_at: T0,
                    forced: false,
                },
                "cancelled",
            ),
            (
                CancelOutcome::Requested { deadline: T0 },
                "cancellation_requested",
            ),
            (
                CancelOutcome::AlreadyRequested {
                    deadline: T0,
                    requested_at: T0,
                },
                "cancellation_requested",
            ),
            (
                CancelOutcome::AlreadyCancelled {
                    effective_at: T0,
                    forced: true,
                },
                "cancelled",
            ),
            (
                CancelOutcome::AlreadyTerminal {
                    state: StatusKind::Completed,
                    since: T0,
                    lost_race: true,
                },
                "cancellation_failed",
            ),
            (
                CancelOutcome::NotCancellable {
                    state: StatusKind::Waiting,
                },
                "cancellation_failed",
            ),
        ];
        for (outcome, want) in cases {
            let a = cancel_workflow(&outcome, &wf("completed"));
            assert_eq!(a.status, 200);
            assert_eq!(a.body["cancellation_status"], want, "{outcome:?}");
            assert_eq!(a.body["redis_available"], true);
        }
    }

    #[test]
    fn a_replay_answers_byte_for_byte_like_the_first() {
        let run = wf("cancelling");
        let first = CancelOutcome::Requested { deadline: T0 };
        let replay = CancelOutcome::Replayed {
            original: Box::new(CancelReply {
                outcome: first.clone(),
                status: StatusKind::Cancelling,
                version: 4,
                children: run.state.children,
                deadline: Some(T0),
            }),
        };
        let a = serde_json::to_string(&cancel_workflow(&first, &run).body).unwrap();
        let mut later = run.clone();
        later.now += 60_000; // no clock in the body
        let b = serde_json::to_string(&cancel_workflow(&replay, &later).body).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn workflow_run_satisfies_seed_and_sdk() {
        let run = workflow_run(&wf("cancelled"));
        assert_eq!(run["id"], "run_1");
        assert_eq!(run["workflow_id"], "wf_abc");
        assert_eq!(run["workflow_version_id"], "ver_7");
        assert_eq!(run["organization_id"], "org_123");
        assert_eq!(
            run["workflow"],
            json!({"workflow_id": "wf_abc", "snapshot_id": "ver_7", "name_at_run_time": "Invoice Processing"})
        );
        assert_eq!(run["trigger"], json!({"type": "api"}));
        assert_eq!(
            run["lifecycle"],
            json!({"status": "cancelled", "kind": "cancelled", "reason": "user requested cancellation"})
        );
        assert_eq!(
            run["timing"],
            json!({
                "created_at": "2026-05-01T14:30:00Z",
                "started_at": "2026-05-01T14:30:01Z",
                "completed_at": "2026-05-01T14:30:08Z",
                "human_waiting_started_at": null,
                "accumulated_human_waiting_ms": 500,
                "duration_ms": 7000,
                "active_duration_ms": 6500,
            })
        );
        assert_eq!(run["inputs"]["json_data"]["b1"]["x"], 1);
        assert_eq!(run["metadata"], json!({"customer": "acme"}));
    }

    #[test]
    fn workflow_vocabulary() {
        for (state, word) in [
            ("pending", "pending"),
            ("queued", "pending"),
            ("running", "running"),
            ("cancelling", "running"),
            ("waiting", "awaiting_review"),
            ("sleeping", "running"),
            ("completed", "completed"),
            ("failed", "error"),
            ("rejected", "error"),
            ("cancelled", "cancelled"),
        ] {
            let l = &workflow_run(&wf(state))["lifecycle"];
            assert_eq!(l["status"], word, "{state}");
            assert_eq!(l["kind"], word, "{state}");
        }
        let live = workflow_run(&wf("waiting"));
        assert_eq!(live["lifecycle"]["waiting_for_block_ids"], json!([]));
        assert_eq!(
            live["timing"]["human_waiting_started_at"],
            "2026-05-01T14:30:03Z"
        );
        assert_eq!(live["timing"]["duration_ms"], Value::Null);
        let failed = workflow_run(&wf("failed"));
        assert_eq!(failed["lifecycle"]["message"], "boom");
        assert_eq!(failed["lifecycle"]["details"]["error_code"], "E42");
        let pending = workflow_run(&wf("pending"));
        assert_eq!(pending["timing"]["started_at"], Value::Null);
    }

    #[test]
    fn defaults_for_a_bare_run() {
        let mut s = wf("pending");
        s.info.attributes.clear();
        s.info.workflow = Default::default();
        let run = workflow_run(&s);
        assert_eq!(run["inputs"], empty_inputs());
        assert_eq!(run["organization_id"], "org_test");
        assert_eq!(run["workflow_id"], "");
    }

    #[test]
    fn command_id_body() {
        let ct = Some("application/json");
        assert_eq!(parse_cancel_body(b"", ct), Ok(None));
        assert_eq!(parse_cancel_body(b"{}", ct), Ok(None));
        assert_eq!(parse_cancel_body(b"null", ct), Ok(None));
        assert_eq!(parse_cancel_body(b"{\"command_id\":null}", ct), Ok(None));
        assert_eq!(
            parse_cancel_body(b"{\"command_id\":\"cmd_1\",\"other\":1}", ct),
            Ok(Some("cmd_1".to_owned()))
        );
        let e = parse_cancel_body(b"{\"command_id\":5}", ct).unwrap_err();
        assert_eq!(e.kind, "string_type");
        assert_eq!(e.loc, vec![json!("body"), json!("command_id")]);
        let e = parse_cancel_body(b"{\"command_id\":\"has space\"}", ct).unwrap_err();
        assert_eq!(e.kind, "value_error");
        let e = parse_cancel_body(b"{\"command_id\":", ct).unwrap_err();
        assert_eq!(e.kind, "json_invalid");
        let e = parse_cancel_body(b"[]", ct).unwrap_err();
        assert_eq!(e.kind, "model_attributes_type");
    }

    #[test]
    fn failures_are_fastapi_shaped() {
        let d = Dialect::RetabExperiment;
        assert_eq!(
            failure(d, &Failure::RunNotFound),
            Answer::new(404, json!({"detail": "Experiment run not found"}))
        );
        let a = failure(
            d,
            &Failure::Invalid(Invalid {
                loc: vec![json!("body"), json!(3)],
                msg: "JSON decode error".to_owned(),
                kind: "json_invalid",
                input: json!({}),
            }),
        );
        assert_eq!(a.status, 422);
        assert_eq!(a.body["detail"][0]["loc"], json!(["body", 3]));
        assert_eq!(failure(d, &Failure::TooLarge(65536)).status, 413);
        assert_eq!(
            failure(d, &Failure::Unauthorized(crate::auth::AuthError::Missing)).status,
            401
        );
    }

    #[test]
    fn test_and_experiment_runs_cancel_now_or_404() {
        let test = snapshot(
            RunKind::WorkflowTest,
            "wftestrun_1",
            "cancelled",
            json!({"test_id": "t1"}),
        );
        let now = CancelOutcome::CancelledNow {
            effective_at: T0,
            forced: false,
        };
        let a = cancel_test(&now, &test);
        assert_eq!(a.status, 200);
        assert_eq!(
            a.body["lifecycle"],
            json!({"status": "cancelled", "reason": "user requested cancellation"})
        );
        assert_eq!(a.body["trigger"]["type"], "manual");
        assert_eq!(a.body["workflow"]["version_id"], "ver_7");
        assert_eq!(a.body["total_tests"], 7);
        assert_eq!(a.body["test_id"], "t1");
        assert_eq!(a.body["counts"]["lifecycle_counts"]["error"], 1);
        let refused = CancelOutcome::AlreadyCancelled {
            effective_at: T0,
            forced: false,
        };
        assert_eq!(cancel_test(&refused, &test).status, 404);

        let exp = snapshot(
            RunKind::Experiment,
            "exprun_1",
            "cancelled",
            json!({"experiment_id": "exp_1", "n_consensus": 5}),
        );
        let a = cancel_experiment(&now, &exp);
        assert_eq!(a.status, 200);
        assert_eq!(
            a.body,
            json!({
                "id": "exprun_1",
                "lifecycle": {"status": "cancelled", "reason": "user requested cancellation"},
                "timing": {
                    "created_at": "2026-05-01T14:30:00Z",
                    "started_at": "2026-05-01T14:30:01Z",
                    "completed_at": "2026-05-01T14:30:08Z",
                    "duration_ms": 7000,
                },
            })
        );
        let done = snapshot(RunKind::Experiment, "exprun_1", "completed", json!({}));
        let lost = CancelOutcome::AlreadyTerminal {
            state: StatusKind::Completed,
            since: T0,
            lost_race: true,
        };
        let a = cancel_experiment(&lost, &done);
        assert_eq!(a.status, 404);
        assert!(a.body["detail"].as_str().unwrap().contains("completed"));

        let full = experiment_run(&exp);
        assert_eq!(full["experiment_id"], "exp_1");
        assert_eq!(full["n_consensus"], 5);
        assert_eq!(full["block_type"], "extract");
        assert_eq!(full["total_document_count"], 7);
        assert_eq!(full["error_count"], 1);
        let failed = snapshot(RunKind::Experiment, "exprun_2", "failed", json!({}));
        assert_eq!(
            experiment_run(&failed)["lifecycle"],
            json!({"status": "error", "message": "boom", "details": {"message": "boom", "error_code": "E42"}})
        );
    }
}
