//! Bulk cancel jobs under `/api/bulk-cancels` (user keys only; another organisation's job is a
//! 404): a dry run freezes the selection and answers with the count and a sample; starting a
//! job takes that selection and nothing else; then progress, abort and per-item results.
//!
//! | route | what |
//! |---|---|
//! | `POST /api/bulk-cancels/dry-run` | freeze `{selection: {ids}|{batch_id}|{tag}|{filter}, reason?, grace_ms?, sample_size?}` |
//! | `POST /api/bulk-cancels` | start `{dry_run_id, idempotency_key?, concurrency?, rate_per_s?}` (201; 200 when replayed) |
//! | `GET /api/bulk-cancels` | the organisation's jobs, newest first |
//! | `GET /api/bulk-cancels/{job}` | progress |
//! | `POST /api/bulk-cancels/{job}/abort` | no item starts after the reply |
//! | `GET /api/bulk-cancels/{job}/items?cursor=&state=&outcome=&limit=` | per-item results |
//!
//! The selection lives in the organisation index (it freezes it in one pass); each job runs in
//! its own Durable Object (see `crate::bulk`).

use futures_util::future::join_all;
use runbrake_core::{RunKind, StatusKind, format_rfc3339, parse_rfc3339};
use serde::Deserialize;
use serde_json::{Value, json};
use worker::{Env, Method, Request, Response, Result};

use super::{CREATE_BODY, SMALL_BODY, errors};
use crate::auth::{self, Caller};
use crate::bulk::protocol::{
    DRY_RUN_TTL_MS, FreezeReply, FreezeRequest, JobRow, RecordJob, RecordedJob, Source, Spec,
    StartJob,
};
use crate::bulk::{DEFAULT_CONCURRENCY, DEFAULT_RATE, MAX_CONCURRENCY, MAX_RATE};
use crate::http::{self, json_body};
use crate::{clock, ids};

