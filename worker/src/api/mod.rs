//! The native API under `/api`: JSON in, JSON out, problem+json errors.

mod admin;
pub(crate) mod bulk;
mod errors;
pub(crate) mod executor;
pub(crate) mod runs;
mod streams;
mod tree;
pub mod view;

use worker::{Env, Method, Request, Response, Result};

use crate::auth::{self, Caller, Role};
use crate::ids;

/// Bodies other than run creation (which may carry 10,000 children) stay small.
pub const SMALL_BODY: usize = 64 * 1024;
pub const CREATE_BODY: usize = 1024 * 1024;

pub async fn handle(req: Request, env: &Env, path: &str) -> Result<Response> {
    let segments: Vec<&str> = path.trim_start_matches("/api/").split('/').collect();
    let method = req.method();
    match segments.as_slice() {
        ["admin", "test-seed"] => bulk::seed(req, env).await,
        ["admin", rest @ ..] => admin::handle(req, env, rest).await,
        ["me"] => match method {
            Method::Get => with_caller(req, env, None, |_, _, caller| async move {
                crate::http::json(200, &caller)
            })
            .await,
            _ => crate::http::method_not_allowed(&["GET"]),
        },
        ["tickets"] => match method {
            Method::Post => with_caller(req, env, None, |_, env, caller| async move {
                let now = crate::clock::now();
                match auth::issue_ticket(&env, &caller, now) {
                    Some((ticket, exp)) => crate::http::json(
                        201,
                        &serde_json::json!({ "ticket": ticket, "expires_at": runbrake_core::format_rfc3339(exp) }),
                    ),
                    None => crate::http::problem(503, "tickets_unavailable", "No ticket secret is configured"),
                }
            })
            .await,
            _ => crate::http::method_not_allowed(&["POST"]),
        },
        ["watch"] => match method {
            Method::Get => streams::org(req, env).await,
            _ => crate::http::method_not_allowed(&["GET"]),
        },
        ["runs"] => match method {
            Method::Post => with_caller(req, env, Some(Role::User), runs::create).await,
            Method::Get => with_caller(req, env, None, runs::list).await,
            _ => crate::http::method_not_allowed(&["GET", "POST"]),
        },
        ["bulk-cancels", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            bulk_route(req, env, rest).await
        }
        ["runs", id, rest @ ..] => {
            if !ids::is_valid_id(id) {
                // Same answer as an unknown run: malformed ids reveal nothing either.
                return errors::run_not_found();
            }
            let id = (*id).to_owned();
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            run_route(req, env, id, rest).await
        }
        _ => crate::http::not_found(),
    }
}

async fn run_route(req: Request, env: &Env, id: String, rest: Vec<String>) -> Result<Response> {
    let method = req.method();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let get = matches!(method, Method::Get);
    let post = matches!(method, Method::Post);
    match rest.as_slice() {
        [] if get => with_caller(req, env, None, move |r, e, c| runs::get(r, e, c, id)).await,
        ["events"] if get => {
            with_caller(req, env, None, move |r, e, c| runs::events(r, e, c, id)).await
        }
        ["tree"] if get => {
            with_caller(req, env, None, move |r, e, c| tree::tree(r, e, c, id)).await
        }
        ["children"] if get => {
            with_caller(req, env, None, move |r, e, c| runs::children(r, e, c, id)).await
        }
        ["cancel"] if post => {
            with_caller(req, env, Some(Role::User), move |r, e, c| {
                runs::cancel(r, e, c, id)
            })
            .await
        }
        ["cancellations", command_id] if get => {
            let command_id = (*command_id).to_owned();
            with_caller(req, env, None, move |r, e, c| {
                runs::receipt(r, e, c, id, command_id)
            })
            .await
        }
        ["reject"] if post => {
            with_caller(req, env, Some(Role::User), move |r, e, c| {
                executor::reject(r, e, c, id)
            })
            .await
        }
        ["watch" | "executor"] if get => streams::run(req, env, id, rest[0] == "executor").await,
        [action] if post && executor::is_action(action) => {
            let action = (*action).to_owned();
            with_caller(req, env, Some(Role::Executor), move |r, e, c| {
                executor::act(r, e, c, id, action)
            })
            .await
        }
        ["children", child_id] if post => {
            let child_id = (*child_id).to_owned();
            with_caller(req, env, Some(Role::Executor), move |r, e, c| {
                executor::update_child(r, e, c, id, child_id)
            })
            .await
        }
        []
        | [
            "events" | "tree" | "cancellations" | "watch" | "executor",
            ..,
        ] => crate::http::method_not_allowed(&["GET"]),
        ["children"] => crate::http::method_not_allowed(&["GET", "POST"]),
        ["cancel" | "reject"] | ["children", _] => crate::http::method_not_allowed(&["POST"]),
        [action] if executor::is_action(action) => crate::http::method_not_allowed(&["POST"]),
        _ => crate::http::not_found(),
    }
}

