#!/usr/bin/env bash
# Builds the npm package of the core (`runbrake-core`): the same Rust state machine compiled to
# WebAssembly with its JavaScript bindings (feature `js`), for bundlers (`bundler`), browsers
# without a bundler (`web`, `await init()`) and node (`nodejs`, CommonJS), with the TypeScript
# types tsify generates from the Rust types.
#
#   bash scripts/package-core.sh          # crate/pkg/ and dist/runbrake-core-<version>.tgz
#   bash scripts/package-core.sh --bench  # the same, plus what `node bench/core.mjs` runs:
#                                         # the native bench binary and a Wasm build with the
#                                         # bench exports (feature `bench`), under target/bench-core/
#
# Idempotent: a second run rebuilds nothing in cargo (wasm-bindgen, wasm-opt and npm pack run
# again, a few seconds) and produces the same files. Offline: only the pinned local tools.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

BENCH=0
case "${1:-}" in
  "") ;;
  --bench) BENCH=1 ;;
  *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac

die() { echo "package-core: $*" >&2; exit 1; }
step() { printf 'package-core: %s\n' "$*"; }

# The wasm-bindgen CLI must be exactly the crate's version (Cargo.lock), wasm-opt binaryen's.
WB_WANT="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen not found: run \`make setup\`"
wasm-bindgen --version | grep -qF " $WB_WANT" ||
  die "wasm-bindgen $(wasm-bindgen --version) on PATH, Cargo.lock has $WB_WANT: run \`make setup\`"
[ -x "$ROOT/node_modules/.bin/wasm-opt" ] || die "node_modules/.bin/wasm-opt missing: run \`make setup\`"
WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"

# Each build has its own target dir. The cdylib's file name (runbrake_core.wasm) does not depend
# on features, so in a shared dir a Worker build (the core without `js`) or the bench build
# (`bench`) overwrites it while cargo still counts this build as fresh, and the package would
# silently ship the wrong module. The cost is one cold build per dir (~1.5 min), then no-ops.
PKG_TARGET="$ROOT/target/npm"
BENCH_TARGET="$ROOT/target/bench-core"
PKG="$ROOT/crate/pkg"
# Size settings of the shipped module (the target is its size gzipped; figures: gzip -9 of the
# packaged .wasm, as bench/core.mjs measures it, from 171 KB before these settings):
# - rustc opt-level "z" for the Wasm builds only (the native bench binary keeps the workspace's
#   "s"): 12 KB less with the wasm-opt settings below.
# - wasm-opt inlines a function that has a single caller only if it is small (binaryen's default
#   inlines all of them, whatever their size): 16-20 KB less. Code left in its own functions
#   repeats itself and compresses; the same code inlined into large functions does not (the raw
#   module hardly changes). Limits from 10 to 40 do about as well; 100 gives a quarter back.
# - -Oz rather than -Os: the same gzipped, 13 KB less raw.
# - The --enable-* features are what the Rust release build uses (rustc 1.95 wasm32 defaults);
#   wasm-opt must accept them.
WASM_RUST_OPT_LEVEL=z
WASM_OPT_ARGS=(-Oz --one-caller-inline-max-function-size=20 --enable-bulk-memory
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --enable-reference-types --enable-multivalue)

# cargo_wasm FEATURES TARGET_DIR: builds the core's cdylib, prints the .wasm path.
cargo_wasm() {
  CARGO_PROFILE_RELEASE_OPT_LEVEL="$WASM_RUST_OPT_LEVEL" CARGO_TARGET_DIR="$2" \
    cargo build -p runbrake-core --target wasm32-unknown-unknown --release --features "$1" --quiet
  echo "$2/wasm32-unknown-unknown/release/runbrake_core.wasm"
}

# wasm_opt IN OUT CACHE_DIR: wasm-opt takes ~15 s on this module, so its output is cached by
# input hash, flags and version (the three targets' modules are identical today, and a re-run
# with nothing changed skips it entirely).
wasm_opt() {
  local key
  key="$({ sha256sum <"$1"; echo "${WASM_OPT_ARGS[*]}"; "$WASM_OPT" --version; } | sha256sum | cut -c1-32)"
  mkdir -p "$3"
  if [ ! -f "$3/$key.wasm" ]; then
    "$WASM_OPT" "${WASM_OPT_ARGS[@]}" "$1" -o "$3/$key.tmp" && mv "$3/$key.tmp" "$3/$key.wasm"
  fi
  touch "$3/$key.wasm" && cp "$3/$key.wasm" "$2"
}

