# Flightdeck: `make synth` and `make test` are all a fresh machine needs (they install what is missing).
SHELL := /bin/bash
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1

PIPENV_VERSION := 2026.10.3
PYTHON ?= python3
NODE_DEPS := node_modules/.flightdeck-installed

# The CDK line (README, "Two CDK lines"): cdktf 0.21 from ./Pipfile.lock into .venv, or its maintained
# fork cdktn 0.24 from cdk-lines/cdktn/Pipfile.lock into cdk-lines/cdktn/.venv. Unset means the
# default of flightdeck/cdk_line.py (a test keeps the two the same).
FLIGHTDECK_CDK ?=
CDK_LINE := $(or $(strip $(FLIGHTDECK_CDK)),cdktf)
ifeq ($(CDK_LINE),cdktf)
LINE_DIR := .
else ifeq ($(CDK_LINE),cdktn)
LINE_DIR := cdk-lines/cdktn
else
$(error FLIGHTDECK_CDK: '$(CDK_LINE)' is not a CDK line; use cdktf or cdktn)
endif
export FLIGHTDECK_CDK := $(CDK_LINE)
# Neither line is byte-compiled at install: the bindings load lazily (flightdeck/cdk_line.py), so a
# synthesis imports about a hundred of their thousands of modules, while compiling all of them was
# most of the install (the cdktf line's took 177 s with it and 38 s without, from a warm pip cache).
# A module is compiled instead the first time anything imports it, and its bytecode kept in the
# environment for the next process, so bytecode writing stays on for what make runs even where the
# shell turns it off. (pip reads PIP_NO_COMPILE=0 as "compile: no"; =1 would turn compiling on.)
unexport PYTHONDONTWRITEBYTECODE
VENV_PY := $(LINE_DIR)/.venv/bin/python
PYTHON_DEPS := $(LINE_DIR)/.venv/.flightdeck-synced

.PHONY: help pipenv python-deps app synth test snapshots new-env lint workflow envdiff envdiff-written check verify verify-snapshots iam-report e2e bench deps clean deploy diff
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## /\1\t/' | expand -t 12

deps: $(PYTHON_DEPS) $(NODE_DEPS) ## install pipenv, the line's locked Python packages and the cdktf CLI ([FLIGHTDECK_CDK=cdktn])

ENSURE_PIPENV := $(PYTHON) -m pipenv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"

# pipenv itself, alone (.ci/run installs it before the two lines' environments, which it installs side by side).
pipenv:
	@$(ENSURE_PIPENV)

# The line's locked Python packages alone (no cdktf CLI).
python-deps: $(PYTHON_DEPS)

# pipenv itself, then the line's locked dependencies; redone whenever its Pipfile.lock changes.
$(PYTHON_DEPS): $(LINE_DIR)/Pipfile.lock
	@$(ENSURE_PIPENV)
	@echo "installing the $(CDK_LINE) line's $$($(PYTHON) -c 'import json, sys; lock = json.load(open(sys.argv[1])); print(len(lock["default"]) + len(lock["develop"]))' $<) locked packages into $(LINE_DIR)/.venv (minutes on a fresh machine)"
	@( while sleep 30; do echo "  still installing ($$SECONDS s)"; done ) & beat=$$!; \
	PIP_NO_COMPILE=0 PIPENV_PIPFILE=$(abspath $(LINE_DIR))/Pipfile $(PYTHON) -m pipenv sync --dev; status=$$?; \
	kill $$beat; exit $$status
	@touch $@

# What the cdktf CLI runs (cdktf.json's "app"): main.py on the selected line.
app: $(PYTHON_DEPS)
	@$(VENV_PY) main.py

# The cdktf CLI (for diff and deploy), pinned in package-lock.json.
$(NODE_DEPS): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(PYTHON_DEPS) $(NODE_DEPS) ## synthesize every environment's stacks into cdktf.out (and print a summary)
	$(VENV_PY) main.py
	@$(VENV_PY) -m flightdeck.summary $${CDKTF_OUTDIR:-cdktf.out}

test: $(PYTHON_DEPS) ## run the test suite
	$(VENV_PY) -m pytest

# Each line's snapshots live in their own folder (tests/line_snapshots.py), so this refreshes and prunes only this line's.
snapshots: $(PYTHON_DEPS) ## refresh this line's stack snapshots after an intended change (then review git diff tests/__snapshots__)
	$(VENV_PY) -m pytest tests/test_snapshots.py --snapshot-update

