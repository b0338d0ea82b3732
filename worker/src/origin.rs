//! Which browser origins may use the API: this service itself (the dashboard it serves) and
//! those listed in `ALLOWED_ORIGINS` (comma-separated, exact `scheme://host[:port]`; `*` and
//! `null` are never honoured).
//!
//! Two checks use it. WebSocket upgrades (Cross-Site WebSocket Hijacking): a browser always
//! sends `Origin`, which must be allowed; non-browser clients send none and are judged by their
//! key alone. CORS: a preflight from an allowed origin is answered with that exact origin in
//! `Access-Control-Allow-Origin` (never `*`, never with credentials: the API authenticates by
//! header, never by cookie); any other origin gets a 403 without CORS headers, so a browser
//! refuses to let its script call the API.

use worker::{Env, Request, Result};

/// The origin this request reached us at (`scheme://host[:port]`).
fn own_origin(req: &Request) -> Result<String> {
    let url = req.url()?;
    Ok(
        format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
            + &url.port().map(|p| format!(":{p}")).unwrap_or_default(),
    )
}

/// Whether `origin` is this service or listed in `ALLOWED_ORIGINS`.
pub fn is_allowed(origin: &str, req: &Request, env: &Env) -> Result<bool> {
    if origin.eq_ignore_ascii_case(&own_origin(req)?) {
        return Ok(true);
    }
    let listed = crate::vars::get(env, "ALLOWED_ORIGINS").unwrap_or_default();
    Ok(listed_allows(&listed, origin))
}

/// Whether a comma-separated allow-list names `origin` exactly.
pub fn listed_allows(listed: &str, origin: &str) -> bool {
    listed
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty() && *o != "*" && !o.eq_ignore_ascii_case("null"))
        .any(|o| o.eq_ignore_ascii_case(origin))
}

/// WebSocket upgrades: no `Origin` (not a browser) or an allowed one.
pub fn allowed(req: &Request, env: &Env) -> Result<bool> {
    match req.headers().get("origin")? {
        None => Ok(true),
        Some(origin) => is_allowed(&origin, req, env),
    }
}

#[cfg(test)]
mod tests {
    use super::listed_allows;

    #[test]
    fn only_exact_listed_origins() {
        let list = "https://dash.example, http://localhost:5173";
        assert!(listed_allows(list, "https://dash.example"));
        assert!(listed_allows(list, "http://localhost:5173"));
        assert!(!listed_allows(list, "https://dash.example.evil.test"));
        assert!(!listed_allows(list, "http://localhost:5174"));
        assert!(!listed_allows(list, "null"));
        assert!(!listed_allows("*", "https://anything.example"));
        assert!(!listed_allows("null", "null"));
        assert!(!listed_allows("", ""));
    }
}
