//! Bulk cancel dry runs and the job registry: the index holds the data a selection is made
//! from, so it freezes the selection here, in one synchronous pass (an `INSERT … SELECT` on the
//! list indexes), and the job's own object copies it page by page. None of this touches the
//! run-summary hot path (`POST /runs`).
//!
//! | route | reply |
//! |---|---|
//! | `POST /bulk/dry-runs` [`FreezeRequest`] | 201 [`FreezeReply`] |
//! | `GET /bulk/dry-runs/{id}/selection?after=&limit=` | 200 [`SelectionPage`] |
//! | `DELETE /bulk/dry-runs/{id}/selection` | 200 `{dropped}` (the job has copied it) |
//! | `POST /bulk/jobs` [`RecordJob`] | 201 / 200 [`RecordedJob`] |
//! | `GET /bulk/jobs?limit=&cursor=` | 200 `{data: [JobRow], next_cursor}` |

use serde::Deserialize;
use serde_json::{Value, json};
use worker::{SqlStorage, SqlStorageValue};

use super::error::ApiError;
use super::query::{self, SqlQuery};
use super::summary::MAX_ID_LEN;
use super::{Fail, first, int};
use crate::bulk::protocol::{
    FreezeReply, FreezeRequest, JobRow, RecordJob, RecordedJob, SELECTION_PAGE, SampleItem,
    SelectionPage, Source, Spec,
};

/// Ids one dry run may name explicitly.
pub const MAX_IDS: usize = 10_000;
/// Runs one dry run may freeze (a filter selecting more is refused, not truncated).
pub const MAX_SELECTION: u64 = 100_000;
pub const MAX_SAMPLE: u32 = 100;
/// A started job's frozen selection is dropped by the job once copied; this long after the dry
/// run's expiry it is dropped regardless.
pub const STARTED_KEEP_MS: u64 = 60 * 60 * 1000;
/// Bound parameters per statement stay under the platform's limit of 100.
const IDS_PER_INSERT: usize = 99;

#[derive(Deserialize)]
struct N {
    n: u64,
}

#[derive(Deserialize)]
struct SampleRow {
    id: String,
    summary: Option<String>,
}

#[derive(Deserialize)]
struct DryRunRow {
    spec: String,
    count: u64,
    expires_at: u64,
    job_id: Option<String>,
}

#[derive(Deserialize)]
struct JobKeyRow {
    job_id: String,
    dry_run_id: String,
    count: u64,
    created_at: u64,
}

#[derive(Deserialize)]
struct SelRow {
    seq: u64,
    run_id: String,
}

#[derive(Deserialize)]
struct NextRow {
    t: Option<i64>,
}

fn bad_body(e: &serde_json::Error) -> Fail {
    ApiError::invalid(format!("body: {e}")).into()
}

fn text(s: &str) -> SqlStorageValue {
    SqlStorageValue::String(s.to_owned())
}

fn opt_text(s: Option<&str>) -> SqlStorageValue {
    s.map_or(SqlStorageValue::Null, text)
}

/// Validated freeze: what to insert, checked before the transaction starts.
pub enum Plan {
    Ids(Vec<String>),
    Query(SqlQuery),
}

pub fn parse_freeze(body: &str) -> Result<(FreezeRequest, Plan), Fail> {
    let req: FreezeRequest = serde_json::from_str(body).map_err(|e| bad_body(&e))?;
    if req.dry_run_id.is_empty() || req.dry_run_id.len() > MAX_ID_LEN {
        return Err(ApiError::invalid("dry_run_id: 1..=256 characters").into());
    }
    if req.sample_size > MAX_SAMPLE {
        return Err(ApiError::invalid(format!("sample_size: at most {MAX_SAMPLE}")).into());
    }
    let plan = match &req.source {
        Source::Ids { ids } => {
            if ids.is_empty() || ids.len() > MAX_IDS {
                return Err(ApiError::invalid(format!("ids: 1..={MAX_IDS} run ids")).into());
            }
            if let Some(bad) = ids.iter().find(|id| id.is_empty() || id.len() > MAX_ID_LEN) {
                return Err(ApiError::invalid(format!("ids: {bad:?} is not a run id")).into());
            }
            let mut seen = std::collections::HashSet::with_capacity(ids.len());
            Plan::Ids(
                ids.iter()
                    .filter(|id| seen.insert(id.as_str()))
                    .cloned()
                    .collect(),
            )
        }
        Source::Query { pairs } => {
            let p = query::parse_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
            if p.filters.q.is_some() {
                return Err(ApiError::invalid("q: a bulk selection cannot search by text").into());
            }
            Plan::Query(query::select_ids_query(&p.filters))
        }
    };
    Ok((req, plan))
}

