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