/// Ids one dry run may name.
const MAX_IDS: usize = 10_000;
const DEFAULT_SAMPLE: u32 = 20;
const MAX_SAMPLE: u32 = 100;
const MAX_REASON_CHARS: usize = 512;
/// Statuses a batch, tag or filter selection takes when it names none: the runs a cancel can
/// still stop.
const LIVE: [StatusKind; 4] = [
    StatusKind::Pending,
    StatusKind::Queued,
    StatusKind::Running,
    StatusKind::Waiting,
];

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeArg {
    Ms(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterBody {
    #[serde(default)]
    status: Option<Vec<StatusKind>>,
    #[serde(default)]
    kind: Option<RunKind>,
    #[serde(default)]
    batch_id: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    created_from: Option<TimeArg>,
    #[serde(default)]
    created_to: Option<TimeArg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SelectionBody {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    batch_id: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    filter: Option<FilterBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DryRunBody {
    pub(crate) selection: SelectionBody,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    grace_ms: Option<u64>,
    #[serde(default)]
    sample_size: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    dry_run_id: String,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    concurrency: Option<u32>,
    #[serde(default)]
    rate_per_s: Option<u32>,
}

type Invalid = (String, String);

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    (field.to_owned(), message.into())
}

fn time_arg(field: &str, t: Option<TimeArg>) -> std::result::Result<Option<u64>, Invalid> {
    match t {
        None => Ok(None),
        Some(TimeArg::Ms(ms)) if ms <= 9_007_199_254_740_991 => Ok(Some(ms)),
        Some(TimeArg::Ms(_)) => Err(invalid(field, "out of range")),
        Some(TimeArg::Text(s)) => parse_rfc3339(&s)
            .map(Some)
            .map_err(|_| invalid(field, "RFC 3339 time or milliseconds since the epoch")),
    }
}

fn statuses(list: Option<Vec<StatusKind>>) -> Vec<StatusKind> {
    let mut v = list
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| LIVE.to_vec());
    v.sort();
    v.dedup();
    v
}

fn status_names(v: &[StatusKind]) -> Vec<&'static str> {
    v.iter().map(|s| s.as_str()).collect()
}

/// Validates a selection into what the index freezes and the normalised form the dry run and
/// the job echo.
pub(crate) fn selection(body: SelectionBody) -> std::result::Result<(Source, Value), Invalid> {
    let given = [
        body.ids.is_some(),
        body.batch_id.is_some(),
        body.tag.is_some(),
        body.filter.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given != 1 {
        return Err(invalid(
            "selection",
            "exactly one of ids, batch_id, tag or filter",
        ));
    }
    let check_batch = |b: &str| {
        if ids::is_valid_id(b) {
            Ok(())
        } else {
            Err(invalid(
                "selection.batch_id",
                "1–128 characters of A–Z, a–z, 0–9, _ or -",
            ))
        }
    };
    let check_tag = |t: &str| {
        if ids::is_valid_tag(t) {
            Ok(())
        } else {
            Err(invalid("selection.tag", "1–64 printable characters"))
        }
    };
    if let Some(list) = body.ids {
        if list.is_empty() || list.len() > MAX_IDS {
            return Err(invalid("selection.ids", format!("1..={MAX_IDS} run ids")));
        }
        if let Some(bad) = list.iter().find(|id| !ids::is_valid_id(id)) {
            return Err(invalid("selection.ids", format!("{bad:?} is not a run id")));
        }
        let mut seen = std::collections::HashSet::with_capacity(list.len());
        let unique: Vec<String> = list
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        let echo = json!({ "type": "ids", "count": unique.len() });
        return Ok((Source::Ids { ids: unique }, echo));
    }
    let (kind_name, f) = match (body.batch_id, body.tag, body.filter) {
        (Some(b), _, _) => {
            check_batch(&b)?;
            (
                "batch_id",
                FilterBody {
                    status: None,
                    kind: None,
                    batch_id: Some(b),
                    tag: None,
                    created_from: None,
                    created_to: None,
                },
            )
        }
        (None, Some(t), _) => {
            check_tag(&t)?;
            (
                "tag",
                FilterBody {
                    status: None,
                    kind: None,
                    batch_id: None,
                    tag: Some(t),
                    created_from: None,
                    created_to: None,
                },
            )
        }
        (None, None, Some(f)) => ("filter", f),
        (None, None, None) => return Err(invalid("selection", "empty")),
    };
    if let Some(b) = &f.batch_id {
        check_batch(b)?;
    }
    if let Some(t) = &f.tag {
        check_tag(t)?;
    }
    let status = statuses(f.status);
    let from = time_arg("selection.filter.created_from", f.created_from)?;
    let to = time_arg("selection.filter.created_to", f.created_to)?;
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        return Err(invalid(
            "selection.filter.created_to",
            "must be after created_from",
        ));
    }
    let kind = f
        .kind
        .and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut pairs = vec![("status".to_owned(), status_names(&status).join(","))];
    let mut echo = json!({ "type": kind_name, "status": status_names(&status) });
    for (k, v) in [
        ("kind", kind.clone()),
        ("batch_id", f.batch_id.clone()),
        ("tag", f.tag.clone()),
    ] {
        if let Some(v) = v {
            pairs.push((k.to_owned(), v.clone()));
            echo[k] = v.into();
        }
    }
    for (k, v) in [("created_from", from), ("created_to", to)] {
        if let Some(ms) = v {
            pairs.push((k.to_owned(), ms.to_string()));
            echo[k] = format_rfc3339(ms).into();
        }
    }
    Ok((Source::Query { pairs }, echo))
}

pub(crate) fn check_reason(reason: Option<&str>) -> std::result::Result<(), Invalid> {
    match reason {
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(invalid(
            "reason",
            format!("at most {MAX_REASON_CHARS} characters"),
        )),
        Some(r) if r.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err(invalid("reason", "must not contain control characters"))
        }
        Some(_) | None => Ok(()),
    }
}

/// An index or job object's refusal, as a problem of this API.
async fn relay_error(mut res: Response) -> Result<Response> {
    let status = res.status_code();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let code = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("internal")
        .to_owned();
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the request failed")
        .to_owned();
    let field = body.get("field").and_then(Value::as_str).map(str::to_owned);
    match (status, code.as_str()) {
        (400, _) => http::problem_with(400, "invalid_argument", message, field, None),
        (404, "job_not_found") => http::problem(404, "job_not_found", "No such bulk cancel job"),
        (404, "dry_run_not_found") => http::problem(
            404,
            "dry_run_not_found",
            "No such dry run in your organisation",
        ),
        (409 | 410 | 422, c) => http::problem(status, c, message),
        _ => {
            worker::console_error!("bulk: {status} {code}: {message}");
            http::problem(
                500,
                "internal",
                "Internal error; the request can be retried",
            )
        }
    }
}

