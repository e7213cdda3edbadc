SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
PARLIAMENT_VENV := .venv-parliament
BUILD := .build
NODE_TOOLS := $(BUILD)/node
# Unpacked provider mirror (registry.terraform.io/hashicorp/aws/<version>/<os_arch>/...).
# Where it holds hashicorp/aws, terraform init installs from it; elsewhere from the registry.
TF_PROVIDER_MIRROR ?= /opt/tf-plugins
TF_MIN_VERSION := 1.7.0
PYTEST_ARGS ?=

export TF_CLI_CONFIG_FILE := $(CURDIR)/$(BUILD)/terraform.rc
export TF_IN_AUTOMATION := 1
export CHECKOV_BIN := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov
export PARLIAMENT_BIN := $(CURDIR)/$(PARLIAMENT_VENV)/bin/parliament
export ASL_VALIDATOR_BIN := $(CURDIR)/$(NODE_TOOLS)/node_modules/.bin/asl-validator
# Python's bytecode caches (__pycache__, ignored by git), which PYTHONDONTWRITEBYTECODE turns off on some
# machines: without them each test worker and each Python the tests start compiles the harness again,
# and pytest rewrites every test module's asserts again (1.4 of a worker's 5.4 CPU-s of collection).
unexport PYTHONDONTWRITEBYTECODE

DEMO_ARGS ?=
# Python that ruff and mypy check: the harness, the tests, the job script and the operator CLI.
PYTHON_SOURCES := harness tests modules glue_loop

.PHONY: help demo bench docs graphviz lint test test-fast test-aws soak tools terraform-check fmt clean FORCE

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

demo: terraform-check $(VENV)/.installed $(BUILD)/terraform.rc ## Watch the loop drive the sample workflow in an embedded emulator (DEMO_ARGS=--help for options)
	PYTHONPATH=. $(VENV)/bin/python -m harness.demo $(DEMO_ARGS)

bench: tools ## Measure history events and state transitions per poll, run and run length in the emulator
	PYTHONPATH=. $(VENV)/bin/python -m harness.bench

docs: tools graphviz ## Regenerate the READMEs' input/output tables and the diagrams (docs/) from the sources
	PYTHONPATH=. $(VENV)/bin/python -m harness.docs

# dot renders docs/*.svg; the docs test compares them only when it is there.
graphviz:
	@command -v dot >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "Graphviz (dot) is needed: install it with your package manager" >&2; exit 1; }; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get install -y -qq graphviz >/dev/null || { $$sudo apt-get update -qq && $$sudo apt-get install -y -qq graphviz >/dev/null; }; }

lint: terraform-check $(VENV)/.installed ## Static checks, the pre-commit hooks' commands: ruff, mypy, terraform fmt
	$(VENV)/bin/ruff check $(PYTHON_SOURCES)
	$(VENV)/bin/ruff format --check $(PYTHON_SOURCES)
	$(VENV)/bin/mypy $(PYTHON_SOURCES)
	terraform fmt -check -recursive -diff .

test: tools lint ## Run every check: lint, validate, plans, terraform test, ASL, executions in moto, end to end, checkov, asl-validator, parliament
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests

# The inner loop: no stack applied, no demo, no tool venv but the dev one. Its tests plan only the
# configurations they read.
FAST_TESTS = tests/test_layout.py tests/test_terraform_static.py tests/test_terraform_native.py \
  tests/test_asl.py tests/test_loop_execution.py
FAST_PLANS = default,events,longest_callback_watch,wake,fast_poll
test-fast: lint $(BUILD)/terraform.rc ## Lint, validate, terraform test, the rendered ASL and its executions in moto: no applies
	PLAN_ONLY=$(FAST_PLANS) $(VENV)/bin/pytest -n 3 $(PYTEST_ARGS) $(FAST_TESTS)

# Opt-in, in the account of the usual AWS credentials: harness.acceptance prints what it creates and
# what it may cost, and refuses without credentials, a region and GLUE_LOOP_ACCEPTANCE=create-and-destroy.
test-aws: terraform-check $(VENV)/.installed $(BUILD)/terraform.rc ## Acceptance in your AWS account: examples/complete applied, driven and destroyed (GLUE_LOOP_ACCEPTANCE=create-and-destroy)
	PYTHONPATH=. $(VENV)/bin/python -m harness.acceptance
	$(VENV)/bin/pytest -n 0 --aws $(PYTEST_ARGS) tests/test_acceptance.py

# The soak in make test runs 10 runs per workflow; this is the same test at 1,000, alone, so one worker is enough.
soak: tools ## The 1,000-run soak with random faults (make test runs it at 10 runs)
	SOAK_RUNS=1000 $(VENV)/bin/pytest $(PYTEST_ARGS) -n 0 tests/test_soak.py

tools: terraform-check $(VENV)/.installed $(CHECKOV_VENV)/.installed $(PARLIAMENT_VENV)/.installed \
  $(NODE_TOOLS)/.installed $(BUILD)/terraform.rc

fmt: tools ## Format Terraform and Python
	terraform fmt -recursive .
	$(VENV)/bin/ruff format $(PYTHON_SOURCES)

terraform-check:
	@command -v terraform >/dev/null || { echo "terraform >= $(TF_MIN_VERSION) must be on PATH (none found)" >&2; exit 1; }
	@v=$$(terraform version -json | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])'); \
	 printf '%s\n%s\n' "$(TF_MIN_VERSION)" "$$v" | sort -V -C || { echo "terraform $$v is too old: the tests need >= $(TF_MIN_VERSION)" >&2; exit 1; }

# glue_loop installed editable, so the dev venv has the glue-loop command the docs use.
$(VENV)/.installed: tests/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

# checkov pins versions of boto3 and friends that fight moto's, so it lives apart.
$(CHECKOV_VENV)/.installed: tests/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-checkov.txt
	touch $@

# parliament (IAM policy linter) pins its own boto3 too.
$(PARLIAMENT_VENV)/.installed: tests/requirements-parliament.txt
	$(PYTHON) -m venv $(PARLIAMENT_VENV)
	$(PARLIAMENT_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements-parliament.txt
	touch $@

# asl-validator (npm) checks every rendered state machine; the lock file pins it and its dependencies.
$(NODE_TOOLS)/.installed: tests/package.json tests/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "Node.js and npm must be on PATH for asl-validator: install them with your package manager" >&2; exit 1; }
	mkdir -p $(NODE_TOOLS)
	cp tests/package.json tests/package-lock.json $(NODE_TOOLS)/
	npm ci --prefix $(NODE_TOOLS) --no-audit --no-fund --loglevel=error
	touch $@

# Rewritten only when its content changes, so a second run touches nothing.
$(BUILD)/terraform.rc: FORCE
	@mkdir -p $(BUILD)/plugin-cache
	@if [ -d "$(TF_PROVIDER_MIRROR)/registry.terraform.io/hashicorp/aws" ]; then \
	  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' "$(TF_PROVIDER_MIRROR)"; \
	else \
	  printf 'plugin_cache_dir = "%s"\n' "$(CURDIR)/$(BUILD)/plugin-cache"; \
	fi > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

clean: ## Remove venvs, build files and Terraform working directories
	rm -rf $(VENV) $(CHECKOV_VENV) $(PARLIAMENT_VENV) $(BUILD)
	find . -name .terraform -type d -prune -exec rm -rf {} +
