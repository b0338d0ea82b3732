//! RunObject: one SQLite-backed Durable Object per run, named `<org id>/<run id>` so a key of
//! another organisation addresses an empty object (a 404, never a 403).
//!
//! Every operation is parse → load → `runbrake_core::apply` → write → reply. The load and the
//! writes run inside one `transactionSync`, with nothing awaited in between: they commit or roll
//! back as one, and workerd holds the reply (and every WebSocket message) until the commit is
//! durable. Messages, executor signals and outbox deliveries are queued during the operation
//! and leave only once it has committed. Work that talks to other objects (the organisation
//! index, sub-run cascades) goes through the outbox and the alarm, after the commit, and is
//! retried until it lands.
//!
//! The tables appear with the run's creation: an object addressed by an unknown id (or another
//! organisation's) answers not found and writes nothing, so guesses leave nothing on disk.

mod index_feed;
mod mutant;
pub mod protocol;
pub mod store;
mod stream;
pub mod summary;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use runbrake_core::{Command, Effect, EventRecord, Millis, RunState, UpdateChildArgs};
use serde::{Deserialize, Serialize};
use worker::{
    DurableObject, Env, Request, Response, Result, SqlStorage, State, WebSocket,
    WebSocketIncomingMessage, durable_object,
};

use crate::clock;
use crate::storage::{LazySchema, transaction_sync};
use protocol::{Op, OpError, OpReply, OpResult, Snapshot};
use store::Stored;

/// Outbox retries back off exponentially up to this.
const MAX_BACKOFF_MS: u64 = 60_000;
/// Outbox rows are delivered right after their commit; this alarm is the fallback that retries
/// them if that delivery failed or the instance died first.
const OUTBOX_FALLBACK_MS: u64 = 30_000;
/// Events one `events` page or WebSocket replay carries.
pub const MAX_EVENTS_PAGE: u32 = 1_000;
/// The outbox key of the run's summary for the organisation's index.
const INDEX_ROW: &str = "index";

#[durable_object]
pub struct RunObject {
    state: State,
    env: Env,
    /// Outbox rows (key → payload) delivered since this instance started. Delivery writes
    /// nothing: a delivered row is deleted by the next write that happens anyway, or by the
    /// fallback alarm. After an eviction this is empty and a row may be delivered twice, which
    /// the receivers ignore (the index by seq, a sub-run by command_id).
    delivered: index_feed::Delivered,
    /// What the current operation sends once it has committed.
    after_commit: RefCell<AfterCommit>,
    /// The alarm as this instance last set or read it (`None`: not known yet).
    alarm_at: Cell<Option<Option<u64>>>,
    /// No later than the earliest outbox retry (`None`: not known yet; `Some(None)`: empty).
    /// Deleting a row may leave it early, which only makes the alarm fire early and look again.
    outbox_due: Cell<Option<Option<u64>>>,
    schema: LazySchema,
}

/// What an operation sends once its writes have committed; dropped if they roll back.
#[derive(Default)]
struct AfterCommit {
    /// Outbox rows (key, payload) to deliver.
    deliver: Vec<(String, String)>,
    /// Events for the watchers.
    events: Vec<EventRecord>,
    /// Cancel signals for connected executors: (lease id, deadline).
    signals: Vec<(String, Millis)>,
}

#[derive(Serialize, Deserialize)]
struct Probe {
    probes: i64,
}

impl RunObject {
    fn sql(&self) -> SqlStorage {
        self.state.storage().sql()
    }

    fn snapshot(stored: &Stored, now: Millis) -> Snapshot {
        Snapshot {
            state: stored.state.clone(),
            info: stored.info.clone(),
            now,
        }
    }