pub async fn dry_run(mut req: Request, env: Env, caller: Caller) -> Result<Response> {
    let body: DryRunBody = match json_body(&mut req, CREATE_BODY).await {
        Ok(b) => b,
        Err(e) => return errors::body(&e),
    };
    let checked = (|| {
        check_reason(body.reason.as_deref())?;
        if body
            .grace_ms
            .is_some_and(|g| g > runbrake_core::state::MAX_GRACE_MS)
        {
            return Err(invalid(
                "grace_ms",
                format!("at most {}", runbrake_core::state::MAX_GRACE_MS),
            ));
        }
        let sample = body.sample_size.unwrap_or(DEFAULT_SAMPLE);
        if sample > MAX_SAMPLE {
            return Err(invalid("sample_size", format!("0..={MAX_SAMPLE}")));
        }
        Ok(sample)
    })();
    let sample_size = match checked {
        Ok(s) => s,
        Err((f, m)) => return errors::invalid(&f, m),
    };
    let (source, echo) = match selection(body.selection) {
        Ok(v) => v,
        Err((f, m)) => return errors::invalid(&f, m),
    };
    let now = clock::now();
    let freeze = FreezeRequest {
        dry_run_id: format!("bdr_{}", ids::random_base62(22)),
        now,
        expires_at: now.saturating_add(DRY_RUN_TTL_MS),
        created_by: Some(caller.key_id.clone()),
        sample_size,
        spec: Spec {
            selection: echo,
            reason: body.reason,
            grace_ms: body.grace_ms,
        },
        source,
    };
    let payload =
        serde_json::to_string(&freeze).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut res = auth::org_request(
        &env,
        &caller.org_id,
        Method::Post,
        "/bulk/dry-runs",
        Some(payload),
    )
    .await?;
    if res.status_code() != 201 {
        return relay_error(res).await;
    }
    let r: FreezeReply = res.json().await?;
    let sample: Vec<Value> = r
        .sample
        .iter()
        .map(|s| {
            json!({
                "id": s.id, "status": s.status, "kind": s.kind, "name": s.name,
                "created_at": s.created_at.map(format_rfc3339),
            })
        })
        .collect();
    http::json(
        201,
        &json!({
            "dry_run_id": r.dry_run_id,
            "count": r.count,
            "sample": sample,
            "selection": r.spec.selection,
            "reason": r.spec.reason,
            "grace_ms": r.spec.grace_ms,
            "created_at": format_rfc3339(r.created_at),
            "expires_at": format_rfc3339(r.expires_at),
        }),
    )
}

fn job_stub(env: &Env, org_id: &str, job_id: &str) -> Result<worker::Stub> {
    env.durable_object("BULK")?
        .get_by_name(&format!("{org_id}/{job_id}"))
}

async fn job_request(
    env: &Env,
    org_id: &str,
    job_id: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let mut init = worker::RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = worker::Headers::new();
        headers.set("content-type", "application/json")?;
        init.with_headers(headers).with_body(Some(body.into()));
    }
    job_stub(env, org_id, job_id)?
        .fetch_with_request(Request::new_with_init(
            &format!("https://bulk.internal{path}"),
            &init,
        )?)
        .await
}

fn idempotency_key(
    req: &Request,
    body: Option<String>,
) -> std::result::Result<Option<String>, Invalid> {
    let header = req.headers().get("idempotency-key").ok().flatten();
    let key = match (body, header) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid(
                "idempotency_key",
                "differs from the Idempotency-Key header",
            ));
        }
        (a, b) => a.or(b),
    };
    match key {
        Some(k) if !ids::is_valid_command_id(&k) => Err(invalid(
            "idempotency_key",
            "1–255 characters of A–Z, a–z, 0–9, _, -, . or :",
        )),
        other => Ok(other),
    }
}

