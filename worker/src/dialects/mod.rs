//! The five vendor cancel contracts ("dialects"), served wire-for-wire so that a vendor's own
//! client works against runbrake with only its base URL changed:
//!
//! | seed | routes | module |
//! |---|---|---|
//! | 000 Retab workflow runs | `POST /v1/workflows/runs/{run_id}/cancel`, `GET /v1/workflows/runs/{run_id}` | [`retab`] |
//! | 001 Retab workflow-test runs | `POST /v1/workflows/tests/runs/{run_id}/cancel`, `GET …/{run_id}` | [`retab`] |
//! | 002 Retab experiment runs | `POST /v1/workflows/experiments/runs/{run_id}/cancel`, `GET …/{run_id}` | [`retab`] |
//! | 003 Extend workflow runs | `POST /workflow_runs/{id}/cancel`, `GET /workflow_runs/{id}` | [`extend`] |
//! | 004 generic runs | `POST /v1/runs/{id}/cancel`, `GET /v1/runs/{id}` | [`generic`] |
//!
//! This module does the I/O (auth, body, one call to the run's object); the adapters are pure
//! functions from the core's [`CancelOutcome`] and the run's [`Snapshot`] to a status and a
//! body. Nobody here decides whether a run may be cancelled: the dialect's
//! [`Dialect::policy`] travels in the cancel command and the core answers `not_cancellable`
//! outside it.
//!
//! Every error is rendered in the route's own shape (FastAPI `{"detail": …}` for Retab, Extend's
//! `{code, message, retryable, requestId}`, the generic `{code, data: null, message,
//! requestId}`), always as JSON (the SDKs raise typed exceptions only for JSON bodies), and no
//! error changes anything.

pub mod extend;
pub mod generic;
pub mod retab;

use runbrake_core::{By, CancelArgs, CancelOutcome, Command, Dialect, Reply};
use serde_json::{Value, json};
use worker::{Env, Headers, Method, Request, Response, Result};

use crate::auth::{self, AuthError, Caller, Role};
use crate::http::{self, BodyError};
use crate::ids;
use crate::run_object;
use crate::run_object::protocol::{Op, OpError, OpReply, Snapshot};

/// Largest body any dialect route reads; more is a 413 in the route's shape.
pub const MAX_BODY: usize = 64 * 1024;

/// What a pure adapter answers: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn new(status: u16, body: Value) -> Self {
        Answer { status, body }
    }
}

/// Per-request facts an adapter may show: the request id (003 and 004 put one in every error,
/// 004 in every reply) and the origin the client reached us at (Extend's `dashboardUrl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    pub request_id: String,
    pub origin: String,
}

/// A request field that failed validation, in FastAPI's terms (Retab renders it as one
/// `{"detail": [{type, loc, msg, input}]}` item; the others as a message).
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub loc: Vec<Value>,
    pub msg: String,
    pub kind: &'static str,
    pub input: Value,
}

