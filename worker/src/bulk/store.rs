//! A bulk job's SQLite tables. Every function is synchronous: the driver's reads and writes
//! between two awaits commit together.
//!
//! Counters (`counts`) move in the same statements' turn as the item rows they count, so
//! `pending + in_flight + done + failed + skipped = total` holds at every commit (ids not yet
//! copied from the frozen selection count as pending).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{SqlStorage, SqlStorageValue};

use super::protocol::{Spec, StartJob};

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS job (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        job_id TEXT NOT NULL,
        org_id TEXT NOT NULL,
        dry_run_id TEXT NOT NULL,
        spec TEXT NOT NULL,
        concurrency INTEGER NOT NULL,
        rate_per_s INTEGER NOT NULL,
        idempotency_key TEXT,
        created_by TEXT,
        total INTEGER NOT NULL,
        loaded INTEGER NOT NULL DEFAULT 0,
        load_cursor INTEGER NOT NULL DEFAULT 0,
        load_done INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        aborted_at INTEGER
    )",
    // state: pending | in_flight | done | failed | skipped; outcome: what happened (see
    // `Outcome`), set once the item is final.
    "CREATE TABLE IF NOT EXISTS items (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        state TEXT NOT NULL,
        outcome TEXT,
        detail TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER
    )",
    "CREATE INDEX IF NOT EXISTS items_by_state ON items (state, seq)",
    "CREATE INDEX IF NOT EXISTS items_by_outcome ON items (outcome, seq)",
    "CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
];

pub fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

fn text(s: &str) -> SqlStorageValue {
    SqlStorageValue::String(s.to_owned())
}

fn opt_text(s: Option<&str>) -> SqlStorageValue {
    s.map_or(SqlStorageValue::Null, text)
}

/// The job's lifecycle. `aborted` is final for new work at once; items already in flight
/// still record their outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Completed,
    Aborted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Aborted => "aborted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "completed" => JobStatus::Completed,
            "aborted" => JobStatus::Aborted,
            _ => JobStatus::Running,
        }
    }
}

/// Where an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    InFlight,
    Done,
    Failed,
    Skipped,
}

