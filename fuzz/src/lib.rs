//! T12: what the fuzz targets check, shared by the libFuzzer binaries (`fuzz_targets/*.rs`,
//! `make fuzz-smoke` / `make fuzz`) and the regression test (`tests/regressions.rs`, a plain
//! `cargo test` that replays every saved crash and the seed corpus through the same functions).
//!
//! The Worker is a `cdylib` with private modules, so this crate compiles the Worker's own source
//! files as its modules (`build.rs` mirrors `worker/src/lib.rs`'s module list, without the
//! entry point): `crate::api::runs::validate_create` here is the Worker's function, not a copy.
//! Only functions that never touch a JavaScript object (`Request`, `Response`, `Headers`) can
//! run natively; those are the parsers and validators, the core, and the pure renderers.
//!
//! | target | input | checks |
//! |---|---|---|
//! | `body` | route selector + request body | every route's body parse and validation (native API, bulk, executor protocol, the five dialects, the Worker↔RunObject protocol), then the core's decision on what passed, then every renderer |
//! | `core_sequence` | `Arbitrary` run + command sequence | `decide`/`evolve`: purity, terminal absorbing, seq 1..=n, one `cancel_requested`, one receipt per `command_id`, replay = live state, serde round trip |
//! | `ids` | a path or id | id / command_id / tag grammars against a reference, the dialect router, RFC 3339 round trip |
//! | `ws_message` | WebSocket text frames | the watch stream's messages into a run view (`merge_event`, rebase), as the dashboard does |
#![allow(
    dead_code,
    unused_imports,
    unused_variables,
    unused_mut,
    unreachable_pub,
    clippy::all
)]

// The Worker's modules (api, dialects, ids, run_object, …), compiled as this crate's own.
include!(concat!(env!("OUT_DIR"), "/worker_modules.rs"));

pub mod checks;
