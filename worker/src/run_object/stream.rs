//! Live streams on a run's object (hibernatable WebSockets).
//!
//! - `watch` sockets (dashboards, CLIs): on connect, the events after the client's `after_seq`
//!   and a snapshot; then one `update` per committed decision. Every message carries `seq` so a
//!   reconnecting client resumes where it left off and never applies an older state.
//! - `executor` sockets (the executor holding a lease): `cancel_requested` the moment a cancel
//!   is accepted, so the executor does not wait for its next heartbeat.
//!
//! Messages leave only after the commit that produced them is durable (output gate).

use std::collections::HashMap;

use runbrake_core::{EventRecord, Millis, RunState};
use serde_json::json;
use worker::{Response, Result, SqlStorage, State, WebSocketPair};

use super::MAX_EVENTS_PAGE;
use super::protocol::Snapshot;
use super::store::{self, Stored};
use crate::stream_limits::{self, MAX_LEASE_SOCKETS, MAX_RUN_WATCHERS};

const WATCH_TAG: &str = "watch";

fn lease_tag(lease_id: &str) -> String {
    format!("lease:{lease_id}")
}

fn snapshot(stored: &Stored, now: Millis) -> Snapshot {
    Snapshot {
        state: stored.state.clone(),
        info: stored.info.clone(),
        now,
    }
}

/// Accepts a `watch` or `executor` socket (the Worker has already authenticated it).
pub fn accept(
    state: &State,
    sql: &SqlStorage,
    stored: Option<&Stored>,
    path: &str,
    query: &HashMap<String, String>,
) -> Result<Response> {
    let Some(stored) = stored else {
        return crate::http::not_found();
    };
    let now = crate::clock::now();
    if path == "/executor" {
        let lease_id = query.get("lease_id").cloned().unwrap_or_default();
        if state.get_websockets_with_tag(&lease_tag(&lease_id)).len() >= MAX_LEASE_SOCKETS {
            return stream_limits::full(MAX_LEASE_SOCKETS, "executor streams per lease");
        }
        let pair = WebSocketPair::new()?;
        state.accept_websocket_with_tags(&pair.server, &["executor", &lease_tag(&lease_id)]);
        // A cancel accepted before the executor connected is delivered at once.
        if let runbrake_core::Status::Cancelling {
            deadline, lease, ..
        } = &stored.state.status
            && lease.id == lease_id
        {
            pair.server
                .send(&cancel_message(&stored.state, &lease_id, *deadline))?;
        }
        if stored.state.is_terminal() {
            pair.server.send(&ended_message(&stored.state))?;
        }
        Response::from_websocket(pair.client)
    } else {
        if state.get_websockets_with_tag(WATCH_TAG).len() >= MAX_RUN_WATCHERS {
            return stream_limits::full(MAX_RUN_WATCHERS, "watchers of one run");
        }
        let pair = WebSocketPair::new()?;
        state.accept_websocket_with_tags(&pair.server, &[WATCH_TAG]);
        let after = query.get("after_seq").and_then(|s| s.parse::<u64>().ok());
        if let Some(after) = after {
            let missed = stored.state.version.saturating_sub(after);
            if missed > u64::from(MAX_EVENTS_PAGE) {
                // Too far behind to replay: the snapshot below is the new baseline.
                pair.server
                    .send(&json!({ "type": "resync", "seq": stored.state.version }))?;
            } else {
                for record in store::events_after(sql, after, MAX_EVENTS_PAGE)? {
                    pair.server
                        .send(&json!({ "type": "event", "seq": record.seq, "record": record }))?;
                }
            }
        }
        pair.server.send(&json!({
            "type": "snapshot",
            "seq": stored.state.version,
            "run": snapshot(stored, now),
        }))?;
        Response::from_websocket(pair.client)
    }
}

pub fn accept_probe(state: &State) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    state.accept_web_socket(&pair.server);
    Response::from_websocket(pair.client)
}

/// One message per committed decision to every watcher; `run_ended` to executors. Nothing is
/// serialised when nobody listens (the usual case for an API cancel).
pub fn broadcast(state: &State, run: &Snapshot, events: &[EventRecord]) {
    let watchers = state.get_websockets_with_tag(WATCH_TAG);
    if !watchers.is_empty() {
        let msg = json!({
            "type": "update",
            "seq": run.state.version,
            "events": events,
            "run": run,
        })
        .to_string();
        for ws in watchers {
            // A socket that is closing cannot take the message; it resumes by seq when it returns.
            let _ = ws.send_with_str(&msg);
        }
    }
    if run.state.is_terminal() {
        let executors = state.get_websockets_with_tag("executor");
        if executors.is_empty() {
            return;
        }
        let ended = ended_message(&run.state).to_string();
        for ws in executors {
            let _ = ws.send_with_str(&ended);
        }
    }
}

pub fn notify_executor(state: &State, run: &RunState, lease_id: &str, deadline: Millis) {
    let executors = state.get_websockets_with_tag(&lease_tag(lease_id));
    if executors.is_empty() {
        return;
    }
    let msg = cancel_message(run, lease_id, deadline).to_string();
    for ws in executors {
        let _ = ws.send_with_str(&msg);
    }
}

fn cancel_message(run: &RunState, lease_id: &str, deadline: Millis) -> serde_json::Value {
    json!({
        "type": "cancel_requested",
        "seq": run.version,
        "run_id": run.id,
        "lease_id": lease_id,
        "deadline": deadline,
    })
}

fn ended_message(run: &RunState) -> serde_json::Value {
    json!({
        "type": "run_ended",
        "seq": run.version,
        "run_id": run.id,
        "status": run.status_kind().as_str(),
    })
}
