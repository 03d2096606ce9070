# Two commands for a new user: `make run` (the archive on http://127.0.0.1:8000) and `make test`.
# Without DATABASE_URL both use an embedded PostgreSQL in .devdb/ (see tickerarchive/devdb.py).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
WITH_DB := $(PY) -m tickerarchive.devdb exec --
DUMPS  ?= samples/dumps
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 3

.PHONY: run test venv db dbstop migrate gazetteer ingest static clean bench-ingest bench-search bench-http

run: ingest static
	$(WITH_DB) $(VENV)/bin/gunicorn tickerarchive.wsgi:application \
		--bind $(HOST):$(PORT) --workers $(WORKERS) --access-logfile -

test: venv
	$(WITH_DB) $(PY) -m pytest $(PYTEST_ARGS)

# Reinstalled only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

db: venv
	$(PY) -m tickerarchive.devdb start

dbstop:
	-test -x $(PY) && $(PY) -m tickerarchive.devdb stop

migrate: venv
	$(WITH_DB) $(PY) manage.py migrate --noinput

gazetteer: migrate
	$(WITH_DB) $(PY) manage.py load_gazetteer

ingest: gazetteer
	$(WITH_DB) $(PY) manage.py ingest $(DUMPS)

static: venv
	$(PY) manage.py collectstatic --noinput --verbosity 0

# Benchmarks (bench/, results in bench/RESULTS.md); not part of the tests. Options: BENCH_ARGS="--entries 100000".
$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-ingest: $(VENV)/.bench
	$(WITH_DB) $(PY) bench/ingest.py $(BENCH_ARGS)

bench-search: $(VENV)/.bench
	$(WITH_DB) $(PY) bench/search.py $(BENCH_ARGS)

bench-http: $(VENV)/.bench
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(WITH_DB) $(PY) bench/web.py $(BENCH_ARGS)

clean: dbstop
	rm -rf $(VENV) .devdb staticfiles *.egg-info .pytest_cache .hypothesis
