//! The executor protocol: claim a lease, heartbeat (learning of a cancel and its deadline),
//! wait/resume, complete, fail, acknowledge a cancel, report on children.

use runbrake_core::{
    AckCancelArgs, AddChildrenArgs, ChildStatus, ClaimArgs, Command, CompleteArgs, FailArgs,
    HeartbeatArgs, NewChild, RejectArgs, ResumeArgs, UpdateChildArgs, WaitArgs, WaitReason,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use worker::{Env, Request, Response, Result};

use super::runs::{MAX_REASON_CHARS, call};
use super::{CREATE_BODY, SMALL_BODY, errors, view};
use crate::auth::Caller;
use crate::http::{self, json_body};
use crate::ids;
use crate::run_object::protocol::Op;

const DEFAULT_LEASE_MS: u64 = 30_000;

pub fn is_action(action: &str) -> bool {
    matches!(
        action,
        "enqueue"
            | "claim"
            | "heartbeat"
            | "wait"
            | "resume"
            | "complete"
            | "fail"
            | "ack-cancel"
            | "children"
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimBody {
    executor: String,
    #[serde(default)]
    lease_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeaseBody {
    lease_id: String,
    #[serde(default)]
    lease_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitBody {
    #[serde(default)]
    lease_id: Option<String>,
    reason: WaitReason,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteBody {
    #[serde(default)]
    lease_id: Option<String>,
    #[serde(default)]
    output: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FailBody {
    #[serde(default)]
    lease_id: Option<String>,
    message: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectBody {
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildItem {
    id: String,
    #[serde(default)]
    status: Option<ChildStatus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddChildrenBody {
    items: Vec<ChildItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateChildBody {
    to: ChildStatus,
    #[serde(default)]
    lease_id: Option<String>,
}

async fn body<T: DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> std::result::Result<T, Result<Response>> {
    json_body(req, limit).await.map_err(|e| errors::body(&e))
}

fn lease_ok(field: &str, id: Option<&str>) -> std::result::Result<(), Result<Response>> {
    match id {
        Some(id) if !ids::is_valid_id(id) => Err(errors::invalid(field, "must be a lease id")),
        Some(_) | None => Ok(()),
    }
}

fn text_ok(field: &str, v: Option<&str>, max: usize) -> std::result::Result<(), Result<Response>> {
    match v {
        Some(t) if t.chars().count() > max => {
            Err(errors::invalid(field, format!("at most {max} characters")))
        }
        Some(_) | None => Ok(()),
    }
}

/// Builds the command for an executor action from its body.
async fn command_for(
    req: &mut Request,
    action: &str,
) -> std::result::Result<Command, Result<Response>> {
    Ok(match action {
        "enqueue" => {
            let _: Empty = body(req, SMALL_BODY).await?;
            Command::Enqueue
        }
        "claim" | "resume" => {
            let b: ClaimBody = body(req, SMALL_BODY).await?;
            if !ids::is_valid_id(&b.executor) {
                return Err(errors::invalid(
                    "executor",
                    "1–128 characters of A–Z, a–z, 0–9, _ or -",
                ));
            }
            let lease_id = ids::new_lease_id();
            let lease_ms = b.lease_ms.unwrap_or(DEFAULT_LEASE_MS);
            if action == "claim" {
                Command::Claim(ClaimArgs {
                    executor: b.executor,
                    lease_id,
                    lease_ms,
                })
            } else {
                Command::Resume(ResumeArgs {
                    executor: b.executor,
                    lease_id,
                    lease_ms,
                })
            }
        }
        "heartbeat" => {
            let b: LeaseBody = body(req, SMALL_BODY).await?;
            lease_ok("lease_id", Some(&b.lease_id))?;
            Command::Heartbeat(HeartbeatArgs {
                lease_id: b.lease_id,
                lease_ms: b.lease_ms,
            })
        }
        "ack-cancel" => {
            let b: LeaseBody = body(req, SMALL_BODY).await?;
            lease_ok("lease_id", Some(&b.lease_id))?;
            Command::AckCancel(AckCancelArgs {
                lease_id: b.lease_id,
            })
        }
        "wait" => {
            let b: WaitBody = body(req, SMALL_BODY).await?;
            lease_ok("lease_id", b.lease_id.as_deref())?;
            Command::Wait(WaitArgs {
                lease_id: b.lease_id,
                reason: b.reason,
            })
        }
        "complete" => {
            let b: CompleteBody = body(req, SMALL_BODY).await?;
            lease_ok("lease_id", b.lease_id.as_deref())?;
            Command::Complete(CompleteArgs {
                lease_id: b.lease_id,
                output: b.output,
            })
        }
        "fail" => {
            let b: FailBody = body(req, SMALL_BODY).await?;
            lease_ok("lease_id", b.lease_id.as_deref())?;
            text_ok("message", Some(&b.message), 2_000)?;
            text_ok("code", b.code.as_deref(), 128)?;
            Command::Fail(FailArgs {
                lease_id: b.lease_id,
                message: b.message,
                code: b.code,
            })
        }
        "children" => {
            let b: AddChildrenBody = body(req, CREATE_BODY).await?;
            if let Some(bad) = b.items.iter().find(|i| !ids::is_valid_id(&i.id)) {
                return Err(errors::invalid(
                    "items",
                    format!("{:?} is not a child id", bad.id),
                ));
            }
            Command::AddChildren(AddChildrenArgs {
                items: b
                    .items
                    .into_iter()
                    .map(|i| NewChild {
                        id: i.id,
                        status: i.status.unwrap_or(ChildStatus::Pending),
                    })
                    .collect(),
            })
        }
        _ => return Err(http::not_found()),
    })
}

async fn run_command(env: &Env, caller: &Caller, id: &str, command: Command) -> Result<Response> {
    // A claim or resume answers with the lease it minted.
    let lease = if let Command::Claim(ClaimArgs { lease_id, .. })
    | Command::Resume(ResumeArgs { lease_id, .. }) = &command
    {
        Some(lease_id.clone())
    } else {
        None
    };
    match call(env, &caller.org_id, id, &Op::Command { command }).await? {
        Ok(reply) => {
            let mut body = json!({ "reply": reply.reply, "run": view::run(&reply.run) });
            if let (Some(lease_id), Some(l)) = (lease, reply.run.state.status.lease())
                && l.id == lease_id
            {
                body["lease"] = json!({
                    "id": l.id,
                    "executor": l.executor,
                    "expires_at": runbrake_core::format_rfc3339(l.expires_at),
                    "expires_at_ms": l.expires_at,
                });
            }
            http::json(200, &body)
        }
        Err(e) => errors::op(e),
    }
}

pub async fn act(
    mut req: Request,
    env: Env,
    caller: Caller,
    id: String,
    action: String,
) -> Result<Response> {
    match command_for(&mut req, &action).await {
        Ok(command) => run_command(&env, &caller, &id, command).await,
        Err(res) => res,
    }
}

pub async fn update_child(
    mut req: Request,
    env: Env,
    caller: Caller,
    id: String,
    child_id: String,
) -> Result<Response> {
    if !ids::is_valid_id(&child_id) {
        return errors::invalid("child_id", "must be a child id");
    }
    let b: UpdateChildBody = match body(&mut req, SMALL_BODY).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = lease_ok("lease_id", b.lease_id.as_deref()) {
        return res;
    }
    // `current` is filled in by the run object from its children table.
    let command = Command::UpdateChild(UpdateChildArgs {
        child_id,
        current: ChildStatus::Pending,
        to: b.to,
        lease_id: b.lease_id,
    });
    run_command(&env, &caller, &id, command).await
}

/// A reviewer's rejection of a run waiting on human review (a user key's action).
pub async fn reject(mut req: Request, env: Env, caller: Caller, id: String) -> Result<Response> {
    let b: RejectBody = match body(&mut req, SMALL_BODY).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    if let Err(res) = text_ok("note", b.note.as_deref(), MAX_REASON_CHARS) {
        return res;
    }
    run_command(
        &env,
        &caller,
        &id,
        Command::Reject(RejectArgs { note: b.note }),
    )
    .await
}
