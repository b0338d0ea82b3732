#!/usr/bin/env bash
# The Python side of the tests: a venv in .tools/venv with the vendors' published SDKs (the real
# clients of the dialect routes) and pytest, all pinned. Idempotent: a venv that already has
# exactly these versions is left alone (well under a second).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

VENV="$ROOT/.tools/venv"
# Pinned: CONTRACTS.md describes these exact versions; bump them together with that document.
PINS=(retab==0.0.160 extend-ai==1.20.0 pytest==8.4.2)

have_pins() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "${PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

if have_pins; then
  exit 0
fi
printf 'setup-python: %s\n' "venv $VENV with ${PINS[*]}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${PINS[@]}"
have_pins || { echo "setup-python: the venv does not hold ${PINS[*]}" >&2; exit 1; }