/// Inserts the dry run and its frozen ids (call inside one transaction). Returns the count.
pub fn freeze(sql: &SqlStorage, req: &FreezeRequest, plan: &Plan) -> worker::Result<u64> {
    let spec = serde_json::to_string(&req.spec)?;
    sql.exec(
        "INSERT INTO bulk_dry_runs (dry_run_id, spec, count, created_at, expires_at, created_by, job_id)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, NULL)",
        vec![
            text(&req.dry_run_id),
            spec.into(),
            int(req.now),
            int(req.expires_at),
            opt_text(req.created_by.as_deref()),
        ],
    )?;
    match plan {
        Plan::Ids(ids) => {
            for chunk in ids.chunks(IDS_PER_INSERT) {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| format!("(?1, ?{})", i + 2))
                    .collect();
                let mut binds = vec![text(&req.dry_run_id)];
                binds.extend(chunk.iter().map(|id| text(id)));
                sql.exec(
                    &format!(
                        "INSERT INTO bulk_selection (dry_run_id, run_id) VALUES {}",
                        values.join(", ")
                    ),
                    binds,
                )?;
            }
        }
        Plan::Query(q) => {
            let mut binds = q.binds.clone();
            binds.push(text(&req.dry_run_id));
            let n = binds.len();
            sql.exec(
                &format!(
                    "INSERT INTO bulk_selection (dry_run_id, run_id) SELECT ?{n}, run_id FROM ({}) LIMIT {}",
                    q.sql,
                    MAX_SELECTION + 1
                ),
                binds,
            )?;
        }
    }
    let count = sql
        .exec(
            "SELECT COUNT(*) AS n FROM bulk_selection WHERE dry_run_id = ?1",
            vec![text(&req.dry_run_id)],
        )?
        .one::<N>()?
        .n;
    if count > MAX_SELECTION {
        // Thrown inside the transaction: nothing of this dry run stays.
        return Err(worker::Error::RustError(format!(
            "selection_too_large:{MAX_SELECTION}"
        )));
    }
    sql.exec(
        "UPDATE bulk_dry_runs SET count = ?1 WHERE dry_run_id = ?2",
        vec![int(count), text(&req.dry_run_id)],
    )?;
    Ok(count)
}

pub fn too_large(e: &worker::Error) -> Option<ApiError> {
    e.to_string().contains("selection_too_large").then(|| {
        ApiError::coded(
            422,
            "selection_too_large",
            format!("the selection holds more than {MAX_SELECTION} runs: narrow the filter"),
        )
    })
}

fn sample_item(row: SampleRow) -> SampleItem {
    let summary: Option<Value> = row.summary.and_then(|s| serde_json::from_str(&s).ok());
    let field = |k: &str| {
        summary
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    SampleItem {
        status: field("status"),
        kind: field("kind"),
        name: field("name"),
        created_at: summary
            .as_ref()
            .and_then(|v| v.get("created_at"))
            .and_then(Value::as_u64),
        id: row.id,
    }
}

pub fn reply(sql: &SqlStorage, req: FreezeRequest, count: u64) -> worker::Result<FreezeReply> {
    let rows = sql
        .exec(
            "SELECT s.run_id AS id, r.summary AS summary FROM bulk_selection AS s
             LEFT JOIN runs AS r ON r.id = s.run_id
             WHERE s.dry_run_id = ?1 ORDER BY s.seq LIMIT ?2",
            vec![text(&req.dry_run_id), int(u64::from(req.sample_size))],
        )?
        .to_array::<SampleRow>()?;
    Ok(FreezeReply {
        dry_run_id: req.dry_run_id,
        count,
        sample: rows.into_iter().map(sample_item).collect(),
        created_at: req.now,
        expires_at: req.expires_at,
        spec: req.spec,
    })
}

/// One page of a frozen selection, in freeze order.
pub fn selection_page(
    sql: &SqlStorage,
    dry_run_id: &str,
    pairs: &[(String, String)],
) -> Result<SelectionPage, Fail> {
    let mut after = 0u64;
    let mut limit = SELECTION_PAGE;
    for (k, v) in pairs {
        match k.as_str() {
            "after" => {
                after = v
                    .parse()
                    .map_err(|_| ApiError::invalid("after: a cursor"))?;
            }
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|l| (1..=SELECTION_PAGE).contains(l))
                    .ok_or_else(|| ApiError::invalid(format!("limit: 1..={SELECTION_PAGE}")))?;
            }
            other => return Err(ApiError::invalid(format!("{other}: unknown parameter")).into()),
        }
    }
    if first::<N>(
        sql,
        "SELECT 1 AS n FROM bulk_dry_runs WHERE dry_run_id = ?1",
        vec![text(dry_run_id)],
    )?
    .is_none()
    {
        return Err(ApiError::coded(404, "dry_run_not_found", "no such dry run").into());
    }
    let rows = sql
        .exec(
            "SELECT seq, run_id FROM bulk_selection WHERE dry_run_id = ?1 AND seq > ?2
             ORDER BY seq LIMIT ?3",
            vec![text(dry_run_id), int(after), int(u64::from(limit))],
        )?
        .to_array::<SelRow>()?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    Ok(SelectionPage {
        ids: rows.into_iter().map(|r| r.run_id).collect(),
        next,
    })
}