    /// The synchronous heart of every operation. No await in here.
    fn handle(&self, op: Op, now: Millis) -> OpResult {
        let sql = self.sql();
        let internal = |e: worker::Error| OpError::Internal {
            message: e.to_string(),
        };
        match op {
            Op::Create {
                info,
                args,
                child_names,
                cancel,
            } => {
                if self.load(&sql).map_err(internal)?.is_some() {
                    return Err(OpError::refused(
                        &runbrake_core::CommandError::AlreadyExists { id: args.id },
                        None,
                    ));
                }
                let (mut state, mut decision) =
                    runbrake_core::create(&args, now).map_err(|e| OpError::refused(&e, None))?;
                self.schema.create(&sql).map_err(internal)?;
                // A sub-run of a parent whose cancel was accepted is cancelled in this same
                // write: it never exists in a state an executor could claim.
                if let Some(cancel) = cancel {
                    let more = runbrake_core::apply(&mut state, &Command::Cancel(*cancel), now)
                        .map_err(|e| OpError::refused(&e, None))?;
                    decision.events.extend(more.events);
                    decision.effects.extend(more.effects);
                }
                let stored = Stored {
                    org_id: info.org_id.clone(),
                    state,
                    info: *info,
                };
                store::insert_meta(&sql, &stored).map_err(internal)?;
                let names: HashMap<String, String> = child_names.into_iter().collect();
                store::append_events(&sql, &decision.events, &names).map_err(internal)?;
                self.after_commit_effects(&sql, &stored, &decision.effects, true, now)
                    .map_err(internal)?;
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: Some(decision.reply),
                    events: None,
                    children: None,
                })
            }
            Op::Command { command } => {
                let mut stored = self
                    .load(&sql)
                    .map_err(internal)?
                    .ok_or(OpError::NotFound)?;
                let command = self.complete_command(&sql, command, &stored)?;
                let children_before = stored.state.children;
                let decision = runbrake_core::apply(&mut stored.state, &command, now)
                    .map_err(|e| OpError::refused(&e, Some(Self::snapshot(&stored, now))))?;
                if !decision.events.is_empty() {
                    store::append_events(&sql, &decision.events, &HashMap::new())
                        .map_err(internal)?;
                    store::save_state(&sql, &stored.state).map_err(internal)?;
                    let listed_change = stored.state.children != children_before;
                    self.after_commit_effects(&sql, &stored, &decision.effects, listed_change, now)
                        .map_err(internal)?;
                    self.after_commit.borrow_mut().events = decision.events;
                }
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: Some(decision.reply),
                    events: None,
                    children: None,
                })
            }
            Op::Get => {
                let stored = self
                    .load(&sql)
                    .map_err(internal)?
                    .ok_or(OpError::NotFound)?;
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: None,
                    events: None,
                    children: None,
                })
            }
            Op::Events { after_seq, limit } => {
                let stored = self
                    .load(&sql)
                    .map_err(internal)?
                    .ok_or(OpError::NotFound)?;
                let events = store::events_after(&sql, after_seq, limit.min(MAX_EVENTS_PAGE))
                    .map_err(internal)?;
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: None,
                    events: Some(events),
                    children: None,
                })
            }
            Op::Children {
                status,
                after,
                limit,
            } => {
                let stored = self
                    .load(&sql)
                    .map_err(internal)?
                    .ok_or(OpError::NotFound)?;
                let rows = store::children_page(&sql, status, after.as_deref(), limit)
                    .map_err(internal)?;
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: None,
                    events: None,
                    children: Some(rows),
                })
            }
        }
    }

    /// Fills in what only storage knows: a child update carries the child's stored status, and
    /// a child id the run already holds is refused (the core only counts children).
    fn complete_command(
        &self,
        sql: &SqlStorage,
        command: Command,
        stored: &Stored,
    ) -> std::result::Result<Command, OpError> {
        let internal = |e: worker::Error| OpError::Internal {
            message: e.to_string(),
        };
        match command {
            Command::UpdateChild(args) => {
                let current = store::child_status(sql, &args.child_id)
                    .map_err(internal)?
                    .ok_or_else(|| {
                        OpError::refused(
                            &runbrake_core::CommandError::InvalidArgument {
                                field: "child_id".to_owned(),
                                message: format!("no child {} in this run", args.child_id),
                            },
                            Some(Self::snapshot(stored, clock::now())),
                        )
                    })?;
                Ok(Command::UpdateChild(UpdateChildArgs { current, ..args }))
            }
            Command::AddChildren(args) => {
                for item in &args.items {
                    if store::child_status(sql, &item.id)
                        .map_err(internal)?
                        .is_some()
                    {
                        return Err(OpError::ChildExists {
                            id: item.id.clone(),
                        });
                    }
                }
                Ok(Command::AddChildren(args))
            }
            other @ (Command::Create(_)
            | Command::Enqueue
            | Command::Claim(_)
            | Command::Heartbeat(_)
            | Command::Wait(_)
            | Command::Resume(_)
            | Command::Complete(_)
            | Command::Fail(_)
            | Command::Reject(_)
            | Command::Cancel(_)
            | Command::AckCancel(_)
            | Command::DeadlineFired
            | Command::AttachSubRun(_)) => Ok(other),
        }
    }

    /// Records the effects that must outlive this request (outbox) and queues what leaves after
    /// the commit (executor signals, deliveries). The index hears of a run when something a
    /// list shows changed: its creation, a status change (the core's `UpdateIndex`), or its
    /// children counts — not every heartbeat.
    fn after_commit_effects(
        &self,
        sql: &SqlStorage,
        stored: &Stored,
        effects: &[Effect],
        listed_change: bool,
        now: Millis,
    ) -> Result<()> {
        let mut index = listed_change;
        let mut rows = Vec::new();
        let mut after = self.after_commit.borrow_mut();
        for effect in effects {
            match effect {
                Effect::UpdateIndex { .. } => index = true,
                Effect::NotifyExecutor {
                    lease_id, deadline, ..
                } => after.signals.push((lease_id.clone(), *deadline)),
                Effect::CascadeCancel {
                    sub_run_id,
                    command_id,
                    ..
                } => {
                    let payload = serde_json::to_string(effect)
                        .map_err(|e| worker::Error::RustError(e.to_string()))?;
                    rows.push((format!("cascade:{sub_run_id}:{command_id}"), payload));
                }
                // Webhook delivery needs a registered endpoint; none exists yet, and the
                // event log already records the transition the hook would announce.
                Effect::EmitWebhook { .. } => {}
            }
        }
        if index {
            rows.push((
                INDEX_ROW.to_owned(),
                summary::of(&stored.state, &stored.info).to_string(),
            ));
        }
        // Rows delivered earlier are deleted in this write that happens anyway (a key written
        // again below is replaced instead).
        for (key, payload) in self.delivered.borrow_mut().drain() {
            if !rows.iter().any(|(k, _)| *k == key) {
                store::outbox_done(sql, &key, &payload)?;
            }
        }
        let retry_at = now.saturating_add(OUTBOX_FALLBACK_MS);
        for (key, payload) in &rows {
            store::outbox_put(sql, key, payload, retry_at)?;
        }
        if !rows.is_empty() {
            self.outbox_due.set(match self.outbox_due.get() {
                Some(Some(due)) => Some(Some(due.min(retry_at))),
                Some(None) => Some(Some(retry_at)),
                None => None,
            });
        }
        after.deliver.extend(rows);
        Ok(())
    }

    /// Runs [`Self::handle`] as one transaction: an error part-way rolls back every write, and
    /// nothing queued for after the commit leaves.
    fn handle_atomically(&self, op: Op, now: Millis) -> OpResult {
        let outcome = transaction_sync(&self.state.storage(), || match self.handle(op, now) {
            Err(OpError::Internal { message }) => Err(worker::Error::RustError(message)),
            other => Ok(other),
        });
        let rolled_back = !matches!(outcome, Ok(Ok(_)));
        if rolled_back {
            self.forget_uncommitted();
        }
        outcome.unwrap_or_else(|e| {
            Err(OpError::Internal {
                message: e.to_string(),
            })
        })
    }

    /// After a rollback: nothing queued may leave, and what this instance believed about its
    /// storage is read again.
    fn forget_uncommitted(&self) {
        self.after_commit.take();
        self.schema.forget();
        self.outbox_due.set(None);
    }

    /// Sends what the committed operation queued to watchers and executors (the output gate
    /// holds the messages until the commit is durable), and returns its outbox rows to deliver.
    fn send_after_commit(&self, run: &Snapshot) -> Vec<(String, String)> {
        let after = self.after_commit.take();
        for (lease_id, deadline) in &after.signals {
            stream::notify_executor(&self.state, &run.state, lease_id, *deadline);
        }
        if !after.events.is_empty() {
            stream::broadcast(&self.state, run, &after.events);
        }
        after.deliver
    }

    /// Delivers a committed operation's outbox rows in the background, without a write of its
    /// own: the next write (or the fallback alarm) deletes them. The index summary joins its
    /// organisation's feed (one request for the summaries of many runs).
    fn deliver_in_background(&self, org_id: &str, rows: Vec<(String, String)>) {
        let mut rest = Vec::new();
        for (key, payload) in rows {
            if key != INDEX_ROW {
                rest.push((key, payload));
            } else if index_feed::push(
                org_id,
                payload,
                Rc::clone(&self.delivered),
                worker::js_sys::Date::now(),
            ) {
                let flush = index_feed::flush(self.env.clone(), org_id.to_owned());
                self.state.wait_until(flush);
            }
        }
        if rest.is_empty() {
            return;
        }
        let env = self.env.clone();
        let org_id = org_id.to_owned();
        let delivered = Rc::clone(&self.delivered);
        self.state.wait_until(async move {
            for (key, payload) in rest {
                match deliver(&env, &org_id, &key, &payload).await {
                    Ok(()) => {
                        delivered.borrow_mut().insert(key, payload);
                    }
                    // The fallback alarm retries it.
                    Err(e) => worker::console_warn!("outbox {key}: {e}"),
                }
            }
        });
    }

    /// The run, or `None` when this object holds none (no tables: nothing is created).
    fn load(&self, sql: &SqlStorage) -> Result<Option<Stored>> {
        if self.schema.exists(sql)? {
            store::load(sql)
        } else {
            Ok(None)
        }
    }

    /// Makes sure the alarm fires by `due` (the run's deadline or an outbox retry), writing only
    /// when the alarm has to move earlier: an alarm that fires early finds nothing to do and
    /// sets the next one.
    async fn ensure_alarm(&self, due: Option<u64>) -> Result<()> {
        let Some(due) = due else {
            return Ok(());
        };
        let current = match self.alarm_at.get() {
            Some(known) => known,
            None => self
                .state
                .storage()
                .get_alarm()
                .await?
                .and_then(|t| u64::try_from(t).ok()),
        };
        if current.is_some_and(|c| c <= due) {
            self.alarm_at.set(Some(current));
            return Ok(());
        }
        let offset =
            i64::try_from(due.saturating_sub(clock::to_wall(clock::now()))).unwrap_or(i64::MAX);
        self.state.storage().set_alarm(offset).await?;
        self.alarm_at.set(Some(Some(due)));
        Ok(())
    }

    /// When the alarm must fire for this run: its deadline, and the earliest outbox retry.
    fn alarm_due(&self, state: Option<&RunState>) -> Result<Option<u64>> {
        let deadline = state.and_then(RunState::next_deadline).map(clock::to_wall);
        let outbox = match self.outbox_due.get() {
            Some(known) => known,
            None => {
                let due = store::outbox_next_at(&self.sql())?;
                self.outbox_due.set(Some(due));
                due
            }
        }
        .map(clock::to_wall);
        Ok(match (deadline, outbox) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    async fn run_op(&self, mut req: Request) -> Result<Response> {
        let op: Op = match req.text().await.map(|t| serde_json::from_str(&t)) {
            Ok(Ok(op)) => op,
            Ok(Err(e)) => {
                return reply(Err(OpError::Internal {
                    message: format!("bad internal request: {e}"),
                }));
            }
            Err(e) => {
                return reply(Err(OpError::Internal {
                    message: format!("bad internal request: {e}"),
                }));
            }
        };
        let result = mutant::handle(self, op).await; // RACE_MUTANT: tests only (mutant.rs)
        match &result {
            Ok(r) => {
                let rows = self.send_after_commit(&r.run);
                self.deliver_in_background(&r.run.info.org_id, rows);
                self.ensure_alarm(self.alarm_due(Some(&r.run.state))?)
                    .await?;
            }
            // A refusal wrote and queued nothing.
            Err(_) => drop(self.after_commit.take()),
        }
        reply(result)
    }

    /// Delivers due outbox rows: the index summary and sub-run cascades.
    async fn deliver_outbox(&self, stored: &Stored, now: Millis) -> Result<()> {
        let sql = self.sql();
        // Rows already delivered after their commit only need deleting, due or not.
        for (key, payload) in self.delivered.borrow_mut().drain() {
            store::outbox_done(&sql, &key, &payload)?;
        }
        for row in store::outbox_due(&sql, now, 50)? {
            match deliver(&self.env, &stored.org_id, &row.key, &row.payload).await {
                Ok(()) => store::outbox_done(&sql, &row.key, &row.payload)?,
                Err(e) => {
                    worker::console_warn!("outbox {}: {e}", row.key);
                    let attempts = row.attempts.saturating_add(1);
                    let shift = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
                    let backoff = (250u64 << shift).min(MAX_BACKOFF_MS);
                    store::outbox_retry(&sql, &row.key, attempts, now.saturating_add(backoff))?;
                }
            }
        }
        Ok(())
    }

    /// The deep health probe's counter, on the object named "healthz" (never a run).
    fn probe(&self) -> Result<i64> {
        let sql = self.sql();
        sql.exec(
            "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, probes INTEGER NOT NULL)",
            None,
        )?;
        sql.exec(
            "INSERT INTO health (id, probes) VALUES (1, 1)
             ON CONFLICT(id) DO UPDATE SET probes = probes + 1",
            None,
        )?;
        Ok(sql
            .exec("SELECT probes FROM health WHERE id = 1", None)?
            .one::<Probe>()?
            .probes)
    }
}

async fn deliver(env: &Env, org_id: &str, key: &str, payload: &str) -> Result<()> {
    if key == INDEX_ROW {
        deliver_index(
            env,
            org_id,
            index_feed::batch_body(std::iter::once(payload)),
        )
        .await
    } else {
        deliver_cascade(env, org_id, payload).await
    }
}

fn reply(result: OpResult) -> Result<Response> {
    match result {
        Ok(r) => Response::from_json(&r),
        Err(e) => Ok(Response::from_json(&e)?.with_status(e.status())),
    }
}

/// Sends `{"summaries":[…]}` to the organisation's index.
async fn deliver_index(env: &Env, org_id: &str, body: String) -> Result<()> {
    let res =
        crate::auth::org_request(env, org_id, worker::Method::Post, "/runs", Some(body)).await?;
    match res.status_code() {
        200 => Ok(()),
        code => Err(worker::Error::RustError(format!("index answered {code}"))),
    }
}

async fn deliver_cascade(env: &Env, org_id: &str, payload: &str) -> Result<()> {
    let effect: Effect =
        serde_json::from_str(payload).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let Effect::CascadeCancel {
        sub_run_id,
        command_id,
        grace_ms,
        reason,
        by,
        ..
    } = effect
    else {
        return Ok(());
    };
    let mut args = runbrake_core::CancelArgs::new(runbrake_core::By {
        source: runbrake_core::Source::Cascade,
        actor: by.actor,
    });
    args.command_id = Some(command_id);
    args.reason = reason;
    args.grace_ms = Some(grace_ms);
    let op = Op::Command {
        command: Command::Cancel(args),
    };
    let res = call(env, org_id, &sub_run_id, &op).await?;
    match res.status_code() {
        // 404: the sub-run does not exist (or belongs elsewhere); 409: refused for good.
        200 | 404 | 409 => Ok(()),
        code => Err(worker::Error::RustError(format!("sub-run answered {code}"))),
    }
}

/// Sends one operation to a run's object.
pub async fn call(env: &Env, org_id: &str, run_id: &str, op: &Op) -> Result<Response> {
    let stub = env
        .durable_object("RUNS")?
        .get_by_name(&object_name(org_id, run_id))?;
    let mut init = worker::RequestInit::new();
    let headers = worker::Headers::new();
    headers.set("content-type", "application/json")?;
    init.with_method(worker::Method::Post)
        .with_headers(headers)
        .with_body(Some(
            serde_json::to_string(op)
                .map_err(|e| worker::Error::RustError(e.to_string()))?
                .into(),
        ));
    stub.fetch_with_request(Request::new_with_init("https://run.internal/op", &init)?)
        .await
}

pub fn object_name(org_id: &str, run_id: &str) -> String {
    format!("{org_id}/{run_id}")
}

impl DurableObject for RunObject {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            delivered: Rc::default(),
            after_commit: RefCell::default(),
            alarm_at: Cell::new(None),
            outbox_due: Cell::new(None),
            schema: LazySchema::new("meta", store::SCHEMA),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let path = req.path();
        let upgrade = req
            .headers()
            .get("upgrade")?
            .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        match (path.as_str(), upgrade) {
            ("/op", false) => self.run_op(req).await,
            ("/watch" | "/executor", true) => {
                let url = req.url()?;
                let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
                let stored = self.load(&self.sql())?;
                stream::accept(&self.state, &self.sql(), stored.as_ref(), &path, &query)
            }
            // The `/healthz/deep` probe, on the object named "healthz".
            (_, true) => stream::accept_probe(&self.state),
            (_, false) => crate::http::json(
                200,
                &Probe {
                    probes: self.probe()?,
                },
            ),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        let now = clock::now();
        let sql = self.sql();
        let Some(mut stored) = self.load(&sql)? else {
            return Response::empty();
        };
        if stored.state.next_deadline().is_some_and(|d| d <= now) {
            match runbrake_core::apply(&mut stored.state, &Command::DeadlineFired, now) {
                Ok(decision) if !decision.events.is_empty() => {
                    let written = transaction_sync(&self.state.storage(), || {
                        store::append_events(&sql, &decision.events, &HashMap::new())?;
                        store::save_state(&sql, &stored.state)?;
                        self.after_commit_effects(&sql, &stored, &decision.effects, false, now)
                    });
                    if let Err(e) = written {
                        // Nothing was written; workerd retries a failed alarm.
                        self.forget_uncommitted();
                        return Err(e);
                    }
                    self.after_commit.borrow_mut().events = decision.events;
                }
                Ok(_) => {}
                Err(e) => worker::console_error!("deadline for {}: {e}", stored.state.id),
            }
        }
        // This alarm is spent. Rows the deadline just produced go now, then any due retries.
        self.alarm_at.set(Some(None));
        let fresh = self.send_after_commit(&Self::snapshot(&stored, now));
        for (key, payload) in fresh {
            match deliver(&self.env, &stored.org_id, &key, &payload).await {
                Ok(()) => store::outbox_done(&sql, &key, &payload)?,
                Err(e) => worker::console_warn!("outbox {key}: {e}"),
            }
        }
        self.deliver_outbox(&stored, now).await?;
        self.outbox_due.set(None);
        self.ensure_alarm(self.alarm_due(Some(&stored.state))?)
            .await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        if let Some((code, reason)) = crate::stream_limits::oversized(&message) {
            return ws.close(Some(code), Some(reason));
        }
        match message {
            WebSocketIncomingMessage::String(text) if text == "probe" => ws.send(&Probe {
                probes: self.probe()?,
            }),
            WebSocketIncomingMessage::String(text) if text == "ping" => {
                let seq = self.load(&self.sql())?.map_or(0, |s| s.state.version);
                ws.send(&serde_json::json!({ "type": "pong", "seq": seq }))
            }
            WebSocketIncomingMessage::String(_) | WebSocketIncomingMessage::Binary(_) => {
                ws.close(Some(1003), Some("unsupported message"))
            }
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        // Complete the closing handshake instead of leaving the socket half-open.
        let code = u16::try_from(code)
            .ok()
            .filter(|c| *c != 1005 && *c != 1006)
            .unwrap_or(1000);
        ws.close(Some(code), Some("bye"))
    }

    async fn websocket_error(&self, _ws: WebSocket, error: worker::Error) -> Result<()> {
        worker::console_warn!("run websocket error: {error}");
        Ok(())
    }
}
