# aigov: the two commands are `make run` and `make test`; both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-postgres test bench install migrate clean

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

## The whole suite, on SQLite and on PostgreSQL (AIGOV_TEST_POSTGRES_URL).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (never part of make test): results under bench/results/.
bench: $(STAMP)
	$(BIN)/python bench/propagation.py --backend postgres
	$(BIN)/python bench/propagation.py --backend sqlite

migrate: $(STAMP)
	$(BIN)/aigov migrate

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
