# One command to run, one to test. Both create .venv in the repository on first use.
PYTHON ?= python3
# make run DEMO=0 starts without the demo program, syncs and receivers.
DEMO   ?= 1
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-dev system-packages redis-package lint audit lock format screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The runtime packages and the `demo` extra (honcho, the demo receivers). A production
# install takes neither the extra nor floating versions: see README, "Production".
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## make run: migrate, create a first support user, start web + worker + scheduler (+ Redis if needed)
run: install redis-package
	DEMO=$(DEMO) $(BIN)/python scripts/run_stack.py

# redis-server for the private Redis of `make run` (installed as root on Debian, else named).
redis-package:
	scripts/system_packages.sh redis-server

## make test: system packages (as root on Debian), Python packages, then the whole suite
test: system-packages install-dev
	$(BIN)/python scripts/run_tests.py

system-packages:
	scripts/system_packages.sh

## make lint: what CI holds every change to (ruff, the formatter, mypy, the import contract)
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## make audit: known vulnerabilities in the production lock and in .venv (pip-audit, PyPI's data)
audit: install-dev
	$(BIN)/python scripts/audit_deps.py

## make lock: refresh requirements/production.lock (every runtime package, pinned with hashes)
lock: install-dev
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements/production.lock pyproject.toml

## make screenshots: refresh the README's screenshots (docs/screenshots/) from the browser tests
screenshots: system-packages install-dev
	LOYALTY_SYNC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/browser

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	@echo "Benchmarks: see bench/README.md (python bench/<name>.py)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
