# shelf — the two commands the README promises, plus the checks CI runs.
#
#   make demo   build, write the built-in example store, audit it, print where the report is
#   make test   fmt, clippy, fetch the test models, every test (unit, snapshot, property, CLI,
#               real data, models, browser)

# A target dir that survives between CI runs on the same machine (override with CARGO_TARGET_DIR).
# One per checkout path: cargo does not rebuild a test when only the checkout moved, and a test
# binary built in another checkout would read that checkout's corpus and snapshots.
CHECKOUT_KEY := $(shell printf %s "$(CURDIR)" | cksum | cut -d' ' -f1)
export CARGO_TARGET_DIR ?= $(HOME)/.cache/shelf-target/$(CHECKOUT_KEY)
CARGO ?= cargo
DEMO_DIR ?= out/demo-store
DEMO_OUT ?= out/demo-audit

.PHONY: demo test lint browser-deps

demo:
	$(CARGO) build -p shelf-cli
	$(CARGO_TARGET_DIR)/debug/shelf generate --out $(DEMO_DIR)
	$(CARGO_TARGET_DIR)/debug/shelf audit --config $(DEMO_DIR)/shelf.toml --out $(DEMO_OUT) || [ $$? -eq 1 ]
	@echo "open $(DEMO_OUT)/report.html"

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: install Debian's chromium package" >&2; exit 1; fi; }

# The models the tests use, fetched (and verified) by the test build's own `shelf` binary.
TEST_MODELS := all-minilm-l6-v2 multilingual-e5-small smollm2-135m-instruct

# candle runs large elementwise ops on a pool of its own, sized from CANDLE_NUM_THREADS (else
# every core), whatever a model's `threads` says; tests run two at a time on 2 cores.
test: export CANDLE_NUM_THREADS ?= 1
test: browser-deps lint
	$(CARGO) test --workspace --no-run
	$(CARGO_TARGET_DIR)/debug/shelf models fetch $(TEST_MODELS)
	$(CARGO) test --workspace -- --test-threads=2
	# `cargo test` already built the shelf binary for the CLI tests; a separate
	# `cargo build -p shelf-cli` would unify features differently and rebuild dependencies.
	rm -rf out/ci-demo-store out/ci-demo-audit
	$(CARGO_TARGET_DIR)/debug/shelf generate --out out/ci-demo-store
	$(CARGO_TARGET_DIR)/debug/shelf audit --config out/ci-demo-store/shelf.toml --out out/ci-demo-audit || [ $$? -eq 1 ]
	bash scripts/browser-check.sh out/ci-demo-audit/report.html out/ci-demo-audit/report.png
