//! Generates `$OUT_DIR/worker_modules.rs`: one `#[path] pub mod` per module that
//! worker/src/lib.rs declares, so this crate compiles the Worker's modules as its own (they keep
//! their `crate::…` paths) without the Worker's entry point. A module added to the Worker is
//! picked up here without an edit.
use std::path::Path;
use std::{env, fs};

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let src = Path::new(&manifest).join("../worker/src");
    let src = src.canonicalize().expect("worker/src");
    let lib = src.join("lib.rs");
    println!("cargo:rerun-if-changed={}", lib.display());
    let text = fs::read_to_string(&lib).expect("worker/src/lib.rs");
    let mut out = String::new();
    for line in text.lines() {
        let l = line.trim();
        let l = l.strip_prefix("pub ").unwrap_or(l);
        let Some(name) = l.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) else {
            continue;
        };
        let name = name.trim();
        let file = src.join(format!("{name}.rs"));
        let path = if file.exists() {
            file
        } else {
            src.join(name).join("mod.rs")
        };
        out.push_str(&format!(
            "#[path = {:?}]\npub mod {name};\n",
            path.display().to_string()
        ));
    }
    let dest = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("worker_modules.rs");
    fs::write(dest, out).expect("write worker_modules.rs");
}