pub fn drop_selection(sql: &SqlStorage, dry_run_id: &str) -> worker::Result<Value> {
    sql.exec(
        "DELETE FROM bulk_selection WHERE dry_run_id = ?1",
        vec![text(dry_run_id)],
    )?;
    Ok(json!({ "dropped": true }))
}

fn spec_of(row: &DryRunRow) -> worker::Result<Spec> {
    Ok(serde_json::from_str(&row.spec)?)
}

/// Records the job of a dry run. Idempotent by key; without a key the dry run is the key.
pub fn record_job(sql: &SqlStorage, body: &str) -> Result<RecordedJob, Fail> {
    let req: RecordJob = serde_json::from_str(body).map_err(|e| bad_body(&e))?;
    let dry = |id: &str| {
        first::<DryRunRow>(
            sql,
            "SELECT spec, count, expires_at, job_id FROM bulk_dry_runs WHERE dry_run_id = ?1",
            vec![text(id)],
        )
    };
    let job_by = |id: &str| {
        first::<JobKeyRow>(
            sql,
            "SELECT job_id, dry_run_id, count, created_at FROM bulk_jobs WHERE job_id = ?1",
            vec![text(id)],
        )
    };
    let existing = |job: JobKeyRow| -> Result<RecordedJob, Fail> {
        let spec = match dry(&job.dry_run_id)? {
            Some(d) => spec_of(&d)?,
            None => return Err(ApiError::internal("job without its dry run").into()),
        };
        Ok(RecordedJob {
            job_id: job.job_id,
            created: false,
            dry_run_id: job.dry_run_id,
            count: job.count,
            spec,
            created_at: job.created_at,
        })
    };
    if let Some(key) = &req.idempotency_key
        && let Some(job) = first::<JobKeyRow>(
            sql,
            "SELECT job_id, dry_run_id, count, created_at FROM bulk_jobs WHERE idempotency_key = ?1",
            vec![text(key)],
        )?
    {
        if job.dry_run_id != req.dry_run_id {
            return Err(ApiError::coded(
                422,
                "idempotency_conflict",
                "this idempotency key started a job for another dry run",
            )
            .into());
        }
        return existing(job);
    }
    let Some(d) = dry(&req.dry_run_id)? else {
        return Err(ApiError::coded(404, "dry_run_not_found", "no such dry run").into());
    };
    if let Some(job_id) = &d.job_id {
        if req.idempotency_key.is_some() {
            return Err(ApiError::coded(
                409,
                "dry_run_started",
                format!("this dry run already started job {job_id}"),
            )
            .into());
        }
        return match job_by(job_id)? {
            Some(job) => existing(job),
            None => Err(ApiError::internal("dry run names a missing job").into()),
        };
    }
    if d.expires_at <= req.now {
        return Err(ApiError::coded(
            410,
            "dry_run_expired",
            "this dry run expired: make a new one",
        )
        .into());
    }
    sql.exec(
        "INSERT INTO bulk_jobs (job_id, dry_run_id, idempotency_key, count, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        vec![
            text(&req.job_id),
            text(&req.dry_run_id),
            opt_text(req.idempotency_key.as_deref()),
            int(d.count),
            int(req.now),
            opt_text(req.created_by.as_deref()),
        ],
    )?;
    sql.exec(
        "UPDATE bulk_dry_runs SET job_id = ?1 WHERE dry_run_id = ?2",
        vec![text(&req.job_id), text(&req.dry_run_id)],
    )?;
    Ok(RecordedJob {
        job_id: req.job_id,
        created: true,
        dry_run_id: req.dry_run_id,
        count: d.count,
        spec: spec_of(&d)?,
        created_at: req.now,
    })
}

