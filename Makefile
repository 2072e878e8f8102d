# The two commands: `make run` (the service on 127.0.0.1:$PORT) and `make test` (everything CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Written after a successful install; newer than every requirements file means "up to date".
# make run needs only the runtime (RUN_STAMP); everything else also the test and infra tools (STAMP).
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
RUN_REQUIREMENTS := requirements.txt requirements-run.txt
REQUIREMENTS := $(RUN_REQUIREMENTS) requirements-dev.txt $(wildcard infra/requirements*.txt)
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check --no-input -q
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: help run test install browser lint format typecheck pytest bench wire routes asset

help:
	@echo "make run     start the API on http://127.0.0.1:$${PORT:-8000} (embedded DynamoDB, state in .local/)"
	@echo "make test    ruff, mypy and every test (unit, functional, e2e, browser, infra)"
	@echo "make bench   AWS calls per request, warm auth, rate limiter, cold start, repository, dashboard sizes, ingestion, query vs raw reads (moto)"
	@echo "make wire    regenerate the modules derived from the pinned wavefront-api-client"
	@echo "make routes  regenerate chalicelib/api/manifest.py (every category's paths; a test fails while it is stale)"
	@echo "make asset   build the Lambda package (runtime dependencies for Lambda + the app) in build/lambda"
	@echo "make lint | format | typecheck | pytest    one step of make test (lint: ruff + the import layers)"

$(PY):
	@echo "creating $(VENV) with $(PYTHON)..."
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): $(RUN_REQUIREMENTS) | $(PY)
	@echo "installing the runtime packages into $(VENV) (first run only)..."
	$(PIP_INSTALL) -r requirements-run.txt
	touch $@

# requirements-dev.txt includes requirements-run.txt: this install is a run install too.
$(STAMP): $(REQUIREMENTS) | $(PY)
	@echo "installing the development, test and infra packages into $(VENV) (first time only, a few minutes)..."
	$(PIP_INSTALL) -r requirements-dev.txt $(foreach extra,$(wildcard infra/requirements*.txt),-r $(extra))
	touch $(RUN_STAMP) $@

install: $(STAMP)

# Debian's chromium (+ chromedriver) for the browser tests; fails loudly when it cannot be installed.
browser:
	@bash scripts/ensure_chromium.sh

run: $(RUN_STAMP)
	$(PY) scripts/run_local.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy app.py chalicelib

# pytest exits 5 when it collected nothing: like any non-zero status, that fails the target.
pytest: $(STAMP) browser
	OPSPLANE_REQUIRE_BROWSER=1 $(PY) -m pytest tests -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test: lint typecheck pytest

# Wavefront's operationIds and wire models, read from the pinned client (docs/development.md).
wire: $(STAMP)
	$(PY) scripts/gen_wavefront_operations.py
	$(PY) scripts/gen_wire_models.py

# Every category's paths and methods: the app registers them without importing the categories.
routes: $(STAMP)
	$(PY) scripts/gen_route_manifest.py

bench: $(STAMP)
	$(PY) bench/bench_repository.py
	$(PY) bench/bench_dashboards.py
	$(PY) bench/bench_calls.py
	$(PY) bench/bench_auth.py
	$(PY) bench/bench_throughput.py
	$(PY) bench/bench_limiter.py
	$(PY) bench/bench_coldstart.py
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_query.py

# The Lambda package infra/ deploys (infra/README.md); synthesis builds it too, when stale.
asset: $(STAMP)
	$(PY) scripts/build_lambda_asset.py
