# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)
# Presidio's URL/email recognizers use tldextract; keep it on its bundled suffix list.
export TLDEXTRACT_CACHE ?= $(CURDIR)/.ticket_audit/tldextract

.PHONY: install demo test lint format bench dev validate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ticket-audit demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate: install
	$(BIN)/dagster definitions validate -w workspace.yaml

dev: install
	$(BIN)/dagster dev -w workspace.yaml

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf out .ticket_audit storage history logs schedules