pub async fn start(mut req: Request, env: Env, caller: Caller) -> Result<Response> {
    let body: StartBody = match json_body(&mut req, SMALL_BODY).await {
        Ok(b) => b,
        Err(e) => return errors::body(&e),
    };
    let key = match idempotency_key(&req, body.idempotency_key) {
        Ok(k) => k,
        Err((f, m)) => return errors::invalid(&f, m),
    };
    if !ids::is_valid_id(&body.dry_run_id) {
        return http::problem(
            404,
            "dry_run_not_found",
            "No such dry run in your organisation",
        );
    }
    let concurrency = body.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return errors::invalid("concurrency", format!("1..={MAX_CONCURRENCY}"));
    }
    let rate = body.rate_per_s.unwrap_or(DEFAULT_RATE);
    if !(1..=MAX_RATE).contains(&rate) {
        return errors::invalid("rate_per_s", format!("1..={MAX_RATE}"));
    }
    let now = clock::now();
    let record = RecordJob {
        dry_run_id: body.dry_run_id.clone(),
        job_id: format!("bulk_{}", ids::random_base62(22)),
        idempotency_key: key.clone(),
        now,
        created_by: Some(caller.key_id.clone()),
    };
    let payload =
        serde_json::to_string(&record).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut res = auth::org_request(
        &env,
        &caller.org_id,
        Method::Post,
        "/bulk/jobs",
        Some(payload),
    )
    .await?;
    if !matches!(res.status_code(), 200 | 201) {
        return relay_error(res).await;
    }
    let recorded: RecordedJob = res.json().await?;
    // Sent again when the index says the job exists: a start that died between the two
    // writes is completed by its retry (the job object creates itself at most once).
    let start = StartJob {
        job_id: recorded.job_id.clone(),
        org_id: caller.org_id.clone(),
        dry_run_id: recorded.dry_run_id,
        total: recorded.count,
        spec: recorded.spec,
        concurrency,
        rate_per_s: rate,
        idempotency_key: key,
        created_by: Some(caller.key_id.clone()),
        now: recorded.created_at,
    };
    let payload =
        serde_json::to_string(&start).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut res = job_request(
        &env,
        &caller.org_id,
        &recorded.job_id,
        Method::Post,
        "/start",
        Some(payload),
    )
    .await?;
    if !matches!(res.status_code(), 200 | 201) {
        return relay_error(res).await;
    }
    let job: Value = res.json().await?;
    let status = if recorded.created { 201 } else { 200 };
    let mut out = http::json(
        status,
        &json!({ "job": job, "replayed": !recorded.created }),
    )?;
    out.headers_mut().set(
        "location",
        &format!("/api/bulk-cancels/{}", recorded.job_id),
    )?;
    Ok(out)
}

pub async fn list(req: Request, env: Env, caller: Caller) -> Result<Response> {
    let url = req.url()?;
    let mut query = Vec::new();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "limit" | "cursor" => query.push(format!(
                "{k}={}",
                String::from(worker::js_sys::encode_uri_component(&v))
            )),
            other => return errors::invalid(other, "unknown query parameter"),
        }
    }
    let path = if query.is_empty() {
        "/bulk/jobs".to_owned()
    } else {
        format!("/bulk/jobs?{}", query.join("&"))
    };
    let mut res = auth::org_request(&env, &caller.org_id, Method::Get, &path, None).await?;
    if res.status_code() != 200 {
        return relay_error(res).await;
    }
    #[derive(Deserialize)]
    struct Page {
        data: Vec<JobRow>,
        next_cursor: Option<String>,
    }
    let page: Page = res.json().await?;
    let data: Vec<Value> = page
        .data
        .iter()
        .map(|j| {
            json!({
                "id": j.job_id, "dry_run_id": j.dry_run_id, "idempotency_key": j.idempotency_key,
                "total": j.count, "created_at": format_rfc3339(j.created_at), "created_by": j.created_by,
            })
        })
        .collect();
    http::json(
        200,
        &json!({ "data": data, "next_cursor": page.next_cursor }),
    )
}

pub async fn get(_req: Request, env: Env, caller: Caller, job: String) -> Result<Response> {
    let res = job_request(&env, &caller.org_id, &job, Method::Get, "/job", None).await?;
    job_reply(res).await
}

