//! Response helpers and request-body reading shared by every route family.

use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::js_sys;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Headers, Request, Response, Result};

/// Headers every API response carries: run data is never cached (OWASP API8), content never
/// sniffed, never framed, never the source of a `Referer`, and nothing in it may load or run
/// anything if a browser is ever pointed at it (the dashboard's own page has its policy in
/// `web/public/_headers`).
pub fn api_headers(content_type: &str) -> Result<Headers> {
    let headers = Headers::new();
    headers.set("content-type", content_type)?;
    headers.set("cache-control", "no-store")?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("referrer-policy", "no-referrer")?;
    headers.set(
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'; sandbox",
    )?;
    headers.set("x-frame-options", "DENY")?;
    Ok(headers)
}

pub fn json<T: Serialize>(status: u16, body: &T) -> Result<Response> {
    json_as(status, body, "application/json")
}

pub fn json_as<T: Serialize>(status: u16, body: &T, content_type: &str) -> Result<Response> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    Ok(Response::ok(text)?
        .with_status(status)
        .with_headers(api_headers(content_type)?))
}

/// The body of a response from another object, read by the runtime in one piece. (workers-rs's
/// `Response::json` pulls the stream chunk by chunk through the Wasm boundary, which costs more
/// than the rest of a request.)
pub async fn response_text(res: Response) -> Result<String> {
    let raw: worker::web_sys::Response = res.into();
    let text = worker::wasm_bindgen_futures::JsFuture::from(raw.text()?).await?;
    text.as_string()
        .ok_or_else(|| worker::Error::RustError("response body is not text".to_owned()))
}

/// A JSON response from another object, decoded.
pub async fn response_json<T: DeserializeOwned>(res: Response) -> Result<T> {
    let text = response_text(res).await?;
    serde_json::from_str(&text).map_err(|e| worker::Error::RustError(format!("internal JSON: {e}")))
}

/// Whether an error is the runtime turning a request away because one Durable Object has too
/// many queued (its error carries `overloaded: true`).
pub fn is_overloaded(e: &worker::Error) -> bool {
    match e {
        worker::Error::UnknownJsError {
            original, message, ..
        } => {
            js_sys::Reflect::get(original, &JsValue::from_str("overloaded"))
                .is_ok_and(|v| v.is_truthy())
                || message.contains("is overloaded")
        }
        _ => false,
    }
}

/// A JSON document that is already text (no re-serialisation).
pub fn json_text(status: u16, text: &str) -> Result<Response> {
    Ok(Response::ok(text)?
        .with_status(status)
        .with_headers(api_headers("application/json")?))
}

/// The native API's error shape (RFC 9457 problem details).
#[derive(Serialize)]
pub struct Problem<'a> {
    pub r#type: String,
    pub title: &'a str,
    pub status: u16,
    pub code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

pub fn problem(status: u16, code: &str, detail: impl Into<String>) -> Result<Response> {
    problem_with(status, code, detail.into(), None, None)
}

pub fn problem_with(
    status: u16,
    code: &str,
    detail: String,
    field: Option<String>,
    extra: Option<serde_json::Value>,
) -> Result<Response> {
    let body = Problem {
        r#type: format!("https://runbrake.dev/problems/{code}"),
        title: title_for(status),
        status,
        code,
        detail: Some(detail),
        field,
    };
    let mut value =
        serde_json::to_value(&body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    if let (Some(serde_json::Value::Object(extra)), serde_json::Value::Object(map)) =
        (extra, &mut value)
    {
        map.extend(extra);
    }
    json_as(status, &value, "application/problem+json")
}

fn title_for(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        412 => "Precondition failed",
        413 => "Payload too large",
        414 => "URI too long",
        415 => "Unsupported media type",
        422 => "Unprocessable content",
        426 => "Upgrade required",
        429 => "Too many requests",
        431 => "Request header fields too large",
        500 => "Internal error",
        503 => "Unavailable",
        _ => "Error",
    }
}

pub fn not_found() -> Result<Response> {
    problem(404, "not_found", "No such route or resource")
}

/// 429 for a key over its rate limit, with the seconds to wait in `Retry-After`.
pub fn too_many_requests(retry_after_s: u64) -> Result<Response> {
    let mut res = problem_with(
        429,
        "rate_limited",
        "Too many requests with this API key; retry after the time in Retry-After".to_owned(),
        None,
        Some(serde_json::json!({ "retry_after_s": retry_after_s })),
    )?;
    res.headers_mut()
        .set("retry-after", &retry_after_s.to_string())?;
    Ok(res)
}

/// Longest URL the service reads (Cloudflare's limit; local `wrangler dev` allows more).
pub const MAX_URL_BYTES: usize = 16 * 1024;
/// Largest single request header, and all of them together (name and value bytes). Cloudflare
/// has allowed 16 KiB per header and 32 KiB in all; local `wrangler dev` passes far more, so the
/// service holds itself to those figures everywhere.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_HEADERS_TOTAL_BYTES: usize = 32 * 1024;

