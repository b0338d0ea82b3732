//! Per-key rate limit: a token bucket per API key id, kept in this isolate's memory.
//!
//! Each key may make `RATE_LIMIT_PER_10S` requests per 10 seconds on average, in bursts of at
//! most `RATE_LIMIT_BURST` (default: a tenth of the 10-second figure, so one second's worth).
//! A request over the limit is answered 429 with `Retry-After` in its route's own error shape,
//! before any Durable Object is asked to do anything. `RATE_LIMIT_PER_10S=0` (or `off`) turns
//! the limit off. The default (50,000 per 10 s, bursts of 5,000) is far above anything one key
//! sends in the test suites or benchmarks; a deployment sets its own figures as vars.
//!
//! Why buckets in the isolate and not a counter in a Durable Object: a DO counter is exact, but
//! it puts a round trip to one object per key in front of every request — the latency the cancel
//! path is tuned to avoid — and makes that object the key's throughput ceiling. The in-isolate
//! bucket costs a hash lookup. The price is the same approximation as Cloudflare's Rate Limiting
//! binding (per location, eventually consistent): every isolate keeps its own buckets, so a key
//! served by N isolates at once may get up to N times its rate. Under `wrangler dev` and the
//! self-hosted workerd one isolate serves every request, and the limit is exact. Quotas that must
//! be exact belong in a Durable Object.
//!
//! The buckets run on the wall clock (`Date.now()`), never on the test clock, so a test that
//! moves time forward cannot refill them.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::Env;

/// Requests per 10 seconds per key when `RATE_LIMIT_PER_10S` is not set.
pub const DEFAULT_PER_10S: u32 = 50_000;
/// Keys whose buckets one isolate remembers; idle (full) buckets are dropped first.
const MAX_BUCKETS: usize = 10_000;
const PERIOD_MS: f64 = 10_000.0;

/// A limit: the sustained rate and the largest burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_10s: u32,
    pub burst: u32,
}

impl Limit {
    fn per_ms(self) -> f64 {
        f64::from(self.per_10s) / PERIOD_MS
    }
}

/// Reads the limit from the vars; `None` when it is off.
pub fn limit_from(per_10s: Option<&str>, burst: Option<&str>) -> Option<Limit> {
    let per_10s = match per_10s.map(str::trim) {
        None | Some("") => DEFAULT_PER_10S,
        Some(v) if v.eq_ignore_ascii_case("off") => return None,
        Some(v) => v.parse::<u32>().unwrap_or(DEFAULT_PER_10S),
    };
    if per_10s == 0 {
        return None;
    }
    let burst = burst
        .and_then(|b| b.trim().parse::<u32>().ok())
        .filter(|b| *b > 0)
        .unwrap_or((per_10s / 10).max(1));
    Some(Limit { per_10s, burst })
}

/// One key's bucket: tokens left and when they were counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at_ms: f64,
}

impl Bucket {
    pub fn full(limit: Limit, now_ms: f64) -> Self {
        Bucket {
            tokens: f64::from(limit.burst),
            at_ms: now_ms,
        }
    }

    fn refill(&mut self, limit: Limit, now_ms: f64) {
        let elapsed = (now_ms - self.at_ms).max(0.0);
        self.tokens = (self.tokens + elapsed * limit.per_ms()).min(f64::from(limit.burst));
        self.at_ms = now_ms.max(self.at_ms);
    }

