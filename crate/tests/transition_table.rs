//! The lifecycle as a table: every named state × every command, at T0+1s, with the resulting
//! status (and outcome) or the refusal. It reads like the diagram in the crate docs; a rule
//! change shows up here as a one-line diff.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

mod common;

use common::*;
use runbrake_core::*;

const NOW: Millis = T0 + 1_000;

fn command(name: &str) -> Command {
    match name {
        "create" => Command::Create(create_cmd(InitialStatus::Queued)),
        "enqueue" => Command::Enqueue,
        "claim" => claim("L2", 30_000),
        "heartbeat" => heartbeat("L1"),
        "wait_review" => wait(Some("L1"), WaitReason::HumanReview),
        "resume" => resume("L2"),
        "complete" => complete(Some("L1")),
        "fail" => fail(Some("L1")),
        "reject" => reject(),
        "cancel" => cancel(),
        "ack_cancel" => ack("L1"),
        "deadline_fired" => Command::DeadlineFired,
        "add_children" => add_children(3),
        "start_child" => update_child("c1", ChildStatus::Pending, ChildStatus::Running),
        "finish_child" => update_child("c3", ChildStatus::Running, ChildStatus::Completed),
        "settle_child" => update_child("c3", ChildStatus::Cancelling, ChildStatus::Completed),
        "attach_sub_run" => attach_sub_run("sub_late"),
        other => panic!("unknown command {other}"),
    }
}

const COMMANDS: [&str; 17] = [
    "create",
    "enqueue",
    "claim",
    "heartbeat",
    "wait_review",
    "resume",
    "complete",
    "fail",
    "reject",
    "cancel",
    "ack_cancel",
    "deadline_fired",
    "add_children",
    "start_child",
    "finish_child",
    "settle_child",
    "attach_sub_run",
];

