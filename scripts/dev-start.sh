#!/usr/bin/env bash
# `make dev`: the service on 127.0.0.1 (wrangler dev, the build `make build` just made), a demo
# organisation with seeded runs, and a simulated executor that keeps them moving (DEMO=0: none).
# First run writes .dev.vars with a random admin token. Ctrl-C stops everything.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
if [ ! -f .dev.vars ]; then
  umask 077
  printf 'ADMIN_TOKEN="%s"\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > .dev.vars
  echo "dev: created .dev.vars with a new admin token"
fi
ADMIN_TOKEN="$(sed -n 's/^ADMIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' .dev.vars | head -n 1)"
PORT="${PORT:-8787}"
URL="http://127.0.0.1:$PORT"

SKIP_WORKER_BUILD=1 PORT="$PORT" setsid bash scripts/dev.sh &
WRANGLER=$!
DEMO_PID=""
cleanup() {
  [ -n "$DEMO_PID" ] && kill "$DEMO_PID" 2>/dev/null || true
  kill -INT -- "-$WRANGLER" 2>/dev/null || true
  wait "$WRANGLER" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 600); do
  curl -fsS "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$WRANGLER" 2>/dev/null || { echo "dev: wrangler dev exited" >&2; exit 1; }
  sleep 0.1
done
echo
echo "dev: runbrake is up at $URL  (dashboard at /, API at /api, health at /healthz)"
if [ "${DEMO:-1}" = 1 ]; then
  ADMIN_TOKEN="$ADMIN_TOKEN" node scripts/demo.mjs --url "$URL" --state .wrangler/demo.json &
  DEMO_PID=$!
fi
wait "$WRANGLER"
