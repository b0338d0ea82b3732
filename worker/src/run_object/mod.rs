//! RunObject: one SQLite-backed Durable Object per run, named `<org id>/<run id>` so a key of
//! another organisation addresses an empty object (a 404, never a 403).
//!
//! Every operation is parse → load → `runbrake_core::apply` → write → reply, with nothing
//! awaited between the load and the writes: workerd commits those writes as one transaction and
//! holds the reply (and every WebSocket message) until the commit is durable. Work that talks to
//! other objects (the organisation index, sub-run cascades) goes through the outbox and the
//! alarm, after the commit, and is retried until it lands.

pub mod protocol;
pub mod store;
mod stream;
pub mod summary;

use std::collections::HashMap;

use runbrake_core::{Command, Effect, Millis, RunState, UpdateChildArgs};
use serde::{Deserialize, Serialize};
use worker::{
    DurableObject, Env, Request, Response, Result, SqlStorage, State, WebSocket,
    WebSocketIncomingMessage, durable_object,
};

use crate::clock;
use protocol::{Op, OpError, OpReply, OpResult, Snapshot};
use store::Stored;

/// Outbox retries back off exponentially up to this.
const MAX_BACKOFF_MS: u64 = 60_000;
/// Events one `events` page or WebSocket replay carries.
pub const MAX_EVENTS_PAGE: u32 = 1_000;

