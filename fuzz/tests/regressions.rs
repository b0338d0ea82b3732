//! T12 regressions: every input a fuzz target ever crashed on (`fuzz/regressions/<target>/`)
//! and every seed of the committed corpus (`fuzz/corpus/<target>/`), replayed through the same
//! checks the fuzz targets run. A plain `cargo test` (no libFuzzer): `make test-core` runs it.
use std::fs;
use std::path::Path;

use runbrake_fuzz::checks::TARGETS;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), fs::read(&p).expect("read input")))
        .collect()
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(kind);
    let mut n = 0;
    for (target, check) in TARGETS {
        for (name, data) in inputs(&root.join(target)) {
            let ok = std::panic::catch_unwind(|| check(&data));
            assert!(ok.is_ok(), "{target}: {name} fails again");
            n += 1;
        }
    }
    n
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    let n = replay("regressions");
    println!("replayed {n} regression inputs");
}

#[test]
fn seed_corpus_passes() {
    let n = replay("corpus");
    assert!(n >= 4 * 3, "the seed corpus is missing ({n} files)");
    println!("replayed {n} corpus inputs");
}
