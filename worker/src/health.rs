//! `/healthz`: the Worker answers; `/healthz/deep`: a Durable Object round trip that writes to
//! its SQLite storage, or a WebSocket to it (the realtime path) when asked to upgrade.

use serde::Serialize;
use worker::{Env, Request, Response, Result};

use crate::http;

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

pub fn shallow() -> Result<Response> {
    http::json(
        200,
        &Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

/// Forwarded to one well-known object, so the check exercises the same binding, storage and
/// WebSocket machinery as real runs without touching any run.
pub async fn deep(req: Request, env: &Env) -> Result<Response> {
    let stub = env.durable_object("RUNS")?.get_by_name("healthz")?;
    stub.fetch_with_request(req).await
}