#[durable_object]
pub struct RunObject {
    state: State,
    env: Env,
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
            } => {
                if store::load(&sql).map_err(internal)?.is_some() {
                    return Err(OpError::refused(
                        &runbrake_core::CommandError::AlreadyExists { id: args.id },
                        None,
                    ));
                }
                let (state, decision) =
                    runbrake_core::create(&args, now).map_err(|e| OpError::refused(&e, None))?;
                let stored = Stored {
                    org_id: info.org_id.clone(),
                    state,
                    info: *info,
                };
                store::insert_meta(&sql, &stored).map_err(internal)?;
                let names: HashMap<String, String> = child_names.into_iter().collect();
                store::append_events(&sql, &decision.events, &names).map_err(internal)?;
                self.after_commit_effects(&sql, &stored, &decision.effects, now)
                    .map_err(internal)?;
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: Some(decision.reply),
                    events: None,
                    children: None,
                })
            }
            Op::Command { command } => {
                let mut stored = store::load(&sql)
                    .map_err(internal)?
                    .ok_or(OpError::NotFound)?;
                let command = self.complete_command(&sql, command, &stored)?;
                let decision = runbrake_core::apply(&mut stored.state, &command, now)
                    .map_err(|e| OpError::refused(&e, Some(Self::snapshot(&stored, now))))?;
                if !decision.events.is_empty() {
                    store::append_events(&sql, &decision.events, &HashMap::new())
                        .map_err(internal)?;
                    store::save_state(&sql, &stored.state).map_err(internal)?;
                    self.after_commit_effects(&sql, &stored, &decision.effects, now)
                        .map_err(internal)?;
                    stream::broadcast(&self.state, &stored, &decision.events, now);
                }
                Ok(OpReply {
                    run: Self::snapshot(&stored, now),
                    reply: Some(decision.reply),
                    events: None,
                    children: None,
                })
            }
            Op::Get => {
                let stored = store::load(&sql)
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
                let stored = store::load(&sql)
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
                let stored = store::load(&sql)
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

    /// Fills in what only storage knows: a child update carries the child's stored status.
    fn complete_command(
        &self,
        sql: &SqlStorage,
        command: Command,
        stored: &Stored,
    ) -> std::result::Result<Command, OpError> {
        match command {
            Command::UpdateChild(args) => {
                let current = store::child_status(sql, &args.child_id)
                    .map_err(|e| OpError::Internal {
                        message: e.to_string(),
                    })?
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
            | Command::AddChildren(_)) => Ok(other),
        }
    }

    /// Records the effects that must outlive this request (outbox) and signals executors now.
    fn after_commit_effects(
        &self,
        sql: &SqlStorage,
        stored: &Stored,
        effects: &[Effect],
        now: Millis,
    ) -> Result<()> {
        for effect in effects {
            match effect {
                Effect::UpdateIndex { .. } => {}
                Effect::NotifyExecutor {
                    lease_id, deadline, ..
                } => stream::notify_executor(&self.state, &stored.state, lease_id, *deadline),
                Effect::CascadeCancel {
                    sub_run_id,
                    command_id,
                    ..
                } => {
                    let payload = serde_json::to_string(effect)
                        .map_err(|e| worker::Error::RustError(e.to_string()))?;
                    store::outbox_put(
                        sql,
                        &format!("cascade:{sub_run_id}:{command_id}"),
                        &payload,
                        now,
                    )?;
                }
                // Webhook delivery needs a registered endpoint; none exists yet, and the
                // event log already records the transition the hook would announce.
                Effect::EmitWebhook { .. } => {}
            }
        }
        // The index always gets the latest summary (every change of version, not only status
        // changes, so children counts and deadlines stay fresh in lists).
        let summary = summary::of(&stored.state, &stored.info);
        store::outbox_put(sql, "index", &summary.to_string(), now)?;
        Ok(())
    }

    /// Sets the alarm to the earliest of the run's deadline and the next outbox delivery.
    async fn reschedule(&self, state: Option<&RunState>) -> Result<()> {
        let deadline = state.and_then(RunState::next_deadline).map(clock::to_wall);
        let outbox = store::outbox_next_at(&self.sql())?.map(clock::to_wall);
        let due = match (deadline, outbox) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let storage = self.state.storage();
        match due {
            Some(at) => {
                let wall_now = clock::to_wall(clock::now());
                let offset = i64::try_from(at.saturating_sub(wall_now)).unwrap_or(i64::MAX);
                storage.set_alarm(offset).await
            }
            None => storage.delete_alarm().await,
        }
    }

    async fn run_op(&self, mut req: Request) -> Result<Response> {
        let op: Op = match req.json().await {
            Ok(op) => op,
            Err(e) => {
                return reply(Err(OpError::Internal {
                    message: format!("bad internal request: {e}"),
                }));
            }
        };
        let result = self.handle(op, clock::now());
        if result.is_ok() {
            let state = result.as_ref().ok().map(|r| &r.run.state);
            self.reschedule(state).await?;
        }
        reply(result)
    }

    /// Delivers due outbox rows: the index summary and sub-run cascades.
    async fn deliver_outbox(&self, stored: &Stored, now: Millis) -> Result<()> {
        let sql = self.sql();
        for row in store::outbox_due(&sql, now, 50)? {
            let delivered = if row.key == "index" {
                deliver_index(&self.env, &stored.org_id, &row.payload).await
            } else {
                deliver_cascade(&self.env, &stored.org_id, &row.payload).await
            };
            match delivered {
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

    fn probe(&self) -> Result<i64> {
        let sql = self.sql();
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

fn reply(result: OpResult) -> Result<Response> {
    match result {
        Ok(r) => Response::from_json(&r),
        Err(e) => Ok(Response::from_json(&e)?.with_status(e.status())),
    }
}

async fn deliver_index(env: &Env, org_id: &str, summary: &str) -> Result<()> {
    let body = format!("{{\"summaries\":[{summary}]}}");
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
        let sql = state.storage().sql();
        if let Err(e) = store::migrate(&sql).and_then(|()| {
            sql.exec(
                "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, probes INTEGER NOT NULL)",
                None,
            )
            .map(|_| ())
        }) {
            worker::console_error!("run object schema: {e}");
        }
        Self { state, env }
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
                let stored = store::load(&self.sql())?;
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
        let Some(mut stored) = store::load(&sql)? else {
            return Response::empty();
        };
        if stored.state.next_deadline().is_some_and(|d| d <= now) {
            match runbrake_core::apply(&mut stored.state, &Command::DeadlineFired, now) {
                Ok(decision) if !decision.events.is_empty() => {
                    store::append_events(&sql, &decision.events, &HashMap::new())?;
                    store::save_state(&sql, &stored.state)?;
                    self.after_commit_effects(&sql, &stored, &decision.effects, now)?;
                    stream::broadcast(&self.state, &stored, &decision.events, now);
                }
                Ok(_) => {}
                Err(e) => worker::console_error!("deadline for {}: {e}", stored.state.id),
            }
        }
        self.deliver_outbox(&stored, now).await?;
        self.reschedule(Some(&stored.state)).await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        match message {
            WebSocketIncomingMessage::String(text) if text == "probe" => ws.send(&Probe {
                probes: self.probe()?,
            }),
            WebSocketIncomingMessage::String(text) if text == "ping" => {
                let seq = store::load(&self.sql())?.map_or(0, |s| s.state.version);
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
