#!/usr/bin/env bash
# Starts `wrangler dev` on 127.0.0.1 with per-request logging and local observability off
# (they cost ~4 ms per request). exec, not npx: SIGINT to this PID stops workerd cleanly.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
export X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false
exec node node_modules/wrangler/bin/wrangler.js dev --ip 127.0.0.1 --port "${PORT:-8787}" \
  --log-level="${WRANGLER_LOG_LEVEL:-warn}" --show-interactive-dev-session=false "$@"
