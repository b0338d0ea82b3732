#!/usr/bin/env bash
# Builds worker/build/ (the Rust Worker as Wasm + its JS shim). wrangler runs this on `dev`;
# tests set SKIP_WORKER_BUILD=1 to reuse what `make build` produced.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ "${SKIP_WORKER_BUILD:-}" = 1 ] && [ -f "$ROOT/worker/build/index.js" ] && exit 0
cd "$ROOT/worker" && exec worker-build --release "$@"
