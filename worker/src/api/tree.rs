//! Run trees: a run, its sub-runs, theirs, … — each its own Durable Object.
//!
//! - `GET /api/runs/{id}/tree?max_depth=&limit=&cursor=`: the tree walked breadth first from
//!   the run (every node read from its own object, a level at a time, 32 at once), with each
//!   node's status and cancel outcome, and counts over the whole walk that add up:
//!   `total = cancelled + already_finished + cancelling + active + missing`. The node list is
//!   paged; the counts always cover every node walked (at most [`MAX_TREE_NODES`]).
//! - Creating a run with `parent_run_id` attaches it to the parent first ([`attach`]); under a
//!   parent whose cancel was already accepted the new run is cancelled in the write that
//!   creates it.

use std::collections::HashSet;

use futures_util::future::join_all;
use runbrake_core::{
    By, CancelArgs, ChildCounts, Command, Reply, Source, Status, StatusKind, format_rfc3339,
};
use serde_json::{Map, Value, json};
use worker::{Env, Request, Response, Result};

use super::errors;
use super::runs::call;
use crate::auth::Caller;
use crate::http;
use crate::run_object::protocol::{Op, OpError, Snapshot};

/// Nodes one walk reads at most (a bigger tree answers `truncated: true`).
pub const MAX_TREE_NODES: usize = 5_000;
pub const MAX_DEPTH: u32 = 32;
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 1_000;
/// Run objects read at once.
const FAN_OUT: usize = 32;

/// Attaches a new run to its parent before the run exists. `Ok(Some(cancel))`: the parent's
/// cancel was accepted, so the new run takes this cancel in its creating write.
pub async fn attach(
    env: &Env,
    org_id: &str,
    parent: &str,
    child: &str,
) -> Result<std::result::Result<Option<Box<CancelArgs>>, Response>> {
    let op = Op::Command {
        command: Command::AttachSubRun(runbrake_core::AttachSubRunArgs {
            sub_run_id: child.to_owned(),
        }),
    };
    match call(env, org_id, parent, &op).await? {
        Ok(reply) => match reply.reply {
            Some(Reply::SubRun(r)) => Ok(Ok(r.cancel.map(|c| {
                // Exactly what the parent's outbox sends as the cascade (same command id and
                // fingerprint), so the two are one cancel.
                let mut args = CancelArgs::new(By {
                    source: Source::Cascade,
                    actor: c.by.actor,
                });
                args.command_id = Some(c.command_id);
                args.reason = c.reason;
                args.grace_ms = Some(c.grace_ms);
                Box::new(args)
            }))),
            other => Ok(Err(errors::op(OpError::Internal {
                message: format!("attach answered {other:?}"),
            })?)),
        },
        Err(OpError::NotFound) => Ok(Err(errors::invalid(
            "parent_run_id",
            "no run with this id in your organisation",
        )?)),
        Err(OpError::Refused { code, message, .. }) if code == "invalid_transition" => {
            Ok(Err(http::problem_with(
                409,
                "parent_ended",
                format!("the parent run takes no new sub-runs: {message}"),
                Some("parent_run_id".to_owned()),
                None,
            )?))
        }
        Err(OpError::Refused { message, .. }) => {
            Ok(Err(errors::invalid("parent_run_id", message)?))
        }
        Err(e) => Ok(Err(errors::op(e)?)),
    }
}

/// One node as walked: `None` when its object holds no run (a sub-run id that never existed).
struct Walked {
    id: String,
    parent_id: Option<String>,
    depth: u32,
    run: Option<Snapshot>,
}

/// What a cancel of the tree came to at this node.
fn outcome(status: &Status) -> &'static str {
    match status {
        Status::Cancelled { .. } => "cancelled",
        Status::Completed | Status::Failed { .. } | Status::Rejected { .. } => "already_finished",
        Status::Cancelling { .. } => "cancelling",
        Status::Pending | Status::Queued | Status::Running { .. } | Status::Waiting { .. } => {
            "active"
        }
    }
}

fn counts_with_total(c: &ChildCounts) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("total".to_owned(), c.total().into());
    }
    v
}

fn node(w: &Walked) -> Value {
    let Some(s) = &w.run else {
        return json!({
            "id": w.id, "parent_id": w.parent_id, "depth": w.depth,
            "status": null, "outcome": "missing",
        });
    };
    let st = &s.state;
    let (forced, deadline, effective_at, reason) = match &st.status {
        Status::Cancelled {
            forced,
            effective_at,
            reason,
            ..
        } => (Some(*forced), None, Some(*effective_at), reason.clone()),
        Status::Cancelling {
            deadline, reason, ..
        } => (None, Some(*deadline), None, reason.clone()),
        Status::Pending
        | Status::Queued
        | Status::Running { .. }
        | Status::Waiting { .. }
        | Status::Completed
        | Status::Failed { .. }
        | Status::Rejected { .. } => (None, None, st.timing.completed_at, None),
    };
    json!({
        "id": st.id,
        "parent_id": w.parent_id,
        "depth": w.depth,
        "kind": st.kind,
        "name": s.info.name,
        "status": st.status_kind().as_str(),
        "outcome": outcome(&st.status),
        "forced": forced,
        "deadline": deadline.map(format_rfc3339),
        "ended_at": effective_at.map(format_rfc3339),
        "reason": reason,
        "children": counts_with_total(&st.children),
        "sub_runs": st.sub_runs.len(),
    })
}

