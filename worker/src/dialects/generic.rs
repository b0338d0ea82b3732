//! Seed 004: the generic `POST /v1/runs/{id}/cancel` (and `GET /v1/runs/{id}`). Every answer is
//! an envelope `{code, data, message, requestId}` whose `code` is the HTTP status and whose
//! `requestId` is unique per response; errors carry `data: null`.
//!
//! The run's status is one of running, waiting, success, failure, cancelled (pending and queued
//! runs show as `running`). A cancel the core refuses (the run already ended) is a 409.

use runbrake_core::{CancelOutcome, Dialect};
use serde_json::{Value, json};

use super::render::{attr, base};
use super::{Answer, Ctx, Failure, settled};
use crate::run_object::protocol::Snapshot;

fn envelope(status: u16, data: Value, message: &str, ctx: &Ctx) -> Answer {
    Answer::new(
        status,
        json!({
            "code": status,
            "data": data,
            "message": message,
            "requestId": ctx.request_id,
        }),
    )
}

pub fn ok(data: Value, ctx: &Ctx) -> Answer {
    envelope(200, data, "success", ctx)
}

/// The generic API's errors.
pub fn failure(f: &Failure, ctx: &Ctx) -> Answer {
    let fail = |status: u16, message: &str| envelope(status, Value::Null, message, ctx);
    match f {
        Failure::Unauthorized(e) => fail(401, e.message()),
        Failure::Forbidden => fail(
            403,
            "This route needs a user key; executor keys only move runs through their lifecycle",
        ),
        Failure::RunNotFound => fail(404, "run not found"),
        Failure::NoRoute => fail(404, "not found"),
        Failure::MethodNotAllowed(_) => fail(405, "method not allowed"),
        Failure::Invalid(i) => fail(400, &format!("invalid request: {}: {}", i.path(), i.msg)),
        Failure::TooLarge(limit) => fail(
            413,
            &format!("request body too large: at most {limit} bytes"),
        ),
        Failure::Conflict(m) => fail(409, m),
        Failure::Internal => fail(500, "internal error; nothing was changed"),
        Failure::Gate {
            status, message, ..
        } => fail(*status, message),
    }
}

/// Fields computed from the run; the rest of its attributes (`workflowDefinition`,
/// `executionState`, `isSimulation`, `simulationForks`, `propValues`, `totalCu`…) are echoed as
/// stored.
const COMPUTED: [&str; 4] = ["id", "status", "startedAt", "finishedAt"];

/// Seed 004's `Run` (the envelope's `data`).
pub fn run(run: &Snapshot) -> Value {
    let (st, info) = (&run.state, &run.info);
    let a = &info.attributes;
    let mut m = base(a, &COMPUTED);
    m.insert("id".to_owned(), json!(st.id));
    m.insert(
        "status".to_owned(),
        json!(Dialect::Generic.project_status(&st.status)),
    );
    // Times the run does not have yet are left out (the contract types them as strings).
    if let Some(at) = st.timing.started_at {
        m.insert(
            "startedAt".to_owned(),
            json!(runbrake_core::format_rfc3339(at)),
        );
    }
    if let Some(at) = st.timing.completed_at {
        m.insert(
            "finishedAt".to_owned(),
            json!(runbrake_core::format_rfc3339(at)),
        );
    }
    m.entry("organizationId")
        .or_insert_with(|| json!(info.org_id));
    if attr(a, "workflowId").is_none()
        && let Some(id) = &info.workflow.id
    {
        m.insert("workflowId".to_owned(), json!(id));
    }
    // `workflowVersion` is an integer in this contract.
    if attr(a, "workflowVersion").is_none()
        && let Some(v) = info
            .workflow
            .version
            .as_deref()
            .or(info.workflow.version_id.as_deref())
            .and_then(|v| v.parse::<i64>().ok())
    {
        m.insert("workflowVersion".to_owned(), json!(v));
    }
    if attr(a, "triggerSource").is_none() {
        m.insert("triggerSource".to_owned(), json!(info.trigger.kind));
    }
    if attr(a, "triggeredBy").is_none()
        && let Some(actor) = &info.trigger.actor
    {
        m.insert("triggeredBy".to_owned(), json!(actor));
    }
    Value::Object(m)
}

