//! Field access on JSON objects with errors that name the field.

use serde_json::{Map, Value};

/// The largest integer a JavaScript number (and so a SQL value through the DO API) holds exactly.
pub const MAX_SAFE_INT: u64 = 9_007_199_254_740_991;

pub fn object(value: Value, what: &str) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(format!("{what}: expected a JSON object")),
    }
}

pub fn req_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<&'a str, String> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{field}: must be a string")),
        None => Err(format!("{field}: required")),
    }
}

/// Absent and `null` are both "not given".
pub fn opt_str<'a>(obj: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, String> {
    match obj.get(field) {
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(format!("{field}: must be a string or null")),
    }
}

/// A non-negative integer that survives the trip through JavaScript numbers.
pub fn req_u64(obj: &Map<String, Value>, field: &str) -> Result<u64, String> {
    match obj.get(field) {
        Some(v) => match v.as_u64() {
            Some(n) if n <= MAX_SAFE_INT => Ok(n),
            _ => Err(format!("{field}: must be an integer in 0..={MAX_SAFE_INT}")),
        },
        None => Err(format!("{field}: required")),
    }
}

/// 1..=`max` characters, none of them control characters.
pub fn check_text(field: &str, value: &str, max: usize, allow_empty: bool) -> Result<(), String> {
    if !allow_empty && value.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("{field}: at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: must not contain control characters"));
    }
    Ok(())
}

/// 1..=`max` characters from `[A-Za-z0-9_.:-]`.
pub fn check_ident(field: &str, value: &str, max: usize) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{field}: 1..={max} characters from [A-Za-z0-9_.:-]"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        object(v, "body").expect("object")
    }

    #[test]
    fn strings_and_numbers() {
        let o = obj(
            json!({"a": "x", "n": 5, "neg": -1, "big": 9_007_199_254_740_992_u64, "f": 1.5, "z": null}),
        );
        assert_eq!(req_str(&o, "a"), Ok("x"));
        assert_eq!(req_str(&o, "n"), Err("n: must be a string".into()));
        assert_eq!(req_str(&o, "q"), Err("q: required".into()));
        assert_eq!(opt_str(&o, "z"), Ok(None));
        assert_eq!(opt_str(&o, "q"), Ok(None));
        assert!(opt_str(&o, "n").is_err());
        assert_eq!(req_u64(&o, "n"), Ok(5));
        assert!(req_u64(&o, "neg").is_err());
        assert!(req_u64(&o, "big").is_err());
        assert!(req_u64(&o, "f").is_err());
        assert!(object(json!([1]), "body").is_err());
    }

    #[test]
    fn text_and_idents() {
        assert!(check_text("name", "", 10, true).is_ok());
        assert!(check_text("name", "", 10, false).is_err());
        assert!(check_text("name", "héllo wörld", 11, false).is_ok());
        assert!(check_text("name", "a\nb", 10, false).is_err());
        assert!(check_text("name", "abcdef", 5, false).is_err());
        assert!(check_ident("key_id", "key_AZaz09.-:", 32).is_ok());
        assert!(check_ident("key_id", "key id", 32).is_err());
        assert!(check_ident("key_id", "", 32).is_err());
        assert!(check_ident("key_id", "abc", 2).is_err());
    }
}
