# The README's commands. Each target creates the virtual environment it needs from the lock file.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8
BENCH_BIRTHS  ?= 200000
BENCH_PERSONS ?= 300000

SHARED_REFERENCE ?= ../shared/reference

.PHONY: demo test test-sqlite test-postgresql conformance lint bench venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

## Run the demo: sample drops through the Airflow DAGs on the embedded SQLite register.
demo: venv
	$(BIN)/erzl demo

## Lint, then the whole suite on SQLite and on PostgreSQL (localhost; .ci/run starts it).
test: lint test-sqlite test-postgresql

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite: venv
	ERZL_TEST_DATABASE=sqlite $(BIN)/pytest -q -m "not conformance"

test-postgresql: venv
	ERZL_TEST_DATABASE=postgresql $(BIN)/pytest -q -m "not conformance"

## Our schemas and generators against the official ones (needs the reference files).
conformance: venv
	ERZL_SHARED_REFERENCE=$(SHARED_REFERENCE) $(BIN)/pytest -q -m conformance tests/parse

## Speed and memory figures (printed, never asserted).
bench: venv
	$(BIN)/python bench/bench_zags_parse.py $(BENCH_BIRTHS)
	$(BIN)/python bench/bench_rsv_parse.py --persons $(BENCH_PERSONS)
	$(BIN)/python bench/bench_ingest.py --births 5000 --persons 50000

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
