# See the Signs: developer tasks. `make help` lists them; the README's commands are these targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched once the locked dependencies and the project are installed; newer locks redo it.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
LOCK_ARGS ?=

.PHONY: help system-packages venv run test deploy-test wheelhouse lint format bench profile-upload translations lock clean

help: ## List these targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-16s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)

system-packages: ## Install missing Debian packages (gnupg, tor, nginx, python3-venv) with apt-get
	@PYTHON=$(PYTHON) scripts/system-packages.sh

venv: $(STAMP) ## Make .venv with the locked dev dependencies and the project (editable)

$(BIN)/python: | system-packages
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "$(PYTHON) is not Python 3.11; run e.g. 'make venv PYTHON=python3.11'" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# `pip check` fails when pyproject.toml gained a dependency that the lock does not have yet.
# stem and securedrop-sdk (a test dependency) are published only as source archives, so they
# alone are built here, from their hash-pinned sdists, without build isolation (so nothing
# unhashed is fetched). A new venv's own setuptools (65 on Python 3.11) cannot build a wheel
# without `wheel`, so the hash-pinned build backend from requirements-build.lock goes in
# first, as wheels only. Nothing here may rely on a wheel that an earlier run left in pip's
# cache: CI installs with PIP_NO_CACHE_DIR=1.
$(STAMP): requirements-build.lock requirements-dev.lock pyproject.toml $(BIN)/python | system-packages
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary :all: \
		-r requirements-build.lock
	$(BIN)/python -m pip install --quiet --require-hashes --only-binary :all: \
		--no-binary stem,securedrop-sdk --no-build-isolation -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	$(BIN)/python -m pip check
	@touch $@

run: venv ## Run both interfaces on 127.0.0.1:8080 (source) and :8081 (staff) with dev data in .dev/
	scripts/run-dev.sh

test: venv ## Run the tests, the deployment tests beside the rest (or PYTEST_ARGS="-k name -x")
	@PYTEST_ARGS='$(PYTEST_ARGS)' scripts/test.sh

deploy-test: venv ## Deploy with ansible/ to fresh Debian 12 targets booted here, and check them (root)
	$(BIN)/python -m pytest tests/deploy $(PYTEST_ARGS)

wheelhouse: venv ## Build the wheelhouse a server installs from (what ansible/site.yml copies over)
	$(BIN)/python scripts/build-wheelhouse.py

lint: venv ## Check lint, formatting and types (ruff, ruff format, mypy)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv ## Sort imports and reformat the code in place
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

bench: venv ## Print benchmark figures: 1 GiB upload (BENCH_ARGS for it), 50,000-source scaling, source list, /create burst, backup and restore, partnership figures
	$(BIN)/python -m bench.upload $(BENCH_ARGS)
	$(BIN)/python -m bench.source_scaling
	$(BIN)/python -m bench.source_list
	$(BIN)/python -m bench.create_burst
	$(BIN)/python -m bench.backup
	$(BIN)/python -m bench.figures

profile-upload: venv ## Profile one upload through the source app with cProfile (BENCH_ARGS="--mib 256 --kind random")
	$(BIN)/python -m bench.profile_upload $(BENCH_ARGS)

translations: venv ## Extract the source pages' messages, update every catalogue, compile them
	$(BIN)/python scripts/translations.py

lock: ## Refresh the hash-pinned lock files from pyproject.toml (LOCK_ARGS=--upgrade moves pins)
	@[ -x $(BIN)/uv ] || $(MAKE) venv
	scripts/lock.sh $(LOCK_ARGS)

clean: ## Remove .venv, .dev (dev keys, data, accounts) and caches
	rm -rf $(VENV) .dev .pytest_cache .mypy_cache .ruff_cache build test-artifacts bench/results
	rm -rf *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
