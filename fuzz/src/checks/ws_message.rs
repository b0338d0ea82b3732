//! Target (d): the WebSocket watch stream's messages, parsed and merged into a run view the way
//! the dashboard does (web/src/detail.ts with the core's `mergeEvent` / `newView` /
//! `applyOptimistic`, web/src/live.ts for framing).
//!
//! The RunObject's own handler of incoming frames is two exact string matches (`probe`, `ping`;
//! anything else closes the socket with 1003), inside `run_object/mod.rs`; the parsing that
//! takes untrusted structure is on the receiving side: every message the object sends
//! (`run_object/stream.rs`: `event`, `update`, `snapshot`, `resync`, `pong`, `cancel_requested`,
//! `run_ended`) decoded into the Worker's and the core's types and merged by seq.
//!
//! Input: one byte choosing the starting run (a fixture) and whether an optimistic cancel is
//! pending, then text frames separated by newlines. Checks: the view's seq never goes back and
//! always equals its state's version; `applied` means exactly the next seq, `stale` and `gap`
//! and a refused event leave the view unchanged; a pending optimistic cancel shows as
//! `cancelling` until the run is cancelling or has ended; `can_cancel` is false for ended runs.

use runbrake_core::{
    ChildTable, Dialect, EventRecord, MergeStatus, Millis, PendingCancel, RunState, RunView,
    StatusKind, apply_optimistic, can_cancel, merge_event,
};
use serde::Deserialize;

use super::fixtures;
use crate::run_object::protocol::Snapshot;

/// What `run_object/stream.rs` sends (the fields a client reads).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Message {
    Event {
        seq: u64,
        record: EventRecord,
    },
    Update {
        seq: u64,
        events: Vec<EventRecord>,
        run: Snapshot,
    },
    Snapshot {
        seq: u64,
        run: Snapshot,
    },
    Resync {
        seq: u64,
    },
    Pong {
        seq: u64,
    },
    CancelRequested {
        seq: u64,
        run_id: String,
        lease_id: String,
        deadline: Millis,
    },
    RunEnded {
        seq: u64,
        run_id: String,
        status: StatusKind,
    },
}

struct Client {
    view: RunView,
    children: ChildTable,
}

impl Client {
    fn check(&self) {
        assert_eq!(
            self.view.seq, self.view.state.version,
            "view seq is not its version"
        );
        if self.view.pending.is_some() {
            assert_eq!(self.view.display_status(), StatusKind::Cancelling);
            assert!(
                !self.view.state.is_terminal()
                    && self.view.state.status.cancel_deadline().is_none(),
                "an optimistic cancel outlived the run's own cancelling or end"
            );
        }
        if self.view.state.is_terminal() {
            for d in Dialect::ALL {
                assert!(
                    !can_cancel(&self.view.state, &d.policy()),
                    "an ended run is cancellable"
                );
            }
        }
    }

    fn merge(&mut self, records: &[EventRecord]) {
        for rec in records {
            let before = self.view.clone();
            match merge_event(&self.view, rec) {
                Err(_) => {}
                Ok(r) => match r.status {
                    MergeStatus::Applied => {
                        assert_eq!(rec.seq, before.seq + 1, "applied out of order");
                        assert_eq!(r.view.seq, rec.seq);
                        self.view = r.view;
                        let _ = self.children.apply(rec);
                    }
                    MergeStatus::Stale => {
                        assert!(rec.seq <= before.seq);
                        assert_eq!(r.view, before, "a stale event changed the view");
                    }
                    MergeStatus::Gap => {
                        assert!(rec.seq > before.seq + 1);
                        assert_eq!(r.view, before, "a gap changed the view");
                    }
                },
            }
            assert!(self.view.seq >= before.seq, "the view went back");
            self.check();
        }
    }

    /// Moves to a newer server state, never an older one (the display cannot flap back).
    fn rebase(&mut self, state: &RunState) {
        if state.version <= self.view.seq {
            return;
        }
        let fresh = RunView::new(state.clone());
        self.view = match self.view.pending.clone() {
            Some(p) => apply_optimistic(&fresh, p),
            None => fresh,
        };
        self.check();
    }
}

pub fn check_ws_message(data: &[u8]) {
    let [sel, rest @ ..] = data else {
        return;
    };
    let all = fixtures();
    let f = &all[usize::from(sel & 0x7f) % all.len()];
    let mut children = ChildTable::new();
    for r in &f.log {
        children.apply(r).expect("fixture children");
    }
    let mut view = RunView::new(f.state.clone());
    if sel & 0x80 != 0 {
        view = apply_optimistic(
            &view,
            PendingCancel {
                command_id: Some("ui-cancel".to_owned()),
                requested_at: f.state.timing.updated_at,
            },
        );
    }
    let mut client = Client { view, children };
    client.check();
    let text = String::from_utf8_lossy(rest);
    for frame in text.split('\n').take(256) {
        let Ok(msg) = serde_json::from_str::<Message>(frame) else {
            continue;
        };
        match msg {
            Message::Event { record, .. } => client.merge(&[record]),
            Message::Update { events, run, .. } => {
                client.merge(&events);
                client.rebase(&run.state);
            }
            Message::Snapshot { run, .. } => client.rebase(&run.state),
            Message::Resync { .. }
            | Message::Pong { .. }
            | Message::CancelRequested { .. }
            | Message::RunEnded { .. } => {}
        }
    }
}
