# The README's commands. Each target creates the virtual environment it needs from the lock file.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
UV_VERSION := 0.13.8

SHARED_REFERENCE ?= ../shared/reference

.PHONY: demo test test-sqlite test-postgresql conformance lint bench bench-full venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	# compiled now, not by every process that imports them (the environment may forbid writing
	# bytecode): importing Airflow and Great Expectations from source costs seconds a process
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

## Run the demo: sample drops through the Airflow DAGs on the embedded SQLite register.
demo: venv
	$(BIN)/erzl demo --serve

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

## Speed and memory figures (printed, never asserted; docs/benchmarks.md): each stage of the
## pipeline beside the parse floor, on SQLite and PostgreSQL. About ten minutes; figures also in
## var/bench/latest.json. BENCH_ARGS passes options, e.g. BENCH_ARGS="--backend sqlite".
bench: venv
	$(BIN)/python bench/run.py --preset quick $(BENCH_ARGS)

## The same at the sizes of the issue (1M births, a register of 10M): hours.
bench-full: venv
	$(BIN)/python bench/run.py --preset full $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
