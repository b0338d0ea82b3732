#!/usr/bin/env bash
# Brings a fresh machine to a working state; idempotent and cached (seconds when warm).
# Everything installed comes from the package registries: no GitHub release downloads.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

WORKER_BUILD_VERSION=0.8.7
# Must equal the wasm-bindgen version in Cargo.lock exactly.
WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)"
have() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"; }
step() { printf 'setup: %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
# ~8 min of compiling when cold; $CARGO_HOME/bin is the cache.
have worker-build "$WORKER_BUILD_VERSION" || { step "worker-build $WORKER_BUILD_VERSION"; cargo install "worker-build@$WORKER_BUILD_VERSION" --locked; }
# Not --locked: the registry lacks a crate version its lockfile pins.
have wasm-bindgen "$WASM_BINDGEN_VERSION" || { step "wasm-bindgen-cli $WASM_BINDGEN_VERSION"; cargo install "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"; }
# T12 fuzzing (make fuzz-smoke / make fuzz): libFuzzer targets on stable with --sanitizer none;
# ~2 min of compiling when cold.
CARGO_FUZZ_VERSION=0.13.2
have cargo-fuzz "$CARGO_FUZZ_VERSION" || { step "cargo-fuzz $CARGO_FUZZ_VERSION"; cargo install "cargo-fuzz@$CARGO_FUZZ_VERSION" --locked; }

# Playwright cannot download its browser offline: Debian's chromium instead.
if [ "${WITH_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  step "chromium (apt)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium fonts-liberation
fi

# npm install, never npm ci: the registry lacks some platforms' workerd builds that the lockfile names.
stamp="node_modules/.runbrake-installed"
if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  step "npm install"
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
node --version | grep -q '^v22\.' || { echo "setup: node 22 expected first on PATH, got $(node --version)" >&2; exit 1; }
# The vendors' Python SDKs for tests/sdk (.tools/venv; PyPI only when cold, ~1 min).
if [ "${WITH_PYTHON:-1}" = 1 ]; then bash "$ROOT/scripts/setup-python.sh"; fi
