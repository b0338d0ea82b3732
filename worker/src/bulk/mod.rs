//! BulkJob: one SQLite-backed Durable Object per bulk cancel job (binding `BULK`, named
//! `<org id>/<job id>`, so another organisation's job id addresses an empty object: a 404).
//!
//! Why an object of its own, not the organisation index: the index is the one hot spot every
//! run's summary goes through, and a bulk cancel of 10,000 runs produces 10,000 of those
//! updates itself. Its driver (an alarm loop making thousands of outbound calls, writing every
//! item's outcome) would sit on the index's single thread and storage for the whole job. Here
//! each job has its own storage, alarm and pace, and several jobs run side by side. The index
//! only does what needs its data: freezing the selection in one synchronous pass at dry-run
//! time (`org_index::bulk`).
//!
//! The driver is the alarm:
//! 1. copy the frozen selection from the index, page by page, into `items`;
//! 2. take the next batch of pending items (at most `concurrency`, and small enough that the
//!    rate limit never sleeps long), cancel each through its run object with the derived
//!    command id `bulk:<job>:<run>` (a retried item is one cancel: the run replays its first
//!    answer), record every outcome and the counters in the same synchronous turn;
//! 3. pace to `rate_per_s`, check the abort flag, repeat; after a bounded slice, re-arm the
//!    alarm and return.
//!
//! Each slice first arms a watchdog alarm, so a process that dies mid-slice resumes from
//! storage after a restart: items it had in flight are retried with their command ids.
//!
//! Internal HTTP interface: `POST /start` [`protocol::StartJob`], `GET /job`,
//! `POST /abort`, `GET /items?cursor=&state=&outcome=&limit=`; errors are
//! `{"error": "<code>", "message": "...", "field"?: "..."}`.

pub mod protocol;
pub mod store;

use std::cell::Cell;
use std::time::Duration;

use futures_util::future::join_all;
use runbrake_core::{By, CancelArgs, CancelOutcome, Command, Reply, Source, format_rfc3339};
use serde_json::{Value, json};
use worker::{
    DurableObject, Env, Method, Request, Response, Result, SqlStorage, State, durable_object,
};

use crate::clock;
use crate::run_object::protocol::{Op, OpError, OpReply};
use crate::storage::LazySchema;
use protocol::{SelectionPage, Spec, StartJob};
use store::{ItemState, JobRow, JobStatus, Outcome};

/// Concurrent run-object calls, by default and at most.
pub const DEFAULT_CONCURRENCY: u32 = 16;
pub const MAX_CONCURRENCY: u32 = 64;
/// Cancels per second, by default and at most.
pub const DEFAULT_RATE: u32 = 1_000;
pub const MAX_RATE: u32 = 10_000;
/// One alarm invocation works this long (and starts at most this many cancels: a bounded
/// number of subrequests), then re-arms the alarm.
const SLICE_MS: f64 = 4_000.0;
const MAX_ITEMS_PER_SLICE: usize = 500;
/// Armed at the start of every slice (longer than a slice, so it never fires during one): if
/// the instance dies mid-slice, the job resumes then.
const WATCHDOG_MS: i64 = 6_000;
/// Attempts per item before it is recorded as failed (`error`), and the pause after a batch
/// with a failed attempt (times the attempt's number).
const MAX_ATTEMPTS: u32 = 3;
const RETRY_BACKOFF_MS: f64 = 250.0;
/// A batch never paces for more than about this long, so an abort is seen within it.
const MAX_PACE_MS: f64 = 100.0;
pub const MAX_ITEMS_PAGE: u32 = 1_000;
/// After each batch the driver idles for this share of the batch's time (at least 1 ms), so
/// requests to this object and, on one machine, to the whole service keep getting in.
const IDLE_SHARE: f64 = 0.05;

#[durable_object]
pub struct BulkJob {
    state: State,
    env: Env,
    /// A slice is running in this instance (an alarm retried meanwhile does nothing).
    driving: Cell<bool>,
    /// Created by `/start`: a guessed job id answers not found and leaves nothing on disk.
    schema: LazySchema,
}

