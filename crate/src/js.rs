//! JavaScript binding (feature `js`): the same decisions, exported with wasm-bindgen under
//! JavaScript names. TypeScript types are generated from the Rust types by tsify.
//!
//! Errors are thrown as JavaScript `Error`s with a `code` (the Rust error's stable code) and,
//! for command errors, a `detail` object. Times are JavaScript numbers of milliseconds.

use serde::{Deserialize, Serialize};
use tsify::{Ts, Tsify};
use wasm_bindgen::prelude::*;

use crate::child_table::ChildTable;
use crate::command::{Command, CreateArgs, Decision};
use crate::dialect::Dialect;
use crate::error::{CommandError, EvolveError};
use crate::event::EventRecord;
use crate::policy::CancelPolicy;
use crate::reply::CancelReply;
use crate::state::{ChildCounts, RunState, StatusKind};
use crate::time::Millis;
use crate::view::{MergeResult, MergeStatus, PendingCancel, RunView};

// tsify names the `Millis` alias in the types it generates but does not declare it (an alias
// is not a type of its own), which left `Millis` unresolved in the `.d.ts`. Declared here, from
// `time::Millis` (u64 ms, a JavaScript number).
#[wasm_bindgen(typescript_custom_section)]
const TS_MILLIS: &str = r#"
/**
 * Milliseconds since the Unix epoch (UTC): a JavaScript number, exact up to year 287,396.
 */
export type Millis = number;
"#;

fn js_error(code: &str, message: &str, detail: Option<JsValue>) -> JsValue {
    let err = js_sys::Error::new(message);
    // Reflect::set on a fresh Error object cannot fail; ignore the impossible error.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    if let Some(d) = detail {
        let _ = js_sys::Reflect::set(&err, &JsValue::from_str("detail"), &d);
    }
    err.into()
}

fn command_error(e: CommandError) -> JsValue {
    let detail = serde_wasm_bindgen::to_value(&e).ok();
    js_error(e.code(), &e.to_string(), detail)
}

fn evolve_error(e: EvolveError) -> JsValue {
    let detail = serde_wasm_bindgen::to_value(&e).ok();
    js_error(e.code(), &e.to_string(), detail)
}

/// A JavaScript time (ms) as [`Millis`]: finite and non-negative, fraction dropped.
fn millis(now: f64) -> Result<Millis, JsValue> {
    if (0.0..=9_007_199_254_740_991.0).contains(&now) {
        Ok(now as Millis)
    } else {
        Err(js_error(
            "invalid_argument",
            "time must be a non-negative number of milliseconds",
            None,
        ))
    }
}

/// A new run: its state and the decision (events, effects, reply) that created it.
#[derive(Debug, Clone, Serialize, Deserialize, Tsify)]
#[tsify(hashmap_as_object, missing_as_null)]
pub struct Created {
    pub state: RunState,
    pub decision: Decision,
}

/// Reads a typed JavaScript value (thrown as `invalid_argument` if it does not fit the type).
fn rust<T>(v: &Ts<T>) -> Result<T, JsValue>
where
    T: Tsify + serde::de::DeserializeOwned,
    <T as Tsify>::JsType: Clone,
{
    v.to_rust()
        .map_err(|e| js_error("invalid_argument", &e.to_string(), None))
}

/// Writes a typed JavaScript value.
fn js<T: Tsify + Serialize>(v: &T) -> Result<Ts<T>, JsValue> {
    Ts::from_rust(v).map_err(|e| js_error("serialization", &e.to_string(), None))
}

/// Decides a command against a run at `now` (ms). Does not change `state`.
#[wasm_bindgen(js_name = decide)]
pub fn js_decide(
    state: Ts<RunState>,
    command: Ts<Command>,
    now: f64,
) -> Result<Ts<Decision>, JsValue> {
    let d = crate::command::decide(&rust(&state)?, &rust(&command)?, millis(now)?)
        .map_err(command_error)?;
    js(&d)
}

/// Applies one event record to a run and returns the new state.
#[wasm_bindgen(js_name = evolve)]
pub fn js_evolve(state: Ts<RunState>, event: Ts<EventRecord>) -> Result<Ts<RunState>, JsValue> {
    let mut s = rust(&state)?;
    crate::event::evolve(&mut s, &rust(&event)?).map_err(evolve_error)?;
    js(&s)
}

/// Creates a run.
#[wasm_bindgen(js_name = create)]
pub fn js_create(args: Ts<CreateArgs>, now: f64) -> Result<Ts<Created>, JsValue> {
    let (state, decision) =
        crate::command::create::create(&rust(&args)?, millis(now)?).map_err(command_error)?;
    js(&Created { state, decision })
}

