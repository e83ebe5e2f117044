# Two commands on a fresh machine: `make run` (serve the demo) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=
# Prefect's own client, for the compatibility tests (kept apart from our dependencies).
PREFECT_VENV ?= .venv-prefect
PREFECT_VERSION ?= 3.9.1

.PHONY: install prefect-venv run serve test test-sqlite test-postgres lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

$(PREFECT_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(PREFECT_VENV)
	$(PREFECT_VENV)/bin/python -m pip install -q --upgrade pip
	$(PREFECT_VENV)/bin/python -m pip install -q prefect==$(PREFECT_VERSION)
	$(PREFECT_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

prefect-venv: $(PREFECT_VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py seed_demo --base-url http://127.0.0.1:$(PORT)
	$(PY) manage.py demo_admin
	@echo "API token (demo user, kept in .demo-token): $$($(PY) manage.py create_api_token demo --name 'make run' --keep-in .demo-token 2>/dev/null | tail -n 1)"
	@echo "Dashboard: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/"
	DJANGO_SECURE_COOKIES=0 $(VENV)/bin/uvicorn artifacts_app.asgi:application --host 127.0.0.1 --port $(PORT) --no-access-log

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py spectacular --validate --fail-on-warn --file .openapi-check.yml
	@cmp -s .openapi-check.yml openapi.yml || { echo 'openapi.yml is stale: run $(PY) manage.py spectacular --file openapi.yml'; rm -f .openapi-check.yml; exit 1; }
	@rm -f .openapi-check.yml

test-sqlite: install
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install
	@if $(PY) -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_POSTGRES_URL)" 2>/dev/null; then \
		echo "== PostgreSQL: running the suite against $(TEST_POSTGRES_URL)"; \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "== SKIPPING PostgreSQL: nothing answers at $(TEST_POSTGRES_URL) (set TEST_POSTGRES_URL)"; \
		if [ -n "$$REQUIRE_POSTGRES" ]; then echo "REQUIRE_POSTGRES is set: failing"; exit 1; fi; \
	fi

# Both suites at once (most of a suite's time is spent waiting on servers, browsers and
# subprocesses, not on the 2 cores); each one's output is printed whole when both are done.
test: lint prefect-venv
	@mkdir -p test-artifacts
	@echo "== SQLite and PostgreSQL suites side by side (test-artifacts/pytest-*.log)"
	@( $(MAKE) --no-print-directory test-sqlite > test-artifacts/pytest-sqlite.log 2>&1; \
	   echo $$? > test-artifacts/pytest-sqlite.rc ) & \
	 ( $(MAKE) --no-print-directory test-postgres > test-artifacts/pytest-postgres.log 2>&1; \
	   echo $$? > test-artifacts/pytest-postgres.rc ) & \
	 wait; \
	 for db in sqlite postgres; do \
	   echo "== $$db (exit $$(cat test-artifacts/pytest-$$db.rc))"; cat test-artifacts/pytest-$$db.log; \
	 done; \
	 test "$$(cat test-artifacts/pytest-sqlite.rc)" = 0 && test "$$(cat test-artifacts/pytest-postgres.rc)" = 0

# Our server as the README deploys it, loaded with ../shared/bench/artifact_load.py (benchmarks/README.md).
BENCH_ARGS ?=
bench: install
	$(PY) benchmarks/run_bench.py $(BENCH_ARGS)
	@if $(PY) -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_POSTGRES_URL)" 2>/dev/null; then \
		BENCH_POSTGRES_URL="$(TEST_POSTGRES_URL)" $(PY) benchmarks/run_bench.py --postgres $(BENCH_ARGS); \
	else echo "== SKIPPING PostgreSQL bench: nothing answers at $(TEST_POSTGRES_URL)"; fi

clean:
	rm -rf $(VENV) $(PREFECT_VENV) .test-db* staticfiles