fn err(status: u16, code: &str, message: &str, field: Option<&str>) -> Result<Response> {
    let mut body = json!({ "error": code, "message": message });
    if let Some(f) = field {
        body["field"] = f.into();
    }
    Ok(Response::from_json(&body)?.with_status(status))
}

fn time(ms: Option<u64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(format_rfc3339(ms)))
}

/// The job as every route shows it. `total` = pending + in_flight + done + failed + skipped.
pub fn view(job: &JobRow, counts: &[(String, u64)]) -> Result<Value> {
    let get = |k: &str| {
        counts
            .iter()
            .find(|(key, _)| key == k)
            .map_or(0, |(_, n)| *n)
    };
    let spec: Spec = job.spec()?;
    let progress: serde_json::Map<String, Value> = ItemState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), get(s.as_str()).into()))
        .collect();
    let outcomes: serde_json::Map<String, Value> = Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_owned(), get(o.as_str()).into()))
        .collect();
    let processed = get("done") + get("failed") + get("skipped");
    Ok(json!({
        "id": job.job_id,
        "dry_run_id": job.dry_run_id,
        "status": job.status().as_str(),
        "selection": spec.selection,
        "reason": spec.reason,
        "grace_ms": spec.grace_ms,
        "concurrency": job.concurrency,
        "rate_per_s": job.rate_per_s,
        "idempotency_key": job.idempotency_key,
        "created_by": job.created_by,
        "created_at": format_rfc3339(job.created_at),
        "finished_at": time(job.finished_at),
        "aborted_at": time(job.aborted_at),
        "total": job.total,
        "loaded": job.loaded,
        "processed": processed,
        "progress": progress,
        "outcomes": outcomes,
    }))
}

/// What one cancel came to.
enum ItemResult {
    Final(Outcome, Option<Value>),
    Retry(Value),
}

fn classify_outcome(o: &CancelOutcome) -> (Outcome, Value) {
    match o {
        CancelOutcome::CancelledNow {
            effective_at,
            forced,
        } => (
            Outcome::Cancelled,
            json!({ "effective_at": format_rfc3339(*effective_at), "forced": forced }),
        ),
        CancelOutcome::Requested { deadline } => (
            Outcome::Cancelling,
            json!({ "deadline": format_rfc3339(*deadline) }),
        ),
        CancelOutcome::AlreadyRequested { deadline, .. } => (
            Outcome::AlreadyCancelling,
            json!({ "deadline": format_rfc3339(*deadline) }),
        ),
        CancelOutcome::AlreadyCancelled {
            effective_at,
            forced,
        } => (
            Outcome::AlreadyCancelled,
            json!({ "effective_at": format_rfc3339(*effective_at), "forced": forced }),
        ),
        CancelOutcome::AlreadyTerminal {
            state,
            since,
            lost_race,
        } => (
            Outcome::AlreadyFinished,
            json!({ "status": state.as_str(), "since": format_rfc3339(*since), "lost_race": lost_race }),
        ),
        CancelOutcome::NotCancellable { state } => {
            (Outcome::NotCancellable, json!({ "status": state.as_str() }))
        }
        CancelOutcome::PreconditionFailed { actual_status, .. } => (
            Outcome::PreconditionFailed,
            json!({ "status": actual_status.as_str() }),
        ),
        // The item was cancelled by an earlier attempt (before a restart): its first answer.
        CancelOutcome::Replayed { original } => classify_outcome(&original.outcome),
    }
}

