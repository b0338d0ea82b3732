//! Target (a): request bodies of every route, through the Worker's own parsers and validators,
//! then (for what they accept) the core's decision and every renderer of the result.
//!
//! Input: one selector byte (route), one byte choosing the declared `Content-Type` (dialects),
//! then the body. The native API's `json_body` (worker/src/http.rs) reads a `Request`, which only
//! exists inside workerd; [`native_text`] is its byte handling (UTF-8, blank or `null` = `{}`)
//! and the rest is the Worker's code: `http::parse_json`, the body types, `validate_create`,
//! `check_text`, `bulk::selection`, the dialects' `parse_cancel_body` / `parse_empty_body` /
//! `check_extend_version`, and the RunObject's `Op` parser.
//!
//! Invariants beyond "no panic": an accepted create becomes a run whose log folds to its
//! state; an accepted cancel decides on a run of every status without breaking
//! [`super::decide_checked`]; a dialect's accepted `command_id` matches the grammar and its
//! refusals render as 422 (Retab) or 400 (Extend, generic) JSON with the offset of a JSON error
//! inside the body; a parsed `Op` serializes back to JSON that parses to the same `Op`.

use runbrake_core::{
    By, CancelArgs, CancelOutcome, Command, Dialect, Reply, RunState, Source, fold,
};
use serde_json::Value;

use super::{T0, decide_checked, fixtures};
use crate::api::bulk::{DryRunBody, StartBody, check_reason, selection};
use crate::api::executor::{
    AddChildrenBody, ClaimBody, CompleteBody, Empty, FailBody, LeaseBody, RejectBody,
    UpdateChildBody, WaitBody,
};
use crate::api::runs::{CancelBody, CreateBody, MAX_REASON_CHARS, check_text, validate_create};
use crate::auth::{Caller, Role};
use crate::dialects::{
    self, Answer, Ctx, Failure, check_extend_version, parse_empty_body, parse_json_body, retab,
};
use crate::http::{BodyError, parse_json};
use crate::ids;
use crate::run_info::RunInfo;
use crate::run_object::protocol::{Op, OpError, OpReply, Snapshot};

/// `http::json_body` after the body is read: UTF-8, and blank or `null` parse as `{}`.
fn native_text(bytes: &[u8]) -> Result<&str, BodyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| BodyError::Malformed {
        message: "body is not UTF-8".to_owned(),
        field: None,
    })?;
    let trimmed = text.trim();
    Ok(if trimmed.is_empty() || trimmed == "null" {
        "{}"
    } else {
        trimmed
    })
}

fn native<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let parsed = native_text(bytes).and_then(parse_json::<T>);
    match parsed {
        Ok(v) => Some(v),
        Err(e) => {
            // Every refusal is a 4xx with a message (rendered as problem+json).
            assert!(
                (400..500).contains(&e.status()),
                "body error status {}",
                e.status()
            );
            assert!(!e.message().is_empty(), "body error without a message");
            None
        }
    }
}

fn caller() -> Caller {
    Caller {
        org_id: "org_fuzz".to_owned(),
        key_id: "key_fuzz".to_owned(),
        role: Role::User,
    }
}

fn ctx() -> Ctx {
    Ctx {
        request_id: "req_fuzz".to_owned(),
        origin: "http://127.0.0.1:8787".to_owned(),
    }
}

const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/problem+json"),
    Some("text/plain"),
    Some(""),
    Some("APPLICATION/JSON ;x=1"),
    Some("multipart/form-data; boundary=x"),
];

/// Every renderer of a run: the native view and each dialect's read.
fn render_all(snap: &Snapshot) {
    let v = crate::api::view::run(snap);
    serde_json::to_string(&v).expect("native view serializes");
    for d in Dialect::ALL {
        let a = dialects::read_answer(d, snap, &ctx());
        assert_eq!(a.status, 200);
        serde_json::to_string(&a.body).expect("dialect view serializes");
    }
}

fn snapshot(state: RunState, info: RunInfo) -> Snapshot {
    Snapshot {
        state,
        info,
        now: T0 + 5_000,
    }
}