#[rustfmt::skip]
const TABLE: &[(&str, &str, &str)] = &[
    // from               command           → result
    ("pending",           "create",         "error already_exists"),
    ("pending",           "enqueue",        "queued"),
    ("pending",           "claim",          "error invalid_transition"),
    ("pending",           "heartbeat",      "error lease_revoked"),
    ("pending",           "wait_review",    "error lease_revoked"),
    ("pending",           "resume",         "error invalid_transition"),
    ("pending",           "complete",       "error lease_revoked"),
    ("pending",           "fail",           "error lease_revoked"),
    ("pending",           "reject",         "error invalid_transition"),
    ("pending",           "cancel",         "cancelled cancelled_now"),
    ("pending",           "ack_cancel",     "error lease_revoked"),
    ("pending",           "deadline_fired", "pending nothing"),
    ("pending",           "add_children",   "pending"),
    ("pending",           "start_child",    "pending"),
    ("pending",           "finish_child",   "pending"),
    ("pending",           "settle_child",   "error invalid_argument"),
    ("pending",           "attach_sub_run", "pending attached"),

    ("queued",            "create",         "error already_exists"),
    ("queued",            "enqueue",        "error invalid_transition"),
    ("queued",            "claim",          "running"),
    ("queued",            "heartbeat",      "error lease_revoked"),
    ("queued",            "wait_review",    "error lease_revoked"),
    ("queued",            "resume",         "error invalid_transition"),
    ("queued",            "complete",       "error lease_revoked"),
    ("queued",            "fail",           "error lease_revoked"),
    ("queued",            "reject",         "error invalid_transition"),
    ("queued",            "cancel",         "cancelled cancelled_now"),
    ("queued",            "ack_cancel",     "error lease_revoked"),
    ("queued",            "deadline_fired", "queued nothing"),
    ("queued",            "add_children",   "queued"),
    ("queued",            "start_child",    "queued"),
    ("queued",            "finish_child",   "queued"),
    ("queued",            "settle_child",   "error invalid_argument"),
    ("queued",            "attach_sub_run", "queued attached"),

    ("running_unclaimed", "create",         "error already_exists"),
    ("running_unclaimed", "enqueue",        "error invalid_transition"),
    ("running_unclaimed", "claim",          "running"),
    ("running_unclaimed", "heartbeat",      "error lease_revoked"),
    ("running_unclaimed", "wait_review",    "error lease_revoked"),
    ("running_unclaimed", "resume",         "error invalid_transition"),
    ("running_unclaimed", "complete",       "error lease_revoked"),
    ("running_unclaimed", "fail",           "error lease_revoked"),
    ("running_unclaimed", "reject",         "error invalid_transition"),
    ("running_unclaimed", "cancel",         "cancelled cancelled_now"),
    ("running_unclaimed", "ack_cancel",     "error lease_revoked"),
    ("running_unclaimed", "deadline_fired", "running nothing"),
    ("running_unclaimed", "add_children",   "running"),
    ("running_unclaimed", "start_child",    "running"),
    ("running_unclaimed", "finish_child",   "running"),
    ("running_unclaimed", "settle_child",   "error invalid_argument"),
    ("running_unclaimed", "attach_sub_run", "running attached"),

    ("running",           "create",         "error already_exists"),
    ("running",           "enqueue",        "error invalid_transition"),
    ("running",           "claim",          "error lease_held"),
    ("running",           "heartbeat",      "running"),
    ("running",           "wait_review",    "waiting"),
    ("running",           "resume",         "error invalid_transition"),
    ("running",           "complete",       "completed"),
    ("running",           "fail",           "failed"),
    ("running",           "reject",         "error invalid_transition"),
    ("running",           "cancel",         "cancelling requested"),
    ("running",           "ack_cancel",     "error invalid_transition"),
    ("running",           "deadline_fired", "running nothing"),
    ("running",           "add_children",   "running"),
    ("running",           "start_child",    "running"),
    ("running",           "finish_child",   "running"),
    ("running",           "settle_child",   "error invalid_argument"),
    ("running",           "attach_sub_run", "running attached"),

    ("running_expired",   "create",         "error already_exists"),
    ("running_expired",   "enqueue",        "error invalid_transition"),
    ("running_expired",   "claim",          "running"),
    ("running_expired",   "heartbeat",      "error lease_expired"),
    ("running_expired",   "wait_review",    "error lease_expired"),
    ("running_expired",   "resume",         "error invalid_transition"),
    ("running_expired",   "complete",       "error lease_expired"),
    ("running_expired",   "fail",           "error lease_expired"),
    ("running_expired",   "reject",         "error invalid_transition"),
    ("running_expired",   "cancel",         "cancelled cancelled_now"),
    ("running_expired",   "ack_cancel",     "error lease_expired"),
    ("running_expired",   "deadline_fired", "queued lease_expired"),
    ("running_expired",   "add_children",   "running"),
    ("running_expired",   "start_child",    "running"),
    ("running_expired",   "finish_child",   "running"),
    ("running_expired",   "settle_child",   "error invalid_argument"),
    ("running_expired",   "attach_sub_run", "running attached"),

    ("waiting_review",    "create",         "error already_exists"),
    ("waiting_review",    "enqueue",        "error invalid_transition"),
    ("waiting_review",    "claim",          "error invalid_transition"),
    ("waiting_review",    "heartbeat",      "error lease_revoked"),
    ("waiting_review",    "wait_review",    "error lease_revoked"),
    ("waiting_review",    "resume",         "running"),
    ("waiting_review",    "complete",       "error lease_revoked"),
    ("waiting_review",    "fail",           "error lease_revoked"),
    ("waiting_review",    "reject",         "rejected"),
    ("waiting_review",    "cancel",         "cancelled cancelled_now"),
    ("waiting_review",    "ack_cancel",     "error lease_revoked"),
    ("waiting_review",    "deadline_fired", "waiting nothing"),
    ("waiting_review",    "add_children",   "waiting"),
    ("waiting_review",    "start_child",    "waiting"),
    ("waiting_review",    "finish_child",   "waiting"),
    ("waiting_review",    "settle_child",   "error invalid_argument"),
    ("waiting_review",    "attach_sub_run", "waiting attached"),

    ("waiting_sleep",     "create",         "error already_exists"),
    ("waiting_sleep",     "enqueue",        "error invalid_transition"),
    ("waiting_sleep",     "claim",          "error invalid_transition"),
    ("waiting_sleep",     "heartbeat",      "error lease_revoked"),
    ("waiting_sleep",     "wait_review",    "error lease_revoked"),
    ("waiting_sleep",     "resume",         "running"),
    ("waiting_sleep",     "complete",       "error lease_revoked"),
    ("waiting_sleep",     "fail",           "error lease_revoked"),
    ("waiting_sleep",     "reject",         "error invalid_transition"),
    ("waiting_sleep",     "cancel",         "cancelled cancelled_now"),
    ("waiting_sleep",     "ack_cancel",     "error lease_revoked"),
    ("waiting_sleep",     "deadline_fired", "waiting nothing"),
    ("waiting_sleep",     "add_children",   "waiting"),
    ("waiting_sleep",     "start_child",    "waiting"),
    ("waiting_sleep",     "finish_child",   "waiting"),
    ("waiting_sleep",     "settle_child",   "error invalid_argument"),
    ("waiting_sleep",     "attach_sub_run", "waiting attached"),

    // cancelling: pending children were cancelled, the running one is cancelling.
    ("cancelling",        "create",         "error already_exists"),
    ("cancelling",        "enqueue",        "error invalid_transition"),
    ("cancelling",        "claim",          "error invalid_transition"),
    ("cancelling",        "heartbeat",      "cancelling"),
    ("cancelling",        "wait_review",    "error invalid_transition"),
    ("cancelling",        "resume",         "error invalid_transition"),
    ("cancelling",        "complete",       "cancelled late"),
    ("cancelling",        "fail",           "cancelled late"),
    ("cancelling",        "reject",         "error invalid_transition"),
    ("cancelling",        "cancel",         "cancelling already_requested"),
    ("cancelling",        "ack_cancel",     "cancelled"),
    ("cancelling",        "deadline_fired", "cancelling nothing"),
    ("cancelling",        "add_children",   "error invalid_transition"),
    ("cancelling",        "start_child",    "error invalid_argument"),
    ("cancelling",        "finish_child",   "error invalid_argument"),
    ("cancelling",        "settle_child",   "cancelling"),
    ("cancelling",        "attach_sub_run", "cancelling attached(cancel)"),

    ("cancelling_due",    "create",         "error already_exists"),
    ("cancelling_due",    "enqueue",        "error invalid_transition"),
    ("cancelling_due",    "claim",          "error invalid_transition"),
    ("cancelling_due",    "heartbeat",      "cancelling"),
    ("cancelling_due",    "wait_review",    "error invalid_transition"),
    ("cancelling_due",    "resume",         "error invalid_transition"),
    ("cancelling_due",    "complete",       "cancelled late"),
    ("cancelling_due",    "fail",           "cancelled late"),
    ("cancelling_due",    "reject",         "error invalid_transition"),
    ("cancelling_due",    "cancel",         "cancelling already_requested"),
    ("cancelling_due",    "ack_cancel",     "cancelled"),
    ("cancelling_due",    "deadline_fired", "cancelled cancel_forced"),
    ("cancelling_due",    "add_children",   "error invalid_transition"),
    ("cancelling_due",    "start_child",    "error invalid_argument"),
    ("cancelling_due",    "finish_child",   "error invalid_argument"),
    ("cancelling_due",    "settle_child",   "cancelling"),
    ("cancelling_due",    "attach_sub_run", "cancelling attached(cancel)"),

    ("completed",         "create",         "error already_exists"),
    ("completed",         "enqueue",        "error invalid_transition"),
    ("completed",         "claim",          "error invalid_transition"),
    ("completed",         "heartbeat",      "error lease_revoked"),
    ("completed",         "wait_review",    "error lease_revoked"),
    ("completed",         "resume",         "error invalid_transition"),
    ("completed",         "complete",       "completed duplicate"),
    ("completed",         "fail",           "completed late"),
    ("completed",         "reject",         "error invalid_transition"),
    ("completed",         "cancel",         "completed already_terminal(lost_race)"),
    ("completed",         "ack_cancel",     "error lease_revoked"),
    ("completed",         "deadline_fired", "completed nothing"),
    ("completed",         "add_children",   "error invalid_transition"),
    ("completed",         "start_child",    "error invalid_transition"),
    ("completed",         "finish_child",   "error invalid_transition"),
    ("completed",         "settle_child",   "error invalid_transition"),
    ("completed",         "attach_sub_run", "error invalid_transition"),

    ("failed",            "create",         "error already_exists"),
    ("failed",            "enqueue",        "error invalid_transition"),
    ("failed",            "claim",          "error invalid_transition"),
    ("failed",            "heartbeat",      "error lease_revoked"),
    ("failed",            "wait_review",    "error lease_revoked"),
    ("failed",            "resume",         "error invalid_transition"),
    ("failed",            "complete",       "failed late"),
    ("failed",            "fail",           "failed duplicate"),
    ("failed",            "reject",         "error invalid_transition"),
    ("failed",            "cancel",         "failed already_terminal(lost_race)"),
    ("failed",            "ack_cancel",     "error lease_revoked"),
    ("failed",            "deadline_fired", "failed nothing"),
    ("failed",            "add_children",   "error invalid_transition"),
    ("failed",            "start_child",    "error invalid_transition"),
    ("failed",            "finish_child",   "error invalid_transition"),
    ("failed",            "settle_child",   "error invalid_transition"),
    ("failed",            "attach_sub_run", "error invalid_transition"),

    ("rejected",          "create",         "error already_exists"),
    ("rejected",          "enqueue",        "error invalid_transition"),
    ("rejected",          "claim",          "error invalid_transition"),
    ("rejected",          "heartbeat",      "error lease_revoked"),
    ("rejected",          "wait_review",    "error lease_revoked"),
    ("rejected",          "resume",         "error invalid_transition"),
    ("rejected",          "complete",       "rejected late"),
    ("rejected",          "fail",           "rejected late"),
    ("rejected",          "reject",         "error invalid_transition"),
    ("rejected",          "cancel",         "rejected already_terminal(lost_race)"),
    ("rejected",          "ack_cancel",     "error lease_revoked"),
    ("rejected",          "deadline_fired", "rejected nothing"),
    ("rejected",          "add_children",   "error invalid_transition"),
    ("rejected",          "start_child",    "error invalid_transition"),
    ("rejected",          "finish_child",   "error invalid_transition"),
    ("rejected",          "settle_child",   "error invalid_transition"),
    ("rejected",          "attach_sub_run", "error invalid_transition"),

    ("cancelled",         "create",         "error already_exists"),
    ("cancelled",         "enqueue",        "error invalid_transition"),
    ("cancelled",         "claim",          "error invalid_transition"),
    ("cancelled",         "heartbeat",      "error lease_revoked"),
    ("cancelled",         "wait_review",    "error lease_revoked"),
    ("cancelled",         "resume",         "error invalid_transition"),
    ("cancelled",         "complete",       "cancelled late"),
    ("cancelled",         "fail",           "cancelled late"),
    ("cancelled",         "reject",         "error invalid_transition"),
    ("cancelled",         "cancel",         "cancelled already_cancelled"),
    ("cancelled",         "ack_cancel",     "error lease_revoked"),
    ("cancelled",         "deadline_fired", "cancelled nothing"),
    ("cancelled",         "add_children",   "error invalid_transition"),
    ("cancelled",         "start_child",    "error invalid_transition"),
    ("cancelled",         "finish_child",   "error invalid_transition"),
    ("cancelled",         "settle_child",   "error invalid_transition"),
    ("cancelled",         "attach_sub_run", "cancelled attached(cancel)"),
];

