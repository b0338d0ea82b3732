//! The run object's SQLite tables. Every function here is synchronous: a command's reads and
//! writes happen with no await between them, so workerd commits them as one transaction and the
//! reply waits (output gate) until that commit is durable.

use runbrake_core::{ChildStatus, Event, EventRecord, RunState};
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

use crate::run_info::RunInfo;

pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        org_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        info TEXT NOT NULL,
        state TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS children (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        name TEXT
    ) WITHOUT ROWID",
    // No index on status: a cancel moves every pending child with one UPDATE, and keeping a
    // (status, id) index in step cost ~4x the update itself (~250 ms for 100,000 children). A
    // page filtered by status walks the primary key instead (bounded by its LIMIT).
    "DROP INDEX IF EXISTS children_status",
    // Work to carry out after a commit (index updates, cascades), retried by the alarm.
    "CREATE TABLE IF NOT EXISTS outbox (
        key TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL
    ) WITHOUT ROWID",
];

/// A run as stored: the core's state and what the run is about.
pub struct Stored {
    pub org_id: String,
    pub state: RunState,
    pub info: RunInfo,
}

#[derive(Deserialize)]
struct MetaRow {
    org_id: String,
    info: String,
    state: String,
}

fn json_err(e: serde_json::Error) -> worker::Error {
    worker::Error::RustError(format!("stored JSON: {e}"))
}

pub fn load(sql: &SqlStorage) -> worker::Result<Option<Stored>> {
    let rows: Vec<MetaRow> = sql
        .exec("SELECT org_id, info, state FROM meta WHERE id = 1", None)?
        .to_array()?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(Stored {
        org_id: row.org_id,
        info: serde_json::from_str(&row.info).map_err(json_err)?,
        state: serde_json::from_str(&row.state).map_err(json_err)?,
    }))
}

pub fn insert_meta(sql: &SqlStorage, stored: &Stored) -> worker::Result<()> {
    sql.exec(
        "INSERT INTO meta (id, org_id, run_id, info, state) VALUES (1, ?, ?, ?, ?)",
        vec![
            stored.org_id.clone().into(),
            stored.state.id.clone().into(),
            serde_json::to_string(&stored.info)
                .map_err(json_err)?
                .into(),
            serde_json::to_string(&stored.state)
                .map_err(json_err)?
                .into(),
        ],
    )?;
    Ok(())
}

pub fn save_state(sql: &SqlStorage, state: &RunState) -> worker::Result<()> {
    sql.exec(
        "UPDATE meta SET state = ? WHERE id = 1",
        vec![serde_json::to_string(state).map_err(json_err)?.into()],
    )?;
    Ok(())
}

fn int(v: u64) -> SqlStorageValue {
    // Seqs, times and counts stay far below 2^53.
    SqlStorageValue::Integer(i64::try_from(v).unwrap_or(i64::MAX))
}

pub fn child_status_str(s: ChildStatus) -> &'static str {
    match s {
        ChildStatus::Pending => "pending",
        ChildStatus::Running => "running",
        ChildStatus::Cancelling => "cancelling",
        ChildStatus::Completed => "completed",
        ChildStatus::Failed => "failed",
        ChildStatus::Cancelled => "cancelled",
    }
}

pub fn parse_child_status(s: &str) -> Option<ChildStatus> {
    ChildStatus::ALL
        .into_iter()
        .find(|c| child_status_str(*c) == s)
}

/// Appends events and applies their effect on the children table (bulk events are one UPDATE).
/// The caller runs this inside its operation's transaction.
pub fn append_events(
    sql: &SqlStorage,
    records: &[EventRecord],
    child_names: &std::collections::HashMap<String, String>,
) -> worker::Result<()> {
    for r in records {
        sql.exec(
            "INSERT INTO events (seq, at, type, body) VALUES (?, ?, ?, ?)",
            vec![
                int(r.seq),
                int(r.at),
                r.event.name().into(),
                serde_json::to_string(r).map_err(json_err)?.into(),
            ],
        )?;
        apply_to_children(sql, &r.event, child_names)?;
    }
    Ok(())
}

fn apply_to_children(
    sql: &SqlStorage,
    event: &Event,
    names: &std::collections::HashMap<String, String>,
) -> worker::Result<()> {
    match event {
        Event::ChildrenAdded { items } => {
            for item in items {
                let name = names
                    .get(&item.id)
                    .map_or(SqlStorageValue::Null, |n| n.clone().into());
                sql.exec(
                    "INSERT INTO children (id, status, name) VALUES (?, ?, ?)",
                    vec![
                        item.id.clone().into(),
                        child_status_str(item.status).into(),
                        name,
                    ],
                )?;
            }
        }
        Event::ChildChanged { id, to, .. } => {
            sql.exec(
                "UPDATE children SET status = ? WHERE id = ?",
                vec![child_status_str(*to).into(), id.clone().into()],
            )?;
        }
        Event::ChildrenCancelled { from, .. } => {
            sql.exec(
                "UPDATE children SET status = 'cancelled' WHERE status = ?",
                vec![child_status_str(*from).into()],
            )?;
        }
        Event::ChildrenCancelling { .. } => {
            sql.exec(
                "UPDATE children SET status = 'cancelling' WHERE status = 'running'",
                None,
            )?;
        }
        Event::Created { .. }
        | Event::Enqueued
        | Event::Claimed { .. }
        | Event::LeaseExtended { .. }
        | Event::LeaseExpired { .. }
        | Event::WaitStarted { .. }
        | Event::Resumed { .. }
        | Event::Completed { .. }
        | Event::Failed { .. }
        | Event::Rejected { .. }
        | Event::CancelRequested { .. }
        | Event::Cancelled { .. }
        | Event::LateCompletion { .. }
        | Event::LateFailure { .. }
        | Event::CancelRecorded { .. }
        | Event::SubRunAttached { .. } => {}
    }
    Ok(())
}

