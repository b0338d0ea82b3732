//! Index summaries leave the run objects of one isolate through one feed per organisation, so
//! that the summaries of many runs reach the organisation's index in one request and one
//! transaction instead of one each (the index hop was a third of a cancel's CPU time).
//!
//! A committed summary joins its organisation's queue; the first run object to find no flush
//! under way runs one in its `wait_until`: it waits [`WINDOW_MS`] for company, sends what is
//! queued (at most [`MAX_BATCH`]), and repeats until the queue is empty. Each run learns that
//! its row was delivered through its own `delivered` map, exactly as after a delivery of its
//! own. Nothing here is needed for correctness: a summary lost with an evicted isolate, or a
//! batch the index refused, is still in its run's outbox, and the fallback alarm sends it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use worker::Env;

/// How long a flush waits for more summaries before it sends: invisible on a live list, and
/// at a few hundred cancels a second it turns dozens of index requests into one.
const WINDOW_MS: u64 = 10;
/// Summaries per index request (the index accepts up to 500).
const MAX_BATCH: usize = 200;
/// A flush that has not finished after this long is presumed gone with its object (a future
/// whose object was evicted is never polled again); the next summary starts another.
const STALE_FLUSH_MS: f64 = 5_000.0;

/// Where a run records its delivered outbox rows (key → payload).
pub type Delivered = Rc<RefCell<HashMap<String, String>>>;

struct Queued {
    summary: String,
    delivered: Delivered,
}

#[derive(Default)]
struct Feed {
    queue: Vec<Queued>,
    /// When the running flush started (wall clock, ms), if one is running.
    flushing_since: Option<f64>,
}

thread_local! {
    static FEEDS: RefCell<HashMap<String, Feed>> = RefCell::default();
}

/// Queues a committed summary at `now` (wall clock, ms). Returns whether the caller must start
/// a flush for `org_id`.
pub fn push(org_id: &str, summary: String, delivered: Delivered, now: f64) -> bool {
    FEEDS.with_borrow_mut(|feeds| {
        let feed = feeds.entry(org_id.to_owned()).or_default();
        feed.queue.push(Queued { summary, delivered });
        let idle = feed
            .flushing_since
            .is_none_or(|since| now - since > STALE_FLUSH_MS);
        if idle {
            feed.flushing_since = Some(now);
        }
        idle
    })
}

/// Takes the next batch, or marks the flush finished when nothing is queued.
fn take(org_id: &str) -> Vec<Queued> {
    FEEDS.with_borrow_mut(|feeds| {
        let Some(feed) = feeds.get_mut(org_id) else {
            return Vec::new();
        };
        if feed.queue.is_empty() {
            feeds.remove(org_id);
            return Vec::new();
        }
        let n = feed.queue.len().min(MAX_BATCH);
        feed.queue.drain(..n).collect()
    })
}

/// Sends `org_id`'s queued summaries until none is left.
pub async fn flush(env: Env, org_id: String) {
    loop {
        worker::Delay::from(Duration::from_millis(WINDOW_MS)).await;
        let batch = take(&org_id);
        if batch.is_empty() {
            return;
        }
        let body = batch_body(batch.iter().map(|q| q.summary.as_str()));
        match super::deliver_index(&env, &org_id, body).await {
            Ok(()) => {
                for q in batch {
                    q.delivered
                        .borrow_mut()
                        .insert(super::INDEX_ROW.to_owned(), q.summary);
                }
            }
            // Each row stays in its run's outbox; the fallback alarm sends it again.
            Err(e) => worker::console_warn!("index feed for {org_id}: {e}"),
        }
    }
}

/// `{"summaries":[…]}` from summaries that are JSON objects already.
pub fn batch_body<'a>(summaries: impl Iterator<Item = &'a str>) -> String {
    let mut body = String::from("{\"summaries\":[");
    for (i, s) in summaries.enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(s);
    }
    body.push_str("]}");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flush_per_organisation_until_its_queue_is_empty() {
        let d: Delivered = Rc::default();
        assert!(push("org_a", "{\"id\":1}".into(), Rc::clone(&d), 0.0));
        assert!(!push("org_a", "{\"id\":2}".into(), Rc::clone(&d), 1.0));
        assert!(push("org_b", "{\"id\":3}".into(), Rc::clone(&d), 1.0));
        let batch = take("org_a");
        assert_eq!(
            batch_body(batch.iter().map(|q| q.summary.as_str())),
            "{\"summaries\":[{\"id\":1},{\"id\":2}]}"
        );
        // The queue is empty: the flush ends, and the next summary starts a new one.
        assert!(take("org_a").is_empty());
        assert!(push("org_a", "{\"id\":4}".into(), Rc::clone(&d), 2.0));
        assert_eq!(take("org_b").len(), 1);
        // A flush that never finished (its object was evicted) is taken over.
        assert!(!push("org_a", "{\"id\":5}".into(), Rc::clone(&d), 3.0));
        assert!(push(
            "org_a",
            "{\"id\":6}".into(),
            d,
            3.0 + STALE_FLUSH_MS + 1.0
        ));
        assert_eq!(take("org_a").len(), 3);
    }
}