    /// Takes one token, or says in how many whole seconds (at least 1) one will be there.
    pub fn take(&mut self, limit: Limit, now_ms: f64) -> Result<(), u64> {
        self.refill(limit, now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait_ms = (1.0 - self.tokens) / limit.per_ms();
        // A whole number of seconds, rounded up; the cast is in range (at most 10 s × 1 token).
        Err(((wait_ms / 1000.0).ceil() as u64).max(1))
    }

    /// A bucket that has refilled completely is the same as no bucket at all.
    fn idle(&self, limit: Limit, now_ms: f64) -> bool {
        let mut b = *self;
        b.refill(limit, now_ms);
        b.tokens >= f64::from(limit.burst)
    }
}

/// Every key's bucket in this isolate.
#[derive(Debug, Default)]
pub struct Buckets {
    map: HashMap<String, Bucket>,
}

impl Buckets {
    pub fn take(&mut self, key_id: &str, limit: Limit, now_ms: f64) -> Result<(), u64> {
        if let Some(b) = self.map.get_mut(key_id) {
            return b.take(limit, now_ms);
        }
        if self.map.len() >= MAX_BUCKETS {
            self.map.retain(|_, b| !b.idle(limit, now_ms));
            if self.map.len() >= MAX_BUCKETS {
                // Never grow without bound: forgetting errs on the side of letting requests in.
                self.map.clear();
            }
        }
        let mut b = Bucket::full(limit, now_ms);
        let taken = b.take(limit, now_ms);
        self.map.insert(key_id.to_owned(), b);
        taken
    }
}

thread_local! {
    static BUCKETS: RefCell<Buckets> = RefCell::new(Buckets::default());
}

/// Counts one request of `key_id`; `Err(seconds)` when it is over the limit.
pub fn check(env: &Env, key_id: &str) -> Result<(), u64> {
    let Some(limit) = limit_from(
        crate::vars::get(env, "RATE_LIMIT_PER_10S").as_deref(),
        crate::vars::get(env, "RATE_LIMIT_BURST").as_deref(),
    ) else {
        return Ok(());
    };
    let now = js_sys::Date::now();
    BUCKETS.with(|b| b.borrow_mut().take(key_id, limit, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limit = Limit {
        per_10s: 100,
        burst: 10,
    };

    #[test]
    fn vars_set_the_limit_or_turn_it_off() {
        assert_eq!(
            limit_from(None, None),
            Some(Limit {
                per_10s: DEFAULT_PER_10S,
                burst: DEFAULT_PER_10S / 10
            })
        );
        assert_eq!(
            limit_from(Some("300"), None),
            Some(Limit {
                per_10s: 300,
                burst: 30
            })
        );
        assert_eq!(
            limit_from(Some("5"), Some("2")),
            Some(Limit {
                per_10s: 5,
                burst: 2
            })
        );
        assert_eq!(
            limit_from(Some("5"), None),
            Some(Limit {
                per_10s: 5,
                burst: 1
            })
        );
        assert_eq!(limit_from(Some("0"), None), None);
        assert_eq!(limit_from(Some("off"), Some("9")), None);
        assert_eq!(
            limit_from(Some("nonsense"), Some("0")).map(|l| l.per_10s),
            Some(DEFAULT_PER_10S)
        );
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let mut b = Bucket::full(L, 0.0);
        for _ in 0..10 {
            assert_eq!(b.take(L, 0.0), Ok(()));
        }
        // Empty: one token comes back every 100 ms (100 per 10 s).
        assert_eq!(b.take(L, 0.0), Err(1));
        assert_eq!(b.take(L, 50.0), Err(1));
        assert_eq!(b.take(L, 100.0), Ok(()));
        // Over 10 s at twice the rate, half the requests pass (plus nothing: the burst is spent).
        let mut passed = 0;
        for i in 1..=200 {
            if b.take(L, 100.0 + f64::from(i) * 50.0).is_ok() {
                passed += 1;
            }
        }
        assert_eq!(passed, 100);
    }

    #[test]
    fn retry_after_is_whole_seconds_until_a_token() {
        let slow = Limit {
            per_10s: 1,
            burst: 1,
        };
        let mut b = Bucket::full(slow, 0.0);
        assert_eq!(b.take(slow, 0.0), Ok(()));
        assert_eq!(b.take(slow, 0.0), Err(10));
        assert_eq!(b.take(slow, 9_001.0), Err(1));
        assert_eq!(b.take(slow, 10_000.0), Ok(()));
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let mut all = Buckets::default();
        for _ in 0..10 {
            assert!(all.take("key_a", L, 0.0).is_ok());
        }
        assert!(all.take("key_a", L, 0.0).is_err());
        assert!(all.take("key_b", L, 0.0).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let mut all = Buckets::default();
        let half = MAX_BUCKETS / 2;
        for i in 0..half {
            let _ = all.take(&format!("old_{i}"), L, 0.0);
        }
        for i in 0..half {
            let _ = all.take(&format!("new_{i}"), L, 1_000_000.0);
        }
        assert_eq!(all.map.len(), MAX_BUCKETS);
        // Full: the idle (refilled) buckets make room, the busy ones stay.
        let _ = all.take("late", L, 1_000_000.0);
        assert_eq!(all.map.len(), half + 1);
        assert!(all.map.contains_key("new_0") && !all.map.contains_key("old_0"));
        // Full of busy buckets: forgotten rather than grown.
        for i in 0..MAX_BUCKETS {
            let _ = all.take(&format!("busy_{i}"), L, 1_000_000.0);
        }
        assert!(all.map.len() <= MAX_BUCKETS);
    }

    #[test]
    fn a_clock_going_backwards_never_adds_tokens() {
        let mut b = Bucket::full(L, 5_000.0);
        for _ in 0..10 {
            assert!(b.take(L, 5_000.0).is_ok());
        }
        assert!(b.take(L, 0.0).is_err());
    }
}
