//! How the native API answers what went wrong (problem+json, RFC 9457).

use worker::{Response, Result};

use crate::auth::AuthError;
use crate::http::{self, BodyError};
use crate::run_object::protocol::OpError;

pub fn auth(e: AuthError) -> Result<Response> {
    if let AuthError::RateLimited { retry_after_s } = e {
        return http::too_many_requests(retry_after_s);
    }
    let mut res = http::problem(401, "unauthorized", e.message())?;
    res.headers_mut()
        .set("www-authenticate", "Bearer realm=\"runbrake\"")?;
    Ok(res)
}

pub fn forbidden(what: &str) -> Result<Response> {
    http::problem(403, "forbidden", what)
}

pub fn body(e: &BodyError) -> Result<Response> {
    let code = match e {
        BodyError::TooLarge { .. } => "payload_too_large",
        BodyError::UnsupportedMediaType => "unsupported_media_type",
        BodyError::Malformed { .. } => "invalid_body",
    };
    http::problem_with(e.status(), code, e.message(), e.field(), None)
}

pub fn invalid(field: &str, message: impl Into<String>) -> Result<Response> {
    http::problem_with(
        400,
        "invalid_argument",
        message.into(),
        Some(field.to_owned()),
        None,
    )
}

pub fn run_not_found() -> Result<Response> {
    http::problem(
        404,
        "run_not_found",
        "No run with this id in your organisation",
    )
}

/// HTTP status for a core refusal.
pub fn command_status(code: &str) -> u16 {
    match code {
        "invalid_argument" => 400,
        "idempotency_conflict" | "too_many_commands" => 422,
        "corrupt" => 500,
        _ => 409,
    }
}

pub fn op(e: OpError) -> Result<Response> {
    match e {
        OpError::NotFound => run_not_found(),
        OpError::Refused {
            detail,
            code,
            message,
            run,
        } => {
            let field = detail
                .get("field")
                .and_then(|f| f.as_str())
                .map(str::to_owned);
            let extra = serde_json::json!({
                "error": detail,
                "run": run.map(|r| super::view::run(&r)),
            });
            http::problem_with(command_status(&code), &code, message, field, Some(extra))
        }
        OpError::ChildExists { id } => http::problem_with(
            409,
            "child_exists",
            format!("this run already has a child {id:?}; nothing was written"),
            Some("items".to_owned()),
            None,
        ),
        OpError::Internal { message } => {
            worker::console_error!("internal: {message}");
            http::problem(
                500,
                "internal",
                "Internal error; the request changed nothing or can be retried with the same command_id",
            )
        }
    }
}
