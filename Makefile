# Two commands on a fresh machine: `make run` and `make test`. Everything installs from requirements.lock.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export AIRFLOW_HOME ?= $(CURDIR)/airflow_home
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export TZ := UTC

.PHONY: help install system-deps run test test-fast bench lint lock docs airflow-standalone sample clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# The sandbox sets PYTHONDONTWRITEBYTECODE=1: compile once so each process imports fast.
	$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null || true
	$(PY) -m pip check
	touch $(STAMP)

install: $(STAMP)  ## create .venv from requirements.lock (exact versions)

run: $(STAMP)  ## run the nightly DAG through Airflow on the bundled sample inbox
	$(PY) -m zhaoshang airflow-run

system-deps:  ## Debian packages the tests need (LibreOffice, Chromium, PostgreSQL, Redis, CJK fonts)
	@bash .ci/ensure-system-packages

test: $(STAMP) system-deps  ## the whole test suite (real Airflow, dbt, GX, DuckDB, SMTP)
	$(PY) -m pytest -q

test-fast: $(STAMP)  ## the unit tier (< 1 min): no dbt build, Airflow run, GX validation or e2e night
	$(PY) -m pytest -q -m "not integration"

bench: $(STAMP)  ## ingestion / dbt / validation benchmarks (county-year, province-year)
	$(PY) -m zhaoshang.bench

lint: $(STAMP)  ## ruff check + format check, sqlfluff on the dbt SQL, mypy on src/
	$(VENV)/bin/ruff check src dags tests
	$(VENV)/bin/ruff format --check src dags tests
	$(VENV)/bin/sqlfluff lint --config dbt_project/.sqlfluff --processes 2 \
	  dbt_project/models dbt_project/tests dbt_project/analyses
	$(VENV)/bin/mypy

lock: $(STAMP)  ## recompile requirements.lock (pinned, hashed) from requirements.in, keeping pins
	$(VENV)/bin/uv pip compile requirements.in -c requirements.lock --python-version 3.11 \
	  --generate-hashes --allow-unsafe -o requirements.lock

docs: $(STAMP)  ## dbt docs + GX Data Docs into the output dir (also done by each nightly run)
	$(PY) -m zhaoshang docs

airflow-standalone: $(STAMP)  ## Airflow UI + scheduler locally with the DAGs loaded (http://localhost:8080)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/airflow standalone

sample: $(STAMP)  ## regenerate the bundled sample inbox in raw/
	$(PY) -m zhaoshang generate --out raw --months 1-6 --year 2021 --seed 7

clean:  ## remove the local warehouse, outputs and Airflow home (not the venv)
	rm -rf warehouse output airflow_home
