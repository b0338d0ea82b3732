#!/usr/bin/env bash
# Measures CI from cold: a fresh clone of HEAD, an empty CARGO_HOME (so worker-build and
# wasm-bindgen-cli are compiled again and every crate is downloaded again), no node_modules, no
# build output. The rust toolchain and Debian's chromium stay (the base image and apt cache
# provide them; `apt-get install chromium` adds about a minute on a machine without it).
#   bash scripts/cold-ci.sh            → prints the wall time of `bash .ci/run`
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d /tmp/runbrake-cold-XXXXXX)"
git clone --quiet "$SRC" "$WORK/repo"
mkdir -p "$WORK/cargo" "$WORK/rustbin"
# Only rustup's proxies (cargo, rustc, clippy, rustfmt) carry over; tools installed with
# `cargo install` and the crate cache do not: they go to the fresh CARGO_HOME.
for tool in cargo rustc rustup rustdoc cargo-clippy clippy-driver cargo-fmt rustfmt; do
  ln -s "$HOME/.cargo/bin/$tool" "$WORK/rustbin/$tool"
done
export CARGO_HOME="$WORK/cargo"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export PATH="$WORK/rustbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
cd "$WORK/repo"
start=$(date +%s)
CI=true bash .ci/run > "$WORK/ci.log" 2>&1 || { tail -50 "$WORK/ci.log"; echo "cold CI failed (log: $WORK/ci.log)"; exit 1; }
end=$(date +%s)
echo "cold CI: $((end - start)) s (log: $WORK/ci.log)"
