# mraa — the two commands a newcomer needs:
#   make demo   deploy to a local AWS emulator, show it, tear it down
#   make test   every test: Rust unit and integration, cfn-lint, checkov, emulator runs,
#               Lambda tests (pytest), browser tests (headless Chromium)
#
# Python tools (the emulator, cfn-lint) are pinned in tests/requirements.txt and
# installed into .venv on first use; system packages (Chromium, Node.js...) by
# scripts/setup-system.sh, or it says in one line what to run.

PYTHON ?= python3
VENV   := .venv
CARGO  ?= cargo

.PHONY: all build test system lint fmt venv demo bench e2e clean

all: build

venv: $(VENV)/.installed

# checkov pins packages (packaging<24, an old boto3) that clash with the
# emulator's and pytest's, so it lives in a venv of its own, linked into .venv/bin.
$(VENV)/.installed: tests/requirements.txt tests/requirements-checkov.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-checkov.txt
	ln -sf ../checkov/bin/checkov $(VENV)/bin/checkov
	touch $@

build:
	$(CARGO) build

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# The system packages come first, so that a machine without them hears so
# before anything is built. pytest runs once per folder: each has its own
# conftest.py, and one process would import only the first as `conftest`.
test: system
	@$(MAKE) --no-print-directory venv lint
	$(CARGO) test
	$(VENV)/bin/python -m pytest -q layers/tests
	$(VENV)/bin/python -m pytest -q scripts/tests
	bash layers/tests/browser/run.sh

system:
	@scripts/setup-system.sh

demo: venv build
	scripts/demo.sh

# Figures, not assertions: deploy wall times and API calls against the emulator on
# AWS's clock (scaled), beside the dependency bound AWS sets and the original's deployment.
# Options go through BENCH_ARGS, e.g. make bench BENCH_ARGS="--time-scale 30 --runs 1".
bench: venv build
	$(VENV)/bin/python scripts/bench.py $(BENCH_ARGS)

# The real-AWS suite (tests/e2e_aws.rs): ignored by `cargo test`, run here. It needs
# MRAA_E2E_PROFILE (an AWS profile) and fails without it; README, "The real-AWS suite".
e2e: build
	$(CARGO) test --test e2e_aws -- --ignored --nocapture

fmt:
	$(CARGO) fmt

clean:
	$(CARGO) clean
	rm -rf $(VENV)
