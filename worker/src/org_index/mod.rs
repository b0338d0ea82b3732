//! OrgIndex: one SQLite-backed Durable Object per organisation (binding `ORGS`, addressed by
//! `id_from_name(org_id)`).
//!
//! It holds the organisation record, its API keys (hashed), and an index of run summaries fed by
//! the run objects' outboxes, answers list queries, and streams changes to the dashboard over
//! hibernatable WebSockets. It is the design's one hot spot, so every request is synchronous SQL
//! on indexes with bounded pages; the only awaits are reading the request body.
//!
//! Internal HTTP interface (method + path; the host is ignored; JSON in and out; errors are
//! `{"error": "<code>", "message": "..."}`):
//!
//! | route | reply |
//! |---|---|
//! | `POST /init {org_id, name, now}` | 200 `{org_id, name, created_at}` (idempotent) |
//! | `GET /org` | 200 org, or 404 `not_found` |
//! | `POST /keys {key_id, hash, role, label?, now}` | 201 `{key_id, role, label, created_at, revoked_at}` |
//! | `GET /keys` | 200 `{"data": [key...]}` |
//! | `POST /keys/{key_id}/revoke {now}` | 200 `{key_id, revoked_at}` or 404 |
//! | `POST /auth {hash}` | 200 `{key_id, role}` or 404 `unknown_key` |
//! | `POST /runs {"summaries": [...]}` | 200 `{applied, ignored}` |
//! | `GET /runs?filters&limit&cursor&order` | 200 `{data, next_cursor, counts}` |
//! | `GET /runs/count?filters` | 200 `{count}` |
//! | `GET /watch?after_seq=N` (`Upgrade: websocket`) | 101 |
//! | `/bulk/...` | bulk cancel dry runs and jobs (see [`bulk`]) |
//!
//! Watchers: on connect, if `after_seq` is given, every retained change after it
//! (`{"type":"run","seq","run"}`, in order) or `{"type":"resync","seq"}` when some are gone; then
//! `{"type":"hello","seq":<latest>}`; then one `run` message per applied summary. `"ping"` gets
//! `{"type":"pong","seq"}`; any other message closes the socket with 1003.

mod bulk;
mod error;
mod fields;
mod keys;
mod query;
mod schema;
mod stream;
mod summary;

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorage, SqlStorageValue, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair, console_error, console_warn,
    durable_object,
};

use crate::storage::{LazySchema, transaction_sync};

use error::ApiError;
use query::CountPlan;
use stream::{Replay, WATCH_TAG};

use crate::stream_limits::{self, MAX_ORG_WATCHERS};
use summary::RunSummary;

/// Request bodies above this are refused unparsed.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Keys listed by `GET /keys` (an organisation has a handful).
const MAX_KEYS_LISTED: i64 = 1_000;