impl Invalid {
    /// `loc` joined the way a person reads it: `body.command_id`.
    pub fn path(&self) -> String {
        self.loc
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Everything that is not a cancel outcome or a run: each dialect renders it in its shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    Unauthorized(AuthError),
    /// An executor key on a user route.
    Forbidden,
    /// Unknown id, a run of another kind, another organisation's run: one answer for all three.
    RunNotFound,
    /// No such route in this contract.
    NoRoute,
    MethodNotAllowed(&'static str),
    Invalid(Invalid),
    TooLarge(usize),
    /// The core refused the command for a reason other than its input (not expected from a
    /// cancel; kept total).
    Conflict(String),
    Internal,
    /// Stopped before the route did anything: a key over its rate limit (429 with
    /// `Retry-After`), an oversized URL or request head (414, 431), a cross-origin preflight
    /// from an origin that is not allowed (403).
    Gate {
        status: u16,
        message: String,
        retry_after_s: Option<u64>,
    },
}

impl Failure {
    /// How an authentication outcome reads on a dialect route.
    pub fn from_auth(e: AuthError) -> Failure {
        match e {
            AuthError::RateLimited { retry_after_s } => Failure::Gate {
                status: 429,
                message: e.message().to_owned(),
                retry_after_s: Some(retry_after_s),
            },
            AuthError::Missing | AuthError::Invalid => Failure::Unauthorized(e),
        }
    }

    fn retry_after_s(&self) -> Option<u64> {
        match self {
            Failure::Gate { retry_after_s, .. } => *retry_after_s,
            _ => None,
        }
    }
}

/// Which route a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    Cancel(Dialect, String),
    Get(Dialect, String),
    MethodNotAllowed(Dialect, &'static str),
    NotFound(Dialect),
}

/// Maps a method and path to a dialect route. Paths under `/workflow_runs` are Extend's, under
/// `/v1/runs` the generic API's, and everything else under `/v1` Retab's (FastAPI's 404 and 405
/// shapes for unknown routes).
pub fn route(method: &Method, path: &str) -> Routed {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (dialect, id, rest) = match segments.as_slice() {
        ["v1", "workflows", "runs", id, rest @ ..] => (Dialect::RetabWorkflow, *id, rest),
        ["v1", "workflows", "tests", "runs", id, rest @ ..] => {
            (Dialect::RetabWorkflowTest, *id, rest)
        }
        ["v1", "workflows", "experiments", "runs", id, rest @ ..] => {
            (Dialect::RetabExperiment, *id, rest)
        }
        ["workflow_runs", id, rest @ ..] => (Dialect::ExtendWorkflow, *id, rest),
        ["v1", "runs", id, rest @ ..] => (Dialect::Generic, *id, rest),
        ["workflow_runs", ..] => return Routed::NotFound(Dialect::ExtendWorkflow),
        ["v1", "runs", ..] => return Routed::NotFound(Dialect::Generic),
        _ => return Routed::NotFound(Dialect::RetabWorkflow),
    };
    match rest {
        [] if *method == Method::Get => Routed::Get(dialect, id.to_owned()),
        [] => Routed::MethodNotAllowed(dialect, "GET"),
        ["cancel"] if *method == Method::Post => Routed::Cancel(dialect, id.to_owned()),
        ["cancel"] => Routed::MethodNotAllowed(dialect, "POST"),
        _ => Routed::NotFound(dialect),
    }
}

/// Entry point from the top-level router for `/v1/…` and `/workflow_runs…`.
pub async fn handle(req: Request, env: &Env, path: &str) -> Result<Response> {
    let ctx = Ctx {
        request_id: format!("req_{}", ids::random_base62(20)),
        origin: req
            .url()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default(),
    };
    match route(&req.method(), path) {
        Routed::Cancel(d, id) => match cancel(req, env, d, &id, &ctx).await? {
            Ok(a) => respond(d, &a, &ctx, None),
            Err(f) => refuse(d, &f, &ctx),
        },
        Routed::Get(d, id) => match get(&req, env, d, &id, &ctx).await? {
            Ok(a) => respond(d, &a, &ctx, None),
            Err(f) => refuse(d, &f, &ctx),
        },
        Routed::MethodNotAllowed(d, allow) => respond(
            d,
            &failure(d, &Failure::MethodNotAllowed(allow), &ctx),
            &ctx,
            Some(allow),
        ),
        Routed::NotFound(d) => respond(d, &failure(d, &Failure::NoRoute, &ctx), &ctx, None),
    }
}

/// A failure as the route's response, with `Retry-After` when it says when to come back.
fn refuse(d: Dialect, f: &Failure, ctx: &Ctx) -> Result<Response> {
    let mut res = respond(d, &failure(d, f, ctx), ctx, None)?;
    if let Some(s) = f.retry_after_s() {
        res.headers_mut().set("retry-after", &s.to_string())?;
    }
    Ok(res)
}

/// A request stopped before routing (see [`Failure::Gate`]), answered in the shape of the
/// contract its path belongs to.
pub fn gate(
    method: &Method,
    path: &str,
    status: u16,
    message: String,
    retry_after_s: Option<u64>,
) -> Result<Response> {
    let d = match route(method, path) {
        Routed::Cancel(d, _)
        | Routed::Get(d, _)
        | Routed::MethodNotAllowed(d, _)
        | Routed::NotFound(d) => d,
    };
    let ctx = Ctx {
        request_id: format!("req_{}", ids::random_base62(20)),
        origin: String::new(),
    };
    let f = Failure::Gate {
        status,
        message,
        retry_after_s,
    };
    refuse(d, &f, &ctx)
}

/// The route's error shape for a failure.
pub fn failure(d: Dialect, f: &Failure, ctx: &Ctx) -> Answer {
    match d {
        Dialect::RetabWorkflow | Dialect::RetabWorkflowTest | Dialect::RetabExperiment => {
            retab::failure(d, f)
        }
        Dialect::ExtendWorkflow => extend::failure(f, ctx),
        Dialect::Generic => generic::failure(f, ctx),
    }
}

/// The route's answer to a cancel the core decided.
pub fn cancel_answer(d: Dialect, outcome: &CancelOutcome, run: &Snapshot, ctx: &Ctx) -> Answer {
    match d {
        Dialect::RetabWorkflow => retab::cancel_workflow(outcome, run),
        Dialect::RetabWorkflowTest => retab::cancel_test(outcome, run),
        Dialect::RetabExperiment => retab::cancel_experiment(outcome, run),
        Dialect::ExtendWorkflow => extend::cancel(outcome, run, ctx),
        Dialect::Generic => generic::cancel(outcome, run, ctx),
    }
}

/// The route's read of a run (what a client polls after `cancellation_requested`/`CANCELLING`).
pub fn read_answer(d: Dialect, run: &Snapshot, ctx: &Ctx) -> Answer {
    match d {
        Dialect::RetabWorkflow => Answer::new(200, retab::workflow_run(run)),
        Dialect::RetabWorkflowTest => Answer::new(200, retab::test_run(run)),
        Dialect::RetabExperiment => Answer::new(200, retab::experiment_run(run)),
        Dialect::ExtendWorkflow => Answer::new(200, extend::workflow_run(run, ctx)),
        Dialect::Generic => generic::ok(generic::run(run), ctx),
    }
}

/// The outcome that decides the wire answer: a replay answers as the first request did.
pub fn settled(outcome: &CancelOutcome) -> &CancelOutcome {
    let mut o = outcome;
    while let CancelOutcome::Replayed { original } = o {
        o = &original.outcome;
    }
    o
}

fn respond(d: Dialect, a: &Answer, ctx: &Ctx, allow: Option<&str>) -> Result<Response> {
    let mut res = http::json(a.status, &a.body)?;
    let headers = res.headers_mut();
    if matches!(d, Dialect::ExtendWorkflow | Dialect::Generic) {
        headers.set("x-request-id", &ctx.request_id)?;
    }
    if a.status == 401 {
        headers.set("www-authenticate", "Bearer")?;
    }
    if let Some(allow) = allow {
        headers.set("allow", allow)?;
    }
    Ok(res)
}

/// Runs of a dialect are only reachable through it. Run ids are always minted by the Worker with
/// their kind's prefix ([`ids::new_run_id`]) and never chosen by a caller, so the prefix is the
/// kind: a run of another kind is answered like an unknown one without addressing any object.
pub fn owns(d: Dialect, id: &str) -> bool {
    ids::is_valid_id(id) && id.starts_with(ids::run_prefix(d.run_kind()))
}

/// 003's `x-extend-api-version`: absent means the current version; only that one is served.
pub fn check_extend_version(value: Option<&str>) -> std::result::Result<(), Failure> {
    match value {
        None => Ok(()),
        Some(v) if v.trim() == extend::API_VERSION => Ok(()),
        Some(v) => Err(Failure::Invalid(Invalid {
            loc: vec![json!("header"), json!("x-extend-api-version")],
            msg: format!(
                "unsupported API version {v:?}: send x-extend-api-version: {} or omit the header",
                extend::API_VERSION
            ),
            kind: "enum",
            input: json!(v),
        })),
    }
}

/// The caller, from `Authorization: Bearer` or `Api-Key`, or (seed 000's cancel only) from the
/// `access_token` query parameter.
async fn caller_of(
    req: &Request,
    env: &Env,
    query_token: bool,
) -> std::result::Result<Caller, Failure> {
    if auth::presented_key(req.headers()).is_none() && query_token {
        // Seed 000 documents `access_token` as a query parameter of its cancel route, so a
        // client built from that document may send its key there, and we accept it on that one
        // route only. The trade-off: a key in a URL can end up in proxy and server access logs,
        // browser history and `Referer` headers, where a header would not. runbrake never echoes
        // or logs it, answers with `cache-control: no-store`, prefers a header when both are
        // sent, and refuses keys in URLs everywhere else (see `api::has_query_key`). Prefer the
        // `Authorization` header; rotate a key that has travelled in a URL.
        let token = req.url().ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, v)| k == "access_token" && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
        });
        if let Some(token) = token {
            let headers = Headers::new();
            headers
                .set("authorization", &format!("Bearer {token}"))
                .map_err(|_| Failure::Unauthorized(AuthError::Invalid))?;
            return auth::authenticate(&headers, env)
                .await
                .map_err(Failure::from_auth);
        }
    }
    auth::authenticate(req.headers(), env)
        .await
        .map_err(Failure::from_auth)
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

