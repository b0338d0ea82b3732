//! Benchmark workloads, shared by the native bench (`benches/core.rs`) and the Wasm bench
//! (`src/js.rs`, feature `bench`, driven by `bench/core.mjs`), so that both measure exactly the
//! same work. The including module names the crate `rb` (`use runbrake_core as rb;` /
//! `use crate as rb;`).
//!
//! Nothing here reads a clock: the caller times each call (`Instant` natively,
//! `performance.now()` around a Wasm call), so the core stays clock-free in Wasm too. The loops
//! return a checksum that depends on every decision, so none can be optimised away.
//!
//! Compiled into the library under feature `bench`, so it follows the library's lints: no
//! unwrap, no panic, no indexing.
#![allow(dead_code)] // each includer uses its own subset

use std::hint::black_box;

use super::rb::{
    AddChildrenArgs, By, CancelArgs, ChildStatus, ChildTable, ClaimArgs, Command, CreateArgs,
    InitialStatus, Millis, NewChild, RunKind, RunState, Source, apply, create, decide, evolve,
};

/// 2026-05-01T14:30:00Z
pub const T0: Millis = 1_777_645_800_000;

/// Children in the "cancel a big run" workload.
pub const BIG_RUN_CHILDREN: usize = 100_000;

fn err(e: impl core::fmt::Display) -> String {
    e.to_string()
}

/// A run created queued and claimed by an executor (lease live for 60 s from `T0 + 1`): the
/// state a dashboard cancel usually meets.
pub fn running_run() -> Result<RunState, String> {
    let (mut state, _) = create(
        &CreateArgs {
            id: "run_bench".into(),
            kind: RunKind::Workflow,
            initial: InitialStatus::Queued,
            default_grace_ms: None,
            children: None,
            sub_runs: vec![],
        },
        T0,
    )
    .map_err(err)?;
    apply(
        &mut state,
        &Command::Claim(ClaimArgs {
            executor: "exec_1".into(),
            lease_id: "lease_1".into(),
            lease_ms: 60_000,
        }),
        T0 + 1,
    )
    .map_err(err)?;
    Ok(state)
}

/// A plain cancel from the dashboard: native policy, default grace (30 s).
pub fn cancel_command() -> Command {
    Command::Cancel(CancelArgs::new(By {
        source: Source::Dashboard,
        actor: None,
    }))
}

/// Decides `n` cancels of a running run (each answers `requested`: one event, one effect).
/// Decide only: the state is not changed.
pub fn cancel_decisions(state: &RunState, cmd: &Command, n: u32) -> Result<u64, String> {
    let mut sum = 0u64;
    for i in 0..n {
        let now = T0 + 2 + Millis::from(i % 1_000);
        let d = decide(black_box(state), black_box(cmd), now).map_err(err)?;
        sum = sum
            .wrapping_add(d.events.len() as u64)
            .wrapping_add(d.next_deadline.unwrap_or(0));
        black_box(&d);
    }
    Ok(sum)
}

/// Decides `n` cancels and applies each one's events to a copy of the state (what a caller
/// does with a decision: load the state, decide, evolve, store).
pub fn cancel_decide_evolve(state: &RunState, cmd: &Command, n: u32) -> Result<u64, String> {
    let mut sum = 0u64;
    for i in 0..n {
        let now = T0 + 2 + Millis::from(i % 1_000);
        let mut next = black_box(state).clone();
        let d = decide(&next, black_box(cmd), now).map_err(err)?;
        for e in &d.events {
            evolve(&mut next, e).map_err(err)?;
        }
        sum = sum.wrapping_add(next.version);
        black_box(&next);
    }
    Ok(sum)
}

/// A claimed run with `children` child items (a tenth of them running, the rest pending), and
/// the in-memory table of those items that follows the run's events.
#[derive(Debug, Clone)]
pub struct BigRun {
    pub state: RunState,
    pub table: ChildTable,
}

impl BigRun {
    pub fn new(children: usize) -> Result<BigRun, String> {
        let (mut state, d) = create(
            &CreateArgs {
                id: "run_big".into(),
                kind: RunKind::WorkflowTest,
                initial: InitialStatus::Queued,
                default_grace_ms: None,
                children: None,
                sub_runs: vec![],
            },
            T0,
        )
        .map_err(err)?;
        let mut table = ChildTable::new();
        for e in &d.events {
            table.apply(e).map_err(err)?;
        }
        let mut added = 0;
        while added < children {
            let batch = (children - added).min(10_000);
            let items = (added..added + batch)
                .map(|i| NewChild {
                    id: format!("case_{i:06}"),
                    status: if i % 10 == 0 {
                        ChildStatus::Running
                    } else {
                        ChildStatus::Pending
                    },
                })
                .collect();
            let cmd = Command::AddChildren(AddChildrenArgs { items });
            let d = apply(&mut state, &cmd, T0).map_err(err)?;
            for e in &d.events {
                table.apply(e).map_err(err)?;
            }
            added += batch;
        }
        let claim = Command::Claim(ClaimArgs {
            executor: "exec_1".into(),
            lease_id: "lease_1".into(),
            lease_ms: 60_000,
        });
        let d = apply(&mut state, &claim, T0 + 1).map_err(err)?;
        for e in &d.events {
            table.apply(e).map_err(err)?;
        }
        Ok(BigRun { state, table })
    }

    /// The timed part: decide the cancel, evolve the state and apply every event to the child
    /// table (pending children cancelled, running ones cancelling). Returns the event count.
    pub fn cancel(&mut self) -> Result<u32, String> {
        let d = decide(&self.state, &cancel_command(), T0 + 10).map_err(err)?;
        for e in &d.events {
            evolve(&mut self.state, e).map_err(err)?;
            self.table.apply(e).map_err(err)?;
        }
        Ok(d.events.len() as u32)
    }

    /// After [`BigRun::cancel`] (not timed): the run is cancelling, a tenth of the children
    /// follow it and the rest are cancelled, in the state and in the table alike.
    pub fn check_cancelled(&self) -> Result<(), String> {
        let c = self.state.children;
        let n = c.total();
        if self.state.status_kind() != super::rb::StatusKind::Cancelling
            || c.cancelling != n.div_ceil(10)
            || c.cancelled != n - c.cancelling
            || self.table.counts() != c
        {
            return Err(format!("unexpected state after the cancel: {c:?}"));
        }
        Ok(())
    }
}
