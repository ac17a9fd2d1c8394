# Clearpath: `make run` (the app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Tests spread over every CPU (pytest-xdist); browser modules each stay on one worker.
PYTEST_WORKERS ?= -n auto --dist loadgroup
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres install install-test chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"

run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo load
	@echo "Clearpath is at http://$(HOST):$(PORT)/ (sign in with a demo account above)"
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

chromium:
	@bash scripts/ensure-chromium

test: install-test chromium test-sqlite test-postgres

test-sqlite:
	@echo "== tests on SQLite =="
	$(BIN)/pytest $(PYTEST_WORKERS)

test-postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ -n "$$REQUIRE_POSTGRES" ]; then \
		echo "== tests on PostgreSQL ($(PG_TEST_URL)) =="; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_WORKERS) -m "not browser"; \
	else \
		echo "== PostgreSQL is not running on 127.0.0.1:5432: PostgreSQL pass skipped =="; \
	fi

clean:
	rm -rf $(VENV) instance .pytest_cache
