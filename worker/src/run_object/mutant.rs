//! RACE_MUTANT: a deliberately broken command handler, for the mutation check of the reliability
//! suite (`tests/reliability/mutant.test.mjs`): it proves the race tests (T4, T6) can see the
//! bug the design forbids — an await on something other than storage between reading a run and
//! writing the decision.
//!
//! Honoured only when the `TEST_CLOCK` var is "1" **and** `RACE_MUTANT` is "1" (tests only:
//! `wrangler dev --var TEST_CLOCK:1 --var RACE_MUTANT:1`); anywhere else every operation goes
//! straight to [`RunObject::handle_atomically`], unchanged.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;

use runbrake_core::EventRecord;
use serde::Deserialize;

use super::RunObject;
use super::protocol::{Op, OpError, OpReply, OpResult};
use super::store;
use crate::clock;

/// Long enough for a concurrent request, sent up to 20 ms apart, to read the same state.
const PAUSE_MS: u64 = 25;

thread_local! {
    static ENABLED: Cell<Option<bool>> = const { Cell::new(None) };
}

fn enabled(env: &worker::Env) -> bool {
    ENABLED.with(|e| {
        *e.get().get_or_insert_with(|| {
            clock::test_clock_enabled(env) && crate::vars::is_on(env, "RACE_MUTANT")
        })
    })
}

#[derive(Deserialize)]
struct LastSeq {
    seq: i64,
}

/// Runs `op` as [`RunObject::handle_atomically`] does, except that under RACE_MUTANT a command decides on
/// state read before a timer (a non-storage await) and writes that stale decision afterwards.
pub(super) async fn handle(obj: &RunObject, op: Op) -> OpResult {
    let command = match op {
        Op::Command { command } if enabled(&obj.env) => command,
        other => return obj.handle_atomically(other, clock::now()),
    };
    let internal = |e: worker::Error| OpError::Internal {
        message: e.to_string(),
    };
    let sql = obj.sql();
    let mut stored = obj.load(&sql).map_err(internal)?.ok_or(OpError::NotFound)?;
    let command = obj.complete_command(&sql, command, &stored)?;
    // THE BUG: the input gate is open while the timer runs, so other requests read the same state.
    worker::Delay::from(Duration::from_millis(PAUSE_MS)).await;
    let now = clock::now();
    let decision = runbrake_core::apply(&mut stored.state, &command, now)
        .map_err(|e| OpError::refused(&e, Some(RunObject::snapshot(&stored, now))))?;
    // The stale decision lands after whatever was written meanwhile, and its state overwrites.
    let last = sql
        .exec("SELECT COALESCE(MAX(seq), 0) AS seq FROM events", None)
        .and_then(|c| c.one::<LastSeq>())
        .map_err(internal)?
        .seq;
    let records: Vec<EventRecord> = decision
        .events
        .iter()
        .zip(1..)
        .map(|(r, i)| EventRecord {
            seq: u64::try_from(last.saturating_add(i)).unwrap_or(0),
            ..r.clone()
        })
        .collect();
    store::append_events(&sql, &records, &HashMap::new()).map_err(internal)?;
    store::save_state(&sql, &stored.state).map_err(internal)?;
    Ok(OpReply {
        run: RunObject::snapshot(&stored, now),
        reply: Some(decision.reply),
        events: None,
        children: None,
    })
}
