# runbrake — every target that needs tools runs `setup` first (idempotent, seconds when warm).
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
ENV := source scripts/env.sh &&
CARGO_WASM := --target wasm32-unknown-unknown
# Bounded for `make test`; `make proptest-long` runs many more.
PROPTEST_CASES ?= 10000
PROPTEST_LONG_CASES ?= 100000
# T3 await-point interleavings (crate/tests/interleavings.rs) in proptest-long: the plan's N tier.
INTERLEAVINGS_LONG_CASES ?= 1000000
# T13 schemathesis: at least this many test cases per operation; 100 in `make test`, 1,000 in `make conformance-long`.
CONFORMANCE_EXAMPLES ?= 100
CONFORMANCE_LONG_EXAMPLES ?= 1000
# T12 fuzzing, seconds per target (4 targets): 30 in `make test` (4 x 60 s plus the cold build of
# the instrumented targets would not fit CI's budget), 600 in `make fuzz`.
FUZZ_SECONDS ?= 30
FUZZ_LONG_SECONDS ?= 600

.PHONY: setup build build-worker build-web dev test lint test-core test-wasm test-worker test-e2e test-security security-long test-reliability reliability test-browser typecheck fmt clean bench serve package test-package proptest-long setup-python test-contracts test-sdk fuzz fuzz-smoke test-conformance conformance-long

setup:
	@bash scripts/setup.sh

build-worker: setup
	@$(ENV) bash scripts/build-worker.sh

## The dashboard imports the core's Wasm package (crate/pkg/web), so it is built first.
build-web: package
	@$(ENV) vite build web --logLevel warn

build: build-worker build-web

## Start the service on http://127.0.0.1:8787 with the dashboard (Ctrl-C stops it).
dev: build
	@bash scripts/dev-start.sh

## The built Worker on bare workerd (self-hosted): ADDR=127.0.0.1:8788, DATA=.selfhost/data.
serve: build
	@bash scripts/serve.sh

## Everything CI checks.
test: lint test-core test-wasm build typecheck test-worker test-e2e test-security test-reliability test-contracts test-sdk test-browser test-package test-conformance fuzz-smoke
	@echo "make test: all layers passed"

lint: setup
	@$(ENV) cargo fmt --all -- --check
	@$(ENV) cargo clippy --workspace --all-targets -- -D warnings
	@$(ENV) cargo clippy --workspace --all-targets $(CARGO_WASM) -- -D warnings
	@$(ENV) cargo clippy -p runbrake-core --all-targets --features js $(CARGO_WASM) -- -D warnings
	@$(ENV) cargo clippy -p runbrake-core --all-targets --features bench $(CARGO_WASM) -- -D warnings

test-core: setup
	@$(ENV) PROPTEST_CASES=$(PROPTEST_CASES) cargo test -p runbrake-core --release
	@$(ENV) cargo test -p runbrake-worker
	@$(ENV) cargo test --manifest-path fuzz/Cargo.toml --no-default-features --target-dir target --test regressions

## Property tests with many more cases than test-core (100,000: ~1 min; T3's 1,000,000 interleavings: ~2 min).
proptest-long: setup
	@$(ENV) PROPTEST_CASES=$(PROPTEST_LONG_CASES) cargo test -p runbrake-core --release --test properties
	@$(ENV) PROPTEST_CASES=$(INTERLEAVINGS_LONG_CASES) cargo test -p runbrake-core --release --test interleavings -- --nocapture

## T13: schemathesis against /openapi.json on wrangler dev (tests/conformance; needs `make build`).
test-conformance: setup setup-python
	@$(ENV) SKIP_WORKER_BUILD=1 CONFORMANCE_EXAMPLES=$(CONFORMANCE_EXAMPLES) .tools/venv/bin/python -m pytest tests/conformance -q

