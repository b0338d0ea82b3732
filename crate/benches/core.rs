//! Native benchmarks of the core (no criterion: `Instant`, warm-up, several rounds, median).
//!
//! ```text
//! cargo bench -p runbrake-core --bench core              # table on stderr, JSON on stdout
//! cargo bench -p runbrake-core --bench core -- --quick   # fewer, shorter rounds
//! ```
//!
//! `bench/core.mjs` runs the built binary, runs the same workloads in Wasm (feature `bench`)
//! and writes `bench/results/core.json`. Targets are reported there, never asserted here.
#![allow(clippy::unwrap_used)] // a bench that cannot set up its workload should stop loudly

mod scenarios;

use std::time::Instant;

use runbrake_core as rb;
use serde_json::{Value, json};

struct Config {
    warmup: usize,
    rounds: usize,
    ops: u32,
    big_rounds: usize,
}

/// Median, min and max of the samples (sorted in place).
fn stats(samples: &mut [f64]) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    };
    (median, samples[0], samples[n - 1])
}

/// Runs `f` (which does `ops` operations) `warmup + rounds` times; rates of the timed rounds.
fn throughput(name: &str, cfg: &Config, mut f: impl FnMut(u32) -> u64) -> Value {
    let mut check = 0u64;
    for _ in 0..cfg.warmup {
        check = check.wrapping_add(f(cfg.ops));
    }
    let mut rates: Vec<f64> = (0..cfg.rounds)
        .map(|_| {
            let t = Instant::now();
            check = check.wrapping_add(f(cfg.ops));
            f64::from(cfg.ops) / t.elapsed().as_secs_f64()
        })
        .collect();
    let (median, min, max) = stats(&mut rates);
    eprintln!(
        "{name:<28} {:>12.0} ops/s  ({:.0} ns/op; min {min:.0}, max {max:.0} ops/s)",
        median,
        1e9 / median
    );
    json!({
        "unit": "ops/s",
        "median": median,
        "min": min,
        "max": max,
        "ns_per_op": 1e9 / median,
        "ops_per_round": cfg.ops,
        "rounds": cfg.rounds,
        "warmup_rounds": cfg.warmup,
        "checksum": check,
    })
}

fn big_cancel(cfg: &Config) -> Value {
    let setup = Instant::now();
    let base = scenarios::BigRun::new(scenarios::BIG_RUN_CHILDREN).unwrap();
    let setup_ms = setup.elapsed().as_secs_f64() * 1e3;
    let mut events = 0;
    let mut ms: Vec<f64> = (0..cfg.big_rounds + 1)
        .map(|_| {
            let mut run = base.clone(); // not timed
            let t = Instant::now();
            events = run.cancel().unwrap();
            let took = t.elapsed().as_secs_f64() * 1e3;
            run.check_cancelled().unwrap();
            took
        })
        .skip(1) // warm-up
        .collect();
    let (median, min, max) = stats(&mut ms);
    eprintln!(
        "{:<28} {median:>12.2} ms     (min {min:.2}, max {max:.2} ms; {events} events; setup {setup_ms:.0} ms)",
        "cancel_100k_children"
    );
    json!({
        "unit": "ms",
        "median": median,
        "min": min,
        "max": max,
        "children": scenarios::BIG_RUN_CHILDREN,
        "events": events,
        "rounds": cfg.big_rounds,
        "warmup_rounds": 1,
        "what": "decide + evolve + ChildTable.apply of every event (pending -> cancelled, running -> cancelling)",
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let cfg = if quick {
        Config {
            warmup: 1,
            rounds: 5,
            ops: 20_000,
            big_rounds: 3,
        }
    } else {
        Config {
            warmup: 3,
            rounds: 11,
            ops: 200_000,
            big_rounds: 9,
        }
    };
    let state = scenarios::running_run().unwrap();
    let cmd = scenarios::cancel_command();
    let decide = throughput("cancel_decide", &cfg, |n| {
        scenarios::cancel_decisions(&state, &cmd, n).unwrap()
    });
    let decide_evolve = throughput("cancel_decide_evolve", &cfg, |n| {
        scenarios::cancel_decide_evolve(&state, &cmd, n).unwrap()
    });
    let big = big_cancel(&cfg);
    let out = json!({
        "runtime": "native",
        "arch": std::env::consts::ARCH,
        "os": std::env::consts::OS,
        "debug_assertions": cfg!(debug_assertions),
        "quick": quick,
        "benchmarks": {
            "cancel_decide": decide,
            "cancel_decide_evolve": decide_evolve,
            "cancel_100k_children": big,
        },
    });
    println!("{out}");
}