/// The create route: body → `validate_create` → the core's `create` → the stored run.
fn create(bytes: &[u8]) {
    let Some(body) = native::<CreateBody>(bytes) else {
        return;
    };
    let Ok((info, args, names)) = validate_create(body, &caller()) else {
        return;
    };
    assert!(ids::is_valid_id(&args.id), "minted run id {}", args.id);
    for (id, _) in &names {
        assert!(ids::is_valid_id(id));
    }
    // The Worker → RunObject request round-trips.
    let op = Op::Create {
        info: Box::new(info.clone()),
        args: args.clone(),
        child_names: names,
        cancel: None,
    };
    op_round_trip(&op);
    let Ok((state, d)) = runbrake_core::create(&args, T0) else {
        return;
    };
    assert_eq!(
        fold(&d.events).as_ref(),
        Ok(&state),
        "created run does not fold"
    );
    let snap = snapshot(state.clone(), info);
    render_all(&snap);
    // And a cancel of the new run, for every dialect's policy.
    for d in Dialect::ALL {
        let mut a = CancelArgs::new(By {
            source: d.source(),
            actor: None,
        });
        a.policy = d.policy();
        if let Some(next) = decide_checked(&state, &Command::Cancel(a), T0 + 10) {
            render_all(&snapshot(next, snap.info.clone()));
        }
    }
}

/// The native cancel route: body → checks → `CancelArgs` (as `api::runs::cancel` builds them)
/// → the core on a run of every status.
fn cancel(bytes: &[u8]) {
    let Some(body) = native::<CancelBody>(bytes) else {
        return;
    };
    if let Some(id) = &body.command_id
        && !ids::is_valid_command_id(id)
    {
        return;
    }
    if check_text("reason", body.reason.as_deref(), MAX_REASON_CHARS).is_err() {
        return;
    }
    let source = match body.source {
        None | Some(Source::Api) => Source::Api,
        Some(Source::Dashboard) => Source::Dashboard,
        Some(_) => return,
    };
    let mut args = CancelArgs::new(By {
        source,
        actor: Some("key_fuzz".to_owned()),
    });
    args.command_id = body.command_id;
    args.reason = body.reason;
    args.grace_ms = body.grace_ms;
    args.if_status_in = body.if_status_in;
    args.if_version = body.if_version;
    let cmd = Command::Cancel(args);
    op_round_trip(&Op::Command {
        command: cmd.clone(),
    });
    for f in fixtures() {
        let Ok(d) = runbrake_core::decide(&f.state, &cmd, T0 + 10) else {
            decide_checked(&f.state, &cmd, T0 + 10);
            continue;
        };
        let next = decide_checked(&f.state, &cmd, T0 + 10).expect("decided Ok");
        let Reply::Cancel(c) = &d.reply else {
            panic!("a cancel answered {:?}", d.reply)
        };
        let status = crate::api::runs::cancel_status(&c.outcome);
        assert!(matches!(status, 200 | 409 | 412), "cancel status {status}");
        let snap = snapshot(next, RunInfo::default());
        render_all(&snap);
        for dialect in Dialect::ALL {
            let a = dialects::cancel_answer(dialect, &c.outcome, &snap, &ctx());
            serde_json::to_string(&a.body).expect("cancel answer serializes");
        }
    }
}

/// Bodies the executor protocol and the bulk routes parse.
fn executor(sel: u8, bytes: &[u8]) {
    match sel % 9 {
        0 => drop(native::<Empty>(bytes)),
        1 => drop(native::<ClaimBody>(bytes)),
        2 => drop(native::<LeaseBody>(bytes)),
        3 => drop(native::<WaitBody>(bytes)),
        4 => drop(native::<CompleteBody>(bytes)),
        5 => drop(native::<FailBody>(bytes)),
        6 => drop(native::<RejectBody>(bytes)),
        7 => drop(native::<AddChildrenBody>(bytes)),
        _ => drop(native::<UpdateChildBody>(bytes)),
    }
}

fn bulk(sel: u8, bytes: &[u8]) {
    if sel % 2 == 1 {
        drop(native::<StartBody>(bytes));
        return;
    }
    let Some(body) = native::<DryRunBody>(bytes) else {
        return;
    };
    let _ = check_reason(body.reason.as_deref());
    if let Ok((source, echo)) = selection(body.selection) {
        serde_json::to_string(&source).expect("selection serializes");
        serde_json::to_string(&echo).expect("selection echo serializes");
    }
}

/// Where in the body a `json_invalid` refusal may point: a character offset into the text, or
/// for a body that is not UTF-8, the byte where the valid prefix ends.
fn offset_limit(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.chars().count() + 1,
        Err(e) => e.valid_up_to(),
    }
}

