# The two commands a newcomer types: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
FRONTEND := .build/frontend/.built-$(shell cat infra/frontend/package.json infra/frontend/package-lock.json infra/frontend/src/*.scss 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: setup run test migrate bench lint check

setup: $(STAMP) $(FRONTEND)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

$(FRONTEND): $(STAMP)
	bash infra/frontend/build.sh
	touch $@

run: setup ## serve the demo on http://suffolk.localhost:8000/
	bash infra/dev/run.sh

test: setup ## the whole suite against real PostgreSQL
	bash infra/dev/test.sh $(ARGS)

migrate: setup ## public, the template, then every partnership in parallel
	source infra/dev/db.sh && $(PY) manage.py migrate_all

bench: setup ## benchmarks, printed as ratios against baselines of the same run
	source infra/dev/db.sh && $(PY) -m benchmarks

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