struct Params {
    max_depth: u32,
    limit: usize,
    offset: usize,
}

fn params(req: &Request) -> std::result::Result<Params, (String, String)> {
    let mut p = Params {
        max_depth: MAX_DEPTH,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    for (k, v) in req
        .url()
        .map_err(|e| ("url".to_owned(), e.to_string()))?
        .query_pairs()
    {
        let bad = |m: String| (k.to_string(), m);
        match k.as_ref() {
            "max_depth" => {
                p.max_depth = v
                    .parse::<u32>()
                    .ok()
                    .filter(|d| *d <= MAX_DEPTH)
                    .ok_or_else(|| bad(format!("0..={MAX_DEPTH}")))?;
            }
            "limit" => {
                p.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| bad(format!("1..={MAX_LIMIT}")))?;
            }
            "cursor" if v.is_empty() => {}
            "cursor" => {
                p.offset = v
                    .parse::<usize>()
                    .ok()
                    .filter(|o| *o <= MAX_TREE_NODES)
                    .ok_or_else(|| bad("a cursor from next_cursor".to_owned()))?;
            }
            _ => return Err(bad("unknown query parameter".to_owned())),
        }
    }
    Ok(p)
}

pub async fn tree(req: Request, env: Env, caller: Caller, root: String) -> Result<Response> {
    let p = match params(&req) {
        Ok(p) => p,
        Err((f, m)) => return errors::invalid(&f, m),
    };
    let mut walked: Vec<Walked> = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([root.clone()]);
    let mut frontier: Vec<(String, Option<String>)> = vec![(root.clone(), None)];
    let mut depth = 0u32;
    let mut truncated = false;
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for chunk in frontier.chunks(FAN_OUT) {
            let replies = join_all(
                chunk
                    .iter()
                    .map(|(id, _)| call(&env, &caller.org_id, id, &Op::Get)),
            )
            .await;
            for ((id, parent_id), reply) in chunk.iter().zip(replies) {
                let run = match reply? {
                    Ok(r) => Some(r.run),
                    Err(OpError::NotFound) if parent_id.is_none() => {
                        return errors::run_not_found();
                    }
                    Err(OpError::NotFound) => None,
                    Err(e) => return errors::op(e),
                };
                if let Some(run) = &run {
                    for sub in &run.state.sub_runs {
                        if depth >= p.max_depth || seen.len() >= MAX_TREE_NODES {
                            truncated = true;
                            break;
                        }
                        // A sub-run named twice (or a cycle) is walked once.
                        if seen.insert(sub.clone()) {
                            next.push((sub.clone(), Some(id.clone())));
                        }
                    }
                }
                walked.push(Walked {
                    id: id.clone(),
                    parent_id: parent_id.clone(),
                    depth,
                    run,
                });
            }
        }
        frontier = next;
        depth = depth.saturating_add(1);
    }

    let mut by_outcome: Map<String, Value> = Map::new();
    let mut by_status: Map<String, Value> = Map::new();
    for k in [
        "cancelled",
        "already_finished",
        "cancelling",
        "active",
        "missing",
    ] {
        by_outcome.insert(k.to_owned(), 0u64.into());
    }
    for k in StatusKind::ALL {
        by_status.insert(k.as_str().to_owned(), 0u64.into());
    }
    let mut children = ChildCounts::default();
    let mut latest_deadline: Option<u64> = None;
    let mut max_depth_seen = 0u32;
    let bump = |m: &mut Map<String, Value>, k: &str| {
        let n = m.get(k).and_then(Value::as_u64).unwrap_or(0);
        m.insert(k.to_owned(), (n + 1).into());
    };
    for w in &walked {
        max_depth_seen = max_depth_seen.max(w.depth);
        match &w.run {
            None => bump(&mut by_outcome, "missing"),
            Some(s) => {
                let st = &s.state;
                bump(&mut by_outcome, outcome(&st.status));
                bump(&mut by_status, st.status_kind().as_str());
                let c = &st.children;
                children.pending += c.pending;
                children.running += c.running;
                children.cancelling += c.cancelling;
                children.completed += c.completed;
                children.failed += c.failed;
                children.cancelled += c.cancelled;
                if let Some(d) = st.status.cancel_deadline() {
                    latest_deadline = Some(latest_deadline.map_or(d, |l| l.max(d)));
                }
            }
        }
    }
    let get = |k: &str| by_outcome.get(k).and_then(Value::as_u64).unwrap_or(0);
    let all_terminal = get("cancelling") == 0 && get("active") == 0;
    let page: Vec<Value> = walked
        .iter()
        .skip(p.offset)
        .take(p.limit)
        .map(node)
        .collect();
    let end = p.offset.saturating_add(p.limit);
    let next_cursor = (end < walked.len()).then(|| end.to_string());
    let mut counts = by_outcome.clone();
    counts.insert("total".to_owned(), walked.len().into());
    http::json(
        200,
        &json!({
            "root": root,
            "nodes": page,
            "next_cursor": next_cursor,
            "counts": counts,
            "by_status": by_status,
            "children": counts_with_total(&children),
            "all_terminal": all_terminal,
            "latest_deadline": latest_deadline.map(format_rfc3339),
            "depth": max_depth_seen,
            "truncated": truncated,
        }),
    )
}
