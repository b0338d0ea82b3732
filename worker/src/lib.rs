//! The runbrake Worker: parse → ask the core → persist → reply.
//!
//! Requests that match a built dashboard asset never reach this code (see `[assets]` in
//! `wrangler.toml`); everything else is routed here. Before any route runs, every request passes
//! the same gates: its head within the limits (`http::check_head`: 414/431), and CORS preflights
//! answered for allowed origins only (`origin`). Per-key rate limits are counted where keys are
//! checked (`auth::authenticate`, `rate_limit`). Every refusal is in the route's own error shape.
#![deny(unsafe_code)]

mod api;
mod auth;
mod bulk;
mod clock;
mod dialects;
mod health;
mod http;
mod ids;
mod org_index;
mod origin;
mod rate_limit;
mod run_info;
mod run_object;
mod storage;
mod stream_limits;
mod vars;

pub use bulk::BulkJob;
pub use org_index::OrgIndex;
pub use run_object::RunObject;

use worker::{Context, Env, Method, Request, Response, Result, event};

/// The OpenAPI 3.1 document of every route, served as written.
const OPENAPI: &str = include_str!("../openapi.json");

/// Request headers a cross-origin script may send (what the API and the contracts read).
const CORS_ALLOW_HEADERS: &str =
    "authorization, api-key, content-type, idempotency-key, x-extend-api-version";
/// Response headers a cross-origin script may read besides the simple ones.
const CORS_EXPOSE_HEADERS: &str = "location, retry-after, www-authenticate, x-request-id";
/// How long a browser may cache a preflight answer (seconds; bounded, browsers cap it anyway).
const CORS_MAX_AGE_S: &str = "600";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    let method = req.method();
    if let Err(e) = http::request_head(&req) {
        return refuse(&method, &path, e.status(), e.code(), e.message(), None);
    }
    let origin = req.headers().get("origin")?;
    if method == Method::Options
        && let Some(origin) = &origin
        && req.headers().has("access-control-request-method")?
    {
        return preflight(&req, &env, &method, &path, origin);
    }
    // A cross-origin call from an allowed origin may read the answer; nobody else's script may.
    let cors_origin = match origin {
        Some(o) if origin::is_allowed(&o, &req, &env)? => Some(o),
        Some(_) | None => None,
    };
    let mut res = match route(req, &env, &method, &path).await {
        Ok(res) => res,
        Err(e) => failed(&method, &path, &e)?,
    };
    if let Some(origin) = cors_origin
        && res.status_code() != 101
    {
        // Replies passed on from a Durable Object may have immutable headers; those carry no
        // run data (health probes), so they simply stay without CORS headers.
        let headers = res.headers_mut();
        let _ = headers
            .set("access-control-allow-origin", &origin)
            .and_then(|()| headers.append("vary", "Origin"))
            .and_then(|()| headers.set("access-control-expose-headers", CORS_EXPOSE_HEADERS));
    }
    Ok(res)
}

async fn route(req: Request, env: &Env, method: &Method, path: &str) -> Result<Response> {
    match (method, path) {
        (Method::Get, "/healthz") => health::shallow(),
        (Method::Get, "/healthz/deep") => health::deep(req, env).await,
        (_, "/healthz" | "/healthz/deep") => http::method_not_allowed(&["GET"]),
        (Method::Get, "/openapi.json") => http::json_text(200, OPENAPI),
        (_, "/openapi.json") => http::method_not_allowed(&["GET"]),
        (_, p) if p.starts_with("/api/") => api::handle(req, env, p).await,
        (_, p) if is_dialect(p) => dialects::handle(req, env, p).await,
        _ => http::not_found(),
    }
}

fn is_dialect(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/workflow_runs" || path.starts_with("/workflow_runs/")
}

/// A route that failed with an error instead of an answer, in its family's shape: 503 with
/// `Retry-After` when a Durable Object turned the request away as overloaded (too many requests
/// queued for one run: retrying shortly is right), 500 otherwise. Neither carries the error's
/// text (logged instead).
fn failed(method: &Method, path: &str, e: &worker::Error) -> Result<Response> {
    if http::is_overloaded(e) {
        return refuse(
            method,
            path,
            503,
            "overloaded",
            "This run is receiving more requests than it can queue; retry after the time in Retry-After"
                .to_owned(),
            Some(1),
        );
    }
    worker::console_error!("{method:?} {path}: {e}");
    refuse(
        method,
        path,
        500,
        "internal",
        "Internal error; the request changed nothing or can be retried with the same command_id"
            .to_owned(),
        None,
    )
}

/// A request refused before routing, in the shape of the route family its path belongs to.
fn refuse(
    method: &Method,
    path: &str,
    status: u16,
    code: &str,
    message: String,
    retry_after_s: Option<u64>,
) -> Result<Response> {
    if is_dialect(path) {
        return dialects::gate(method, path, status, message, retry_after_s);
    }
    let mut res = http::problem(status, code, message)?;
    if let Some(s) = retry_after_s {
        res.headers_mut().set("retry-after", &s.to_string())?;
    }
    Ok(res)
}

/// A CORS preflight: the exact origin and the methods and headers the API uses for an allowed
/// origin; a 403 with no CORS headers for any other.
fn preflight(
    req: &Request,
    env: &Env,
    method: &Method,
    path: &str,
    origin: &str,
) -> Result<Response> {
    if !origin::is_allowed(origin, req, env)? {
        let mut res = refuse(
            method,
            path,
            403,
            "forbidden_origin",
            "Cross-origin requests from this origin are not allowed".to_owned(),
            None,
        )?;
        res.headers_mut().append("vary", "Origin")?;
        return Ok(res);
    }
    let headers = http::api_headers("text/plain")?;
    headers.set("access-control-allow-origin", origin)?;
    headers.set("access-control-allow-methods", "GET, POST")?;
    headers.set("access-control-allow-headers", CORS_ALLOW_HEADERS)?;
    headers.set("access-control-max-age", CORS_MAX_AGE_S)?;
    headers.set("vary", "Origin")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}