impl ItemState {
    pub const ALL: [ItemState; 5] = [
        ItemState::Pending,
        ItemState::InFlight,
        ItemState::Done,
        ItemState::Failed,
        ItemState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::InFlight => "in_flight",
            ItemState::Done => "done",
            ItemState::Failed => "failed",
            ItemState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What happened to one run. `cancelled`/`cancelling` are done; `error` is failed; every other
/// outcome is a skip with that reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Cancelled,
    Cancelling,
    AlreadyCancelled,
    AlreadyCancelling,
    AlreadyFinished,
    NotCancellable,
    PreconditionFailed,
    NotFound,
    Aborted,
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Cancelled,
        Outcome::Cancelling,
        Outcome::AlreadyCancelled,
        Outcome::AlreadyCancelling,
        Outcome::AlreadyFinished,
        Outcome::NotCancellable,
        Outcome::PreconditionFailed,
        Outcome::NotFound,
        Outcome::Aborted,
        Outcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Cancelled => "cancelled",
            Outcome::Cancelling => "cancelling",
            Outcome::AlreadyCancelled => "already_cancelled",
            Outcome::AlreadyCancelling => "already_cancelling",
            Outcome::AlreadyFinished => "already_finished",
            Outcome::NotCancellable => "not_cancellable",
            Outcome::PreconditionFailed => "precondition_failed",
            Outcome::NotFound => "not_found",
            Outcome::Aborted => "aborted",
            Outcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn state(self) -> ItemState {
        match self {
            Outcome::Cancelled | Outcome::Cancelling => ItemState::Done,
            Outcome::Error => ItemState::Failed,
            Outcome::AlreadyCancelled
            | Outcome::AlreadyCancelling
            | Outcome::AlreadyFinished
            | Outcome::NotCancellable
            | Outcome::PreconditionFailed
            | Outcome::NotFound
            | Outcome::Aborted => ItemState::Skipped,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobRow {
    pub job_id: String,
    pub org_id: String,
    pub dry_run_id: String,
    pub spec: String,
    pub concurrency: u32,
    pub rate_per_s: u32,
    pub idempotency_key: Option<String>,
    pub created_by: Option<String>,
    pub total: u64,
    pub loaded: u64,
    pub load_cursor: u64,
    pub load_done: i64,
    status: String,
    pub created_at: u64,
    pub finished_at: Option<u64>,
    pub aborted_at: Option<u64>,
}

impl JobRow {
    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status)
    }

    pub fn spec(&self) -> worker::Result<Spec> {
        Ok(serde_json::from_str(&self.spec)?)
    }

    pub fn loaded_all(&self) -> bool {
        self.load_done != 0
    }
}

pub fn load(sql: &SqlStorage) -> worker::Result<Option<JobRow>> {
    Ok(sql
        .exec(
            "SELECT job_id, org_id, dry_run_id, spec, concurrency, rate_per_s, idempotency_key,
                    created_by, total, loaded, load_cursor, load_done, status, created_at,
                    finished_at, aborted_at
             FROM job WHERE id = 1",
            None,
        )?
        .to_array::<JobRow>()?
        .into_iter()
        .next())
}

/// Creates the job unless it exists (a retried start changes nothing). True if created.
pub fn create(sql: &SqlStorage, s: &StartJob) -> worker::Result<bool> {
    if load(sql)?.is_some() {
        return Ok(false);
    }
    sql.exec(
        "INSERT INTO job (id, job_id, org_id, dry_run_id, spec, concurrency, rate_per_s,
                          idempotency_key, created_by, total, status, created_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running', ?10)",
        vec![
            text(&s.job_id),
            text(&s.org_id),
            text(&s.dry_run_id),
            serde_json::to_string(&s.spec)?.into(),
            int(u64::from(s.concurrency)),
            int(u64::from(s.rate_per_s)),
            opt_text(s.idempotency_key.as_deref()),
            opt_text(s.created_by.as_deref()),
            int(s.total),
            int(s.now),
        ],
    )?;
    // Every id counts as pending until it is copied and processed.
    bump(sql, ItemState::Pending.as_str(), i64_of(s.total))?;
    Ok(true)
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn bump(sql: &SqlStorage, key: &str, delta: i64) -> worker::Result<()> {
    if delta == 0 {
        return Ok(());
    }
    sql.exec(
        "INSERT INTO counts (key, n) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET n = n + excluded.n",
        vec![text(key), SqlStorageValue::Integer(delta)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct CountRow {
    key: String,
    n: i64,
}

pub fn counts(sql: &SqlStorage) -> worker::Result<Vec<(String, u64)>> {
    Ok(sql
        .exec("SELECT key, n FROM counts", None)?
        .to_array::<CountRow>()?
        .into_iter()
        .map(|r| (r.key, u64::try_from(r.n).unwrap_or(0)))
        .collect())
}

/// Appends a page of copied ids. After an abort they arrive already skipped (`aborted`), so
/// every id of the selection is listed either way.
pub fn append(
    sql: &SqlStorage,
    ids: &[String],
    aborted: bool,
    next_cursor: Option<u64>,
    now: u64,
) -> worker::Result<()> {
    let (state, outcome) = if aborted {
        (ItemState::Skipped, Some(Outcome::Aborted))
    } else {
        (ItemState::Pending, None)
    };
    for chunk in ids.chunks(96) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(?{}, ?1, ?2, ?3)", i + 4))
            .collect();
        let mut binds = vec![
            text(state.as_str()),
            opt_text(outcome.map(Outcome::as_str)),
            if aborted {
                int(now)
            } else {
                SqlStorageValue::Null
            },
        ];
        binds.extend(chunk.iter().map(|id| text(id)));
        sql.exec(
            &format!(
                "INSERT INTO items (run_id, state, outcome, updated_at) VALUES {}",
                values.join(", ")
            ),
            binds,
        )?;
    }
    let n = i64_of(ids.len() as u64);
    if aborted {
        bump(sql, ItemState::Pending.as_str(), -n)?;
        bump(sql, ItemState::Skipped.as_str(), n)?;
        bump(sql, Outcome::Aborted.as_str(), n)?;
    }
    sql.exec(
        "UPDATE job SET loaded = loaded + ?1, load_cursor = COALESCE(?2, load_cursor),
                        load_done = ?3 WHERE id = 1",
        vec![
            int(ids.len() as u64),
            next_cursor.map_or(SqlStorageValue::Null, int),
            int(u64::from(next_cursor.is_none())),
        ],
    )?;
    Ok(())
}

/// After a restart, items that were in flight are retried (with the same command id, so a
/// cancel that did land answers `replayed` with its first outcome).
pub fn requeue_in_flight(sql: &SqlStorage) -> worker::Result<()> {
    let n = count_state(sql, ItemState::InFlight)?;
    if n > 0 {
        sql.exec(
            "UPDATE items SET state = 'pending' WHERE state = 'in_flight'",
            None,
        )?;
        bump(sql, ItemState::InFlight.as_str(), -i64_of(n))?;
        bump(sql, ItemState::Pending.as_str(), i64_of(n))?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct N {
    n: u64,
}

fn count_state(sql: &SqlStorage, state: ItemState) -> worker::Result<u64> {
    Ok(sql
        .exec(
            "SELECT COUNT(*) AS n FROM items WHERE state = ?1",
            vec![text(state.as_str())],
        )?
        .one::<N>()?
        .n)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Pending {
    pub seq: u64,
    pub run_id: String,
    pub attempts: u32,
}

/// Takes the next `n` pending items and marks them in flight.
pub fn take(sql: &SqlStorage, n: u32) -> worker::Result<Vec<Pending>> {
    let rows = sql
        .exec(
            "SELECT seq, run_id, attempts FROM items WHERE state = 'pending' ORDER BY seq LIMIT ?1",
            vec![int(u64::from(n))],
        )?
        .to_array::<Pending>()?;
    if let Some(last) = rows.last() {
        sql.exec(
            "UPDATE items SET state = 'in_flight', attempts = attempts + 1
             WHERE state = 'pending' AND seq <= ?1",
            vec![int(last.seq)],
        )?;
        let k = i64_of(rows.len() as u64);
        bump(sql, ItemState::Pending.as_str(), -k)?;
        bump(sql, ItemState::InFlight.as_str(), k)?;
    }
    Ok(rows)
}

/// Records an in-flight item's final outcome.
pub fn finish(
    sql: &SqlStorage,
    seq: u64,
    outcome: Outcome,
    detail: Option<&Value>,
    now: u64,
) -> worker::Result<()> {
    sql.exec(
        "UPDATE items SET state = ?1, outcome = ?2, detail = ?3, updated_at = ?4 WHERE seq = ?5",
        vec![
            text(outcome.state().as_str()),
            text(outcome.as_str()),
            detail.map_or(SqlStorageValue::Null, |d| d.to_string().into()),
            int(now),
            int(seq),
        ],
    )?;
    bump(sql, ItemState::InFlight.as_str(), -1)?;
    bump(sql, outcome.state().as_str(), 1)?;
    bump(sql, outcome.as_str(), 1)
}

/// Puts an in-flight item back for another attempt.
pub fn retry(sql: &SqlStorage, seq: u64, detail: &Value, now: u64) -> worker::Result<()> {
    sql.exec(
        "UPDATE items SET state = 'pending', detail = ?1, updated_at = ?2 WHERE seq = ?3",
        vec![detail.to_string().into(), int(now), int(seq)],
    )?;
    bump(sql, ItemState::InFlight.as_str(), -1)?;
    bump(sql, ItemState::Pending.as_str(), 1)
}

/// Abort: no new item starts. Pending items become skipped (`aborted`) at once; ids still to
/// be copied arrive skipped. Returns false if the job had already ended.
pub fn abort(sql: &SqlStorage, now: u64) -> worker::Result<bool> {
    let Some(job) = load(sql)? else {
        return Ok(false);
    };
    if job.status() != JobStatus::Running {
        return Ok(false);
    }
    skip_pending(sql, now)?;
    sql.exec(
        "UPDATE job SET status = 'aborted', aborted_at = ?1 WHERE id = 1",
        vec![int(now)],
    )?;
    Ok(true)
}

/// Every pending item becomes skipped (`aborted`).
pub fn skip_pending(sql: &SqlStorage, now: u64) -> worker::Result<()> {
    let n = count_state(sql, ItemState::Pending)?;
    if n == 0 {
        return Ok(());
    }
    sql.exec(
        "UPDATE items SET state = 'skipped', outcome = 'aborted', updated_at = ?1
         WHERE state = 'pending'",
        vec![int(now)],
    )?;
    bump(sql, ItemState::Pending.as_str(), -i64_of(n))?;
    bump(sql, ItemState::Skipped.as_str(), i64_of(n))?;
    bump(sql, Outcome::Aborted.as_str(), i64_of(n))
}

pub fn in_flight(sql: &SqlStorage) -> worker::Result<u64> {
    count_state(sql, ItemState::InFlight)
}

pub fn set_finished(sql: &SqlStorage, status: JobStatus, now: u64) -> worker::Result<()> {
    sql.exec(
        "UPDATE job SET status = ?1, finished_at = COALESCE(finished_at, ?2) WHERE id = 1",
        vec![text(status.as_str()), int(now)],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ItemRow {
    pub seq: u64,
    pub run_id: String,
    pub state: String,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub attempts: u32,
    pub updated_at: Option<u64>,
}

/// One page of items in selection order, optionally of one state or one outcome.
pub fn items_page(
    sql: &SqlStorage,
    after: u64,
    state: Option<ItemState>,
    outcome: Option<Outcome>,
    limit: u32,
) -> worker::Result<Vec<ItemRow>> {
    let cols = "seq, run_id, state, outcome, detail, attempts, updated_at";
    let lim = int(u64::from(limit));
    let cursor = match (state, outcome) {
        (_, Some(o)) => sql.exec(
            &format!(
                "SELECT {cols} FROM items WHERE outcome = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ),
            vec![text(o.as_str()), int(after), lim],
        )?,
        (Some(s), None) => sql.exec(
            &format!(
                "SELECT {cols} FROM items WHERE state = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3"
            ),
            vec![text(s.as_str()), int(after), lim],
        )?,
        (None, None) => sql.exec(
            &format!("SELECT {cols} FROM items WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
            vec![int(after), lim],
        )?,
    };
    cursor.to_array()
}
