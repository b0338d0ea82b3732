#!/usr/bin/env bash
# The Python side of the tests: a venv in .tools/venv with the vendors' published SDKs (the real
# clients of the dialect routes) and pytest, all pinned (tests/sdk/requirements.txt, and every
# transitive package in tests/sdk/constraints.txt). Idempotent: a venv that already holds exactly
# these versions is left alone (well under a second). Needs python3 with venv, and PyPI when cold.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

VENV="$ROOT/.tools/venv"
REQUIREMENTS="$ROOT/tests/sdk/requirements.txt"
CONSTRAINTS="$ROOT/tests/sdk/constraints.txt"

have_pins() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "$REQUIREMENTS" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, want = line.split("==")
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
printf 'setup-python: %s\n' "venv $VENV from tests/sdk/requirements.txt"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  -r "$REQUIREMENTS" -c "$CONSTRAINTS"
have_pins || { echo "setup-python: the venv does not hold what $REQUIREMENTS pins" >&2; exit 1; }