/// Why a route did not answer normally.
enum Fail {
    Api(ApiError),
    Internal(worker::Error),
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<worker::Error> for Fail {
    fn from(e: worker::Error) -> Self {
        Fail::Internal(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Internal(e.into())
    }
}

type Outcome = std::result::Result<Response, Fail>;

fn json_text(status: u16, body: String) -> Outcome {
    Ok(Response::builder()
        .with_status(status)
        .with_header("content-type", "application/json")?
        .with_header("cache-control", "no-store")?
        .fixed(body.into_bytes()))
}

fn json_value<T: Serialize>(status: u16, body: &T) -> Outcome {
    json_text(status, serde_json::to_string(body)?)
}

fn error_response(e: &ApiError) -> Result<Response> {
    let mut res = Response::builder()
        .with_status(e.status)
        .with_header("content-type", "application/json")?
        .with_header("cache-control", "no-store")?;
    if let Some(allow) = e.allow {
        res = res.with_header("allow", allow)?;
    }
    Ok(res.fixed(e.body().into_bytes()))
}

/// Every integer reaching SQL was validated to be at most 2^53 - 1.
fn int(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn first<T: for<'de> Deserialize<'de>>(
    sql: &SqlStorage,
    query: &str,
    binds: Vec<SqlStorageValue>,
) -> Result<Option<T>> {
    Ok(sql.exec(query, binds)?.to_array::<T>()?.into_iter().next())
}

fn query_pairs(req: &Request) -> Result<Vec<(String, String)>> {
    Ok(req.url()?.query_pairs().into_owned().collect())
}

async fn read_body(req: &mut Request) -> std::result::Result<String, Fail> {
    let body = req.text().await?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large(format!("body: at most {MAX_BODY_BYTES} bytes")).into());
    }
    Ok(body)
}

#[derive(Serialize, Deserialize)]
struct OrgRow {
    org_id: String,
    name: String,
    created_at: u64,
}

/// A key as every route shows it: never the hash.
#[derive(Serialize, Deserialize)]
struct KeyRow {
    key_id: String,
    role: String,
    label: Option<String>,
    created_at: u64,
    revoked_at: Option<u64>,
}

#[derive(Deserialize)]
struct KeyWithHash {
    key_id: String,
    hash: String,
    role: String,
    label: Option<String>,
    created_at: u64,
    revoked_at: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Revoked {
    key_id: String,
    revoked_at: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct AuthRow {
    key_id: String,
    role: String,
}

#[derive(Deserialize)]
struct OldRun {
    seq: u64,
    status: String,
    created_at: u64,
    tags: String,
}

#[derive(Deserialize)]
struct ListRow {
    summary: String,
    created_at: u64,
    id: String,
}

#[derive(Deserialize)]
struct CountRow {
    status: String,
    n: i64,
}

#[derive(Deserialize)]
struct N {
    n: u64,
}

#[derive(Deserialize)]
struct SeqRow {
    seq: u64,
}

#[derive(Deserialize)]
struct ChangeRow {
    seq: u64,
    summary: String,
}

/// The retained change window: `oldest` is `None` when nothing was ever recorded.
struct Window {
    oldest: Option<u64>,
    latest: u64,
}

fn latest_change(sql: &SqlStorage) -> Result<u64> {
    // Two single-ended lookups on the primary key (MIN and MAX in one SELECT would scan).
    Ok(first::<SeqRow>(
        sql,
        "SELECT seq FROM changes ORDER BY seq DESC LIMIT 1",
        vec![],
    )?
    .map_or(0, |r| r.seq))
}

fn window(sql: &SqlStorage) -> Result<Window> {
    let oldest = first::<SeqRow>(
        sql,
        "SELECT seq FROM changes ORDER BY seq ASC LIMIT 1",
        vec![],
    )?
    .map(|r| r.seq);
    Ok(Window {
        oldest,
        latest: latest_change(sql)?,
    })
}

fn prune(sql: &SqlStorage, latest: u64) -> Result<()> {
    if let Some(through) = stream::prune_through(latest) {
        sql.exec("DELETE FROM changes WHERE seq <= ?1", vec![int(through)])?;
    }
    Ok(())
}

fn count_rows(sql: &SqlStorage) -> Result<Vec<(String, i64)>> {
    Ok(sql
        .exec("SELECT status, n FROM status_counts", None)?
        .to_array::<CountRow>()?
        .into_iter()
        .map(|r| (r.status, r.n))
        .collect())
}

fn bump(sql: &SqlStorage, status: &str, delta: i64) -> Result<()> {
    sql.exec(
        "UPDATE status_counts SET n = n + ?1 WHERE status = ?2",
        vec![delta.into(), status.into()],
    )?;
    Ok(())
}

/// Upserts one summary unless its seq is not newer than the stored one. Returns the change seq.
fn apply_one(sql: &SqlStorage, s: &RunSummary) -> Result<Option<u64>> {
    let old = first::<OldRun>(
        sql,
        "SELECT seq, status, created_at, tags FROM runs WHERE id = ?1",
        vec![s.id.as_str().into()],
    )?;
    if old.as_ref().is_some_and(|old| s.seq <= old.seq) {
        return Ok(None);
    }
    let status = s.status.as_str();
    let tags_json = s.tags_json();
    sql.exec(
        "INSERT INTO runs (id, kind, status, name, name_lc, batch_id, tags, created_at, updated_at, seq, summary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET
           kind = excluded.kind, status = excluded.status, name = excluded.name,
           name_lc = excluded.name_lc, batch_id = excluded.batch_id, tags = excluded.tags,
           created_at = excluded.created_at, updated_at = excluded.updated_at,
           seq = excluded.seq, summary = excluded.summary",
        vec![
            s.id.as_str().into(),
            s.kind.as_str().into(),
            status.into(),
            s.name.clone().into(),
            s.name_lc().into(),
            s.batch_id.clone().into(),
            tags_json.as_str().into(),
            int(s.created_at),
            int(s.updated_at),
            int(s.seq),
            s.json.as_str().into(),
        ],
    )?;
    match &old {
        None => bump(sql, status, 1)?,
        Some(old) if old.status != status => {
            bump(sql, &old.status, -1)?;
            bump(sql, status, 1)?;
        }
        Some(_) => {}
    }
    let tags_changed = match &old {
        None => !s.tags.is_empty(),
        Some(old) => old.tags != tags_json || old.created_at != s.created_at,
    };
    if tags_changed {
        if old.is_some() {
            sql.exec(
                "DELETE FROM run_tags WHERE run_id = ?1",
                vec![s.id.as_str().into()],
            )?;
        }
        for tag in &s.tags {
            sql.exec(
                "INSERT INTO run_tags (tag, run_id, created_at) VALUES (?1, ?2, ?3)",
                vec![tag.as_str().into(), s.id.as_str().into(), int(s.created_at)],
            )?;
        }
    }
    let seq = sql
        .exec(
            "INSERT INTO changes (run_id, summary) VALUES (?1, ?2) RETURNING seq",
            vec![s.id.as_str().into(), s.json.as_str().into()],
        )?
        .one::<SeqRow>()?
        .seq;
    Ok(Some(seq))
}

/// Applies a validated batch in order. Returns `(change seq, index in batch)` of each applied
/// summary, and how many were ignored as stale or duplicate.
fn apply_batch(sql: &SqlStorage, batch: &[RunSummary]) -> Result<(Vec<(u64, usize)>, usize)> {
    let mut applied = Vec::new();
    let mut ignored = 0;
    for (i, s) in batch.iter().enumerate() {
        match apply_one(sql, s)? {
            Some(seq) => applied.push((seq, i)),
            None => ignored += 1,
        }
    }
    if let Some(&(latest, _)) = applied.last() {
        prune(sql, latest)?;
    }
    Ok((applied, ignored))
}

#[durable_object]
pub struct OrgIndex {
    state: State,
    /// Created by `/init` only: a request for an organisation nobody created (a made-up key's
    /// org id) answers not found and leaves nothing on disk.
    schema: LazySchema,
}

impl OrgIndex {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn org(&self, sql: &SqlStorage) -> Result<Option<OrgRow>> {
        first(
            sql,
            "SELECT org_id, name, created_at FROM org WHERE id = 1",
            vec![],
        )
    }

    async fn route(&self, mut req: Request) -> Outcome {
        let path = req.path();
        let method = req.method();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        if segments.as_slice() != ["init"] && !self.schema.exists(&self.sql())? {
            return Err(match segments.as_slice() {
                ["auth"] => ApiError::unknown_key(),
                _ => ApiError::not_found("organisation not initialised"),
            }
            .into());
        }
        match segments.as_slice() {
            ["init"] => match method {
                Method::Post => self.init(&read_body(&mut req).await?),
                _ => Err(ApiError::method_not_allowed("POST").into()),
            },
            ["org"] => match method {
                Method::Get => self.get_org(),
                _ => Err(ApiError::method_not_allowed("GET").into()),
            },
            ["keys"] => match method {
                Method::Get => self.list_keys(),
                Method::Post => self.create_key(&read_body(&mut req).await?),
                _ => Err(ApiError::method_not_allowed("GET, POST").into()),
            },
            ["keys", key_id, "revoke"] => match method {
                Method::Post => self.revoke_key(key_id, &read_body(&mut req).await?),
                _ => Err(ApiError::method_not_allowed("POST").into()),
            },
            ["auth"] => match method {
                Method::Post => self.auth(&read_body(&mut req).await?),
                _ => Err(ApiError::method_not_allowed("POST").into()),
            },
            ["runs"] => match method {
                Method::Get => self.list_runs(query_pairs(&req)?),
                Method::Post => self.upsert_runs(&read_body(&mut req).await?),
                _ => Err(ApiError::method_not_allowed("GET, POST").into()),
            },
            ["runs", "count"] => match method {
                Method::Get => self.count_runs(query_pairs(&req)?),
                _ => Err(ApiError::method_not_allowed("GET").into()),
            },
            ["watch"] => match method {
                Method::Get => self.watch(&req, query_pairs(&req)?),
                _ => Err(ApiError::method_not_allowed("GET").into()),
            },
            ["bulk", "dry-runs"] => match method {
                Method::Post => self.bulk_freeze(&read_body(&mut req).await?).await,
                _ => Err(ApiError::method_not_allowed("POST").into()),
            },
            ["bulk", "dry-runs", id, "selection"] => match method {
                Method::Get => json_value(
                    200,
                    &bulk::selection_page(&self.sql(), id, &query_pairs(&req)?)?,
                ),
                Method::Delete => json_value(200, &bulk::drop_selection(&self.sql(), id)?),
                _ => Err(ApiError::method_not_allowed("GET, DELETE").into()),
            },
            ["bulk", "jobs"] => match method {
                Method::Post => {
                    let body = read_body(&mut req).await?;
                    let sql = self.sql();
                    let job = transaction_sync(&self.state.storage(), || {
                        Ok(bulk::record_job(&sql, &body))
                    })??;
                    json_value(if job.created { 201 } else { 200 }, &job)
                }
                Method::Get => json_value(200, &bulk::list_jobs(&self.sql(), &query_pairs(&req)?)?),
                _ => Err(ApiError::method_not_allowed("GET, POST").into()),
            },
            _ => Err(ApiError::not_found("no such route").into()),
        }
    }

    fn init(&self, body: &str) -> Outcome {
        let r = keys::parse_init(body)?;
        let sql = self.sql();
        self.schema.create(&sql)?;
        if let Some(org) = self.org(&sql)? {
            if org.org_id != r.org_id {
                return Err(ApiError::conflict(format!(
                    "this index belongs to organisation {}",
                    org.org_id
                ))
                .into());
            }
            return json_value(200, &org);
        }
        sql.exec(
            "INSERT INTO org (id, org_id, name, created_at) VALUES (1, ?1, ?2, ?3)",
            vec![r.org_id.as_str().into(), r.name.as_str().into(), int(r.now)],
        )?;
        json_value(
            200,
            &OrgRow {
                org_id: r.org_id,
                name: r.name,
                created_at: r.now,
            },
        )
    }

    fn get_org(&self) -> Outcome {
        match self.org(&self.sql())? {
            Some(org) => json_value(200, &org),
            None => Err(ApiError::not_found("organisation not initialised").into()),
        }
    }

    fn create_key(&self, body: &str) -> Outcome {
        let k = keys::parse_new_key(body)?;
        let sql = self.sql();
        if self.org(&sql)?.is_none() {
            return Err(ApiError::not_found("organisation not initialised").into());
        }
        let existing = first::<KeyWithHash>(
            &sql,
            "SELECT key_id, hash, role, label, created_at, revoked_at FROM keys WHERE key_id = ?1",
            vec![k.key_id.as_str().into()],
        )?;
        if let Some(e) = existing {
            // A retried create (same key, same everything) replays; anything else is a clash.
            if e.hash == k.hash && e.role == k.role.as_str() && e.label == k.label {
                return json_value(
                    201,
                    &KeyRow {
                        key_id: e.key_id,
                        role: e.role,
                        label: e.label,
                        created_at: e.created_at,
                        revoked_at: e.revoked_at,
                    },
                );
            }
            return Err(ApiError::conflict("key_id already exists").into());
        }
        if first::<AuthRow>(
            &sql,
            "SELECT key_id, role FROM keys WHERE hash = ?1",
            vec![k.hash.as_str().into()],
        )?
        .is_some()
        {
            return Err(ApiError::conflict("a key with this hash already exists").into());
        }
        sql.exec(
            "INSERT INTO keys (key_id, hash, role, label, created_at, revoked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            vec![
                k.key_id.as_str().into(),
                k.hash.as_str().into(),
                k.role.as_str().into(),
                k.label.clone().into(),
                int(k.now),
            ],
        )?;
        json_value(
            201,
            &KeyRow {
                key_id: k.key_id,
                role: k.role.as_str().to_owned(),
                label: k.label,
                created_at: k.now,
                revoked_at: None,
            },
        )
    }

    fn list_keys(&self) -> Outcome {
        let rows = self
            .sql()
            .exec(
                "SELECT key_id, role, label, created_at, revoked_at FROM keys
                 ORDER BY created_at, key_id LIMIT ?1",
                vec![MAX_KEYS_LISTED.into()],
            )?
            .to_array::<KeyRow>()?;
        json_value(200, &json!({ "data": rows }))
    }

    fn revoke_key(&self, key_id: &str, body: &str) -> Outcome {
        let now = keys::parse_now(body)?;
        if keys::check_key_id(key_id).is_err() {
            return Err(ApiError::not_found("no such key").into());
        }
        let sql = self.sql();
        sql.exec(
            "UPDATE keys SET revoked_at = ?1 WHERE key_id = ?2 AND revoked_at IS NULL",
            vec![int(now), key_id.into()],
        )?;
        match first::<Revoked>(
            &sql,
            "SELECT key_id, revoked_at FROM keys WHERE key_id = ?1",
            vec![key_id.into()],
        )? {
            Some(r) => json_value(200, &r),
            None => Err(ApiError::not_found("no such key").into()),
        }
    }

    fn auth(&self, body: &str) -> Outcome {
        let hash = keys::parse_auth(body)?;
        match first::<AuthRow>(
            &self.sql(),
            "SELECT key_id, role FROM keys WHERE hash = ?1 AND revoked_at IS NULL",
            vec![hash.into()],
        )? {
            Some(row) => json_value(200, &row),
            None => Err(ApiError::unknown_key().into()),
        }
    }

    fn upsert_runs(&self, body: &str) -> Outcome {
        let batch = summary::parse_batch(body)?;
        let sql = self.sql();
        let (applied, ignored) =
            transaction_sync(&self.state.storage(), || apply_batch(&sql, &batch))?;
        if !applied.is_empty() {
            // Sent after the write; the output gate holds them until it is durable.
            let sockets = self.state.get_websockets_with_tag(WATCH_TAG);
            for &(seq, i) in &applied {
                let Some(s) = batch.get(i) else { continue };
                let message = stream::run_message(seq, &s.json);
                for ws in &sockets {
                    if let Err(e) = ws.send_with_str(&message) {
                        console_warn!("org_index: broadcast failed: {e}");
                    }
                }
            }
        }
        json_value(
            200,
            &json!({ "applied": applied.len(), "ignored": ignored }),
        )
    }

    fn list_runs(&self, pairs: Vec<(String, String)>) -> Outcome {
        let p = query::parse_params(pairs)?;
        let q = query::list_query(&p);
        let sql = self.sql();
        let rows = sql.exec(&q.sql, q.binds)?.to_array::<ListRow>()?;
        let page = &rows[..rows.len().min(p.limit)];
        let next_cursor = match page.last() {
            Some(last) if rows.len() > p.limit => {
                Some(query::encode_cursor(p.order, last.created_at, &last.id))
            }
            _ => None,
        };
        let counts = query::counts_value(&count_rows(&sql)?);
        let mut body =
            String::with_capacity(page.iter().map(|r| r.summary.len() + 1).sum::<usize>() + 256);
        body.push_str("{\"data\":[");
        for (i, row) in page.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            // Stored verbatim as validated JSON text: no re-parse.
            body.push_str(&row.summary);
        }
        body.push_str("],\"next_cursor\":");
        body.push_str(&serde_json::to_string(&next_cursor)?);
        body.push_str(",\"counts\":");
        body.push_str(&counts.to_string());
        body.push('}');
        json_text(200, body)
    }

