# Every chore a person runs. `make run` and `make test` work on a fresh machine:
# they create what they need (.venv from the hash-pinned lock, node_modules from
# package-lock.json) first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# The services' lock targets the Python their image ships (python:3.13-slim-trixie);
# the tooling's targets the oldest Python that runs it (the host's may be 3.11).
LOCK_FLAGS := --generate-hashes --universal --quiet
SHIPPED_PYTHON := 3.13
TOOLS_PYTHON := 3.11

.PHONY: help setup run test lint format contract lock bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

NODE_DIR := nodejs-backend

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(NODE_DIR)/node_modules/.installed ## create what the services and tests need

run: setup ## run the services: Python on http://localhost:7860, Node on :7861
	$(BIN)/python scripts/run.py

test: lint ## run every test and lint
	cd $(NODE_DIR) && npm test
	$(BIN)/python -m pytest

lint: setup ## ruff, eslint and hadolint, format check, contract copies in sync
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd $(NODE_DIR) && npm run --silent lint
	$(BIN)/hadolint python-backend/Dockerfile $(NODE_DIR)/Dockerfile
	$(BIN)/python scripts/sync_contract.py --check

bench: setup ## measure start-to-healthy time and memory of each service
	$(BIN)/python scripts/bench.py

format: setup ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contract: setup ## copy contract/openapi.yaml into each Space folder
	$(BIN)/python scripts/sync_contract.py

lock: setup ## re-resolve the hash-pinned requirements files
	cd python-backend && ../$(UV) pip compile requirements.in $(LOCK_FLAGS) --python-version $(SHIPPED_PYTHON) -o requirements.txt
	$(UV) pip compile pyproject.toml --group dev python-backend/requirements.in \
		-c python-backend/requirements.txt $(LOCK_FLAGS) --python-version $(TOOLS_PYTHON) -o requirements-dev.txt

clean: ## remove what setup and the tests created
	rm -rf $(VENV) .pytest_cache .ruff_cache build $(NODE_DIR)/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
