//! Cross-origin checks for WebSocket upgrades (Cross-Site WebSocket Hijacking): a browser
//! always sends `Origin`; it must be this service itself or listed in `ALLOWED_ORIGINS`
//! (comma-separated). Non-browser clients send no Origin and are judged by their key alone.

use worker::{Env, Request, Result};

pub fn allowed(req: &Request, env: &Env) -> Result<bool> {
    let Some(origin) = req.headers().get("origin")? else {
        return Ok(true);
    };
    let url = req.url()?;
    let own = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
        + &url.port().map(|p| format!(":{p}")).unwrap_or_default();
    if origin.eq_ignore_ascii_case(&own) {
        return Ok(true);
    }
    let listed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    Ok(listed
        .split(',')
        .map(str::trim)
        .any(|o| !o.is_empty() && o.eq_ignore_ascii_case(&origin)))
}