#[test]
fn table_covers_every_state_and_command() {
    for s in STATES {
        for c in COMMANDS {
            let n = TABLE.iter().filter(|(f, k, _)| *f == s && *k == c).count();
            assert_eq!(n, 1, "({s}, {c}) must appear exactly once in the table");
        }
    }
    assert_eq!(TABLE.len(), STATES.len() * COMMANDS.len());
}

#[test]
fn every_row_holds() {
    let mut failures = Vec::new();
    for (from, cmd, expected) in TABLE {
        let before = state(from);
        let mut after = before.clone();
        let result = apply(&mut after, &command(cmd), NOW);
        if result.is_err() {
            assert_eq!(after, before, "a refused command must change nothing");
        }
        let got = describe(&result, after.status_kind());
        if got != *expected {
            failures.push(format!(
                "({from}, {cmd}): expected `{expected}`, got `{got}`"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_named_state_reaches_its_status() {
    let expect = [
        ("pending", StatusKind::Pending),
        ("queued", StatusKind::Queued),
        ("running_unclaimed", StatusKind::Running),
        ("running", StatusKind::Running),
        ("running_expired", StatusKind::Running),
        ("waiting_review", StatusKind::Waiting),
        ("waiting_sleep", StatusKind::Waiting),
        ("cancelling", StatusKind::Cancelling),
        ("cancelling_due", StatusKind::Cancelling),
        ("completed", StatusKind::Completed),
        ("failed", StatusKind::Failed),
        ("rejected", StatusKind::Rejected),
        ("cancelled", StatusKind::Cancelled),
    ];
    for (name, kind) in expect {
        assert_eq!(state(name).status_kind(), kind, "{name}");
    }
}

#[test]
fn finished_long_ago_is_not_a_lost_race() {
    for from in ["completed", "failed", "rejected"] {
        let s = state(from);
        let d = decide(&s, &cancel(), T0 + 3_600_000).unwrap();
        assert_eq!(
            describe(&Ok(d), s.status_kind()),
            format!("{from} already_terminal(long_ago)")
        );
    }
}