/// Whether the Cancel button should be enabled (native policy when none is given).
#[wasm_bindgen(js_name = canCancel)]
pub fn js_can_cancel(
    state: Ts<RunState>,
    policy: Option<Ts<CancelPolicy>>,
) -> Result<bool, JsValue> {
    let policy = match policy {
        Some(p) => rust(&p)?,
        None => CancelPolicy::native(),
    };
    Ok(crate::view::can_cancel(&rust(&state)?, &policy))
}

/// A view of a run with nothing pending.
#[wasm_bindgen(js_name = newView)]
pub fn js_new_view(state: Ts<RunState>) -> Result<Ts<RunView>, JsValue> {
    js(&RunView::new(rust(&state)?))
}

/// Marks an optimistic cancel (shows "Cancelling…" at once) unless the run is terminal.
#[wasm_bindgen(js_name = applyOptimistic)]
pub fn js_apply_optimistic(
    view: Ts<RunView>,
    cancel: Ts<PendingCancel>,
) -> Result<Ts<RunView>, JsValue> {
    js(&crate::view::apply_optimistic(
        &rust(&view)?,
        rust(&cancel)?,
    ))
}

/// Reconciles one server event with the view by `seq` (stale / applied / gap).
#[wasm_bindgen(js_name = mergeEvent)]
pub fn js_merge_event(
    view: Ts<RunView>,
    event: Ts<EventRecord>,
) -> Result<Ts<MergeResult>, JsValue> {
    let view = rust(&view)?;
    let event = rust(&event)?;
    let r = crate::view::merge_event(&view, &event).map_err(evolve_error)?;
    match r.status {
        MergeStatus::Gap => gloo::console::debug!(format!(
            "runbrake: gap after seq {} (got {}): resync",
            view.seq, event.seq
        )),
        MergeStatus::Applied | MergeStatus::Stale => {}
    }
    js(&r)
}

/// Applies the server's answer to the user's cancel (drops the optimistic mark if the cancel
/// did not take effect).
#[wasm_bindgen(js_name = mergeCancelReply)]
pub fn js_merge_cancel_reply(
    view: Ts<RunView>,
    reply: Ts<CancelReply>,
) -> Result<Ts<RunView>, JsValue> {
    js(&crate::view::merge_cancel_reply(
        &rust(&view)?,
        &rust(&reply)?,
    ))
}

/// The status to display for a view.
#[wasm_bindgen(js_name = displayStatus)]
pub fn js_display_status(view: Ts<RunView>) -> Result<Ts<StatusKind>, JsValue> {
    js(&rust(&view)?.display_status())
}

/// The dialect's status word for a run.
#[wasm_bindgen(js_name = projectStatus)]
pub fn js_project_status(state: Ts<RunState>, dialect: Ts<Dialect>) -> Result<String, JsValue> {
    Ok(rust(&dialect)?
        .project_status(&rust(&state)?.status)
        .to_string())
}

/// The cancel policy of a dialect route.
#[wasm_bindgen(js_name = dialectPolicy)]
pub fn js_dialect_policy(dialect: Ts<Dialect>) -> Result<Ts<CancelPolicy>, JsValue> {
    js(&rust(&dialect)?.policy())
}

/// The native API's cancel policy.
#[wasm_bindgen(js_name = nativePolicy)]
pub fn js_native_policy() -> Result<Ts<CancelPolicy>, JsValue> {
    js(&CancelPolicy::native())
}

/// When the run's next deadline falls (cancel deadline or lease expiry), if any.
#[wasm_bindgen(js_name = nextDeadline)]
pub fn js_next_deadline(state: Ts<RunState>) -> Result<Option<f64>, JsValue> {
    Ok(rust(&state)?.next_deadline().map(|m| m as f64))
}

/// Wall time since the run started (to its end, or to `now`).
#[wasm_bindgen(js_name = durationMs)]
pub fn js_duration_ms(state: Ts<RunState>, now: f64) -> Result<Option<f64>, JsValue> {
    Ok(rust(&state)?.duration_ms(millis(now)?).map(|m| m as f64))
}

/// Duration minus human waiting.
#[wasm_bindgen(js_name = activeDurationMs)]
pub fn js_active_duration_ms(state: Ts<RunState>, now: f64) -> Result<Option<f64>, JsValue> {
    Ok(rust(&state)?
        .active_duration_ms(millis(now)?)
        .map(|m| m as f64))
}

/// RFC 3339 UTC (`2026-05-01T14:30:00Z`, `.sss` only when not zero).
#[wasm_bindgen(js_name = formatRfc3339)]
pub fn js_format_rfc3339(ms: f64) -> Result<String, JsValue> {
    Ok(crate::time::format_rfc3339(millis(ms)?))
}