fn body_failure(e: BodyError) -> Failure {
    match e {
        BodyError::TooLarge { limit } => Failure::TooLarge(limit),
        BodyError::UnsupportedMediaType | BodyError::Malformed { .. } => {
            Failure::Invalid(Invalid {
                loc: vec![json!("body")],
                msg: e.message(),
                kind: "value_error",
                input: Value::Null,
            })
        }
    }
}

/// What the run's object said, as a failure of this route.
fn op_failure(e: OpError) -> Failure {
    match e {
        OpError::NotFound => Failure::RunNotFound,
        OpError::Refused { code, message, .. } => match code.as_str() {
            "idempotency_conflict" => Failure::Invalid(Invalid {
                loc: vec![json!("body"), json!("command_id")],
                msg: "this command_id was already used for a different cancel of this run"
                    .to_owned(),
                kind: "value_error",
                input: Value::Null,
            }),
            "invalid_argument" | "too_many_commands" => Failure::Invalid(Invalid {
                loc: vec![json!("body")],
                msg: message,
                kind: "value_error",
                input: Value::Null,
            }),
            _ => Failure::Conflict(message),
        },
        // Dialects report no children; kept exhaustive all the same.
        OpError::ChildExists { id } => {
            Failure::Conflict(format!("this run already has a child {id:?}"))
        }
        OpError::Internal { message } => {
            worker::console_error!("dialect: internal: {message}");
            Failure::Internal
        }
    }
}

