//! Run summaries fed by the run objects' outboxes: validation before anything is written.

use runbrake_core::{RunKind, StatusKind};
use serde_json::Value;

use super::error::ApiError;
use super::fields::{check_text, object, opt_str, req_str, req_u64};

/// Summaries one `POST /runs` may carry.
pub const MAX_BATCH: usize = 500;
/// Serialized size of one summary.
pub const MAX_SUMMARY_BYTES: usize = 32 * 1024;
pub const MAX_ID_LEN: usize = 256;
pub const MAX_NAME_LEN: usize = 1024;
pub const MAX_TAGS: usize = 64;
pub const MAX_TAG_LEN: usize = 128;

/// A validated summary: the indexed columns plus the whole object as JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub id: String,
    pub seq: u64,
    pub kind: String,
    pub status: StatusKind,
    pub name: Option<String>,
    pub batch_id: Option<String>,
    /// Distinct, sorted.
    pub tags: Vec<String>,
    pub created_at: u64,
    pub updated_at: u64,
    /// The object as received (re-serialized compactly).
    pub json: String,
}

impl RunSummary {
    /// What `q` matches the name against: lowercased here, so the match is case-insensitive
    /// beyond ASCII too (SQLite's `LIKE` folds ASCII only).
    pub fn name_lc(&self) -> Option<String> {
        self.name.as_deref().map(str::to_lowercase)
    }

    /// The canonical tag list stored beside the row, to tell whether the tag rows must change.
    pub fn tags_json(&self) -> String {
        serde_json::to_string(&self.tags).unwrap_or_else(|_| "[]".to_owned())
    }
}

pub fn status_from_str(s: &str) -> Option<StatusKind> {
    StatusKind::ALL.into_iter().find(|k| k.as_str() == s)
}

pub fn kind_from_str(s: &str) -> Option<RunKind> {
    serde_json::from_value(Value::String(s.to_owned())).ok()
}

pub const STATUS_NAMES: &str =
    "pending, queued, running, waiting, cancelling, completed, failed, rejected, cancelled";
pub const KIND_NAMES: &str = "workflow, workflow_test, experiment, extend_workflow, generic";

/// Parses `{"summaries": [...]}`; any invalid summary refuses the whole batch.
pub fn parse_batch(body: &str) -> Result<Vec<RunSummary>, ApiError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| ApiError::invalid(format!("body: {e}")))?;
    let mut top = object(value, "body").map_err(ApiError::invalid)?;
    let items = match top.remove("summaries") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::invalid("summaries: must be an array")),
        None => return Err(ApiError::invalid("summaries: required")),
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "summaries: at most {MAX_BATCH} per request"
        )));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| validate(v).map_err(|m| ApiError::invalid(format!("summaries[{i}].{m}"))))
        .collect()
}

