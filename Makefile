# One command to run, one to test. Both create .venv in the repository on first use.
PYTHON ?= python3
# make run DEMO=0 starts without the demo program, syncs and receivers.
DEMO   ?= 1
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test install install-dev system-packages lint format screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.runtime
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## make run: migrate, create a first support user, start web + worker + scheduler (+ Redis if needed)
run: install
	DEMO=$(DEMO) $(BIN)/python scripts/run_stack.py

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