    fn count_runs(&self, pairs: Vec<(String, String)>) -> Outcome {
        let p = query::parse_params(pairs)?;
        let sql = self.sql();
        let count = match query::count_plan(&p.filters) {
            CountPlan::FromCounts(statuses) => query::sum_counts(&count_rows(&sql)?, &statuses),
            CountPlan::Sql(q) => sql.exec(&q.sql, q.binds)?.one::<N>()?.n,
        };
        json_value(200, &json!({ "count": count }))
    }

    /// Freezes a bulk selection in one transaction (validated first), then answers with the
    /// count and a sample, and makes sure the alarm purges it once it expires.
    async fn bulk_freeze(&self, body: &str) -> Outcome {
        let (req, plan) = bulk::parse_freeze(body)?;
        let sql = self.sql();
        let count =
            match transaction_sync(&self.state.storage(), || bulk::freeze(&sql, &req, &plan)) {
                Ok(n) => n,
                Err(e) => {
                    return Err(match bulk::too_large(&e) {
                        Some(api) => api.into(),
                        None => e.into(),
                    });
                }
            };
        let reply = bulk::reply(&sql, req, count)?;
        self.schedule_purge().await?;
        json_value(201, &reply)
    }

    /// Moves the alarm earlier when a bulk dry run must be purged before it would fire.
    async fn schedule_purge(&self) -> Result<()> {
        let now = crate::clock::now();
        let Some(at) = bulk::next_purge(&self.sql(), now)? else {
            return Ok(());
        };
        let storage = self.state.storage();
        let wall = crate::clock::to_wall(at);
        let current = storage.get_alarm().await?;
        if current.is_some_and(|c| u64::try_from(c).is_ok_and(|c| c <= wall)) {
            return Ok(());
        }
        let offset = i64::try_from(at.saturating_sub(now)).unwrap_or(i64::MAX);
        storage.set_alarm(offset).await
    }

