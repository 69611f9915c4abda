# Flightdeck: `make synth` and `make test` are all a fresh machine needs (they install what is missing).
SHELL := /bin/bash
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

PIPENV_VERSION := 2026.10.3
PYTHON ?= python3
VENV_PY := .venv/bin/python
PYTHON_DEPS := .venv/.flightdeck-synced
NODE_DEPS := node_modules/.flightdeck-installed

.PHONY: synth test lint workflow envdiff check e2e bench deps clean

deps: $(PYTHON_DEPS) $(NODE_DEPS)

# pipenv itself, then the locked dependencies; redone whenever Pipfile.lock changes.
$(PYTHON_DEPS): Pipfile.lock
	@$(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	$(PYTHON) -m pipenv sync --dev
	@touch $@

# The cdktf CLI (for diff and deploy), pinned in package-lock.json.
$(NODE_DEPS): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(PYTHON_DEPS) $(NODE_DEPS)
	$(VENV_PY) main.py
	@$(VENV_PY) -m flightdeck.summary $${CDKTF_OUTDIR:-cdktf.out}

test: $(PYTHON_DEPS)
	$(VENV_PY) -m pytest

# ruff and mypy, as the pull-request workflow runs them.
lint: $(PYTHON_DEPS)
	$(VENV_PY) -m ruff check .
	$(VENV_PY) -m mypy

# .github/workflows/flightdeck.yml from environments/*.yaml and bootstrap.yaml (a test fails when it is stale).
workflow: $(PYTHON_DEPS)
	$(VENV_PY) -m flightdeck.workflow

# How the environments differ: configuration fields and resource counts by type, side by side.
envdiff: synth
	$(VENV_PY) -m flightdeck.envdiff $${CDKTF_OUTDIR:-cdktf.out}

# checkov on every synthesized stack: failed and skipped counts per environment (prod must have 0 failed).
check: synth
	$(VENV_PY) -m verify.policy $${CDKTF_OUTDIR:-cdktf.out}

# terraform apply + destroy of the AWS part of dev and prod against a local AWS emulator (moto on 127.0.0.1).
E2E_ENVIRONMENTS ?= dev prod
e2e: $(PYTHON_DEPS)
	$(VENV_PY) -m verify.e2e $(E2E_ENVIRONMENTS)

# Synthesis against its floor (importing the bindings only): medians of wall time and peak memory.
BENCH_REPETITIONS ?= 5
bench: $(PYTHON_DEPS)
	$(VENV_PY) -m verify.bench $(BENCH_REPETITIONS)

clean:
	rm -rf cdktf.out .pytest_cache