## T13, long: CONFORMANCE_LONG_EXAMPLES (1,000) per operation.
conformance-long: setup setup-python
	@$(ENV) SKIP_WORKER_BUILD=1 CONFORMANCE_EXAMPLES=$(CONFORMANCE_LONG_EXAMPLES) .tools/venv/bin/python -m pytest tests/conformance -q

## T12: every cargo-fuzz target (fuzz/) for FUZZ_SECONDS on the saved corpus; crashes fail.
fuzz-smoke: setup
	@$(ENV) bash scripts/fuzz.sh $(FUZZ_SECONDS)

## T12, long: FUZZ_LONG_SECONDS (600) per target.
fuzz: setup
	@$(ENV) bash scripts/fuzz.sh $(FUZZ_LONG_SECONDS)

## The core's npm package: crate/pkg/ and dist/runbrake-core-<version>.tgz.
package: setup
	@$(ENV) bash scripts/package-core.sh

## The packed package as users get it (golden .d.ts, pack contents, install, use from node).
test-package: package
	@$(ENV) node --test tests/package/package.test.mjs

## The core's JavaScript bindings, run in node by wasm-bindgen-test-runner.
test-wasm: setup
	@$(ENV) CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  cargo test -p runbrake-core $(CARGO_WASM) --features js

typecheck: package
	@$(ENV) tsc -p web/tsconfig.json && tsc -p tests/tsconfig.json

## Worker behaviour inside workerd (needs `make build`).
test-worker: setup
	@$(ENV) vitest run

test-e2e: setup
	@$(ENV) SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/e2e/*.test.mjs

## Security tests (RELIABILITY.md T14-T18, T21; tests/security, needs `make build`): CI sizes,
## ~2-3 min. security-long: the plan's N sizes (T15 lists 1,000 runs, guesses 10,000 ids).
test-security: setup
	@$(ENV) SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/security/*.test.mjs

security-long: setup
	@$(ENV) SKIP_WORKER_BUILD=1 RELIABILITY_TIER=long node --test --test-concurrency=1 tests/security/*.test.mjs

## RELIABILITY.md's black-box tests T4–T11 and the race tests' mutation check (tests/reliability/),
## CI sizes; each writes its figures to tests/output/reliability/ (needs `make build`).
test-reliability: setup
	@$(ENV) SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/reliability/*.test.mjs
	@$(ENV) node tests/reliability/vitest.mjs

## The same at the plan's N sizes, then every figure in tests/output/reliability/ against its
## target (also written to tests/output/reliability/report.md).
reliability: build
	@status=0; \
	$(ENV) RELIABILITY_TIER=long SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/reliability/*.test.mjs || status=$$?; \
	$(ENV) RELIABILITY_TIER=long node tests/reliability/vitest.mjs || status=$$?; \
	$(ENV) node tests/reliability/report.mjs; \
	exit $$status

## The vendors' Python SDKs for tests/sdk (.tools/venv, pinned in tests/sdk/requirements.txt).
setup-python:
	@bash scripts/setup-python.sh

## The five vendor contracts: replies vs their seeds' JSON Schemas, and 200 completion/cancel
## races per route (needs `make build`).
test-contracts: setup
	@$(ENV) SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/contracts/*.test.mjs

## The vendors' published SDKs (retab 0.0.160, extend-ai 1.20.0) against wrangler dev.
test-sdk: setup setup-python
	@$(ENV) SKIP_WORKER_BUILD=1 .tools/venv/bin/python -m pytest tests/sdk -q

test-browser: setup
	@$(ENV) SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/browser/*.test.mjs

## Benchmarks: figures printed as tables and written to bench/results.json (never asserted).
bench: build
	@$(ENV) bash scripts/package-core.sh --bench
	@$(ENV) SKIP_WORKER_BUILD=1 node bench/run.mjs $(BENCH)

fmt:
	@$(ENV) cargo fmt --all

clean:
	rm -rf target worker/build web/dist crate/pkg dist tests/output .wrangler