/// The organisation's jobs, newest first (`cursor` = the last row's `created_at.job_id`).
pub fn list_jobs(sql: &SqlStorage, pairs: &[(String, String)]) -> Result<Value, Fail> {
    let mut limit = 50u64;
    let mut after: Option<(u64, String)> = None;
    for (k, v) in pairs {
        match k.as_str() {
            "limit" => {
                limit = v
                    .parse::<u64>()
                    .ok()
                    .filter(|l| (1..=200).contains(l))
                    .ok_or_else(|| ApiError::invalid("limit: 1..=200"))?;
            }
            "cursor" if !v.is_empty() => {
                let (at, id) = v
                    .split_once('.')
                    .and_then(|(a, id)| a.parse::<u64>().ok().map(|a| (a, id.to_owned())))
                    .ok_or_else(|| ApiError::invalid("cursor: malformed"))?;
                after = Some((at, id));
            }
            "cursor" => {}
            other => return Err(ApiError::invalid(format!("{other}: unknown parameter")).into()),
        }
    }
    let rows = match &after {
        Some((at, id)) => sql.exec(
            "SELECT job_id, dry_run_id, idempotency_key, count, created_at, created_by FROM bulk_jobs
             WHERE (created_at, job_id) < (?1, ?2) ORDER BY created_at DESC, job_id DESC LIMIT ?3",
            vec![int(*at), text(id), int(limit + 1)],
        )?,
        None => sql.exec(
            "SELECT job_id, dry_run_id, idempotency_key, count, created_at, created_by FROM bulk_jobs
             ORDER BY created_at DESC, job_id DESC LIMIT ?1",
            vec![int(limit + 1)],
        )?,
    }
    .to_array::<JobRow>()?;
    let more = rows.len() as u64 > limit;
    let page: Vec<JobRow> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        page.last()
            .map(|r| format!("{}.{}", r.created_at, r.job_id))
    } else {
        None
    };
    Ok(json!({ "data": page, "next_cursor": next }))
}

/// Drops expired dry runs that never started (and their selections), and selections of
/// started ones left behind. Returns when this must run next.
pub fn purge(sql: &SqlStorage, now: u64) -> worker::Result<Option<u64>> {
    let keep = int(now.saturating_sub(STARTED_KEEP_MS));
    sql.exec(
        "DELETE FROM bulk_selection WHERE dry_run_id IN (
           SELECT dry_run_id FROM bulk_dry_runs
           WHERE (job_id IS NULL AND expires_at <= ?1) OR expires_at <= ?2)",
        vec![int(now), keep],
    )?;
    sql.exec(
        "DELETE FROM bulk_dry_runs WHERE job_id IS NULL AND expires_at <= ?1",
        vec![int(now)],
    )?;
    next_purge(sql, now)
}

/// The next time `purge` has work: the earliest expiry of a dry run that has not started, or
/// the keep window of one that has (until its selection is gone).
pub fn next_purge(sql: &SqlStorage, now: u64) -> worker::Result<Option<u64>> {
    let row = first::<NextRow>(
        sql,
        "SELECT MIN(t) AS t FROM (
           SELECT expires_at AS t FROM bulk_dry_runs WHERE job_id IS NULL
           UNION ALL
           SELECT d.expires_at + ?1 AS t FROM bulk_dry_runs AS d
           WHERE d.job_id IS NOT NULL AND d.expires_at + ?1 > ?2
             AND EXISTS (SELECT 1 FROM bulk_selection AS s WHERE s.dry_run_id = d.dry_run_id))",
        vec![int(STARTED_KEEP_MS), int(now)],
    )?;
    Ok(row.and_then(|r| r.t).and_then(|t| u64::try_from(t).ok()))
}