/// A dialect's refusal renders in its shape and status.
fn refused(d: Dialect, invalid: dialects::Invalid, limit: usize) {
    if invalid.kind == "json_invalid" {
        let offset = invalid
            .loc
            .get(1)
            .and_then(Value::as_u64)
            .expect("json_invalid offset");
        assert!(
            offset as usize <= limit,
            "offset {offset} past the body ({limit})"
        );
    }
    let a: Answer = dialects::failure(d, &Failure::Invalid(invalid), &ctx());
    let want = match d {
        Dialect::RetabWorkflow | Dialect::RetabWorkflowTest | Dialect::RetabExperiment => 422,
        Dialect::ExtendWorkflow | Dialect::Generic => 400,
    };
    assert_eq!(a.status, want, "{d:?} refusal status");
    serde_json::to_string(&a.body).expect("refusal serializes");
}

/// The five dialects' cancel bodies (and 003's version header, taken from the body's text).
fn dialect(sel: u8, ct: Option<&str>, bytes: &[u8]) {
    let chars = offset_limit(bytes);
    let d = Dialect::ALL[usize::from(sel) % 5];
    match d {
        Dialect::RetabWorkflow => match retab::parse_cancel_body(bytes, ct) {
            Ok(Some(id)) => assert!(ids::is_valid_command_id(&id), "accepted {id:?}"),
            Ok(None) => {}
            Err(i) => refused(d, i, chars),
        },
        Dialect::RetabWorkflowTest
        | Dialect::RetabExperiment
        | Dialect::ExtendWorkflow
        | Dialect::Generic => {
            if let Err(i) = parse_empty_body(bytes, ct) {
                refused(d, i, chars);
            }
        }
    }
    if d == Dialect::ExtendWorkflow {
        let header = std::str::from_utf8(bytes).ok();
        match check_extend_version(header) {
            Ok(()) => assert!(
                header.is_none_or(|h| h.trim() == dialects::extend::API_VERSION),
                "accepted version {header:?}"
            ),
            Err(Failure::Invalid(i)) => refused(d, i, chars),
            Err(other) => panic!("version check failed with {other:?}"),
        }
    }
    // The JSON-body parser itself, for any media type.
    if let Ok(Some(v)) = parse_json_body(bytes, ct) {
        serde_json::to_string(&v).expect("parsed body serializes");
    }
}

fn op_round_trip(op: &Op) {
    let json = serde_json::to_string(op).expect("op serializes");
    let back: Op = serde_json::from_str(&json).expect("op parses back");
    assert_eq!(
        serde_json::to_string(&back).expect("op serializes"),
        json,
        "op round trip"
    );
}

/// The RunObject's parser of the Worker's requests, and the Worker's of the object's replies.
fn protocol(sel: u8, bytes: &[u8]) {
    match sel % 3 {
        0 => {
            let Ok(op) = serde_json::from_slice::<Op>(bytes) else {
                return;
            };
            op_round_trip(&op);
            if let Op::Command { command } = &op {
                if matches!(command, Command::Create(_)) {
                    return;
                }
                for f in fixtures().iter().step_by(7) {
                    decide_checked(&f.state, command, T0 + 10);
                }
            }
        }
        1 => {
            // Parsed only: the renderers take states the core made, which a reply from the
            // object always holds (the fixtures and the decisions above render them all).
            if let Ok(r) = serde_json::from_slice::<OpReply>(bytes) {
                serde_json::to_string(&r).expect("reply serializes");
            }
        }
        _ => {
            if let Ok(e) = serde_json::from_slice::<OpError>(bytes) {
                let s = e.status();
                assert!(matches!(s, 404 | 409 | 500));
            }
        }
    }
}

pub fn check_body(data: &[u8]) {
    let [route, ct, bytes @ ..] = data else {
        return;
    };
    let ct = CONTENT_TYPES[usize::from(*ct) % CONTENT_TYPES.len()];
    match route % 16 {
        0..=2 => create(bytes),
        3..=5 => cancel(bytes),
        6 | 7 => executor(route / 16, bytes),
        8 => bulk(route / 16, bytes),
        9..=12 => dialect(route / 16, ct, bytes),
        _ => protocol(route / 16, bytes),
    }
}