    fn watch(&self, req: &Request, pairs: Vec<(String, String)>) -> Outcome {
        let upgrade = req.headers().get("upgrade")?.unwrap_or_default();
        if !upgrade.eq_ignore_ascii_case("websocket") {
            return Err(ApiError::upgrade_required().into());
        }
        let after = stream::parse_watch(pairs)?;
        if self.state.get_websockets_with_tag(WATCH_TAG).len() >= MAX_ORG_WATCHERS {
            return Err(ApiError::coded(
                429,
                "too_many_streams",
                stream_limits::full_message(MAX_ORG_WATCHERS, "watchers of one organisation"),
            )
            .into());
        }
        let sql = self.sql();
        let w = window(&sql)?;
        let pair = WebSocketPair::new()?;
        self.state
            .accept_websocket_with_tags(&pair.server, &[WATCH_TAG]);
        // Everything below runs in this one synchronous turn: no broadcast can slip in between
        // the replay and the hello, and the hello's seq is exactly where live updates resume.
        match after.map(|after| stream::plan_replay(after, w.oldest, w.latest)) {
            None | Some(Replay::Nothing) => {}
            Some(Replay::Resync) => pair.server.send_with_str(stream::resync(w.latest))?,
            Some(Replay::After(after)) => {
                let cursor = sql.exec(
                    "SELECT seq, summary FROM changes WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
                    vec![int(after), int(w.latest)],
                )?;
                for row in cursor.next::<ChangeRow>() {
                    let row = row?;
                    pair.server
                        .send_with_str(stream::run_message(row.seq, &row.summary))?;
                }
            }
        }
        pair.server.send_with_str(stream::hello(w.latest))?;
        Ok(Response::from_websocket(pair.client)?)
    }
}

impl DurableObject for OrgIndex {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            schema: LazySchema::new("org", schema::STATEMENTS),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.route(req).await {
            Ok(res) => Ok(res),
            Err(Fail::Api(e)) => error_response(&e),
            Err(Fail::Internal(e)) => {
                console_error!("org_index: {e}");
                error_response(&ApiError::internal("the index failed to answer"))
            }
        }
    }

