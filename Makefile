# fallbackd: two commands on a fresh machine.
#   make demo   set up, build, and run the daemon on simulated providers with fallbacks visible
#   make test   every Swift and Python test
SHELL := /bin/bash
SWIFT ?= swift
DEMO_DIR := $(or $(TMPDIR),/tmp)/fallbackd-demo-$(shell id -u)
DEMO_SOCKET := $(DEMO_DIR)/fallbackd.sock
FALLBACKD := .build/debug/fallbackd

.PHONY: all deps build release demo test test-swift test-python bench clean

all: build

deps:
	@bash .ci/deps.sh

build: deps
	$(SWIFT) build

# The production build: the static Swift runtime measured faster (about 8.2k vs 5.0k req/s) and
# smaller (27 vs 32 MB idle) than the dynamic one on this stack.
release: deps
	$(SWIFT) build -c release --static-swift-stdlib --product fallbackd
	$(SWIFT) build -c release --static-swift-stdlib --product fallbackctl

demo: build
	@mkdir -p $(DEMO_DIR)
	@rm -f $(DEMO_DIR)/demo-calls.sqlite*
	@echo "== starting fallbackd on config/demo.toml (simulated providers, no keys needed)"
	@$(FALLBACKD) --config config/demo.toml --socket $(DEMO_SOCKET) --database $(DEMO_DIR)/demo-calls.sqlite \
		2> $(DEMO_DIR)/fallbackd.log & echo $$! > $(DEMO_DIR)/fallbackd.pid; \
	for i in $$(seq 1 100); do [ -S $(DEMO_SOCKET) ] && break; sleep 0.05; done; \
	status=0; python3 examples/demo.py --socket $(DEMO_SOCKET) || status=$$?; \
	kill -TERM $$(cat $(DEMO_DIR)/fallbackd.pid); \
	for i in $$(seq 1 100); do kill -0 $$(cat $(DEMO_DIR)/fallbackd.pid) 2>/dev/null || break; sleep 0.05; done; \
	echo "== fallbackd stopped; call log: $(DEMO_DIR)/demo-calls.sqlite ($$(sqlite3 $(DEMO_DIR)/demo-calls.sqlite 'select count(*) from model_calls') attempts recorded)"; \
	exit $$status

# Every suite runs even when an earlier one fails; the summary names each, and any failure fails the target.
# A private PostgreSQL (.ci/postgres.sh) serves the fleet tests; it is stopped on the way out, pass or fail.
test: deps
	$(SWIFT) build --build-tests
	@failed=""; \
	pg_env="$$(bash .ci/postgres.sh start)" && eval "$$pg_env" || failed="$$failed postgres"; \
	trap '[ -n "$${FALLBACKD_TEST_PG_DIR:-}" ] && bash .ci/postgres.sh stop' EXIT; \
	$(MAKE) --no-print-directory test-swift || failed="$$failed swift"; \
	python3 -m pytest -q clients/python/tests || failed="$$failed python-client"; \
	python3 -m pytest -q Tests/fakes || failed="$$failed fakes"; \
	FALLBACKD_BIN=$(CURDIR)/$(FALLBACKD) python3 -m pytest -q Tests/integration || failed="$$failed integration"; \
	FALLBACKD_BIN=$(CURDIR)/$(FALLBACKD) python3 -m pytest -q Tests/examples || failed="$$failed examples"; \
	if [ -n "$$failed" ]; then echo "== make test: FAILED:$$failed"; exit 1; fi; \
	echo "== make test: swift, python-client, fakes, integration (with PostgreSQL) and examples suites all passed"

test-swift:
	$(SWIFT) test --skip-build

# Four runs: the suites are independent and may reuse test file names.
test-python:
	python3 -m pytest -q clients/python/tests
	python3 -m pytest -q Tests/fakes
	FALLBACKD_BIN=$(CURDIR)/$(FALLBACKD) python3 -m pytest -q Tests/integration
	FALLBACKD_BIN=$(CURDIR)/$(FALLBACKD) python3 -m pytest -q Tests/examples

bench: deps
	@bash Tests/bench/run.sh

clean:
	rm -rf .build