/// A request head over the limits: refused before anything reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    UrlTooLong,
    HeaderTooLarge(String),
    HeadersTooLarge,
}

impl HeadError {
    pub fn status(&self) -> u16 {
        match self {
            HeadError::UrlTooLong => 414,
            HeadError::HeaderTooLarge(_) | HeadError::HeadersTooLarge => 431,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            HeadError::UrlTooLong => "uri_too_long",
            HeadError::HeaderTooLarge(_) | HeadError::HeadersTooLarge => "headers_too_large",
        }
    }

    pub fn message(&self) -> String {
        match self {
            HeadError::UrlTooLong => format!("the URL exceeds {MAX_URL_BYTES} bytes"),
            HeadError::HeaderTooLarge(name) => {
                format!("the {name} header exceeds {MAX_HEADER_BYTES} bytes")
            }
            HeadError::HeadersTooLarge => {
                format!("the request headers exceed {MAX_HEADERS_TOTAL_BYTES} bytes in all")
            }
        }
    }
}

/// Checks a request head (URL length, each header, all headers) against the limits.
pub fn check_head<'a>(
    url_len: usize,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> std::result::Result<(), HeadError> {
    if url_len > MAX_URL_BYTES {
        return Err(HeadError::UrlTooLong);
    }
    let mut total = 0usize;
    for (name, value) in headers {
        let size = name.len() + value.len();
        if size > MAX_HEADER_BYTES {
            // Only the header's name is echoed, and only if it is a plain token.
            let shown = if name.len() <= 64 && name.bytes().all(|b| b.is_ascii_graphic()) {
                name.to_owned()
            } else {
                "a".to_owned()
            };
            return Err(HeadError::HeaderTooLarge(shown));
        }
        total += size;
        if total > MAX_HEADERS_TOTAL_BYTES {
            return Err(HeadError::HeadersTooLarge);
        }
    }
    Ok(())
}

/// [`check_head`] on a request.
pub fn request_head(req: &Request) -> std::result::Result<(), HeadError> {
    let pairs: Vec<(String, String)> = req.headers().entries().collect();
    check_head(
        req.inner().url().len(),
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

pub fn method_not_allowed(allow: &[&str]) -> Result<Response> {
    let mut res = problem(
        405,
        "method_not_allowed",
        "Method not allowed on this route",
    )?;
    res.headers_mut().set("allow", &allow.join(", "))?;
    Ok(res)
}

/// Why a body could not be read; each route family renders it in its own shape.
#[derive(Debug)]
pub enum BodyError {
    TooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    Malformed {
        message: String,
        field: Option<String>,
    },
}

impl BodyError {
    pub fn status(&self) -> u16 {
        match self {
            BodyError::TooLarge { .. } => 413,
            BodyError::UnsupportedMediaType => 415,
            BodyError::Malformed { .. } => 400,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BodyError::TooLarge { limit } => format!("request body exceeds {limit} bytes"),
            BodyError::UnsupportedMediaType => "send the body as application/json".to_owned(),
            BodyError::Malformed { message, .. } => message.clone(),
        }
    }

    pub fn field(&self) -> Option<String> {
        match self {
            BodyError::Malformed { field, .. } => field.clone(),
            BodyError::TooLarge { .. } | BodyError::UnsupportedMediaType => None,
        }
    }
}

/// Reads at most `limit` bytes. The platform accepts ~100 MB bodies, so only this protects us.
/// A declared length over the limit is refused unread; a body without one (chunked) is read
/// piece by piece and refused as soon as it passes the limit, never buffered whole first.
pub async fn read_body(req: &mut Request, limit: usize) -> std::result::Result<Vec<u8>, BodyError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|len| len.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let unreadable = |e: worker::Error| BodyError::Malformed {
        message: format!("could not read the body: {e}"),
        field: None,
    };
    if declared.is_some() || req.inner().body().is_none() {
        let bytes = req.bytes().await.map_err(unreadable)?;
        return if bytes.len() > limit {
            Err(BodyError::TooLarge { limit })
        } else {
            Ok(bytes)
        };
    }
    // The runtime's own reader, chunk by chunk: workers-rs's `ByteStream` costs about a
    // millisecond a body (a reader released, with an error built, on every poll).
    let Some(body) = req.inner().body() else {
        return Ok(Vec::new());
    };
    let reader: worker::web_sys::ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| unreadable(worker::Error::RustError("no body reader".to_owned())))?;
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| unreadable(e.into()))?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|e| unreadable(e.into()))?;
        if done.is_truthy() {
            break;
        }
        let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .map_err(|e| unreadable(e.into()))?;
        let value: js_sys::Uint8Array = value.dyn_into().map_err(|_| {
            unreadable(worker::Error::RustError(
                "body chunk is not bytes".to_owned(),
            ))
        })?;
        let len = usize::try_from(value.length()).unwrap_or(usize::MAX);
        if bytes.len().saturating_add(len) > limit {
            // Stop reading; the rest of the body is dropped with the request.
            let _ = reader.cancel();
            return Err(BodyError::TooLarge { limit });
        }
        let start = bytes.len();
        bytes.resize(start + len, 0);
        value.copy_to(&mut bytes[start..]);
    }
    Ok(bytes)
}

