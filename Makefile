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
# Beijing time in Airflow (the DAG's schedule and the UI's dates); DAGs start unpaused.
export AIRFLOW__CORE__DEFAULT_TIMEZONE := Asia/Shanghai
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
# VERBOSE=1 shows Airflow's, dbt's and GX's logs live (they always go to the log file).
export VERBOSE

.PHONY: help install system-deps run test test-fast test-distributed bench lint lock web docs airflow-standalone sample clean sql report

help:  ## 列出所有目标 | list the targets
	@echo "用法 / usage: make <目标 target>"
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:[^#]*## */\t/' | \
	  awk -F'\t' '{ split($$2, t, " *[|] "); printf "  %-20s %s\n  %-20s %s\n", $$1, t[1], "", t[2] }'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required"; exit 1; }
	@echo "安装依赖（约 1-2 分钟）/ installing dependencies (1-2 min), log: $(VENV)/install.log"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@{ $(PY) -m pip install --disable-pip-version-check --no-deps -r requirements.lock && \
	   $(PY) -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e . && \
	   $(PY) -m pip check; } > $(VENV)/install.log 2>&1 || { tail -20 $(VENV)/install.log; exit 1; }
	@# The sandbox sets PYTHONDONTWRITEBYTECODE=1: compile once so each process imports fast.
	@$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	@touch $(STAMP)

install: $(STAMP)  ## 按 requirements.lock 建立 .venv | create .venv from requirements.lock (exact versions)

run: $(STAMP)  ## 用样例收件箱经 Airflow 跑一次夜间作业（约 1 分钟）| run the nightly DAG on the bundled inbox (about 1 min)
	@# The report's charts need a CJK font; without one (not root) the report is drafted without charts.
	@bash .ci/ensure-system-packages fonts-noto-cjk || true
	@$(PY) -m zhaoshang airflow-run

system-deps:  ## 安装测试所需的 Debian 软件包 | Debian packages the tests need (LibreOffice, Chromium, PostgreSQL, Redis, CJK fonts)
	@bash .ci/ensure-system-packages

TEST_WORKERS ?= 2
test: $(STAMP) system-deps  ## 全部测试（约 20 分钟，两个进程）| the whole test suite on two processes, real Airflow, dbt, GX, DuckDB, SMTP (about 20 min)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

test-distributed: $(STAMP) system-deps  ## 在 Celery 集群上跑夜间作业（约 3-8 分钟）| the nightly DAG on the CeleryExecutor: PostgreSQL, Redis, 2 workers (3-8 min)
	$(PY) -m pytest -q -m distributed tests/distributed

test-fast: $(STAMP)  ## 单元测试（约 20 秒）| the unit tier: no dbt build, Airflow run, GX validation or whole night (< 1 min)
	$(PY) -m pytest -q -m "not integration and not distributed"

BENCH ?= county_year,incremental,workers
bench: $(STAMP)  ## 性能基准 | benchmarks; BENCH=all or BENCH=province for the province year
	$(PY) -m zhaoshang.bench --case $(BENCH) $(BENCH_ARGS)

lint: $(STAMP)  ## 代码规范检查 | ruff check + format check, SQLFluff on the dbt SQL, mypy on src/
	$(VENV)/bin/ruff check src dags tests
	$(VENV)/bin/ruff format --check src dags tests
	$(VENV)/bin/sqlfluff lint --config dbt_project/.sqlfluff --processes 2 \
	  dbt_project/models dbt_project/tests dbt_project/analyses
	$(VENV)/bin/mypy

lock: $(STAMP)  ## 由 requirements.in 重新编译锁文件 | recompile requirements.lock (pinned, hashed), keeping pins
	$(VENV)/bin/uv pip compile requirements.in -c requirements.lock --python-version 3.11 \
	  --generate-hashes --allow-unsafe -o requirements.lock

web: $(STAMP)  ## 督查组网页（用户：python -m zhaoshang users add）| the inspection team's web pages on http://127.0.0.1:8765
	$(PY) -m zhaoshang web --host $${WEB_HOST:-127.0.0.1} --port $${WEB_PORT:-8765}

docs: $(STAMP)  ## 生成 dbt 文档与数据质量文档 | dbt docs + GX Data Docs into the output dir
	$(PY) -m zhaoshang docs

sql: $(STAMP)  ## 分析用只读 SQL 命令行 | read-only SQL shell on the published warehouse
	$(PY) -m zhaoshang sql

report: $(STAMP)  ## 起草工作总结（YEAR=2021 MONTH=3 指定月份）| draft the work report (latest month, or YEAR= MONTH=)
	$(PY) -m zhaoshang report $(if $(YEAR),--year $(YEAR) --month $(MONTH))

airflow-standalone: $(STAMP)  ## 本机启动 Airflow 界面与调度器 | Airflow UI + scheduler on http://localhost:8080
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/airflow standalone

sample: $(STAMP)  ## 重新生成样例收件箱 raw/ | regenerate the bundled sample inbox in raw/
	$(PY) -m zhaoshang generate --out raw --months 1-6 --year 2021 --seed 7

clean:  ## 删除本地仓库、输出与 Airflow 目录 | remove the warehouse, outputs and Airflow home (not .venv)
	rm -rf warehouse output airflow_home
