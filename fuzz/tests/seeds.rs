//! Writes the committed seed corpus (`fuzz/corpus/<target>/seed-*`): real request bodies,
//! paths and stream messages, made with the same types the service uses.
//!
//!   cargo test --manifest-path fuzz/Cargo.toml --no-default-features --test seeds -- --ignored
use std::fs;
use std::path::Path;

use runbrake_core::{AckCancelArgs, By, CancelArgs, Command, Source, apply, decide};
use runbrake_fuzz::checks::{LEASE, T0, fixtures};
use runbrake_fuzz::run_object::protocol::{Op, OpReply, Snapshot};
use serde_json::json;

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(format!("seed-{name}")), data).expect("write seed");
}

fn framed(a: u8, b: u8, body: &str) -> Vec<u8> {
    let mut v = vec![a, b];
    v.extend_from_slice(body.as_bytes());
    v
}

fn cancel_cmd(id: &str, grace: u64) -> Command {
    let mut a = CancelArgs::new(By {
        source: Source::Api,
        actor: Some("key_seed".to_owned()),
    });
    a.command_id = Some(id.to_owned());
    a.reason = Some("wrong input".to_owned());
    a.grace_ms = Some(grace);
    Command::Cancel(a)
}

#[test]
#[ignore = "writes the seed corpus"]
fn write_seed_corpus() {
    // body: [route, content type, body]; see checks::body::check_body for the selectors.
    let running = &fixtures()[3];
    let op = Op::Command {
        command: cancel_cmd("cancel-1", 10_000),
    };
    let reply = OpReply {
        run: Snapshot {
            state: running.state.clone(),
            info: Default::default(),
            now: T0,
        },
        reply: None,
        events: None,
        children: None,
    };
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "create-items",
            framed(
                0,
                1,
                r#"{"kind":"workflow","name":"Invoice Processing","initial":"queued","tags":["finance"],"workflow":{"id":"wf_1","name":"Invoices"},"trigger":{"type":"schedule","actor":"cron"},"metadata":{"k":1},"children":[{"id":"c1","name":"OCR"},{"id":"c2","status":"running"}]}"#,
            ),
        ),
        (
            "create-counts",
            framed(
                1,
                1,
                r#"{"kind":"generic","initial":"running","default_grace_ms":1000,"children":{"pending":2,"running":1,"completed":3},"sub_runs":["grun_a"],"attributes":{"workflowDefinition":{}}}"#,
            ),
        ),
        (
            "cancel",
            framed(
                3,
                1,
                r#"{"command_id":"cancel-1","reason":"wrong input","grace_ms":10000}"#,
            ),
        ),
        (
            "cancel-preconditions",
            framed(
                4,
                1,
                r#"{"if_status_in":["running","queued"],"if_version":3,"source":"dashboard","grace_ms":0}"#,
            ),
        ),
        (
            "claim",
            framed(6 + 16, 1, r#"{"executor":"exec-1","lease_ms":30000}"#),
        ),
        (
            "fail",
            framed(
                6 + 16 * 5,
                1,
                r#"{"lease_id":"lease_x","message":"OCR failed","code":"E_OCR"}"#,
            ),
        ),
        (
            "children",
            framed(
                6 + 16 * 7,
                1,
                r#"{"items":[{"id":"a","status":"running"},{"id":"b"}]}"#,
            ),
        ),
        (
            "bulk-dry-run",
            framed(
                8,
                1,
                r#"{"selection":{"filter":{"status":["running"],"kind":"workflow","created_from":"2026-01-01T00:00:00Z","created_to":1777645800000}},"reason":"cleanup","sample_size":5}"#,
            ),
        ),
        (
            "bulk-start",
            framed(
                8 + 16,
                1,
                r#"{"dry_run_id":"dr_1","idempotency_key":"k1","concurrency":4,"rate_per_s":10}"#,
            ),
        ),
        (
            "retab-cancel",
            framed(9, 1, r#"{"command_id":"cmd_cancel_abc"}"#),
        ),
        (
            "retab-cancel-bad-json",
            framed(9, 0, "{\n  \"command_id\": 12,"),
        ),
        ("extend-version", framed(9 + 16 * 3, 0, "2026-02-09")),
        ("generic-empty", framed(9 + 16 * 4, 2, "{}")),
        (
            "op-command",
            framed(13, 0, &serde_json::to_string(&op).expect("op")),
        ),
        (
            "op-reply",
            framed(13 + 16, 0, &serde_json::to_string(&reply).expect("reply")),
        ),
        (
            "op-error",
            framed(
                13 + 32,
                0,
                r#"{"error":"refused","detail":null,"code":"invalid_transition","message":"no"}"#,
            ),
        ),
    ];
    for (name, data) in bodies {
        write("body", name, &data);
    }

    // core_sequence: arbitrary bytes (a fixed pseudo-random stream, so the seeds are stable).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for (i, len) in [32usize, 96, 256, 700, 2048].into_iter().enumerate() {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        write("core_sequence", &format!("random-{i}"), &bytes);
    }

    // ids: [method, text].
    for (name, m, text) in [
        (
            "generic-cancel",
            1u8,
            "/v1/runs/grun_7Qk2mXpL9vTz3bN8cR1sDa/cancel",
        ),
        ("retab-get", 0, "/v1/workflows/runs/run_abc123"),
        (
            "extend-get",
            0,
            "/workflow_runs/workflow_run_xKm9pNv3qWsY_jL2tR5Dh",
        ),
        (
            "retab-test-put",
            2,
            "/v1/workflows/tests/runs/wftestrun_q1z2/cancel",
        ),
        ("command-id", 1, "parent:7:cascade.1"),
        ("traversal", 0, "/v1/runs/%2e%2e/../x/cancel"),
        ("timestamp", 0, "2026-05-01T16:30:00.25+02:00"),
        ("child-status", 0, "cancelling"),
    ] {
        let mut v = vec![m];
        v.extend_from_slice(text.as_bytes());
        write("ids", name, &v);
    }

    // ws_message: [fixture | optimistic bit, frames…], frames as run_object/stream.rs sends them.
    let mut state = running.state.clone();
    let cancel = apply(&mut state, &cancel_cmd("ui-cancel", 30_000), T0 + 100).expect("cancel");
    let mut frames: Vec<String> = cancel
        .events
        .iter()
        .map(|r| json!({ "type": "event", "seq": r.seq, "record": r }).to_string())
        .collect();
    let ack = apply(
        &mut state,
        &Command::AckCancel(AckCancelArgs {
            lease_id: LEASE.to_owned(),
        }),
        T0 + 200,
    )
    .expect("ack");
    frames.push(
        json!({
            "type": "update",
            "seq": state.version,
            "events": ack.events,
            "run": { "state": state, "info": { "org_id": "org_seed" }, "now": T0 + 200 },
        })
        .to_string(),
    );
    frames.push(json!({ "type": "pong", "seq": state.version }).to_string());
    let mut live = vec![3u8 | 0x80];
    live.extend_from_slice(frames.join("\n").as_bytes());
    write("ws_message", "cancel-then-ack", &live);
    let snapshot = json!({
        "type": "snapshot",
        "seq": state.version,
        "run": { "state": state, "info": { "org_id": "org_seed" }, "now": T0 + 300 },
    });
    let mut resync = vec![3u8];
    resync.extend_from_slice(format!("{{\"type\":\"resync\",\"seq\":9}}\n{snapshot}").as_bytes());
    write("ws_message", "resync-snapshot", &resync);
    let stale = decide(&fixtures()[0].state, &Command::Enqueue, T0 + 50).expect("enqueue");
    let mut gap = vec![0u8];
    for r in &stale.events {
        let mut far = r.clone();
        far.seq += 5;
        gap.extend_from_slice(
            format!(
                "{}\n{}\n",
                json!({ "type": "event", "seq": far.seq, "record": far }),
                json!({ "type": "event", "seq": r.seq, "record": r })
            )
            .as_bytes(),
        );
    }
    gap.extend_from_slice(
        json!({ "type": "cancel_requested", "seq": 4, "run_id": "run_x", "lease_id": "l", "deadline": T0 })
            .to_string()
            .as_bytes(),
    );
    write("ws_message", "gap-then-next", &gap);
}