/// Parses a JSON body: empty means `{}` (the vendor SDKs send bodiless POSTs); a non-empty
/// body must be declared JSON.
pub async fn json_body<T: DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> std::result::Result<T, BodyError> {
    let bytes = read_body(req, limit).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| BodyError::Malformed {
        message: "body is not UTF-8".to_owned(),
        field: None,
    })?;
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        let ct = req
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default();
        let media = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json" && !media.ends_with("+json") {
            return Err(BodyError::UnsupportedMediaType);
        }
    }
    parse_json(if trimmed.is_empty() || trimmed == "null" {
        "{}"
    } else {
        trimmed
    })
}

pub fn parse_json<T: DeserializeOwned>(text: &str) -> std::result::Result<T, BodyError> {
    // serde would read a struct from a JSON array, positionally: bodies are objects, by name.
    if !text.trim_start().starts_with('{') {
        return Err(BodyError::Malformed {
            message: "the body must be a JSON object".to_owned(),
            field: None,
        });
    }
    // serde_json's recursion limit (128) bounds nesting, so deep input cannot exhaust the stack.
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde names unknown fields itself; otherwise the path is the field.
        let field = quoted_field(&message, "unknown field `")
            .or_else(|| quoted_field(&message, "missing field `").map(|f| join(&path, &f)))
            .or_else(|| (path != "." && path != "?").then_some(path));
        BodyError::Malformed { message, field }
    })?;
    // One JSON value and nothing after it: `{} x` is not a body.
    de.end().map_err(|e| BodyError::Malformed {
        message: e.to_string(),
        field: None,
    })?;
    Ok(value)
}

/// The field serde names in messages like "unknown field `x`" / "missing field `x`".
fn quoted_field(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}

/// `parent.child` for a field missing inside `parent` (the path is "." at the top level).
fn join(path: &str, field: &str) -> String {
    if path == "." {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_within_the_limits_pass() {
        let big = "v".repeat(MAX_HEADER_BYTES - 10);
        assert_eq!(
            check_head(
                100,
                [("authorization", "Bearer x"), ("x-a", big.as_str())].into_iter()
            ),
            Ok(())
        );
    }

    #[test]
    fn oversized_heads_are_refused_naming_only_safe_header_names() {
        assert_eq!(
            check_head(MAX_URL_BYTES + 1, std::iter::empty()),
            Err(HeadError::UrlTooLong)
        );
        let huge = "v".repeat(MAX_HEADER_BYTES + 1);
        assert_eq!(
            check_head(10, [("x-pad", huge.as_str())].into_iter()),
            Err(HeadError::HeaderTooLarge("x-pad".to_owned()))
        );
        let odd = "n".repeat(100);
        assert_eq!(
            check_head(10, [(odd.as_str(), huge.as_str())].into_iter()),
            Err(HeadError::HeaderTooLarge("a".to_owned()))
        );
        let third = "v".repeat(MAX_HEADERS_TOTAL_BYTES / 3 + 1);
        let many = [
            ("a", third.as_str()),
            ("b", third.as_str()),
            ("c", third.as_str()),
        ];
        assert_eq!(
            check_head(10, many.into_iter()),
            Err(HeadError::HeadersTooLarge)
        );
        assert_eq!(HeadError::UrlTooLong.status(), 414);
        assert_eq!(HeadError::HeadersTooLarge.status(), 431);
    }

    #[test]
    fn parse_errors_name_no_field_when_serde_has_none() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        struct B {
            #[allow(dead_code)]
            a: Option<u8>,
        }
        let Err(BodyError::Malformed { field, .. }) = parse_json::<B>("{") else {
            panic!("an unfinished object parsed");
        };
        assert_eq!(field, None);
        let Err(BodyError::Malformed { field, .. }) = parse_json::<B>(r#"{"b":1}"#) else {
            panic!("an unknown field parsed");
        };
        assert_eq!(field.as_deref(), Some("b"));
    }

    #[test]
    fn nothing_may_follow_the_body() {
        #[derive(serde::Deserialize, Debug)]
        struct B {
            #[allow(dead_code)]
            a: Option<u8>,
        }
        assert!(parse_json::<B>(r#"{"a":1}"#).is_ok());
        assert!(parse_json::<B>("{}  \n").is_ok());
        for bad in ["{} x", "{}{}", r#"{"a":1} {"a":2}"#, "{} null"] {
            assert!(
                matches!(parse_json::<B>(bad), Err(BodyError::Malformed { .. })),
                "{bad:?} parsed"
            );
        }
    }
}