#[derive(Deserialize)]
struct BodyRow {
    body: String,
}

pub fn events_after(
    sql: &SqlStorage,
    after_seq: u64,
    limit: u32,
) -> worker::Result<Vec<EventRecord>> {
    let rows: Vec<BodyRow> = sql
        .exec(
            "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            vec![int(after_seq), int(u64::from(limit))],
        )?
        .to_array()?;
    rows.iter()
        .map(|r| serde_json::from_str(&r.body).map_err(json_err))
        .collect()
}

#[derive(Deserialize)]
struct StatusRow {
    status: String,
}

pub fn child_status(sql: &SqlStorage, child_id: &str) -> worker::Result<Option<ChildStatus>> {
    let rows: Vec<StatusRow> = sql
        .exec(
            "SELECT status FROM children WHERE id = ?",
            vec![child_id.to_owned().into()],
        )?
        .to_array()?;
    Ok(rows.first().and_then(|r| parse_child_status(&r.status)))
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct ChildRow {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub name: Option<String>,
}

pub fn children_page(
    sql: &SqlStorage,
    status: Option<ChildStatus>,
    after: Option<&str>,
    limit: u32,
) -> worker::Result<Vec<ChildRow>> {
    let after = after.unwrap_or("").to_owned();
    let rows = match status {
        Some(s) => sql.exec(
            "SELECT id, status, name FROM children WHERE status = ? AND id > ? ORDER BY id LIMIT ?",
            vec![
                child_status_str(s).into(),
                after.into(),
                int(u64::from(limit)),
            ],
        )?,
        None => sql.exec(
            "SELECT id, status, name FROM children WHERE id > ? ORDER BY id LIMIT ?",
            vec![after.into(), int(u64::from(limit))],
        )?,
    };
    rows.to_array()
}

#[derive(Debug, Clone, Deserialize)]
pub struct OutboxRow {
    pub key: String,
    pub payload: String,
    pub attempts: i64,
}

pub fn outbox_put(sql: &SqlStorage, key: &str, payload: &str, next_at: u64) -> worker::Result<()> {
    // Re-putting a key (the index summary) replaces it: only the latest needs delivering.
    sql.exec(
        "INSERT INTO outbox (key, payload, attempts, next_at) VALUES (?, ?, 0, ?)
         ON CONFLICT(key) DO UPDATE SET payload = excluded.payload, attempts = 0,
         next_at = excluded.next_at",
        vec![
            key.to_owned().into(),
            payload.to_owned().into(),
            int(next_at),
        ],
    )?;
    Ok(())
}

pub fn outbox_due(sql: &SqlStorage, now: u64, limit: u32) -> worker::Result<Vec<OutboxRow>> {
    sql.exec(
        "SELECT key, payload, attempts FROM outbox WHERE next_at <= ? ORDER BY next_at LIMIT ?",
        vec![int(now), int(u64::from(limit))],
    )?
    .to_array()
}

#[derive(Deserialize)]
struct NextRow {
    next_at: Option<i64>,
}

pub fn outbox_next_at(sql: &SqlStorage) -> worker::Result<Option<u64>> {
    let rows: Vec<NextRow> = sql
        .exec("SELECT MIN(next_at) AS next_at FROM outbox", None)?
        .to_array()?;
    Ok(rows
        .first()
        .and_then(|r| r.next_at)
        .and_then(|n| u64::try_from(n).ok()))
}

/// Removes a delivered row, unless it was replaced (by a newer payload) while in flight.
pub fn outbox_done(sql: &SqlStorage, key: &str, payload: &str) -> worker::Result<()> {
    sql.exec(
        "DELETE FROM outbox WHERE key = ? AND payload = ?",
        vec![key.to_owned().into(), payload.to_owned().into()],
    )?;
    Ok(())
}

pub fn outbox_retry(
    sql: &SqlStorage,
    key: &str,
    attempts: i64,
    next_at: u64,
) -> worker::Result<()> {
    sql.exec(
        "UPDATE outbox SET attempts = ?, next_at = ? WHERE key = ?",
        vec![
            SqlStorageValue::Integer(attempts),
            int(next_at),
            key.to_owned().into(),
        ],
    )?;
    Ok(())
}