async fn cancel_one(
    env: &Env,
    org_id: &str,
    job_id: &str,
    spec: &Spec,
    run_id: &str,
) -> ItemResult {
    let mut args = CancelArgs::new(By {
        source: Source::Bulk,
        actor: Some(job_id.to_owned()),
    });
    args.command_id = Some(format!("bulk:{job_id}:{run_id}"));
    args.reason = spec.reason.clone();
    args.grace_ms = spec.grace_ms;
    let op = Op::Command {
        command: Command::Cancel(args),
    };
    let answered = async {
        let mut res = crate::run_object::call(env, org_id, run_id, &op).await?;
        let status = res.status_code();
        let text = res.text().await?;
        Ok::<_, worker::Error>((status, text))
    }
    .await;
    let (status, text) = match answered {
        Ok(a) => a,
        Err(e) => return ItemResult::Retry(json!({ "message": e.to_string() })),
    };
    if status == 200 {
        return match serde_json::from_str::<OpReply>(&text) {
            Ok(OpReply {
                reply: Some(Reply::Cancel(c)),
                ..
            }) => {
                let (o, d) = classify_outcome(&c.outcome);
                ItemResult::Final(o, Some(d))
            }
            Ok(_) | Err(_) => ItemResult::Retry(json!({ "message": "unexpected run reply" })),
        };
    }
    match serde_json::from_str::<OpError>(&text) {
        Ok(OpError::NotFound) => ItemResult::Final(Outcome::NotFound, None),
        // Refused for good (e.g. the run remembers too many command ids).
        Ok(OpError::Refused { code, message, .. }) => ItemResult::Final(
            Outcome::Error,
            Some(json!({ "code": code, "message": message })),
        ),
        Ok(OpError::ChildExists { id }) => ItemResult::Final(
            Outcome::Error,
            Some(json!({ "code": "child_exists", "message": format!("child {id:?} exists") })),
        ),
        Ok(OpError::Internal { message }) => ItemResult::Retry(json!({ "message": message })),
        Err(_) => ItemResult::Retry(json!({ "message": format!("run object answered {status}") })),
    }
}

impl BulkJob {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn job_response(&self, status: u16) -> Result<Response> {
        let sql = self.sql();
        match store::load(&sql)? {
            Some(job) => {
                Ok(Response::from_json(&view(&job, &store::counts(&sql)?)?)?.with_status(status))
            }
            None => err(404, "job_not_found", "no such job", None),
        }
    }

    async fn start(&self, mut req: Request) -> Result<Response> {
        let start: StartJob = match req.json().await {
            Ok(s) => s,
            Err(e) => return err(400, "invalid", &format!("body: {e}"), None),
        };
        let sql = self.sql();
        self.schema.create(&sql)?;
        let created = store::create(&sql, &start)?;
        let running = store::load(&sql)?.is_some_and(|j| j.status() == JobStatus::Running);
        if created || (running && self.state.storage().get_alarm().await?.is_none()) {
            self.state.storage().set_alarm(0i64).await?;
        }
        self.job_response(if created { 201 } else { 200 })
    }

    async fn abort(&self) -> Result<Response> {
        let sql = self.sql();
        let now = clock::now();
        if store::load(&sql)?.is_none() {
            return err(404, "job_not_found", "no such job", None);
        }
        if store::abort(&sql, now)? {
            // Nothing left in flight and everything copied: the job ends in this write.
            if let Some(job) = store::load(&sql)?
                && job.loaded_all()
                && store::in_flight(&sql)? == 0
            {
                store::set_finished(&sql, JobStatus::Aborted, now)?;
            }
        }
        self.job_response(200)
    }