    /// Purges expired bulk dry runs (the only thing that schedules it) and prunes the change
    /// log.
    async fn alarm(&self) -> Result<Response> {
        let sql = self.sql();
        if let Err(e) = latest_change(&sql).and_then(|latest| prune(&sql, latest)) {
            console_error!("org_index: alarm: {e}");
        }
        let now = crate::clock::now();
        match bulk::purge(&sql, now) {
            Ok(Some(at)) => {
                let offset = i64::try_from(at.saturating_sub(now)).unwrap_or(i64::MAX);
                self.state.storage().set_alarm(offset.max(1)).await?;
            }
            Ok(None) => {}
            Err(e) => console_error!("org_index: bulk purge: {e}"),
        }
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let sent = if let Some((code, reason)) = crate::stream_limits::oversized(&message) {
            ws.close(Some(code), Some(reason))
        } else {
            match message {
                WebSocketIncomingMessage::String(text) if text.trim() == "ping" => {
                    latest_change(&self.sql()).and_then(|seq| ws.send_with_str(stream::pong(seq)))
                }
                WebSocketIncomingMessage::String(_) | WebSocketIncomingMessage::Binary(_) => {
                    ws.close(Some(1003), Some("unsupported message"))
                }
            }
        };
        if let Err(e) = sent {
            console_warn!("org_index: websocket message: {e}");
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        // Echo the close so the handshake completes; 1005/1006 may not be sent on the wire.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| *c != 1005 && *c != 1006)
            .unwrap_or(1000);
        if let Err(e) = ws.close(Some(code), Some("bye")) {
            console_warn!("org_index: websocket close: {e}");
        }
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, error: worker::Error) -> Result<()> {
        console_warn!("org_index: websocket error: {error}");
        Ok(())
    }
}