# bindgen WASM OUT_DIR TARGET CACHE_DIR: JS glue + .d.ts for one target, then wasm-opt (size).
bindgen() {
  wasm-bindgen --target "$3" --out-dir "$2" --out-name runbrake_core "$1"
  wasm_opt "$2/runbrake_core_bg.wasm" "$2/runbrake_core_bg.wasm" "$4"
}

step "cargo build --features js (wasm32, release)"
WASM="$(cargo_wasm js "$PKG_TARGET")"
# The package must never carry the bench exports (see the note on target dirs above).
if grep -qa benchCancelDecisions "$WASM"; then die "$WASM has the bench exports"; fi

# Build into a staging dir, then swap: an interrupted run never leaves a half-made crate/pkg.
STAGE="$PKG_TARGET/pkg-staging"
rm -rf "$STAGE" && mkdir -p "$STAGE"
for target in bundler web nodejs; do
  step "wasm-bindgen --target $target + wasm-opt"
  bindgen "$WASM" "$STAGE/$target" "$target" "$PKG_TARGET/wasm-opt-cache"
done
# Keep only this build's cache entries.
find "$PKG_TARGET/wasm-opt-cache" -name '*.wasm' ! -newer "$WASM" -delete
# The nodejs output is CommonJS: mark its folder so node (and TypeScript) do not read it as ESM
# under the package's "type": "module".
echo '{"type": "commonjs"}' > "$STAGE/nodejs/package.json"

VERSION="$(cargo metadata --no-deps --format-version 1 | node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () =>
    console.log(JSON.parse(s).packages.find(p => p.name === "runbrake-core").version))')"
[ -n "$VERSION" ] || die "could not read the version of runbrake-core"
node -e '
  const fs = require("fs"); const [tpl, out, version] = process.argv.slice(1);
  const pkg = JSON.parse(fs.readFileSync(tpl, "utf8"));
  pkg.version = version;
  fs.writeFileSync(out, JSON.stringify(pkg, null, 2) + "\n");' \
  crate/npm/package.json "$STAGE/package.json" "$VERSION"
cp crate/npm/README.md "$STAGE/README.md"
cp -r crate/npm/examples "$STAGE/examples"
rm -rf "$PKG" && mv "$STAGE" "$PKG"

mkdir -p dist
rm -f "dist/runbrake-core-$VERSION.tgz"
(cd "$PKG" && npm pack --silent --pack-destination "$ROOT/dist" >/dev/null)
[ -f "dist/runbrake-core-$VERSION.tgz" ] || die "npm pack did not write dist/runbrake-core-$VERSION.tgz"
step "crate/pkg/ and dist/runbrake-core-$VERSION.tgz ($(stat -c %s "dist/runbrake-core-$VERSION.tgz") B;" \
  "wasm $(stat -c %s "$PKG/bundler/runbrake_core_bg.wasm") B, $(gzip -9c "$PKG/bundler/runbrake_core_bg.wasm" | wc -c) B gzipped)"

[ "$BENCH" = 1 ] || exit 0

# Bench builds: the bench exports (feature `bench`) as a node module, and the native bench
# binary, whose path goes into a manifest so that bench/core.mjs builds nothing itself.
step "cargo build --features bench (wasm32, release)"
BENCH_WASM="$(cargo_wasm bench "$BENCH_TARGET")"
rm -rf "$BENCH_TARGET/wasm"
bindgen "$BENCH_WASM" "$BENCH_TARGET/wasm" nodejs "$BENCH_TARGET/wasm-opt-cache"
find "$BENCH_TARGET/wasm-opt-cache" -name '*.wasm' ! -newer "$BENCH_WASM" -delete
echo '{"type": "commonjs"}' > "$BENCH_TARGET/wasm/package.json"

step "cargo bench --no-run (native)"
NATIVE="$(cargo bench -p runbrake-core --bench core --no-run --quiet --message-format=json | node -e '
  let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
    const exe = s.split("\n").filter(Boolean).map(l => JSON.parse(l))
      .filter(m => m.reason === "compiler-artifact" && m.target.name === "core" && m.executable)
      .map(m => m.executable).pop();
    if (!exe) process.exit(1);
    console.log(exe);
  })')" || die "could not find the native bench binary"
node -e '
  const fs = require("fs"); const [out, native, wasm] = process.argv.slice(1);
  fs.writeFileSync(out, JSON.stringify({ native, wasm, built_at: new Date().toISOString() }, null, 2) + "\n");' \
  "$BENCH_TARGET/manifest.json" "$NATIVE" "$BENCH_TARGET/wasm/runbrake_core.js"
step "bench builds ready: $BENCH_TARGET/manifest.json"
