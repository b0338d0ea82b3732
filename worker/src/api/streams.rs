//! Live streams through the Worker: a run's events (`/api/runs/{id}/watch`), its executor
//! signal (`/api/runs/{id}/executor`) and the organisation's run list (`/api/watch`).
//!
//! Authenticated on the handshake, by a key header or, for browsers (which cannot set headers
//! on WebSockets), a short-lived ticket from `POST /api/tickets`; foreign origins are refused
//! before the upgrade. The socket itself is accepted by the Durable Object (hibernatable).

use worker::{Env, Request, Response, Result, Stub};

use super::errors;
use crate::auth::{self, Caller, Role};
use crate::{http, run_object};

/// The checks every upgrade passes before any object is reached.
async fn caller(req: &Request, env: &Env) -> std::result::Result<Caller, Result<Response>> {
    let upgrade = req
        .headers()
        .get("upgrade")
        .ok()
        .flatten()
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if !upgrade {
        return Err(http::problem(
            426,
            "upgrade_required",
            "Open this route as a WebSocket",
        ));
    }
    match crate::origin::allowed(req, env) {
        Ok(true) => {}
        Ok(false) => {
            return Err(http::problem(
                403,
                "forbidden_origin",
                "WebSocket connections from this origin are not allowed",
            ));
        }
        Err(e) => return Err(Err(e)),
    }
    let url = req.url().map_err(Err)?;
    let ticket = url
        .query_pairs()
        .find(|(k, _)| k == "ticket")
        .map(|(_, v)| v.into_owned());
    match ticket {
        Some(t) => auth::verify_ticket(env, &t, crate::clock::now())
            .ok_or_else(|| errors::auth(auth::AuthError::Invalid)),
        None => auth::authenticate(req.headers(), env)
            .await
            .map_err(errors::auth),
    }
}

/// Hands the upgrade to an object, passing on only the query parameters it understands.
async fn forward(req: &Request, stub: Stub, path: &str, keep: &[&str]) -> Result<Response> {
    let mut target = worker::Url::parse(&format!("https://object.internal{path}"))
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    for (k, v) in req.url()?.query_pairs() {
        if keep.contains(&k.as_ref()) {
            target.query_pairs_mut().append_pair(&k, &v);
        }
    }
    let headers = worker::Headers::new();
    headers.set("upgrade", "websocket")?;
    let mut init = worker::RequestInit::new();
    init.with_headers(headers);
    stub.fetch_with_request(Request::new_with_init(target.as_str(), &init)?)
        .await
}

pub async fn run(req: Request, env: &Env, id: String, executor: bool) -> Result<Response> {
    let caller = match caller(&req, env).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    if executor && caller.role != Role::Executor {
        return errors::forbidden("The executor stream needs an executor key");
    }
    let stub = env
        .durable_object("RUNS")?
        .get_by_name(&run_object::object_name(&caller.org_id, &id))?;
    let (path, keep): (&str, &[&str]) = if executor {
        ("/executor", &["lease_id"])
    } else {
        ("/watch", &["after_seq"])
    };
    let res = forward(&req, stub, path, keep).await?;
    if res.status_code() == 404 {
        return errors::run_not_found();
    }
    Ok(res)
}

pub async fn org(req: Request, env: &Env) -> Result<Response> {
    let caller = match caller(&req, env).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let stub = env.durable_object("ORGS")?.get_by_name(&caller.org_id)?;
    let mut res = forward(&req, stub, "/watch", &["after_seq"]).await?;
    let status = res.status_code();
    if status == 101 {
        return Ok(res);
    }
    // The index refuses in its own `{error, message, field}` shape; the client gets a problem.
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    let text = |k: &str| body.get(k).and_then(serde_json::Value::as_str);
    let message = text("message")
        .unwrap_or("the stream was refused")
        .to_owned();
    match (status, text("error")) {
        (400, _) => http::problem_with(
            400,
            "invalid_query",
            message,
            text("field").map(str::to_owned),
            None,
        ),
        (429, _) => crate::stream_limits::full(
            crate::stream_limits::MAX_ORG_WATCHERS,
            "watchers of one organisation",
        ),
        _ => {
            worker::console_error!("org stream: {status}: {message}");
            http::problem(
                500,
                "internal",
                "Internal error; the request can be retried",
            )
        }
    }
}
