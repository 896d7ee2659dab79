# Sewerline developer commands. `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help install demo test test-fast lint bench sample clean

help:  ## List the make targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install Sewerline with its test tools

demo: $(STAMP)  ## Audit the bundled sample into out/demo, then load it into the web app
	$(BIN)/sewerline demo --out out/demo
	$(BIN)/sewerline manage migrate --verbosity 0
	$(BIN)/sewerline manage load_demo --reset

TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/sewerline
export TEST_POSTGRES_URL

test: $(STAMP)  ## Run the whole test suite (SQLite), then the app tests on PostgreSQL
	$(BIN)/python scripts/check_services.py
	SEWERLINE_SECRET_KEY=check SEWERLINE_DATA_DIR=$$(mktemp -d) $(BIN)/python -m django \
		makemigrations --check --dry-run --settings=sewerline.web.settings
	$(BIN)/pytest
	DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest tests/app

test-fast: $(STAMP)  ## Run the tests, skipping the slow ones
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)  ## Check style with ruff
	$(BIN)/ruff check src tests scripts

bench: $(STAMP)  ## Time a 1,000,000-account audit (see docs/benchmarks.md)
	$(BIN)/python scripts/benchmark.py --accounts 1000000

sample: $(STAMP)  ## Rebuild the sample profiles and billing exports from the real usage slice
	$(BIN)/python -m sewerline.sample.builder

clean:  ## Remove the environment and generated output
	rm -rf $(VENV) out build dist .pytest_cache .hypothesis