    fn items(&self, req: &Request) -> Result<Response> {
        let sql = self.sql();
        if store::load(&sql)?.is_none() {
            return err(404, "job_not_found", "no such job", None);
        }
        let mut after = 0u64;
        let mut state = None;
        let mut outcome = None;
        let mut limit = 100u32;
        for (k, v) in req.url()?.query_pairs() {
            match k.as_ref() {
                "cursor" if v.is_empty() => {}
                "cursor" => match v.parse::<u64>() {
                    Ok(c) => after = c,
                    Err(_) => return err(400, "invalid", "cursor: malformed", Some("cursor")),
                },
                "state" => match ItemState::parse(&v) {
                    Some(s) => state = Some(s),
                    None => {
                        return err(
                            400,
                            "invalid",
                            "state: one of pending, in_flight, done, failed, skipped",
                            Some("state"),
                        );
                    }
                },
                "outcome" => match Outcome::parse(&v) {
                    Some(o) => outcome = Some(o),
                    None => {
                        let names: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
                        return err(
                            400,
                            "invalid",
                            &format!("outcome: one of {}", names.join(", ")),
                            Some("outcome"),
                        );
                    }
                },
                "limit" => match v.parse::<u32>() {
                    Ok(l) if (1..=MAX_ITEMS_PAGE).contains(&l) => limit = l,
                    Ok(_) | Err(_) => {
                        return err(
                            400,
                            "invalid",
                            &format!("limit: 1..={MAX_ITEMS_PAGE}"),
                            Some("limit"),
                        );
                    }
                },
                other => {
                    return err(
                        400,
                        "invalid",
                        &format!("{other}: unknown parameter"),
                        Some(other),
                    );
                }
            }
        }
        let rows = store::items_page(&sql, after, state, outcome, limit.saturating_add(1))?;
        let more = rows.len() > limit as usize;
        let page: Vec<Value> = rows
            .iter()
            .take(limit as usize)
            .map(|r| {
                json!({
                    "run_id": r.run_id,
                    "state": r.state,
                    "outcome": r.outcome,
                    "detail": r.detail.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()),
                    "attempts": r.attempts,
                    "updated_at": time(r.updated_at),
                })
            })
            .collect();
        let next = if more {
            rows.get(limit as usize - 1).map(|r| r.seq.to_string())
        } else {
            None
        };
        Response::from_json(&json!({ "data": page, "next_cursor": next }))
    }

    /// Copies the next page of the frozen selection.
    async fn load_page(&self, job: &JobRow) -> Result<()> {
        let path = format!(
            "/bulk/dry-runs/{}/selection?after={}&limit={}",
            job.dry_run_id,
            job.load_cursor,
            protocol::SELECTION_PAGE
        );
        let mut res =
            crate::auth::org_request(&self.env, &job.org_id, Method::Get, &path, None).await?;
        let sql = self.sql();
        match res.status_code() {
            200 => {
                let page: SelectionPage = res.json().await?;
                let aborted = store::load(&sql)?.is_some_and(|j| j.status() == JobStatus::Aborted);
                store::append(&sql, &page.ids, aborted, page.next, clock::now())?;
                Ok(())
            }
            404 => {
                // The frozen selection is gone (purged long after its expiry): what was copied
                // is the job.
                let missing = job.total.saturating_sub(job.loaded);
                store::bump(
                    &sql,
                    ItemState::Pending.as_str(),
                    -i64::try_from(missing).unwrap_or(0),
                )?;
                sql.exec(
                    "UPDATE job SET total = loaded, load_done = 1 WHERE id = 1",
                    None,
                )?;
                Ok(())
            }
            code => Err(worker::Error::RustError(format!(
                "index answered {code} for the selection"
            ))),
        }
    }

    /// One slice of the driver (see the module docs).
    async fn drive(&self) -> Result<()> {
        let storage = self.state.storage();
        let sql = self.sql();
        let Some(first) = store::load(&sql)? else {
            return Ok(());
        };
        if first.status() == JobStatus::Completed
            || (first.status() == JobStatus::Aborted && first.finished_at.is_some())
        {
            return Ok(());
        }
        storage.set_alarm(WATCHDOG_MS).await?;
        store::requeue_in_flight(&sql)?;
        if first.status() == JobStatus::Aborted {
            // Items a dead instance had in flight when the job was aborted start no more.
            store::skip_pending(&sql, clock::now())?;
        }
        let began = js_sys::Date::now();
        let elapsed = || js_sys::Date::now() - began;

        // 1. Copy the frozen selection.
        let mut copied_now = false;
        loop {
            let Some(job) = store::load(&sql)? else {
                return Ok(());
            };
            if job.loaded_all() {
                break;
            }
            if elapsed() > SLICE_MS {
                storage.set_alarm(0i64).await?;
                return Ok(());
            }
            self.load_page(&job).await?;
            copied_now = true;
        }
        let Some(job) = store::load(&sql)? else {
            return Ok(());
        };
        if copied_now {
            // Best effort: the index also drops it on its own after the dry run's expiry.
            let path = format!("/bulk/dry-runs/{}/selection", job.dry_run_id);
            if let Err(e) =
                crate::auth::org_request(&self.env, &job.org_id, Method::Delete, &path, None).await
            {
                worker::console_warn!("bulk {}: dropping the selection: {e}", job.job_id);
            }
        }

        // 2. Cancel, batch by batch.
        let spec = job.spec()?;
        let rate = f64::from(job.rate_per_s.max(1));
        let per_batch = job
            .concurrency
            .clamp(1, MAX_CONCURRENCY)
            .min(((rate * MAX_PACE_MS / 1_000.0).ceil() as u32).max(1));
        let mut started = 0usize;
        loop {
            let Some(current) = store::load(&sql)? else {
                return Ok(());
            };
            if current.status() != JobStatus::Running {
                break;
            }
            if elapsed() > SLICE_MS || started >= MAX_ITEMS_PER_SLICE {
                storage.set_alarm(0i64).await?;
                return Ok(());
            }
            let batch = store::take(&sql, per_batch)?;
            if batch.is_empty() {
                if store::in_flight(&sql)? == 0 {
                    store::set_finished(&sql, JobStatus::Completed, clock::now())?;
                }
                break;
            }
            let t0 = js_sys::Date::now();
            let results =
                join_all(batch.iter().map(|item| {
                    cancel_one(&self.env, &job.org_id, &job.job_id, &spec, &item.run_id)
                }))
                .await;
            let now = clock::now();
            let mut retried = 0u32;
            for (item, result) in batch.iter().zip(results) {
                match result {
                    ItemResult::Final(outcome, detail) => {
                        store::finish(&sql, item.seq, outcome, detail.as_ref(), now)?;
                    }
                    ItemResult::Retry(detail) if item.attempts + 1 < MAX_ATTEMPTS => {
                        store::retry(&sql, item.seq, &detail, now)?;
                        retried = retried.max(item.attempts + 1);
                    }
                    ItemResult::Retry(detail) => {
                        store::finish(&sql, item.seq, Outcome::Error, Some(&detail), now)?;
                    }
                }
            }
            started += batch.len();
            // Pace to the rate, and always pass through a timer: on one machine (workerd runs
            // every object on one thread) a loop of in-process calls would otherwise keep the
            // event loop from ever reading the network, and no progress read or abort would
            // get in until the slice ended.
            let min_ms = batch.len() as f64 * 1_000.0 / rate;
            let spent = js_sys::Date::now() - t0;
            // A failed attempt is retried (first in line) after a short back-off.
            let back_off = f64::from(retried) * RETRY_BACKOFF_MS;
            let pause = (min_ms - spent)
                .max(spent * IDLE_SHARE)
                .max(back_off)
                .max(1.0);
            worker::Delay::from(Duration::from_millis(pause as u64)).await;
        }

        // 3. Ended: completed, or aborted once nothing is in flight.
        let now = clock::now();
        if let Some(job) = store::load(&sql)? {
            if job.status() == JobStatus::Aborted && store::in_flight(&sql)? == 0 {
                store::set_finished(&sql, JobStatus::Aborted, now)?;
            }
            match store::load(&sql)? {
                Some(j) if j.finished_at.is_some() => storage.delete_alarm().await?,
                Some(_) | None => storage.set_alarm(0i64).await?,
            }
        }
        Ok(())
    }
}

impl DurableObject for BulkJob {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            driving: Cell::new(false),
            schema: LazySchema::new("job", store::SCHEMA),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        if path != "/start" && !self.schema.exists(&self.sql())? {
            return err(404, "job_not_found", "no such job", None);
        }
        match (req.method(), path.as_str()) {
            (Method::Post, "/start") => self.start(req).await,
            (Method::Get, "/job") => self.job_response(200),
            (Method::Post, "/abort") => self.abort().await,
            (Method::Get, "/items") => self.items(&req),
            _ => err(404, "not_found", "no such route", None),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if !self.schema.exists(&self.sql())? {
            return Response::empty();
        }
        if self.driving.replace(true) {
            return Response::empty();
        }
        let result = self.drive().await;
        self.driving.set(false);
        if let Err(e) = &result {
            worker::console_error!("bulk job: {e}");
            // Try again shortly; the watchdog alarm armed by the slice covers a failure here.
            self.state.storage().set_alarm(1_000i64).await?;
        }
        Response::empty()
    }
}
