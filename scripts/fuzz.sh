#!/usr/bin/env bash
# T12: builds the cargo-fuzz targets (fuzz/, libFuzzer, `--sanitizer none` on stable Rust: no
# nightly flag is needed) and runs each one for SECONDS_PER_TARGET on the committed seed corpus
# plus what earlier runs found (fuzz/target/corpus, git-ignored). Writes the figures to
# tests/output/reliability/T12.json and fails on any crash, panic, OOM or timeout; the input is
# kept in fuzz/target/artifacts/<target>/: move it to fuzz/regressions/<target>/ (replayed by
# `cargo test` in fuzz/tests/regressions.rs, part of `make test-core`) and fix the bug.
#
#   bash scripts/fuzz.sh 30      (make fuzz-smoke, CI)      bash scripts/fuzz.sh 600   (make fuzz)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

SECONDS_PER_TARGET="${1:-30}"
TARGETS=(body core_sequence ids ws_message)
# The same flags for build and run, or `cargo fuzz run` rebuilds. 16 codegen units: the cold build
# is part of CI's time.
FLAGS=(--fuzz-dir fuzz --sanitizer none --codegen-units 16)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
cargo fuzz build "${FLAGS[@]}"

rows="[]"
failed=()
mkdir -p fuzz/target/logs
for t in "${TARGETS[@]}"; do
  work="fuzz/target/corpus/$t"
  artifacts="fuzz/target/artifacts/$t/"
  log="fuzz/target/logs/$t.log"
  mkdir -p "$work" "$artifacts"
  before=$(find "$artifacts" -type f | wc -l)
  rc=0
  # New inputs go to the first folder (git-ignored); the committed corpus is only read.
  cargo fuzz run "${FLAGS[@]}" "$t" "$work" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | tr -dc 0-9)
  crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  printf 'fuzz: %-14s %9s execs in %ss, coverage %s, %s crash(es)\n' "$t" "${execs:-0}" "$SECONDS_PER_TARGET" "${cov:-0}" "$crashes"
  if [ "$crashes" -ne 0 ]; then
    failed+=("$t")
    grep -m1 -A3 -E 'panicked at|ERROR: libFuzzer|==[0-9]+== ERROR' "$log" >&2 || tail -20 "$log" >&2
    echo "fuzz: $t: inputs in $artifacts (log: $log)" >&2
  fi
  rows=$(node -e '
    const [rows, t, execs, secs, crashes, cov] = process.argv.slice(1);
    const r = JSON.parse(rows);
    r.push({ figure: `${t}: executions in ${secs} s`, target: "> 0", value: Number(execs), pass: Number(execs) > 0 });
    r.push({ figure: `${t}: coverage (libFuzzer cov)`, target: "> 0", value: Number(cov), pass: Number(cov) > 0 });
    r.push({ figure: `${t}: crashes, panics, OOMs, timeouts`, target: "0", value: Number(crashes), pass: Number(crashes) === 0 });
    console.log(JSON.stringify(r));
  ' "$rows" "$t" "${execs:-0}" "$SECONDS_PER_TARGET" "$crashes" "${cov:-0}")
done

tier=ci
if [ "$SECONDS_PER_TARGET" -ge 600 ]; then tier=long; fi
RELIABILITY_TIER="$tier" node --input-type=module -e '
  import { record } from "./tests/reliability/lib/figures.mjs";
  await record("T12", `cargo-fuzz, ${process.argv[2]} s per target (scripts/fuzz.sh)`, JSON.parse(process.argv[1]));
' "$rows" "$SECONDS_PER_TARGET"

if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: crashes in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, no crash"
