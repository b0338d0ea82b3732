//! The Worker's clock. The core never reads a clock; the Worker passes `now` in.
//!
//! With the `TEST_CLOCK` var set to "1" (tests only: `wrangler dev --var TEST_CLOCK:1`), the
//! admin-guarded `POST /api/admin/test-clock` may move time forward, so deadline tests never
//! wait for real time to pass. The offset lives in this isolate's memory, which the Worker
//! and its Durable Objects share under `wrangler dev`; it is never set in production, where
//! the var is absent.

use std::cell::Cell;

use runbrake_core::Millis;

thread_local! {
    static OFFSET_MS: Cell<u64> = const { Cell::new(0) };
}

/// Milliseconds since the Unix epoch, as the platform reports it (plus any test offset).
pub fn now() -> Millis {
    let wall = js_sys::Date::now();
    // Date.now() is a non-negative integer in f64; truncation is exact.
    let wall = if wall.is_finite() && wall > 0.0 {
        wall as u64
    } else {
        0
    };
    wall.saturating_add(OFFSET_MS.with(Cell::get))
}

/// Real time at which an absolute deadline on our clock falls (for alarms).
pub fn to_wall(at: Millis) -> Millis {
    at.saturating_sub(OFFSET_MS.with(Cell::get))
}

pub fn advance(by_ms: u64) -> Millis {
    OFFSET_MS.with(|o| o.set(o.get().saturating_add(by_ms)));
    now()
}

pub fn test_clock_enabled(env: &worker::Env) -> bool {
    crate::vars::is_on(env, "TEST_CLOCK")
}