/// `/api/bulk-cancels…`: user keys only.
async fn bulk_route(req: Request, env: &Env, rest: Vec<String>) -> Result<Response> {
    let method = req.method();
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let user = Some(Role::User);
    match (rest.as_slice(), method) {
        ([], Method::Get) => with_caller(req, env, user, bulk::list).await,
        ([], Method::Post) => with_caller(req, env, user, bulk::start).await,
        (["dry-run"], Method::Post) => with_caller(req, env, user, bulk::dry_run).await,
        ([job, tail @ ..], method) if *job != "dry-run" && ids::is_valid_id(job) => {
            let job = (*job).to_owned();
            match (tail, method) {
                ([], Method::Get) => {
                    with_caller(req, env, user, move |r, e, c| bulk::get(r, e, c, job)).await
                }
                (["abort"], Method::Post) => {
                    with_caller(req, env, user, move |r, e, c| bulk::abort(r, e, c, job)).await
                }
                (["items"], Method::Get) => {
                    with_caller(req, env, user, move |r, e, c| bulk::items(r, e, c, job)).await
                }
                ([], _) | (["items"], _) => crate::http::method_not_allowed(&["GET"]),
                (["abort"], _) => crate::http::method_not_allowed(&["POST"]),
                _ => crate::http::not_found(),
            }
        }
        ([], _) => crate::http::method_not_allowed(&["GET", "POST"]),
        (["dry-run"], _) => crate::http::method_not_allowed(&["POST"]),
        // Same answer as an unknown job: a malformed id reveals nothing either.
        ([_, ..], _) => crate::http::problem(404, "job_not_found", "No such bulk cancel job"),
    }
}

/// Authenticates, checks the role (a key of the wrong role gets 403), then runs `f`.
async fn with_caller<F, Fut>(req: Request, env: &Env, role: Option<Role>, f: F) -> Result<Response>
where
    F: FnOnce(Request, Env, Caller) -> Fut,
    Fut: std::future::Future<Output = Result<Response>>,
{
    if has_query_key(&req) {
        return errors::auth(auth::AuthError::Invalid).and_then(|mut r| {
            r.headers_mut()
                .set("x-runbrake-hint", "API keys are never accepted in URLs")?;
            Ok(r)
        });
    }
    let caller = match auth::authenticate(req.headers(), env).await {
        Ok(c) => c,
        Err(e) => return errors::auth(e),
    };
    if let Some(role) = role
        && caller.role != role
    {
        return errors::forbidden(match role {
            Role::User => {
                "This route needs a user key; executor keys only move runs through their lifecycle"
            }
            Role::Executor => "This route needs an executor key",
        });
    }
    f(req, env.clone(), caller).await
}

/// Keys in query strings end up in logs and browser history: refuse them outright, under any
/// of the usual parameter names or any name at all if the value is shaped like a key.
fn has_query_key(req: &Request) -> bool {
    req.url().is_ok_and(|u| {
        u.query_pairs().any(|(k, v)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "api_key" | "apikey" | "api-key" | "key" | "token" | "access_token"
            ) || auth::org_of_key(v.trim()).is_some()
        })
    })
}
