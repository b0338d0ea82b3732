//! The runbrake Worker: parse → ask the core → persist → reply.
//!
//! Requests that match a built dashboard asset never reach this code (see `[assets]` in
//! `wrangler.toml`); everything else is routed here.
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
mod run_info;
mod run_object;

pub use bulk::BulkJob;
pub use org_index::OrgIndex;
pub use run_object::RunObject;

use worker::{Context, Env, Method, Request, Response, Result, event};

/// The OpenAPI 3.1 document of every route, served as written.
const OPENAPI: &str = include_str!("../openapi.json");

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    match (req.method(), path.as_str()) {
        (Method::Get, "/healthz") => health::shallow(),
        (Method::Get, "/healthz/deep") => health::deep(req, &env).await,
        (_, "/healthz" | "/healthz/deep") => http::method_not_allowed(&["GET"]),
        (Method::Get, "/openapi.json") => http::json_text(200, OPENAPI),
        (_, "/openapi.json") => http::method_not_allowed(&["GET"]),
        (_, p) if p.starts_with("/api/") => api::handle(req, &env, p).await,
        (_, p)
            if p.starts_with("/v1/")
                || p == "/workflow_runs"
                || p.starts_with("/workflow_runs/") =>
        {
            dialects::handle(req, &env, p).await
        }
        _ => http::not_found(),
    }
}
