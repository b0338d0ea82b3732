#!/usr/bin/env bash
# Builds the npm package of the core (`runbrake-core`): the same Rust state machine compiled to
# WebAssembly with its JavaScript bindings (feature `js`), for bundlers, browsers (`web`) and
# node, with TypeScript types generated from the Rust types. Output: crate/pkg/ and the packed
# tarball dist/runbrake-core-<version>.tgz.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
PKG="$ROOT/crate/pkg"
cargo build -p runbrake-core --target wasm32-unknown-unknown --release --features js --quiet
WASM="$ROOT/target/wasm32-unknown-unknown/release/runbrake_core.wasm"
rm -rf "$PKG" && mkdir -p "$PKG"
for target in bundler web nodejs; do
  wasm-bindgen --target "$target" --out-dir "$PKG/$target" --out-name runbrake_core "$WASM"
  wasm-opt -Os --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$PKG/$target/runbrake_core_bg.wasm" -o "$PKG/$target/runbrake_core_bg.wasm"
done
# nodejs output is CommonJS: mark its folder so node does not read it as ESM.
echo '{"type": "commonjs"}' > "$PKG/nodejs/package.json"
VERSION="$(cargo metadata --no-deps --format-version 1 | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).packages.find(p=>p.name==="runbrake-core").version))')"
sed "s/\"version\": \"0.0.0\"/\"version\": \"$VERSION\"/" crate/npm/package.json > "$PKG/package.json"
cp crate/npm/README.md "$PKG/README.md"
cp -r crate/npm/examples "$PKG/examples"
mkdir -p dist
(cd "$PKG" && npm pack --silent --pack-destination "$ROOT/dist" >/dev/null)
echo "package: dist/runbrake-core-$VERSION.tgz"