pub async fn abort(_req: Request, env: Env, caller: Caller, job: String) -> Result<Response> {
    let res = job_request(&env, &caller.org_id, &job, Method::Post, "/abort", None).await?;
    job_reply(res).await
}

async fn job_reply(mut res: Response) -> Result<Response> {
    if res.status_code() != 200 {
        return relay_error(res).await;
    }
    let job: Value = res.json().await?;
    http::json(200, &json!({ "job": job }))
}

pub async fn items(req: Request, env: Env, caller: Caller, job: String) -> Result<Response> {
    let query = req.url()?.query().map(str::to_owned).unwrap_or_default();
    let path = if query.is_empty() {
        "/items".to_owned()
    } else {
        format!("/items?{query}")
    };
    let mut res = job_request(&env, &caller.org_id, &job, Method::Get, &path, None).await?;
    if res.status_code() != 200 {
        return relay_error(res).await;
    }
    let page: Value = res.json().await?;
    http::json(200, &page)
}

/// Runs one seed request creates at most (index-only summaries: ten times as many).
const MAX_SEED: u32 = 10_000;
const MAX_SEED_INDEX_ONLY: u32 = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    org_id: String,
    count: u32,
    /// Summaries written straight into the index, with no run objects behind them: enough for
    /// measuring what only reads the index (a dry run's freeze), far faster to make.
    #[serde(default)]
    index_only: bool,
    #[serde(default)]
    kind: Option<RunKind>,
    #[serde(default)]
    batch_id: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    /// Queued unless given.
    initial: Option<runbrake_core::InitialStatus>,
    /// Real runs only: an executor claims each run with a lease this long (and never acks).
    #[serde(default)]
    claim_lease_ms: Option<u64>,
}

/// `POST /api/admin/test-seed` (admin token, and only with `TEST_CLOCK=1`: tests and benchmarks,
/// never production, where it answers 404): many runs at once, created inside the Worker.
pub async fn seed(mut req: Request, env: &Env) -> Result<Response> {
    if !clock::test_clock_enabled(env) || !auth::is_admin(req.headers(), env) {
        return http::not_found();
    }
    if !matches!(req.method(), Method::Post) {
        return http::method_not_allowed(&["POST"]);
    }
    let body: SeedBody = match json_body(&mut req, SMALL_BODY).await {
        Ok(b) => b,
        Err(e) => return errors::body(&e),
    };
    let cap = if body.index_only {
        MAX_SEED_INDEX_ONLY
    } else {
        MAX_SEED
    };
    if body.count == 0 || body.count > cap {
        return errors::invalid("count", format!("1..={cap}"));
    }
    let kind = body.kind.unwrap_or(RunKind::Generic);
    let tags = body.tags.unwrap_or_default();
    let initial = body.initial.unwrap_or(runbrake_core::InitialStatus::Queued);
    if body.index_only {
        return seed_index(
            env,
            &body.org_id,
            body.count,
            kind,
            body.batch_id,
            &tags,
            initial,
        )
        .await;
    }
    let mut created: Vec<String> = Vec::with_capacity(body.count as usize);
    let numbers: Vec<u32> = (0..body.count).collect();
    for chunk in numbers.chunks(16) {
        let made = join_all(chunk.iter().map(|i| {
            seed_run(
                env,
                &body.org_id,
                *i,
                kind,
                body.batch_id.clone(),
                tags.clone(),
                initial,
                body.claim_lease_ms,
            )
        }))
        .await;
        for m in made {
            created.push(m?);
        }
    }
    http::json(201, &json!({ "created": created.len(), "ids": created }))
}

