#!/usr/bin/env bash
# `make serve`: the built Worker on bare workerd (selfhost/workerd.capnp) — no wrangler proxy,
# inspector or per-request logging. ADDR (default 127.0.0.1:8788) is the one HTTP socket; DATA
# (default .selfhost/data) holds the Durable Objects' SQLite files; ADMIN_TOKEN comes from the
# environment, else from .dev.vars. exec: SIGINT/SIGTERM to this PID stop workerd.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
ADDR="${ADDR:-127.0.0.1:8788}"
DATA="${DATA:-$ROOT/.selfhost/data}"
if [ -z "${ADMIN_TOKEN:-}" ] && [ -f .dev.vars ]; then
  ADMIN_TOKEN="$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars | head -n 1)"
fi
export ADMIN_TOKEN="${ADMIN_TOKEN:-}"
[ -n "$ADMIN_TOKEN" ] || echo "serve: no ADMIN_TOKEN: admin routes stay closed" >&2
[ -f worker/build/index.js ] && [ -f web/dist/index.html ] || { echo "serve: run 'make build' first" >&2; exit 1; }
mkdir -p "$DATA"
echo "serve: runbrake on http://$ADDR (data in $DATA)" >&2
exec workerd serve selfhost/workerd.capnp --socket-addr "http=$ADDR" \
  --directory-path "dashboard=$ROOT/web/dist" --directory-path "data=$DATA"
