//! Target (c): path, id and `command_id` parsers.
//!
//! Input: one byte choosing the HTTP method, then text used as a path, an id, a `command_id`,
//! a tag and a timestamp. Checks:
//! - `ids::is_valid_id` / `is_valid_command_id` / `is_valid_tag` agree with the grammars written
//!   out again here (so a change to either side is caught), and an accepted id can never carry a
//!   path trick (`/`, `.`, `%`, NUL, non-ASCII);
//! - `dialects::route` answers every path, routes exactly the five contracts' shapes, hands the
//!   path segment through unchanged as the id, and is stable (the canonical path of what it
//!   routed routes to the same thing); `owns` implies a valid id with the kind's prefix;
//! - the RunObject's name for `(org, run)` splits back into the two;
//! - `parse_child_status` inverts the stored names; `parse_rfc3339` round-trips through
//!   `format_rfc3339`.

use runbrake_core::time::MAX_RFC3339_MILLIS;
use runbrake_core::{ChildStatus, Dialect, format_rfc3339, parse_rfc3339};
use worker::Method;

use crate::dialects::{Routed, owns, route};
use crate::ids;
use crate::run_object::{object_name, store};

fn reference_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn reference_command_id(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

fn reference_tag(s: &str) -> bool {
    (1..=64).contains(&s.len()) && !s.chars().any(char::is_control)
}

const METHODS: [Method; 5] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Delete,
    Method::Head,
];

/// The path a dialect route has for `id` (with or without `/cancel`).
fn canonical(d: Dialect, id: &str, cancel: bool) -> String {
    let base = match d {
        Dialect::RetabWorkflow => format!("/v1/workflows/runs/{id}"),
        Dialect::RetabWorkflowTest => format!("/v1/workflows/tests/runs/{id}"),
        Dialect::RetabExperiment => format!("/v1/workflows/experiments/runs/{id}"),
        Dialect::ExtendWorkflow => format!("/workflow_runs/{id}"),
        Dialect::Generic => format!("/v1/runs/{id}"),
    };
    if cancel {
        format!("{base}/cancel")
    } else {
        base
    }
}

fn check_route(method: &Method, path: &str) {
    let routed = route(method, path);
    let (d, id, cancel) = match &routed {
        Routed::Cancel(d, id) => (*d, id, true),
        Routed::Get(d, id) => (*d, id, false),
        Routed::MethodNotAllowed(..) | Routed::NotFound(_) => return,
    };
    assert!(!id.contains('/'), "routed id {id:?} holds a slash");
    assert_eq!(
        *method == Method::Post,
        cancel,
        "{method:?} routed as cancel={cancel}"
    );
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    assert!(
        segments.contains(&id.as_str()),
        "id {id:?} is not a segment of {path:?}"
    );
    // Stable: the canonical path of what was routed routes the same way.
    assert_eq!(
        route(method, &canonical(d, id, cancel)),
        routed,
        "route of {path:?}"
    );
    if owns(d, id) {
        assert!(ids::is_valid_id(id), "owns() an invalid id {id:?}");
        assert!(id.starts_with(ids::run_prefix(d.run_kind())));
    }
}

pub fn check_ids(data: &[u8]) {
    let [m, rest @ ..] = data else {
        return;
    };
    let method = &METHODS[usize::from(*m) % METHODS.len()];
    let text = String::from_utf8_lossy(rest);
    let s = text.as_ref();

    assert_eq!(ids::is_valid_id(s), reference_id(s), "is_valid_id({s:?})");
    assert_eq!(
        ids::is_valid_command_id(s),
        reference_command_id(s),
        "is_valid_command_id({s:?})"
    );
    assert_eq!(
        ids::is_valid_tag(s),
        reference_tag(s),
        "is_valid_tag({s:?})"
    );
    if ids::is_valid_id(s) {
        assert!(
            !s.bytes()
                .any(|b| matches!(b, b'/' | b'.' | b'%' | 0) || !b.is_ascii()),
            "a path trick passed as an id: {s:?}"
        );
    }

    // As a whole path, and as the id inside every contract's two routes.
    check_route(method, s);
    for d in Dialect::ALL {
        for cancel in [false, true] {
            check_route(method, &canonical(d, s, cancel));
        }
        check_route(&Method::Post, &canonical(d, s, true));
    }

    if ids::is_valid_id(s) {
        let name = object_name("org_fuzz", s);
        assert_eq!(
            name.split_once('/'),
            Some(("org_fuzz", s)),
            "object name {name:?}"
        );
    }
    if let Some(c) = store::parse_child_status(s) {
        assert!(ChildStatus::ALL.contains(&c));
        assert_eq!(
            serde_json::to_value(c)
                .ok()
                .as_ref()
                .and_then(|v| v.as_str()),
            Some(s)
        );
    }
    if let Ok(ms) = parse_rfc3339(s) {
        if ms <= MAX_RFC3339_MILLIS {
            let text = format_rfc3339(ms);
            assert_eq!(parse_rfc3339(&text), Ok(ms), "{s:?} → {ms} → {text:?}");
        }
    }
}