#[allow(clippy::too_many_arguments)]
async fn seed_run(
    env: &Env,
    org_id: &str,
    i: u32,
    kind: RunKind,
    batch_id: Option<String>,
    tags: Vec<String>,
    initial: runbrake_core::InitialStatus,
    claim_lease_ms: Option<u64>,
) -> Result<String> {
    use crate::run_object::protocol::Op;
    let id = ids::new_run_id(kind);
    let info = crate::run_info::RunInfo {
        org_id: org_id.to_owned(),
        name: Some(format!("seed {i}")),
        batch_id,
        tags,
        ..Default::default()
    };
    let args = runbrake_core::CreateArgs {
        id: id.clone(),
        kind,
        initial,
        default_grace_ms: None,
        children: None,
        sub_runs: vec![],
    };
    let op = Op::Create {
        info: Box::new(info),
        args,
        child_names: vec![],
        cancel: None,
    };
    let res = crate::run_object::call(env, org_id, &id, &op).await?;
    if res.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "seed create: {}",
            res.status_code()
        )));
    }
    if let Some(lease_ms) = claim_lease_ms {
        let op = Op::Command {
            command: runbrake_core::Command::Claim(runbrake_core::ClaimArgs {
                executor: "seed-executor".to_owned(),
                lease_id: ids::new_lease_id(),
                lease_ms,
            }),
        };
        let res = crate::run_object::call(env, org_id, &id, &op).await?;
        if res.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "seed claim: {}",
                res.status_code()
            )));
        }
    }
    Ok(id)
}

async fn seed_index(
    env: &Env,
    org_id: &str,
    count: u32,
    kind: RunKind,
    batch_id: Option<String>,
    tags: &[String],
    initial: runbrake_core::InitialStatus,
) -> Result<Response> {
    let now = clock::now();
    let prefix = format!("{}seed{}x", ids::run_prefix(kind), ids::random_base62(8));
    let status = match initial {
        runbrake_core::InitialStatus::Pending => "pending",
        runbrake_core::InitialStatus::Queued => "queued",
        runbrake_core::InitialStatus::Running => "running",
    };
    let kind_name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let numbers: Vec<u32> = (0..count).collect();
    for chunk in numbers.chunks(500) {
        let summaries: Vec<Value> = chunk
            .iter()
            .map(|i| {
                let at = now.saturating_sub(u64::from(count - i));
                json!({
                    "id": format!("{prefix}{i}"), "seq": 1, "kind": kind_name, "status": status,
                    "name": format!("seed {i}"), "batch_id": batch_id, "tags": tags,
                    "created_at": at, "updated_at": at,
                })
            })
            .collect();
        let body = json!({ "summaries": summaries }).to_string();
        let res = auth::org_request(env, org_id, Method::Post, "/runs", Some(body)).await?;
        if res.status_code() != 200 {
            return Err(worker::Error::RustError(format!(
                "seed index: {}",
                res.status_code()
            )));
        }
    }
    http::json(201, &json!({ "created": count, "prefix": prefix }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(v: Value) -> std::result::Result<(Source, Value), Invalid> {
        selection(serde_json::from_value(v).expect("shape"))
    }

    #[test]
    fn exactly_one_selection() {
        assert!(sel(json!({})).is_err());
        assert!(sel(json!({"batch_id": "b", "tag": "t"})).is_err());
        let (src, echo) = sel(json!({"ids": ["a", "b", "a"]})).expect("ok");
        assert_eq!(
            src,
            Source::Ids {
                ids: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(echo, json!({"type": "ids", "count": 2}));
        assert_eq!(
            sel(json!({"ids": ["a/b"]})).expect_err("bad").0,
            "selection.ids"
        );
    }

    #[test]
    fn batch_and_tag_take_live_statuses() {
        let (src, echo) = sel(json!({"batch_id": "b1"})).expect("ok");
        assert_eq!(
            src,
            Source::Query {
                pairs: vec![
                    ("status".into(), "pending,queued,running,waiting".into()),
                    ("batch_id".into(), "b1".into())
                ]
            }
        );
        assert_eq!(echo["type"], "batch_id");
        let (src, _) = sel(
            json!({"filter": {"status": ["running"], "kind": "experiment",
            "created_from": "2026-01-01T00:00:00Z", "created_to": 1_800_000_000_000u64}}),
        )
        .expect("ok");
        assert_eq!(
            src,
            Source::Query {
                pairs: vec![
                    ("status".into(), "running".into()),
                    ("kind".into(), "experiment".into()),
                    ("created_from".into(), "1767225600000".into()),
                    ("created_to".into(), "1800000000000".into()),
                ]
            }
        );
        let e = sel(json!({"filter": {"created_from": 5, "created_to": 5}})).expect_err("range");
        assert_eq!(e.0, "selection.filter.created_to");
    }
}