type Outcome = std::result::Result<Answer, Failure>;

/// Sends one operation to the run's object (named by organisation and run, so another
/// organisation's run is simply absent) and decodes its reply.
async fn call(
    env: &Env,
    org_id: &str,
    run_id: &str,
    op: &Op,
) -> Result<std::result::Result<OpReply, OpError>> {
    let mut res = run_object::call(env, org_id, run_id, op).await?;
    if res.status_code() == 200 {
        Ok(Ok(res.json().await?))
    } else {
        Ok(Err(res.json().await?))
    }
}

async fn cancel(mut req: Request, env: &Env, d: Dialect, id: &str, ctx: &Ctx) -> Result<Outcome> {
    if d == Dialect::ExtendWorkflow
        && let Err(f) = check_extend_version(header(&req, "x-extend-api-version").as_deref())
    {
        return Ok(Err(f));
    }
    let caller = match caller_of(&req, env, d == Dialect::RetabWorkflow).await {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    if caller.role != Role::User {
        return Ok(Err(Failure::Forbidden));
    }
    let bytes = match http::read_body(&mut req, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return Ok(Err(body_failure(e))),
    };
    let content_type = header(&req, "content-type");
    let command_id = match d {
        Dialect::RetabWorkflow => retab::parse_cancel_body(&bytes, content_type.as_deref()),
        Dialect::RetabWorkflowTest
        | Dialect::RetabExperiment
        | Dialect::ExtendWorkflow
        | Dialect::Generic => parse_empty_body(&bytes, content_type.as_deref()).map(|()| None),
    };
    let command_id = match command_id {
        Ok(c) => c,
        Err(invalid) => return Ok(Err(Failure::Invalid(invalid))),
    };
    if !owns(d, id) {
        return Ok(Err(Failure::RunNotFound));
    }
    let mut args = CancelArgs::new(By {
        source: d.source(),
        actor: Some(caller.key_id.clone()),
    });
    args.command_id = command_id;
    args.policy = d.policy();
    let op = Op::Command {
        command: Command::Cancel(args),
    };
    Ok(match call(env, &caller.org_id, id, &op).await? {
        Ok(reply) => match reply.reply {
            Some(Reply::Cancel(c)) if reply.run.state.kind == d.run_kind() => {
                Ok(cancel_answer(d, &c.outcome, &reply.run, ctx))
            }
            other => {
                worker::console_error!(
                    "dialect {}: cancel of {id} answered {other:?} for a {:?} run",
                    d.code(),
                    reply.run.state.kind
                );
                Err(Failure::Internal)
            }
        },
        Err(e) => Err(op_failure(e)),
    })
}

async fn get(req: &Request, env: &Env, d: Dialect, id: &str, ctx: &Ctx) -> Result<Outcome> {
    if d == Dialect::ExtendWorkflow
        && let Err(f) = check_extend_version(header(req, "x-extend-api-version").as_deref())
    {
        return Ok(Err(f));
    }
    let caller = match caller_of(req, env, false).await {
        Ok(c) => c,
        Err(f) => return Ok(Err(f)),
    };
    if !owns(d, id) {
        return Ok(Err(Failure::RunNotFound));
    }
    Ok(match call(env, &caller.org_id, id, &Op::Get).await? {
        Ok(reply) if reply.run.state.kind == d.run_kind() => Ok(read_answer(d, &reply.run, ctx)),
        Ok(_) => Err(Failure::RunNotFound),
        Err(e) => Err(op_failure(e)),
    })
}

/// Media types a JSON body may be declared as. A body with no `Content-Type` is read as JSON,
/// as FastAPI does.
pub fn is_json_media(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|ct| {
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        media.is_empty() || media == "application/json" || media.ends_with("+json")
    })
}