/// Parses an RFC 3339 timestamp to ms since the epoch.
#[wasm_bindgen(js_name = parseRfc3339)]
pub fn js_parse_rfc3339(s: &str) -> Result<f64, JsValue> {
    crate::time::parse_rfc3339(s)
        .map(|m| m as f64)
        .map_err(|e| js_error("invalid_argument", &e.to_string(), None))
}

/// `Date.now()`: the caller's clock, read here for convenience and passed in as `now`; the
/// decisions themselves never read it.
#[wasm_bindgen(js_name = nowMs)]
pub fn js_now_ms() -> f64 {
    js_sys::Date::now()
}

/// Child items of one run, kept in memory and driven by the run's events.
#[wasm_bindgen(js_name = ChildTable)]
#[derive(Default)]
pub struct JsChildTable {
    inner: ChildTable,
}

#[wasm_bindgen(js_class = ChildTable)]
impl JsChildTable {
    #[wasm_bindgen(constructor)]
    pub fn new() -> JsChildTable {
        JsChildTable::default()
    }

    /// Applies one event (non-child events are ignored). Throws if the table and the event
    /// disagree (missed events).
    pub fn apply(&mut self, event: Ts<EventRecord>) -> Result<(), JsValue> {
        self.inner
            .apply(&rust(&event)?)
            .map_err(|e| js_error("child_table_mismatch", &e.to_string(), None))
    }

    /// The child's status, or `undefined`.
    pub fn get(&self, id: &str) -> JsValue {
        self.inner
            .get(id)
            .and_then(|s| serde_wasm_bindgen::to_value(&s).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }

    pub fn counts(&self) -> Result<Ts<ChildCounts>, JsValue> {
        js(&self.inner.counts())
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }
}

// Benchmark exports (feature `bench`, never in the npm package): the workloads of the native
// bench (`benches/core.rs`), run inside Wasm so that `bench/core.mjs` measures the core itself
// rather than the JavaScript conversions. The caller times each call; nothing here reads a
// clock.
#[cfg(feature = "bench")]
use crate as rb;

#[cfg(feature = "bench")]
#[path = "../benches/scenarios/mod.rs"]
mod bench_scenarios;

#[cfg(feature = "bench")]
fn bench_error(e: String) -> JsValue {
    js_error("bench", &e, None)
}

/// Decides `n` cancels of a running run inside Wasm (decide only); returns a checksum.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchCancelDecisions)]
pub fn js_bench_cancel_decisions(n: u32) -> Result<f64, JsValue> {
    let state = bench_scenarios::running_run().map_err(bench_error)?;
    let cmd = bench_scenarios::cancel_command();
    let sum = bench_scenarios::cancel_decisions(&state, &cmd, n).map_err(bench_error)?;
    Ok(sum as f64)
}

/// Decides `n` cancels and evolves a copy of the state with each one's events, inside Wasm;
/// returns a checksum.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchCancelDecideEvolve)]
pub fn js_bench_cancel_decide_evolve(n: u32) -> Result<f64, JsValue> {
    let state = bench_scenarios::running_run().map_err(bench_error)?;
    let cmd = bench_scenarios::cancel_command();
    let sum = bench_scenarios::cancel_decide_evolve(&state, &cmd, n).map_err(bench_error)?;
    Ok(sum as f64)
}

/// A claimed run with `children` child items, for timing one cancel: `prepare()` (not timed)
/// takes a fresh copy, `cancel()` (timed by the caller) cancels it, `check()` verifies it.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = BenchBigRun)]
pub struct JsBenchBigRun {
    base: bench_scenarios::BigRun,
    work: Option<bench_scenarios::BigRun>,
}

#[cfg(feature = "bench")]
#[wasm_bindgen(js_class = BenchBigRun)]
impl JsBenchBigRun {
    #[wasm_bindgen(constructor)]
    pub fn new(children: u32) -> Result<JsBenchBigRun, JsValue> {
        let base = bench_scenarios::BigRun::new(children as usize).map_err(bench_error)?;
        Ok(JsBenchBigRun { base, work: None })
    }

    pub fn prepare(&mut self) {
        self.work = None; // drop the previous copy here, not inside a timed call
        self.work = Some(self.base.clone());
    }

    /// Returns the number of events the cancel produced.
    pub fn cancel(&mut self) -> Result<u32, JsValue> {
        match self.work.as_mut() {
            Some(run) => run.cancel().map_err(bench_error),
            None => Err(bench_error("call prepare() first".into())),
        }
    }

    pub fn check(&self) -> Result<(), JsValue> {
        match self.work.as_ref() {
            Some(run) => run.check_cancelled().map_err(bench_error),
            None => Err(bench_error("call prepare() and cancel() first".into())),
        }
    }
}
