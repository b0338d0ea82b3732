//! Run routes for users: create, read, list, events, children, cancel, receipts, watch.

use std::collections::BTreeSet;

use runbrake_core::{
    By, CancelArgs, CancelOutcome, ChildCounts, ChildStatus, ChildrenInit, Command, CreateArgs,
    InitialStatus, NewChild, Reply, RunKind, Source, StatusKind,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use worker::{Env, Method, Request, Response, Result};

use super::{CREATE_BODY, SMALL_BODY, errors, view};
use crate::auth::{self, Caller};
use crate::http::{self, json_body};
use crate::ids;
use crate::run_info::{RunInfo, Trigger, WorkflowRef};
use crate::run_object::protocol::{Op, OpError, OpReply};
use crate::run_object::{self, MAX_EVENTS_PAGE};

pub const MAX_REASON_CHARS: usize = 512;
const MAX_NAME_CHARS: usize = 256;
const MAX_METADATA_BYTES: usize = 16 * 1024;
const MAX_ATTRIBUTES_BYTES: usize = 256 * 1024;
const MAX_TAGS: usize = 32;
const MAX_SUB_RUNS: usize = 1_000;
const TRIGGER_TYPES: [&str; 7] = [
    "manual", "api", "schedule", "webhook", "email", "custom", "restart",
];

/// Sends an operation to the run's object and decodes its reply.
pub async fn call(
    env: &Env,
    org_id: &str,
    run_id: &str,
    op: &Op,
) -> Result<std::result::Result<OpReply, OpError>> {
    let res = run_object::call(env, org_id, run_id, op).await?;
    if res.status_code() == 200 {
        Ok(Ok(http::response_json(res).await?))
    } else {
        Ok(Err(http::response_json(res).await?))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildSpec {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<ChildStatus>,
}

/// Children given as counts per bucket (the items are tracked elsewhere). Its own type so that a
/// misspelt bucket is refused rather than read as zero.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountsBody {
    #[serde(default)]
    pending: u64,
    #[serde(default)]
    running: u64,
    #[serde(default)]
    cancelling: u64,
    #[serde(default)]
    completed: u64,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    cancelled: u64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ChildrenBody {
    Items(Vec<ChildSpec>),
    Counts(CountsBody),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    kind: RunKind,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    workflow: Option<WorkflowRef>,
    #[serde(default)]
    trigger: Option<Trigger>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    batch_id: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
    #[serde(default)]
    initial: Option<InitialStatus>,
    #[serde(default)]
    default_grace_ms: Option<u64>,
    #[serde(default)]
    children: Option<ChildrenBody>,
    #[serde(default)]
    sub_runs: Option<Vec<String>>,
    #[serde(default)]
    parent_run_id: Option<String>,
}

/// A refused field and why.
type FieldError = (String, String);

/// A validated create: what the object stores, what the core decides on, child display names.
type ValidCreate = (RunInfo, CreateArgs, Vec<(String, String)>);

pub(crate) fn check_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> std::result::Result<(), FieldError> {
    match value {
        Some(v) if v.chars().count() > max_chars => {
            Err((field.to_owned(), format!("at most {max_chars} characters")))
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => Err((
            field.to_owned(),
            "must not contain control characters".to_owned(),
        )),
        Some(_) | None => Ok(()),
    }
}

fn check_id(field: &str, value: Option<&str>) -> std::result::Result<(), FieldError> {
    match value {
        Some(v) if !ids::is_valid_id(v) => Err((
            field.to_owned(),
            "1–128 characters of A–Z, a–z, 0–9, _ or -".to_owned(),
        )),
        Some(_) | None => Ok(()),
    }
}

fn json_size(v: &Map<String, Value>) -> usize {
    serde_json::to_string(v).map_or(usize::MAX, |s| s.len())
}

/// Validates a create body into what the run object stores and what the core decides on.
pub(crate) fn validate_create(
    body: CreateBody,
    caller: &Caller,
) -> std::result::Result<ValidCreate, FieldError> {
    check_text("name", body.name.as_deref(), MAX_NAME_CHARS)?;
    check_id("batch_id", body.batch_id.as_deref())?;
    check_id("parent_run_id", body.parent_run_id.as_deref())?;
    let workflow = body.workflow.unwrap_or_default();
    check_id("workflow.id", workflow.id.as_deref())?;
    check_id("workflow.version_id", workflow.version_id.as_deref())?;
    check_text("workflow.name", workflow.name.as_deref(), MAX_NAME_CHARS)?;
    check_text("workflow.version", workflow.version.as_deref(), 64)?;
    let trigger = body.trigger.unwrap_or_default();
    if !TRIGGER_TYPES.contains(&trigger.kind.as_str()) {
        return Err((
            "trigger.type".to_owned(),
            format!("one of {}", TRIGGER_TYPES.join(", ")),
        ));
    }
    check_text("trigger.actor", trigger.actor.as_deref(), MAX_NAME_CHARS)?;
    let metadata = body.metadata.unwrap_or_default();
    if json_size(&metadata) > MAX_METADATA_BYTES {
        return Err((
            "metadata".to_owned(),
            format!("at most {MAX_METADATA_BYTES} bytes of JSON"),
        ));
    }
    let attributes = body.attributes.unwrap_or_default();
    if json_size(&attributes) > MAX_ATTRIBUTES_BYTES {
        return Err((
            "attributes".to_owned(),
            format!("at most {MAX_ATTRIBUTES_BYTES} bytes of JSON"),
        ));
    }
    let tags = body.tags.unwrap_or_default();
    if tags.len() > MAX_TAGS {
        return Err(("tags".to_owned(), format!("at most {MAX_TAGS} tags")));
    }
    if let Some(bad) = tags.iter().find(|t| !ids::is_valid_tag(t)) {
        return Err((
            "tags".to_owned(),
            format!("{bad:?} is not a tag: 1–64 printable characters"),
        ));
    }
    let sub_runs = body.sub_runs.unwrap_or_default();
    if sub_runs.len() > MAX_SUB_RUNS {
        return Err(("sub_runs".to_owned(), format!("at most {MAX_SUB_RUNS}")));
    }
    if let Some(bad) = sub_runs.iter().find(|s| !ids::is_valid_id(s)) {
        return Err(("sub_runs".to_owned(), format!("{bad:?} is not a run id")));
    }
    let mut names = Vec::new();
    let children = match body.children {
        None => None,
        Some(ChildrenBody::Counts(c)) => Some(ChildrenInit::Counts(ChildCounts {
            pending: c.pending,
            running: c.running,
            cancelling: c.cancelling,
            completed: c.completed,
            failed: c.failed,
            cancelled: c.cancelled,
        })),
        Some(ChildrenBody::Items(items)) => {
            let mut seen = BTreeSet::new();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if !ids::is_valid_id(&item.id) {
                    return Err((
                        "children".to_owned(),
                        format!("{:?} is not a child id", item.id),
                    ));
                }
                if !seen.insert(item.id.clone()) {
                    return Err((
                        "children".to_owned(),
                        format!("child id {:?} appears twice", item.id),
                    ));
                }
                check_text("children.name", item.name.as_deref(), MAX_NAME_CHARS)?;
                if let Some(name) = item.name {
                    names.push((item.id.clone(), name));
                }
                out.push(NewChild {
                    id: item.id,
                    status: item.status.unwrap_or(ChildStatus::Pending),
                });
            }
            Some(ChildrenInit::Items(out))
        }
    };
    let id = ids::new_run_id(body.kind);
    let info = RunInfo {
        org_id: caller.org_id.clone(),
        name: body.name,
        workflow,
        trigger,
        metadata,
        batch_id: body.batch_id,
        tags,
        attributes,
        parent_run_id: body.parent_run_id,
        created_by: Some(caller.key_id.clone()),
    };
    let args = CreateArgs {
        id,
        kind: body.kind,
        initial: body.initial.unwrap_or_default(),
        default_grace_ms: body.default_grace_ms,
        children,
        sub_runs,
    };
    Ok((info, args, names))
}

pub async fn create(mut req: Request, env: Env, caller: Caller) -> Result<Response> {
    let body: CreateBody = match json_body(&mut req, CREATE_BODY).await {
        Ok(b) => b,
        Err(e) => return errors::body(&e),
    };
    let (info, args, child_names) = match validate_create(body, &caller) {
        Ok(v) => v,
        Err((field, message)) => return errors::invalid(&field, message),
    };
    let run_id = args.id.clone();
    // A sub-run joins its parent's cascade before it exists (see `tree::attach`).
    let cancel = match info.parent_run_id.clone() {
        None => None,
        Some(parent) => match super::tree::attach(&env, &caller.org_id, &parent, &run_id).await? {
            Ok(cancel) => cancel,
            Err(refused) => return Ok(refused),
        },
    };
    let op = Op::Create {
        info: Box::new(info),
        args,
        child_names,
        cancel,
    };
    match call(&env, &caller.org_id, &run_id, &op).await? {
        Ok(reply) => {
            let mut res = http::json(201, &json!({ "run": view::run(&reply.run) }))?;
            res.headers_mut()
                .set("location", &format!("/api/runs/{run_id}"))?;
            Ok(res)
        }
        Err(e) => errors::op(e),
    }
}

pub async fn get(_req: Request, env: Env, caller: Caller, id: String) -> Result<Response> {
    match call(&env, &caller.org_id, &id, &Op::Get).await? {
        Ok(reply) => http::json(200, &json!({ "run": view::run(&reply.run) })),
        Err(e) => errors::op(e),
    }
}

/// Lists through the organisation's index (it validates the filters).
pub async fn list(req: Request, env: Env, caller: Caller) -> Result<Response> {
    let query = req.url()?.query().map(str::to_owned).unwrap_or_default();
    let path = if query.is_empty() {
        "/runs".to_owned()
    } else {
        format!("/runs?{query}")
    };
    let res = auth::org_request(&env, &caller.org_id, Method::Get, &path, None).await?;
    let status = res.status_code();
    let body: Value = http::response_json(res).await?;
    if status == 200 {
        return http::json(200, &body);
    }
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("invalid list query")
        .to_owned();
    let field = body.get("field").and_then(Value::as_str).map(str::to_owned);
    http::problem_with(
        if status == 404 { 400 } else { status },
        "invalid_query",
        message,
        field,
        None,
    )
}

fn query_u64(req: &Request, name: &str) -> std::result::Result<Option<u64>, Result<Response>> {
    let url = req.url().map_err(Err)?;
    match url.query_pairs().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| errors::invalid(name, "must be a non-negative integer")),
    }
}

pub async fn events(req: Request, env: Env, caller: Caller, id: String) -> Result<Response> {
    let after_seq = match query_u64(&req, "after_seq") {
        Ok(v) => v.unwrap_or(0),
        Err(res) => return res,
    };
    let limit = match query_u64(&req, "limit") {
        Ok(Some(l)) if (1..=u64::from(MAX_EVENTS_PAGE)).contains(&l) => {
            u32::try_from(l).unwrap_or(MAX_EVENTS_PAGE)
        }
        Ok(Some(_)) => return errors::invalid("limit", format!("must be 1..={MAX_EVENTS_PAGE}")),
        Ok(None) => 200,
        Err(res) => return res,
    };
    match call(&env, &caller.org_id, &id, &Op::Events { after_seq, limit }).await? {
        Ok(reply) => {
            let events = reply.events.unwrap_or_default();
            let last = events.last().map_or(after_seq, |e| e.seq);
            let more = last < reply.run.state.version;
            http::json(
                200,
                &json!({
                    "data": events,
                    "next_after_seq": more.then_some(last),
                    "version": reply.run.state.version,
                }),
            )
        }
        Err(e) => errors::op(e),
    }
}

pub async fn children(req: Request, env: Env, caller: Caller, id: String) -> Result<Response> {
    let url = req.url()?;
    let mut status = None;
    let mut after = None;
    let mut limit = 100u32;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "status" => match crate::run_object::store::parse_child_status(&v) {
                Some(s) => status = Some(s),
                None => {
                    return errors::invalid(
                        "status",
                        "one of pending, running, cancelling, completed, failed, cancelled",
                    );
                }
            },
            "after" if ids::is_valid_id(&v) => after = Some(v.into_owned()),
            "after" => return errors::invalid("after", "must be a child id"),
            "limit" => match v.parse::<u32>() {
                Ok(l) if (1..=1000).contains(&l) => limit = l,
                Ok(_) | Err(_) => return errors::invalid("limit", "must be 1..=1000"),
            },
            other => return errors::invalid(other, "unknown query parameter"),
        }
    }
    match call(
        &env,
        &caller.org_id,
        &id,
        &Op::Children {
            status,
            after,
            limit,
        },
    )
    .await?
    {
        Ok(reply) => {
            let rows = reply.children.unwrap_or_default();
            let next = (rows.len() == limit as usize)
                .then(|| rows.last().map(|r| r.id.clone()))
                .flatten();
            http::json(
                200,
                &json!({
                    "data": rows,
                    "next_after": next,
                    "counts": reply.run.state.children,
                    "total": reply.run.state.children.total(),
                }),
            )
        }
        Err(e) => errors::op(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelBody {
    #[serde(default)]
    pub(crate) command_id: Option<String>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) grace_ms: Option<u64>,
    #[serde(default)]
    pub(crate) if_status_in: Option<Vec<StatusKind>>,
    #[serde(default)]
    pub(crate) if_version: Option<u64>,
    /// Where the cancel came from; the dashboard says `dashboard`.
    #[serde(default)]
    pub(crate) source: Option<Source>,
}

/// HTTP status of a cancel decision: every decision is an answer (200) except refusals.
pub fn cancel_status(outcome: &CancelOutcome) -> u16 {
    match outcome {
        CancelOutcome::CancelledNow { .. }
        | CancelOutcome::Requested { .. }
        | CancelOutcome::AlreadyRequested { .. }
        | CancelOutcome::AlreadyCancelled { .. } => 200,
        CancelOutcome::AlreadyTerminal { .. } | CancelOutcome::NotCancellable { .. } => 409,
        CancelOutcome::PreconditionFailed { .. } => 412,
        CancelOutcome::Replayed { original } => cancel_status(&original.outcome),
    }
}

/// The idempotency key from the body or the `Idempotency-Key` header (they must agree).
pub fn command_id_of(
    req: &Request,
    body_id: Option<String>,
) -> std::result::Result<Option<String>, FieldError> {
    let header = req.headers().get("idempotency-key").ok().flatten();
    let id = match (body_id, header) {
        (Some(a), Some(b)) if a != b => {
            return Err((
                "command_id".to_owned(),
                "differs from the Idempotency-Key header".to_owned(),
            ));
        }
        (a, b) => a.or(b),
    };
    match id {
        Some(id) if !ids::is_valid_command_id(&id) => Err((
            "command_id".to_owned(),
            "1–255 characters of A–Z, a–z, 0–9, _, -, . or :".to_owned(),
        )),
        other => Ok(other),
    }
}

pub async fn cancel(mut req: Request, env: Env, caller: Caller, id: String) -> Result<Response> {
    let body: CancelBody = match json_body(&mut req, SMALL_BODY).await {
        Ok(b) => b,
        Err(e) => return errors::body(&e),
    };
    let command_id = match command_id_of(&req, body.command_id) {
        Ok(c) => c,
        Err((field, message)) => return errors::invalid(&field, message),
    };
    if let Err((field, message)) = check_text("reason", body.reason.as_deref(), MAX_REASON_CHARS) {
        return errors::invalid(&field, message);
    }
    let source = match body.source {
        None | Some(Source::Api) => Source::Api,
        Some(Source::Dashboard) => Source::Dashboard,
        Some(_) => return errors::invalid("source", "api or dashboard"),
    };
    let mut args = CancelArgs::new(By {
        source,
        actor: Some(caller.key_id.clone()),
    });
    args.command_id = command_id;
    args.reason = body.reason;
    args.grace_ms = body.grace_ms;
    args.if_status_in = body.if_status_in;
    args.if_version = body.if_version;
    match call(
        &env,
        &caller.org_id,
        &id,
        &Op::Command {
            command: Command::Cancel(args),
        },
    )
    .await?
    {
        Ok(reply) => match reply.reply {
            Some(Reply::Cancel(c)) => http::json(
                cancel_status(&c.outcome),
                &json!({
                    "outcome": c.outcome,
                    "cancel": c,
                    "run": view::run(&reply.run),
                }),
            ),
            other => errors::op(OpError::Internal {
                message: format!("cancel answered {other:?}"),
            }),
        },
        Err(e) => errors::op(e),
    }
}

pub async fn receipt(
    _req: Request,
    env: Env,
    caller: Caller,
    id: String,
    command_id: String,
) -> Result<Response> {
    match call(&env, &caller.org_id, &id, &Op::Get).await? {
        Ok(reply) => match reply.run.state.commands.get(&command_id) {
            Some(record) => http::json(
                200,
                &json!({
                    "command_id": command_id,
                    "parameters": record.fingerprint,
                    "reply": record.reply,
                }),
            ),
            None => http::problem(
                404,
                "receipt_not_found",
                "This run has no cancel with that command_id",
            ),
        },
        Err(e) => errors::op(e),
    }
}
