# Two commands for a new user: `make run` (the archive on http://127.0.0.1:8000) and `make test`.
# Without DATABASE_URL both use an embedded PostgreSQL in .devdb/ (see tickerarchive/devdb.py).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
WITH_DB := $(PY) -m tickerarchive.devdb exec --
DUMPS  ?= samples/dumps
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test fuzz fuzz-web load venv db dbstop migrate gazetteer ingest static clean outline bench-ingest bench-search bench-http bench-relink

run: ingest static
	$(WITH_DB) $(VENV)/bin/gunicorn tickerarchive.wsgi:application --config gunicorn.conf.py \
		--bind $(HOST):$(PORT) --access-logfile -

test: venv
	$(WITH_DB) $(PY) -m pytest $(PYTEST_ARGS)

# Long runs, not part of `make test`: hypothesis prints how many inputs each test tried.
# `make fuzz`: 3 x FUZZ_EXAMPLES parser inputs, one process per property test.
FUZZ_EXAMPLES ?= 34000
HOSTILE_EXAMPLES ?= 1000
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_PROFILE=fuzz $(WITH_DB) sh -c '$(PY) -m pytest --collect-only -q tests/properties \
		| grep :: | xargs -P 3 -I{} $(PY) -m pytest -q -p no:cacheprovider --hypothesis-show-statistics {}'

# 60 s at 32 clients against gunicorn over 20,000 generated entries (needs wrk: apt-get install wrk)
load: venv
	$(WITH_DB) $(PY) bench/load.py

fuzz-web: venv
	HOSTILE_EXAMPLES=$(HOSTILE_EXAMPLES) $(WITH_DB) $(PY) -m pytest -q -s -p no:cacheprovider \
		tests/search/test_hostile_properties.py

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
	DJANGO_DEVELOPMENT=1 $(PY) manage.py collectstatic --noinput --verbosity 0

# Benchmarks (bench/, results in bench/RESULTS.md); not part of the tests. Options: BENCH_ARGS="--entries 100000".
$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-ingest: $(VENV)/.bench
	$(WITH_DB) $(PY) bench/ingest.py $(BENCH_ARGS)

bench-search: $(VENV)/.bench
	$(WITH_DB) $(PY) bench/search.py $(BENCH_ARGS)

bench-relink: $(VENV)/.bench
	$(WITH_DB) $(PY) bench/relink.py $(BENCH_ARGS)

bench-http: $(VENV)/.bench
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk"; exit 1; }
	$(WITH_DB) $(PY) bench/web.py $(BENCH_ARGS)

clean: dbstop
	rm -rf $(VENV) .devdb staticfiles *.egg-info .pytest_cache .hypothesis

# The map's offline outline (static/geo/europe.geojson, committed): Natural Earth 1:50m countries
# (public domain) from the npm package world-atlas (ISC), clipped to Europe and the Near East, simplified, 0.01° precision.
# Needs npm; run only to change the outline.
outline:
	cd $$(mktemp -d) && npm install --silent world-atlas@2.0.2 mapshaper@0.7 && \
	npx mapshaper -i node_modules/world-atlas/countries-50m.json -target countries -clip bbox=-25,27,65,72 \
		-simplify 15% keep-shapes -o format=geojson precision=0.01 $(CURDIR)/static/geo/europe.geojson
