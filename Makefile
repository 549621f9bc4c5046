# leadshare: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# pytest-xdist processes for `make test` and `make test-pg` (one database each on PostgreSQL).
TEST_WORKERS ?= auto

.PHONY: install run test test-slow test-pg test-fuzz lint format bench bench-audit bench-intake bench-geocoders screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" "setuptools>=68,<81"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The worker (the sweep of due offers every minute, and webhook delivery) runs beside gunicorn
# and is stopped when gunicorn exits. A local demo may send webhooks to a receiver on this
# machine (the service refuses it otherwise). gunicorn runs with deploy/gunicorn.conf.py and
# its workers share their metrics through instance/prometheus (emptied at each start); the
# request log is the app's JSON lines (LOG_FORMAT=text for plain ones).
run: export ALLOW_PRIVATE_WEBHOOKS ?= 1
run: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/instance/prometheus
run: install
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi leadshare demo
	env -u PROMETHEUS_MULTIPROC_DIR $(BIN)/flask --app wsgi leadshare worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	GUNICORN_BIND=$(HOST):$(PORT) GUNICORN_WORKERS=$(WORKERS) \
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:app

test: install
	$(BIN)/pytest -n $(TEST_WORKERS)

# Multi-process stories (claim races through live gunicorn, parallel deliverers, throttling
# across two servers) and the browser stories (headless Chromium): kept out of `make test` so it
# stays under two minutes; `.ci/run` runs them.
test-slow: install
	$(BIN)/pytest -m 'slow or browser'

# The same suite against PostgreSQL (TEST_DATABASE_URL, default the machine's `test` database).
test-pg: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/pytest -n $(TEST_WORKERS) -m 'not fuzz'

# schemathesis over the OpenAPI document, every operation as every role (about a minute);
# on TEST_DATABASE_URL when set, else SQLite. `make test` leaves it out.
test-fuzz: install
	$(BIN)/pytest -m fuzz tests/integration/test_fuzz_api.py

# The browser story again, saving its pictures into docs/screenshots/ for the README.
screenshots: install
	LEADSHARE_BROWSER_TESTS=1 LEADSHARE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench.routing

# The gazetteer beside cpca-linch and jionlp on the regression set of real addresses (the extra
# `compare` installs them into the venv; about 1 min, most of it loading jionlp).
bench-geocoders: install
	$(BIN)/python -m pip install --quiet -e '.[test,compare]'
	$(BIN)/python -m bench.geocoders

# A million synthetic leads in a scratch PostgreSQL database (leadshare_bench_audit), about 8 min.
bench-audit: install
	$(BIN)/python -m bench.audit --leads 1000000 --repeat 5

# Intake, claim and progress (300 stores): statements and in-process latency, then the service
# and the bare anchor (bench/anchor.py) under gunicorn and wrk (Debian's), about 4 min.
bench-intake: install
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m bench.intake --leads 300 $(BENCH_ARGS)