/// Validates one summary; the error names the field (`"status: must be one of ..."`).
pub fn validate(value: Value) -> Result<RunSummary, String> {
    let obj = object(value, "(summary)")?;
    let id = req_str(&obj, "id")?;
    check_text("id", id, MAX_ID_LEN, false)?;
    if id.chars().any(char::is_whitespace) {
        return Err("id: must not contain whitespace".into());
    }
    let seq = req_u64(&obj, "seq")?;
    let kind = req_str(&obj, "kind")?;
    if kind_from_str(kind).is_none() {
        return Err(format!("kind: must be one of {KIND_NAMES}"));
    }
    let status = req_str(&obj, "status")?;
    let status =
        status_from_str(status).ok_or_else(|| format!("status: must be one of {STATUS_NAMES}"))?;
    let created_at = req_u64(&obj, "created_at")?;
    let updated_at = req_u64(&obj, "updated_at")?;
    let name = opt_str(&obj, "name")?;
    if let Some(name) = name {
        check_text("name", name, MAX_NAME_LEN, true)?;
    }
    let batch_id = opt_str(&obj, "batch_id")?;
    if let Some(batch_id) = batch_id {
        check_text("batch_id", batch_id, MAX_ID_LEN, false)?;
    }
    let mut tags = Vec::new();
    match obj.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > MAX_TAGS {
                return Err(format!("tags: at most {MAX_TAGS}"));
            }
            for (i, item) in items.iter().enumerate() {
                let Value::String(tag) = item else {
                    return Err(format!("tags[{i}]: must be a string"));
                };
                check_text(&format!("tags[{i}]"), tag, MAX_TAG_LEN, false)?;
                tags.push(tag.clone());
            }
        }
        Some(_) => return Err("tags: must be an array of strings".into()),
    }
    tags.sort();
    tags.dedup();
    let summary = RunSummary {
        id: id.to_owned(),
        seq,
        kind: kind.to_owned(),
        status,
        name: name.map(str::to_owned),
        batch_id: batch_id.map(str::to_owned),
        tags,
        created_at,
        updated_at,
        json: String::new(),
    };
    let json = serde_json::to_string(&Value::Object(obj)).map_err(|e| format!("(summary): {e}"))?;
    if json.len() > MAX_SUMMARY_BYTES {
        return Err(format!(
            "(summary): at most {MAX_SUMMARY_BYTES} bytes of JSON"
        ));
    }
    Ok(RunSummary { json, ..summary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "id": "run_1", "seq": 3, "kind": "workflow", "status": "running",
            "created_at": 1000, "updated_at": 2000
        })
    }

    fn with(field: &str, v: Value) -> Value {
        let mut b = base();
        b[field] = v;
        b
    }

    fn without(field: &str) -> Value {
        let mut b = base();
        b.as_object_mut().map(|o| o.remove(field));
        b
    }

    #[test]
    fn minimal_summary_is_kept_verbatim() {
        let s = validate(with("extra", json!({"nested": [1, 2]}))).expect("valid");
        assert_eq!(s.id, "run_1");
        assert_eq!(s.seq, 3);
        assert_eq!(s.status, StatusKind::Running);
        assert_eq!((s.name, s.batch_id), (None, None));
        assert!(s.tags.is_empty());
        let back: Value = serde_json::from_str(&s.json).expect("json");
        assert_eq!(back["extra"], json!({"nested": [1, 2]}));
        assert_eq!(back["kind"], "workflow");
    }

    #[test]
    fn optional_fields() {
        let mut v = base();
        v["name"] = json!("Nightly ÉTL");
        v["batch_id"] = json!("b1");
        v["tags"] = json!(["z", "a", "z"]);
        let s = validate(v).expect("valid");
        assert_eq!(s.name_lc().as_deref(), Some("nightly étl"));
        assert_eq!(s.batch_id.as_deref(), Some("b1"));
        assert_eq!(s.tags, vec!["a", "z"]);
        assert_eq!(s.tags_json(), r#"["a","z"]"#);
        assert!(validate(with("name", Value::Null)).is_ok());
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (without("id"), "id: required"),
            (with("id", json!("")), "id: must not be empty"),
            (with("id", json!("a b")), "id: must not contain whitespace"),
            (with("seq", json!(-1)), "seq: must be an integer"),
            (with("seq", json!("1")), "seq: must be an integer"),
            (with("kind", json!("nope")), "kind: must be one of"),
            (with("status", json!("done")), "status: must be one of"),
            (without("created_at"), "created_at: required"),
            (
                with("updated_at", json!(1.5)),
                "updated_at: must be an integer",
            ),
            (with("name", json!(5)), "name: must be a string"),
            (with("batch_id", json!("")), "batch_id: must not be empty"),
            (with("tags", json!("a")), "tags: must be an array"),
            (with("tags", json!(["a", 1])), "tags[1]: must be a string"),
            (
                with("tags", json!(vec!["t"; MAX_TAGS + 1])),
                "tags: at most",
            ),
            (
                with("big", json!("x".repeat(MAX_SUMMARY_BYTES))),
                "(summary): at most",
            ),
            (json!([1]), "(summary): expected a JSON object"),
        ];
        for (value, want) in cases {
            let err = validate(value).expect_err(want);
            assert!(err.starts_with(want), "{err} does not start with {want}");
        }
    }

    #[test]
    fn batch_is_all_or_nothing() {
        let body = json!({"summaries": [base(), with("status", json!("bogus"))]}).to_string();
        let err = parse_batch(&body).expect_err("invalid");
        assert_eq!(err.status, 400);
        assert!(
            err.message.starts_with("summaries[1].status:"),
            "{}",
            err.message
        );
        assert_eq!(parse_batch(r#"{"summaries": []}"#).map(|v| v.len()), Ok(0));
        assert!(parse_batch("{").is_err());
        assert!(
            parse_batch("{}")
                .expect_err("missing")
                .message
                .starts_with("summaries: required")
        );
        let many = json!({"summaries": vec![base(); MAX_BATCH + 1]}).to_string();
        assert!(parse_batch(&many).is_err());
    }

    #[test]
    fn kinds_and_statuses() {
        for k in [
            "workflow",
            "workflow_test",
            "experiment",
            "extend_workflow",
            "generic",
        ] {
            assert!(kind_from_str(k).is_some(), "{k}");
        }
        assert!(kind_from_str("Workflow").is_none());
        for s in StatusKind::ALL {
            assert_eq!(status_from_str(s.as_str()), Some(s));
        }
        assert_eq!(status_from_str("Running"), None);
    }
}
