//! The JavaScript binding, called as JavaScript would (run under node with
//! `wasm-bindgen-test-runner`).
#![cfg(all(target_arch = "wasm32", feature = "js"))]
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use runbrake_core::js::*;
use runbrake_core::*;
use tsify::Ts;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

const T0: f64 = 1_777_645_800_000.0;

fn ts<T: tsify::Tsify + serde::Serialize>(v: &T) -> Ts<T> {
    Ts::from_rust(v).unwrap()
}

fn new_run() -> RunState {
    let args = CreateArgs {
        id: "r1".into(),
        kind: RunKind::Generic,
        initial: InitialStatus::Queued,
        default_grace_ms: None,
        children: None,
        sub_runs: vec![],
    };
    let created = js_create(ts(&args), T0).unwrap().to_rust().unwrap();
    assert_eq!(created.state.status_kind(), StatusKind::Queued);
    created.state
}

fn step(state: RunState, cmd: Command, now: f64) -> RunState {
    let d = js_decide(ts(&state), ts(&cmd), now)
        .unwrap()
        .to_rust()
        .unwrap();
    let mut s = state;
    for e in d.events {
        s = js_evolve(ts(&s), ts(&e)).unwrap().to_rust().unwrap();
    }
    s
}

#[wasm_bindgen_test]
fn decide_and_evolve_through_js_values() {
    let s = new_run();
    let s = step(
        s,
        Command::Claim(ClaimArgs {
            executor: "e".into(),
            lease_id: "L1".into(),
            lease_ms: 60_000,
        }),
        T0 + 1.0,
    );
    assert!(js_can_cancel(ts(&s), None).unwrap());
    let cancel = Command::Cancel(CancelArgs::new(By {
        source: Source::Dashboard,
        actor: None,
    }));
    let s = step(s, cancel, T0 + 2.0);
    assert_eq!(s.status_kind(), StatusKind::Cancelling);
    assert_eq!(
        js_project_status(ts(&s), ts(&Dialect::ExtendWorkflow)).unwrap(),
        "CANCELLING"
    );
    assert_eq!(js_next_deadline(ts(&s)).unwrap(), Some(T0 + 2.0 + 30_000.0));
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_a_code() {
    let s = new_run();
    let err = js_decide(ts(&s), ts(&Command::Enqueue), T0).unwrap_err();
    let code = js_sys::Reflect::get(&err, &JsValue::from_str("code")).unwrap();
    assert_eq!(code.as_string().as_deref(), Some("invalid_transition"));
    assert!(err.is_instance_of::<js_sys::Error>());
    let bad_time = js_decide(ts(&s), ts(&Command::DeadlineFired), -1.0).unwrap_err();
    let code = js_sys::Reflect::get(&bad_time, &JsValue::from_str("code")).unwrap();
    assert_eq!(code.as_string().as_deref(), Some("invalid_argument"));
}

#[wasm_bindgen_test]
fn optimistic_view_and_merge() {
    let s = new_run();
    let view = js_new_view(ts(&s)).unwrap();
    let pending = PendingCancel {
        command_id: Some("k".into()),
        requested_at: 1,
    };
    let view = js_apply_optimistic(view, ts(&pending)).unwrap();
    let shown = js_display_status(view.clone()).unwrap().to_rust().unwrap();
    assert_eq!(shown, StatusKind::Cancelling);
    let stale = EventRecord {
        seq: 1,
        at: 0,
        event: Event::Enqueued,
    };
    let r = js_merge_event(view, ts(&stale)).unwrap().to_rust().unwrap();
    assert_eq!(r.status, MergeStatus::Stale);
}

#[wasm_bindgen_test]
fn time_helpers() {
    assert_eq!(js_format_rfc3339(T0).unwrap(), "2026-05-01T14:30:00Z");
    assert_eq!(
        js_parse_rfc3339("2026-05-01T14:30:00.250Z").unwrap(),
        T0 + 250.0
    );
    assert!(js_now_ms() > T0 - 1e12);
}

// Stored documents through the binding: what JavaScript gets from `JSON.parse` of a stored run
// or event log must read as serde_json reads the same JSON (the Worker's side).

fn parse(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap()
}

fn code(err: &JsValue) -> String {
    assert!(err.is_instance_of::<js_sys::Error>());
    js_sys::Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .unwrap()
}

macro_rules! fixtures {
    ($dir:literal: $($name:literal)*) => {
        [$(($name, include_str!(concat!("fixtures/v1/", $dir, "/", $name, ".json")))),*]
    };
}

const STATES: [(&str, &str); 13] = fixtures!("states":
    "cancelled" "cancelling" "cancelling_due" "completed" "failed" "pending" "queued"
    "rejected" "running" "running_expired" "running_unclaimed" "waiting_review" "waiting_sleep");

const LOGS: [(&str, &str); 25] = fixtures!("logs":
    "cancel_after_cancelled" "cancel_after_complete_long_ago" "cancel_after_complete_lost_race"
    "cancel_during_cancelling_replayed" "cancel_then_ack" "cancel_while_waiting_on_human"
    "cancel_with_expired_lease" "children_cascade" "claim_complete" "claim_fail"
    "deadline_escalation" "double_cancel" "grace_zero_forced" "human_review_reject"
    "human_review_resume_complete" "late_completion" "late_completion_after_forced"
    "late_failure" "lease_expiry_requeue" "not_cancellable_needs_review"
    "pending_cancelled_now" "precondition_failed" "queued_cancelled_now"
    "running_unclaimed_complete" "sub_runs_cascade");

#[wasm_bindgen_test]
fn stored_states_read_as_serde_json_reads_them() {
    for (name, json) in STATES {
        let want: RunState = serde_json::from_str(json).unwrap();
        let view = js_new_view(Ts::new_unchecked(parse(json))).unwrap();
        assert_eq!(view.to_rust().unwrap().state, want, "{name}");
        assert_eq!(
            js_next_deadline(Ts::new_unchecked(parse(json))).unwrap(),
            want.next_deadline().map(|m| m as f64),
            "{name}"
        );
    }
}

#[wasm_bindgen_test]
fn stored_logs_fold_through_the_binding() {
    #[derive(serde::Deserialize)]
    struct Log {
        events: Vec<EventRecord>,
        final_state: RunState,
    }
    for (name, json) in LOGS {
        let log: Log = serde_json::from_str(json).unwrap();
        let events: js_sys::Array = js_sys::Reflect::get(&parse(json), &"events".into())
            .unwrap()
            .unchecked_into();
        let mut state = ts(&init(log.events.first().unwrap()).unwrap());
        let mut view = js_new_view(state.clone()).unwrap();
        let mut table = JsChildTable::new();
        table.apply(Ts::new_unchecked(events.get(0))).unwrap();
        for i in 1..events.length() {
            let record = events.get(i);
            state = js_evolve(state, Ts::new_unchecked(record.clone())).unwrap();
            let merged = js_merge_event(view, Ts::new_unchecked(record.clone()))
                .unwrap()
                .to_rust()
                .unwrap();
            assert_eq!(merged.status, MergeStatus::Applied, "{name} #{i}");
            view = ts(&merged.view);
            table.apply(Ts::new_unchecked(record)).unwrap();
        }
        assert_eq!(state.to_rust().unwrap(), log.final_state, "{name}");
        assert_eq!(view.to_rust().unwrap().state, log.final_state, "{name}");
        // A run created with counts only has no items in the table.
        if log
            .events
            .iter()
            .any(|r| matches!(r.event, Event::ChildrenAdded { .. }))
        {
            let counts = table.counts().unwrap().to_rust().unwrap();
            assert_eq!(counts, log.final_state.children, "{name}");
        }
    }
}

#[wasm_bindgen_test]
fn arguments_that_do_not_fit_the_type_are_invalid_arguments() {
    let s = new_run();
    let decide = |state: JsValue, command: JsValue| {
        js_decide(Ts::new_unchecked(state), Ts::new_unchecked(command), T0).unwrap_err()
    };
    for state in [
        JsValue::UNDEFINED,
        JsValue::NULL,
        JsValue::from_str("queued"),
        parse("{}"),
    ] {
        let err = decide(state, parse(r#"{"type":"enqueue"}"#));
        assert_eq!(code(&err), "invalid_argument");
    }
    for command in [
        r#"{"type":"explode"}"#,
        r#"{"type":"cancel"}"#,
        r#"{"type":"cancel","by":{"source":"somebody"}}"#,
        r#"{"type":"claim","executor":"e","lease_id":"L","lease_ms":1.5}"#,
        r#"{"type":"claim","executor":"e","lease_id":"L","lease_ms":-1}"#,
    ] {
        let err = decide(ts(&s).into(), parse(command));
        assert_eq!(code(&err), "invalid_argument", "{command}");
    }
    // A member set to `undefined` is a missing one; unknown members are ignored.
    let cancel = parse(r#"{"type":"cancel","by":{"source":"api"},"extra":1}"#);
    js_sys::Reflect::set(&cancel, &"reason".into(), &JsValue::UNDEFINED).unwrap();
    let d = js_decide(ts(&s), Ts::new_unchecked(cancel), T0)
        .unwrap()
        .to_rust()
        .unwrap();
    assert!(matches!(
        d.events.first().map(|r| &r.event),
        Some(Event::Cancelled { reason: None, .. })
    ));
}

#[wasm_bindgen_test]
fn refusals_carry_the_error_as_detail() {
    let s = new_run();
    let err = js_decide(ts(&s), ts(&Command::Enqueue), T0).unwrap_err();
    assert_eq!(code(&err), "invalid_transition");
    let detail = js_sys::Reflect::get(&err, &"detail".into()).unwrap();
    let field = |k: &str| {
        js_sys::Reflect::get(&detail, &k.into())
            .unwrap()
            .as_string()
    };
    assert_eq!(field("code").as_deref(), Some("invalid_transition"));
    assert_eq!(field("command").as_deref(), Some("enqueue"));
    assert_eq!(field("status").as_deref(), Some("queued"));
}
