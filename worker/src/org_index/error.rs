//! The error shape of every OrgIndex route: `{"error": "<code>", "message": "..."}`.

/// A refusal with its HTTP status. Built by the pure parsers; turned into a response in `mod.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    /// The field or query parameter a 400 is about (`"status"`, `"summaries[2].seq"`).
    pub field: Option<String>,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            allow: None,
            field: None,
        }
    }

    /// A 400; a message of the form `"<field>: ..."` also names its field.
    pub fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        let field = message
            .split_once(": ")
            .map(|(field, _)| field)
            .filter(|f| !f.is_empty() && !f.contains(char::is_whitespace))
            .map(str::to_owned);
        ApiError {
            field,
            ..Self::new(400, "invalid", message)
        }
    }

    pub fn with_field(self, field: &str) -> Self {
        ApiError {
            field: Some(field.to_owned()),
            ..self
        }
    }

    /// A refusal with a code of its own (the bulk routes tell the Worker which problem it is).
    pub fn coded(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self::new(status, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    pub fn unknown_key() -> Self {
        Self::new(404, "unknown_key", "no live key has this hash")
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "too_large", message)
    }

    pub fn upgrade_required() -> Self {
        Self::new(
            426,
            "upgrade_required",
            "this route needs `Upgrade: websocket`",
        )
    }

    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(405, "method_not_allowed", format!("allowed: {allow}"))
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    pub fn body(&self) -> String {
        let mut body = serde_json::json!({ "error": self.code, "message": self.message });
        if let Some(field) = &self.field {
            body["field"] = field.as_str().into();
        }
        body.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_and_message() {
        let e = ApiError::invalid("limit must be 1..=200");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.body(),
            r#"{"error":"invalid","message":"limit must be 1..=200"}"#
        );
        let e = e.with_field("limit");
        assert_eq!(
            e.body(),
            r#"{"error":"invalid","field":"limit","message":"limit must be 1..=200"}"#
        );
        let e = ApiError::invalid("summaries[1].status: must be one of x");
        assert_eq!(e.field.as_deref(), Some("summaries[1].status"));
        assert_eq!(ApiError::invalid("no field here: x").field, None);
        let e = ApiError::method_not_allowed("GET, POST");
        assert_eq!((e.status, e.allow), (405, Some("GET, POST")));
    }
}