/// Parses a request body as JSON the way FastAPI reports failures (`json_invalid` with the
/// character offset of the error). `Ok(None)` for an empty body.
pub fn parse_json_body(
    bytes: &[u8],
    content_type: Option<&str>,
) -> std::result::Result<Option<Value>, Invalid> {
    let text = std::str::from_utf8(bytes).map_err(|e| Invalid {
        loc: vec![json!("body"), json!(e.valid_up_to())],
        msg: "JSON decode error".to_owned(),
        kind: "json_invalid",
        input: json!({}),
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    if !is_json_media(content_type) {
        return Err(Invalid {
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary or object to extract fields from".to_owned(),
            kind: "model_attributes_type",
            input: json!(text.chars().take(200).collect::<String>()),
        });
    }
    serde_json::from_str::<Value>(text).map(Some).map_err(|e| {
        // At the end of the input Python points past the last character.
        let offset = if e.is_eof() {
            text.chars().count()
        } else {
            char_offset(text, e.line(), e.column())
        };
        Invalid {
            loc: vec![json!("body"), json!(offset)],
            msg: "JSON decode error".to_owned(),
            kind: "json_invalid",
            input: json!({}),
        }
    })
}

/// FastAPI reports where JSON broke as a character offset into the body; serde_json gives a
/// line (lines end at `\n` only) and a column counted in bytes, both from 1.
fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .filter(|_| line > 1)
        .map_or(0, |(i, _)| i + 1);
    let byte = (line_start + column.saturating_sub(1)).min(text.len());
    text.char_indices().take_while(|(i, _)| *i < byte).count()
}

/// Routes whose contract documents no body (001–004): nothing, `null` or a JSON object (its
/// fields are ignored, as FastAPI ignores a body an endpoint does not declare); anything else is
/// bad input.
pub fn parse_empty_body(
    bytes: &[u8],
    content_type: Option<&str>,
) -> std::result::Result<(), Invalid> {
    match parse_json_body(bytes, content_type)? {
        None | Some(Value::Null | Value::Object(_)) => Ok(()),
        Some(other) => Err(Invalid {
            loc: vec![json!("body")],
            msg: "Input should be a valid dictionary or object to extract fields from".to_owned(),
            kind: "model_attributes_type",
            input: other,
        }),
    }
}

/// Shared rendering helpers for the adapters.
pub mod render {
    use runbrake_core::{Millis, format_rfc3339};
    use serde_json::{Map, Value};

    /// An optional instant as RFC 3339 UTC, or `null`.
    pub fn time(ms: Option<Millis>) -> Value {
        ms.map_or(Value::Null, |ms| Value::String(format_rfc3339(ms)))
    }

    pub fn text(s: Option<&str>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.to_owned()))
    }

    /// An attribute, if the run has it.
    pub fn attr<'a>(attributes: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        attributes.get(key).filter(|v| !v.is_null())
    }

    /// An attribute, or `default` when absent or null.
    pub fn attr_or(attributes: &Map<String, Value>, key: &str, default: Value) -> Value {
        attr(attributes, key).cloned().unwrap_or(default)
    }

    /// Starts a contract object from the run's verbatim attributes (contract-specific fields the
    /// creator stored), minus the keys the adapter computes from the run itself.
    pub fn base(attributes: &Map<String, Value>, computed: &[&str]) -> Map<String, Value> {
        attributes
            .iter()
            .filter(|(k, _)| !computed.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// `attributes[key]` as an object, with `fields` laid over it.
    pub fn merged(attributes: &Map<String, Value>, key: &str, fields: Map<String, Value>) -> Value {
        let mut out = match attributes.get(key) {
            Some(Value::Object(m)) => m.clone(),
            Some(_) | None => Map::new(),
        };
        out.extend(fields);
        Value::Object(out)
    }
}

#[cfg(test)]
pub mod fixtures {
    //! Runs in every state, for the adapters' unit tests.
    use runbrake_core::{
        By, ChildCounts, Lease, RunKind, RunState, Source, Status, Timing, WaitReason,
    };
    use serde_json::{Map, Value, json};

    use crate::run_info::{RunInfo, Trigger, WorkflowRef};
    use crate::run_object::protocol::Snapshot;

    pub const T0: u64 = 1_777_645_800_000; // 2026-05-01T14:30:00Z

    pub fn lease() -> Lease {
        Lease {
            id: "lease_1".to_owned(),
            executor: "exec".to_owned(),
            expires_at: T0 + 60_000,
        }
    }

    pub fn by() -> By {
        By {
            source: Source::Api,
            actor: Some("key_1".to_owned()),
        }
    }

    pub fn status(name: &str) -> Status {
        match name {
            "pending" => Status::Pending,
            "queued" => Status::Queued,
            "running" => Status::Running {
                lease: Some(lease()),
            },
            "waiting" => Status::Waiting {
                reason: WaitReason::HumanReview,
            },
            "sleeping" => Status::Waiting {
                reason: WaitReason::Sleep,
            },
            "cancelling" => Status::Cancelling {
                requested_at: T0 + 2_000,
                deadline: T0 + 32_000,
                by: by(),
                reason: None,
                command_id: None,
                lease: lease(),
            },
            "completed" => Status::Completed,
            "failed" => Status::Failed {
                message: "boom".to_owned(),
                code: Some("E42".to_owned()),
            },
            "rejected" => Status::Rejected {
                note: Some("Invalid invoice format".to_owned()),
            },
            _ => Status::Cancelled {
                reason: Some("user requested cancellation".to_owned()),
                by: by(),
                forced: false,
                effective_at: T0 + 8_000,
                command_id: None,
            },
        }
    }

    pub fn snapshot(kind: RunKind, id: &str, name: &str, attributes: Value) -> Snapshot {
        let st = status(name);
        let started = !matches!(st, Status::Pending | Status::Queued);
        let terminal = st.is_terminal();
        let waiting = matches!(
            st,
            Status::Waiting {
                reason: WaitReason::HumanReview
            }
        );
        let state = RunState {
            v: 1,
            id: id.to_owned(),
            kind,
            status: st,
            version: 3,
            timing: Timing {
                created_at: T0,
                updated_at: T0 + 8_000,
                started_at: started.then_some(T0 + 1_000),
                completed_at: terminal.then_some(T0 + 8_000),
                human_waiting_started_at: waiting.then_some(T0 + 3_000),
                accumulated_human_waiting_ms: 500,
            },
            children: ChildCounts {
                pending: 1,
                running: 2,
                cancelling: 0,
                completed: 3,
                failed: 1,
                cancelled: 0,
            },
            sub_runs: vec![],
            default_grace_ms: None,
            last_lease_id: None,
            late: None,
            commands: Default::default(),
        };
        let mut metadata = Map::new();
        metadata.insert("customer".to_owned(), json!("acme"));
        let info = RunInfo {
            org_id: "org_test".to_owned(),
            name: Some("Invoice run".to_owned()),
            workflow: WorkflowRef {
                id: Some("wf_abc".to_owned()),
                version_id: Some("ver_7".to_owned()),
                version: Some("7".to_owned()),
                name: Some("Invoice Processing".to_owned()),
            },
            trigger: Trigger {
                kind: "api".to_owned(),
                actor: Some("jane@example.com".to_owned()),
            },
            metadata,
            batch_id: Some("batch_1".to_owned()),
            tags: vec![],
            attributes: match attributes {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            parent_run_id: None,
            created_by: None,
        };
        Snapshot {
            state,
            info,
            now: T0 + 9_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_each_contract_and_nothing_else() {
        let post = Method::Post;
        let get = Method::Get;
        assert_eq!(
            route(&post, "/v1/workflows/runs/run_1/cancel"),
            Routed::Cancel(Dialect::RetabWorkflow, "run_1".to_owned())
        );
        assert_eq!(
            route(&get, "/v1/workflows/runs/run_1"),
            Routed::Get(Dialect::RetabWorkflow, "run_1".to_owned())
        );
        assert_eq!(
            route(&post, "/v1/workflows/tests/runs/wftestrun_1/cancel"),
            Routed::Cancel(Dialect::RetabWorkflowTest, "wftestrun_1".to_owned())
        );
        assert_eq!(
            route(&post, "/v1/workflows/experiments/runs/exprun_1/cancel"),
            Routed::Cancel(Dialect::RetabExperiment, "exprun_1".to_owned())
        );
        assert_eq!(
            route(&get, "/workflow_runs/workflow_run_1"),
            Routed::Get(Dialect::ExtendWorkflow, "workflow_run_1".to_owned())
        );
        assert_eq!(
            route(&post, "/v1/runs/grun_1/cancel"),
            Routed::Cancel(Dialect::Generic, "grun_1".to_owned())
        );
        assert_eq!(
            route(&get, "/v1/runs/grun_1/cancel"),
            Routed::MethodNotAllowed(Dialect::Generic, "POST")
        );
        assert_eq!(
            route(&post, "/v1/runs/grun_1"),
            Routed::MethodNotAllowed(Dialect::Generic, "GET")
        );
        assert_eq!(
            route(&post, "/v1/runs/grun_1/cancel/"),
            Routed::NotFound(Dialect::Generic)
        );
        assert_eq!(
            route(&get, "/workflow_runs"),
            Routed::NotFound(Dialect::ExtendWorkflow)
        );
        assert_eq!(
            route(&get, "/v1/nope"),
            Routed::NotFound(Dialect::RetabWorkflow)
        );
    }

    #[test]
    fn a_dialect_owns_only_its_kind() {
        assert!(owns(Dialect::RetabWorkflow, "run_abc"));
        assert!(!owns(Dialect::RetabWorkflow, "workflow_run_abc"));
        assert!(!owns(Dialect::RetabWorkflow, "exprun_abc"));
        assert!(owns(Dialect::ExtendWorkflow, "workflow_run_abc"));
        assert!(owns(Dialect::RetabWorkflowTest, "wftestrun_abc"));
        assert!(owns(Dialect::RetabExperiment, "exprun_abc"));
        assert!(owns(Dialect::Generic, "grun_abc"));
        assert!(!owns(Dialect::Generic, "grun_a.b"));
        assert!(!owns(Dialect::Generic, ""));
    }

    #[test]
    fn extend_version_header() {
        assert_eq!(check_extend_version(None), Ok(()));
        assert_eq!(check_extend_version(Some("2026-02-09")), Ok(()));
        assert!(matches!(
            check_extend_version(Some("2024-01-01")),
            Err(Failure::Invalid(_))
        ));
    }

    #[test]
    fn bodies_without_a_contract_accept_nothing_null_or_an_object() {
        assert_eq!(parse_empty_body(b"", Some("application/json")), Ok(()));
        assert_eq!(parse_empty_body(b"  ", None), Ok(()));
        assert_eq!(parse_empty_body(b"null", None), Ok(()));
        assert_eq!(
            parse_empty_body(b"{\"x\":1}", Some("application/json")),
            Ok(())
        );
        let e = parse_empty_body(b"{oops", Some("application/json")).unwrap_err();
        assert_eq!(e.kind, "json_invalid");
        assert_eq!(e.loc, vec![json!("body"), json!(1)]);
        let e = parse_empty_body(b"[1]", None).unwrap_err();
        assert_eq!(e.kind, "model_attributes_type");
        // The offsets Python's json module reports for the same bodies (characters, not bytes;
        // `\r\n` is two characters).
        for (body, offset) in [
            ("{\"é\" x}", 5),
            ("{\r\n\"a\" 1}", 7),
            ("{\"a\":\n \"日本\" x}", 12),
            ("[1,", 3),
        ] {
            let e = parse_json_body(body.as_bytes(), None).unwrap_err();
            assert_eq!(e.loc, vec![json!("body"), json!(offset)], "{body:?}");
        }
        let e = parse_empty_body(b"a=b", Some("application/x-www-form-urlencoded")).unwrap_err();
        assert_eq!(e.kind, "model_attributes_type");
    }

    #[test]
    fn replays_answer_as_the_original() {
        use runbrake_core::{CancelReply, ChildCounts, StatusKind};
        let first = CancelOutcome::Requested { deadline: 5 };
        let replay = CancelOutcome::Replayed {
            original: Box::new(CancelReply {
                outcome: first.clone(),
                status: StatusKind::Cancelling,
                version: 4,
                children: ChildCounts::default(),
                deadline: Some(5),
            }),
        };
        assert_eq!(settled(&replay), &first);
        assert_eq!(settled(&first), &first);
    }
}