# ruff and mypy, as the pull-request workflow runs them.
# The source is typed against the cdktf line's names (flightdeck/cdk_line.py), so lint runs on that line.
lint: ## ruff and mypy (on the cdktf line's environment, whichever line is selected)
	@$(MAKE) --no-print-directory deps FLIGHTDECK_CDK=cdktf
	.venv/bin/python -m ruff check .
	.venv/bin/python -m mypy

# .github/workflows/flightdeck.yml from environments/*.yaml and bootstrap.yaml (a test fails when it is stale).
workflow: $(PYTHON_DEPS) ## regenerate .github/workflows/flightdeck.yml from the environment files
	$(VENV_PY) -m flightdeck.workflow

# How the environments differ: configuration fields and resource counts by type, side by side.
envdiff: synth envdiff-written ## how the environments differ: fields and resource counts

# The same from what is already in cdktf.out (the workflow's synth job runs it after make synth).
envdiff-written: $(PYTHON_DEPS)
	@$(VENV_PY) -m flightdeck.envdiff $${CDKTF_OUTDIR:-cdktf.out}

# checkov on every synthesized stack: failed and skipped counts per environment (prod must have 0 failed).
check: synth ## checkov on every synthesized stack
	$(VENV_PY) -m verify.policy $${CDKTF_OUTDIR:-cdktf.out}

# Your own environments, whatever files exist: the policy scan, then placement, system capacity, secrets, snapshots.
verify: check ## generic checks on every file in environments/ (make check, then placement, capacity, secrets, a snapshot each)
	$(VENV_PY) -m pytest verify/environments -p no:cacheprovider -q

verify-snapshots: synth ## refresh the snapshots make verify compares your environments with (then review the diff)
	$(VENV_PY) -m pytest verify/environments -p no:cacheprovider -q --snapshot-update

# terraform apply + destroy of the AWS platform stacks against a local AWS emulator (moto on 127.0.0.1):
# every AWS environment unless E2E_ENVIRONMENTS names some.
E2E_ENVIRONMENTS ?=
e2e: $(PYTHON_DEPS) ## apply and destroy every AWS platform stack against a local emulator ([E2E_ENVIRONMENTS="dev prod"])
	$(VENV_PY) -m verify.e2e $(E2E_ENVIRONMENTS)

# Synthesis against its floor (importing the bindings only), and make test against one synthesis:
# medians of wall time and peak memory ([BENCH_ARGS=--without-suite] leaves the suite out).
BENCH_REPETITIONS ?= 5
BENCH_ARGS ?=
iam-report: synth ## cloudsplaining on every IAM policy, each finding with why it remains (fails on an unexplained one)
	$(VENV_PY) -m verify.iam_report $${CDKTF_OUTDIR:-cdktf.out}

bench: ## synthesis time and memory on both CDK lines against their floors, and make test against one synthesis
	@$(MAKE) --no-print-directory deps FLIGHTDECK_CDK=cdktf
	@$(MAKE) --no-print-directory deps FLIGHTDECK_CDK=cdktn
	.venv/bin/python -m verify.bench $(BENCH_REPETITIONS) $(BENCH_ARGS)

new-env: $(PYTHON_DEPS) ## new-env NAME=<name> FROM=<env>: copy an environment file and list what still points at the source
	@test -n "$(NAME)" -a -n "$(FROM)" || { echo "usage: make new-env NAME=<name> FROM=<environment>" >&2; exit 2; }
	$(VENV_PY) -m flightdeck.scaffold '$(NAME)' '$(FROM)'

clean: ## remove cdktf.out
	rm -rf cdktf.out .pytest_cache

# One environment's stacks, in order: the platform stack, then the cluster stack (which needs to reach
# the cluster's API: see the README, "From a workstation"). The glob cannot match another environment.
deploy: $(PYTHON_DEPS) $(NODE_DEPS) ## deploy ENV=<env>: its platform stack, then its cluster stack
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<environment>" >&2; exit 2; }
	npx cdktf deploy '$(ENV)_*'

# cdktf diff takes exactly one stack: STACK=platform (the default) or STACK=cluster.
STACK ?= platform
diff: $(PYTHON_DEPS) $(NODE_DEPS) ## diff ENV=<env> [STACK=platform|cluster]: preview one stack
	@test -n "$(ENV)" || { echo "usage: make diff ENV=<environment> [STACK=platform|cluster]" >&2; exit 2; }
	npx cdktf diff '$(ENV)_$(STACK)'