/// Seed 004's cancel: 200 with the run's status (`cancelled`, or still `running`/`waiting` while
/// its executor stops), 409 when the run has already ended.
pub fn cancel(outcome: &CancelOutcome, snapshot: &Snapshot, ctx: &Ctx) -> Answer {
    match settled(outcome) {
        CancelOutcome::CancelledNow { .. }
        | CancelOutcome::Requested { .. }
        | CancelOutcome::AlreadyRequested { .. } => ok(run(snapshot), ctx),
        CancelOutcome::AlreadyCancelled { .. }
        | CancelOutcome::AlreadyTerminal { .. }
        | CancelOutcome::NotCancellable { .. }
        | CancelOutcome::PreconditionFailed { .. }
        | CancelOutcome::Replayed { .. } => {
            let status = Dialect::Generic.project_status(&snapshot.state.status);
            envelope(
                409,
                Value::Null,
                &format!("run is not running or waiting (status: {status})"),
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
            request_id: "req_9".to_owned(),
            origin: String::new(),
        }
    }

    fn generic(state: &str) -> Snapshot {
        snapshot(
            RunKind::Generic,
            "grun_1",
            state,
            json!({
                "workflowDefinition": {"nodes": {"root": {"type": "manual", "children": []}}, "inputSchema": []},
                "isSimulation": true,
                "simulationForks": [{"chainId": 1, "forkId": "f1", "rpcUrl": "http://x"}],
                "totalCu": 12.5,
                "status": "ignored",
            }),
        )
    }

    #[test]
    fn envelope_and_status_words() {
        let c = ctx();
        let now = CancelOutcome::CancelledNow {
            effective_at: T0,
            forced: false,
        };
        let a = cancel(&now, &generic("cancelled"), &c);
        assert_eq!(a.status, 200);
        assert_eq!(a.body["code"], 200);
        assert_eq!(a.body["message"], "success");
        assert_eq!(a.body["requestId"], "req_9");
        let d = &a.body["data"];
        assert_eq!(d["status"], "cancelled");
        assert_eq!(d["id"], "grun_1");
        assert_eq!(d["workflowId"], "wf_abc");
        assert_eq!(d["workflowVersion"], 7);
        assert_eq!(d["isSimulation"], true);
        assert_eq!(d["totalCu"], 12.5);
        assert_eq!(d["organizationId"], "org_test");
        assert_eq!(d["startedAt"], "2026-05-01T14:30:01Z");
        assert_eq!(d["finishedAt"], "2026-05-01T14:30:08Z");
        assert_eq!(d["triggerSource"], "api");
        for (state, word) in [
            ("pending", "running"),
            ("queued", "running"),
            ("running", "running"),
            ("cancelling", "running"),
            ("waiting", "waiting"),
            ("completed", "success"),
            ("failed", "failure"),
            ("rejected", "failure"),
        ] {
            assert_eq!(run(&generic(state))["status"], word, "{state}");
        }
        assert!(run(&generic("pending")).get("startedAt").is_none());
        assert!(run(&generic("running")).get("finishedAt").is_none());
    }

    #[test]
    fn refusals_are_409_envelopes() {
        let c = ctx();
        for outcome in [
            CancelOutcome::AlreadyCancelled {
                effective_at: T0,
                forced: false,
            },
            CancelOutcome::AlreadyTerminal {
                state: StatusKind::Completed,
                since: T0,
                lost_race: true,
            },
        ] {
            let a = cancel(&outcome, &generic("completed"), &c);
            assert_eq!(a.status, 409);
            assert_eq!(a.body["code"], 409);
            assert_eq!(a.body["data"], Value::Null);
        }
        let nf = failure(&Failure::RunNotFound, &c);
        assert_eq!(
            nf.body,
            json!({"code": 404, "data": null, "message": "run not found", "requestId": "req_9"})
        );
    }
}
