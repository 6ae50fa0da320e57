#!/usr/bin/env bash
# One-shot setup before the Airflow services start: docker-compose's airflow-init runs it, and so
# does the distributed test (tests/distributed), so both prepare Airflow the same way.
set -euo pipefail

DAG_ID=zhaoshang_nightly
WRITER_POOL=zhaoshang_writer  # the DAG's one-writer pool (dags/zhaoshang_nightly.py)

airflow db migrate
# One slot: tasks that write the ledger or the warehouse (DuckDB has one writer) run one at a time
# on whichever worker takes them; parsing runs in default_pool on every worker at once.
airflow pools set "$WRITER_POOL" 1 "账本与数据仓库只有一个写入者 / the ledger and warehouse have one writer"
# Parse the DAG folder into the database now, so the DAG can be unpaused before the first run.
airflow dags reserialize
airflow dags unpause "$DAG_ID"
airflow pools get "$WRITER_POOL"
