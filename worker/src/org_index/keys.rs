//! Request bodies of the organisation and API-key routes.

use serde_json::Value;

use super::error::ApiError;
use super::fields::{check_ident, check_text, object, opt_str, req_str, req_u64};

pub const MAX_ORG_ID_LEN: usize = 128;
pub const MAX_ORG_NAME_LEN: usize = 200;
pub const MAX_KEY_ID_LEN: usize = 128;
pub const MAX_LABEL_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReq {
    pub org_id: String,
    pub name: String,
    pub now: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Executor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Executor => "executor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub key_id: String,
    /// Lowercase hex SHA-256 of the key.
    pub hash: String,
    pub role: Role,
    pub label: Option<String>,
    pub now: u64,
}

fn parse_object(body: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| ApiError::invalid(format!("body: {e}")))?;
    object(value, "body").map_err(ApiError::invalid)
}

pub fn parse_init(body: &str) -> Result<InitReq, ApiError> {
    let o = parse_object(body)?;
    let run = || -> Result<InitReq, String> {
        let org_id = req_str(&o, "org_id")?;
        check_ident("org_id", org_id, MAX_ORG_ID_LEN)?;
        let name = req_str(&o, "name")?;
        check_text("name", name, MAX_ORG_NAME_LEN, true)?;
        Ok(InitReq {
            org_id: org_id.to_owned(),
            name: name.to_owned(),
            now: req_u64(&o, "now")?,
        })
    };
    run().map_err(ApiError::invalid)
}

/// 64 hex digits, returned lowercase.
pub fn check_hash(value: &str) -> Result<String, String> {
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err("hash: must be 64 hex digits (SHA-256)".into())
    }
}

pub fn check_key_id(value: &str) -> Result<(), String> {
    check_ident("key_id", value, MAX_KEY_ID_LEN)
}

pub fn parse_new_key(body: &str) -> Result<NewKey, ApiError> {
    let o = parse_object(body)?;
    let run = || -> Result<NewKey, String> {
        let key_id = req_str(&o, "key_id")?;
        check_key_id(key_id)?;
        let hash = check_hash(req_str(&o, "hash")?)?;
        let role = match req_str(&o, "role")? {
            "user" => Role::User,
            "executor" => Role::Executor,
            _ => return Err("role: must be user or executor".into()),
        };
        let label = opt_str(&o, "label")?;
        if let Some(label) = label {
            check_text("label", label, MAX_LABEL_LEN, true)?;
        }
        Ok(NewKey {
            key_id: key_id.to_owned(),
            hash,
            role,
            label: label.map(str::to_owned),
            now: req_u64(&o, "now")?,
        })
    };
    run().map_err(ApiError::invalid)
}

/// `{now}` of a revoke.
pub fn parse_now(body: &str) -> Result<u64, ApiError> {
    let o = parse_object(body)?;
    req_u64(&o, "now").map_err(ApiError::invalid)
}

/// `{hash}` of an auth lookup.
pub fn parse_auth(body: &str) -> Result<String, ApiError> {
    let o = parse_object(body)?;
    req_str(&o, "hash")
        .and_then(check_hash)
        .map_err(ApiError::invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

    #[test]
    fn init() {
        let r = parse_init(r#"{"org_id":"org_1","name":"Acme","now":5}"#).expect("ok");
        assert_eq!(
            r,
            InitReq {
                org_id: "org_1".into(),
                name: "Acme".into(),
                now: 5
            }
        );
        for (body, want) in [
            (r#"{"name":"A","now":5}"#, "org_id: required"),
            (r#"{"org_id":"o 1","name":"A","now":5}"#, "org_id:"),
            (
                r#"{"org_id":"o","name":1,"now":5}"#,
                "name: must be a string",
            ),
            (r#"{"org_id":"o","name":"A","now":-5}"#, "now:"),
            (r#"[]"#, "body:"),
            (r#"{"#, "body:"),
        ] {
            let e = parse_init(body).expect_err(want);
            assert!(e.message.starts_with(want), "{} !~ {want}", e.message);
        }
    }

    #[test]
    fn new_key() {
        let body = format!(
            r#"{{"key_id":"key_1","hash":"{HASH}","role":"executor","label":"ci","now":7}}"#
        );
        let k = parse_new_key(&body).expect("ok");
        assert_eq!(k.hash, HASH.to_ascii_lowercase());
        assert_eq!(
            (k.role, k.label.as_deref(), k.now),
            (Role::Executor, Some("ci"), 7)
        );
        let body = format!(r#"{{"key_id":"key_1","hash":"{HASH}","role":"user","now":7}}"#);
        assert_eq!(parse_new_key(&body).expect("ok").label, None);
        for (body, want) in [
            (
                r#"{"key_id":"k","hash":"abc","role":"user","now":1}"#.to_owned(),
                "hash:",
            ),
            (
                format!(r#"{{"key_id":"k","hash":"{HASH}","role":"admin","now":1}}"#),
                "role:",
            ),
            (
                format!(r#"{{"key_id":"k/1","hash":"{HASH}","role":"user","now":1}}"#),
                "key_id:",
            ),
            (
                format!(r#"{{"key_id":"k","hash":"{HASH}","role":"user"}}"#),
                "now: required",
            ),
        ] {
            let e = parse_new_key(&body).expect_err(want);
            assert!(e.message.starts_with(want), "{} !~ {want}", e.message);
        }
    }

    #[test]
    fn revoke_and_auth() {
        assert_eq!(parse_now(r#"{"now":9}"#), Ok(9));
        assert!(parse_now(r#"{}"#).is_err());
        assert_eq!(
            parse_auth(&format!(r#"{{"hash":"{HASH}"}}"#)),
            Ok(HASH.to_ascii_lowercase())
        );
        assert!(parse_auth(r#"{"hash":"zz"}"#).is_err());
    }
}
