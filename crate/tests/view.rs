//! The dashboard's view helpers: instant "Cancelling…", no flapping, gaps detected.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use runbrake_core::*;

const NOW: Millis = T0 + 1_000;

fn pending(id: &str) -> PendingCancel {
    PendingCancel {
        command_id: Some(id.into()),
        requested_at: NOW,
    }
}

/// Server events after `from` for `cmd`, plus the server's new state.
fn server(from: &RunState, cmd: &Command, at: Millis) -> (Vec<EventRecord>, RunState) {
    let mut s = from.clone();
    let d = apply(&mut s, cmd, at).unwrap();
    (d.events, s)
}

fn merge_all(mut view: RunView, events: &[EventRecord]) -> RunView {
    for e in events {
        let r = merge_event(&view, e).unwrap();
        assert_eq!(r.status, MergeStatus::Applied);
        view = r.view;
    }
    view
}

#[test]
fn optimistic_cancel_shows_cancelling_at_once_unless_terminal() {
    let v = RunView::new(state("running"));
    assert_eq!(v.display_status(), StatusKind::Running);
    let v = apply_optimistic(&v, pending("k1"));
    assert_eq!(v.display_status(), StatusKind::Cancelling);
    let done = RunView::new(state("completed"));
    assert_eq!(apply_optimistic(&done, pending("k1")), done);
}

#[test]
fn unrelated_events_never_flap_back_to_the_old_status() {
    let s = state("running");
    let v = apply_optimistic(&RunView::new(s.clone()), pending("k1"));
    // A heartbeat lands before the server processes the cancel.
    let (events, s2) = server(&s, &heartbeat("L1"), NOW);
    let v = merge_all(v, &events);
    assert_eq!(v.display_status(), StatusKind::Cancelling);
    // Then the cancel: the server confirms, the mark goes, the display stays.
    let cancel_cmd = cancel_with(|a| a.command_id = Some("k1".into()));
    let (events, _) = server(&s2, &cancel_cmd, NOW + 1);
    let v = merge_all(v, &events);
    assert_eq!(v.pending, None);
    assert_eq!(v.display_status(), StatusKind::Cancelling);
}

#[test]
fn a_cancel_that_did_not_take_effect_clears_the_mark() {
    // The run completed first: the server's recorded answer says the cancel lost.
    let s = state("running");
    let v = apply_optimistic(&RunView::new(s.clone()), pending("k1"));
    let (events, _) = server(&s, &complete(Some("L1")), NOW);
    let v = merge_all(v, &events);
    assert_eq!(
        v.pending, None,
        "the run ended: nothing is pending any more"
    );
    assert_eq!(v.display_status(), StatusKind::Completed);

    // A policy refusal, learned from the recorded receipt or from the HTTP reply.
    let s = state("waiting_review");
    let v = apply_optimistic(&RunView::new(s.clone()), pending("k2"));
    let refused = cancel_with(|a| {
        a.command_id = Some("k2".into());
        a.policy = Dialect::ExtendWorkflow.policy();
    });
    let mut s3 = s.clone();
    let d = apply(&mut s3, &refused, NOW).unwrap();
    let from_log = merge_all(v.clone(), &d.events);
    assert_eq!(from_log.display_status(), StatusKind::Waiting);
    let Reply::Cancel(reply) = &d.reply else {
        panic!()
    };
    let from_reply = merge_cancel_reply(&v, reply);
    assert_eq!(from_reply.display_status(), StatusKind::Waiting);
}

#[test]
fn stale_events_are_ignored_and_gaps_reported() {
    let s = state("running");
    let (events, _) = server(&s, &cancel(), NOW);
    let v = RunView::new(s.clone());
    let old = EventRecord {
        seq: s.version,
        at: NOW,
        event: Event::Enqueued,
    };
    assert_eq!(merge_event(&v, &old).unwrap().status, MergeStatus::Stale);
    let gap = merge_event(&v, &events[1]).unwrap();
    assert_eq!(gap.status, MergeStatus::Gap);
    assert_eq!(gap.view, v);
}

#[test]
fn can_cancel_follows_the_policy() {
    let review = state("waiting_review");
    assert!(can_cancel(&review, &CancelPolicy::native()));
    assert!(!can_cancel(&review, &Dialect::ExtendWorkflow.policy()));
    assert!(!can_cancel(&state("cancelling"), &CancelPolicy::native()));
    assert!(!can_cancel(&state("completed"), &CancelPolicy::native()));
}
