"""The real nightly DAG on Airflow's CeleryExecutor, started from docker-compose.yml's own commands:
PostgreSQL and Redis on loopback, the init script, api-server, scheduler, dag-processor and two
Celery workers as processes. A triggered run completes, its parse tasks spread over both workers,
and it publishes the same warehouse (content hash of marts and audit) as the one-machine run.

Slow (minutes on a shared 2-core machine): ``make test-distributed``; ``make test`` skips it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import shutil
import signal
import socket
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.distributed.cluster import PG_BIN, Cluster, wait_until
from zhaoshang import pipeline
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, small

pytestmark = pytest.mark.distributed

DAG_ID = "zhaoshang_nightly"
NIGHT = date(2021, 3, 1)  # 02:00 Beijing time on 1 March: February's reports are due
LOGICAL_DATE = "2021-02-28T18:00:00+00:00"
RUN_TIMEOUT_S = 1500
# Columns that say when or in which run something happened: they differ between any two runs.
RUN_COLUMN_SUFFIXES = ("_at", "run_id", "_run")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def warehouse_fingerprint(path: Path) -> dict[str, str]:
    """sha256 per table of marts and audit (rows sorted, run ids and timestamps left out; the
    run's own telemetry, audit.manifest and audit.metrics with its lock waits, differs by run)."""
    hashes = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_schema in ('marts', 'audit')
                 and table_name not in ('manifest', 'metrics')
               order by all"""
        ).fetchall()
        for schema, table in tables:
            columns = [
                r[0]
                for r in con.execute(
                    """select column_name from information_schema.columns
                       where table_schema = ? and table_name = ? order by ordinal_position""",
                    [schema, table],
                ).fetchall()
                if not r[0].endswith(RUN_COLUMN_SUFFIXES)
            ]
            frame = con.execute(
                f"select {', '.join(columns)} from {schema}.{table} order by all"
            ).df()
            hashes[f"{schema}.{table}"] = _sha256(frame.to_csv(index=False))
            for column in columns:  # to name the column when a table differs
                values = frame[column].astype(str).sort_values().to_csv(index=False)
                hashes[f"{schema}.{table}.{column}"] = _sha256(values)
    return hashes


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("inbox") / "raw"
    truth = generate_inbox(raw, small(months=(2,), units=3, seed=21))
    assert len(truth.files) >= 3
    return raw


@pytest.fixture(scope="module")
def embedded_warehouse(inbox, tmp_path_factory) -> Path:
    """The same inbox through ``pipeline.run_nightly`` in this process (no Airflow at all)."""
    base = tmp_path_factory.mktemp("embedded")
    settings = dataclasses.replace(
        settings_module.load(),
        raw_dir=inbox,
        warehouse=base / "warehouse" / "zhaoshang.duckdb",
        output_dir=base / "output",
        state_dir=base / "state",
        alert_to=(),
        smtp_url=None,
    )
    pipeline.run_nightly(settings, NIGHT, run_id="embedded")
    return settings.warehouse


@pytest.fixture(scope="module")
def cluster(inbox, tmp_path_factory):
    if not (PG_BIN / "initdb").exists() or shutil.which("redis-server") is None:
        pytest.fail("PostgreSQL 15 and redis-server are needed: run `make system-deps`")
    try:
        import asyncpg  # noqa: F401 - Airflow 3 opens its PostgreSQL metadata DB async too
    except ImportError:
        pytest.fail("asyncpg is needed for Airflow 3 on PostgreSQL: add it to requirements.in")
    node = Cluster(base=tmp_path_factory.mktemp("cluster"))

    def stop_on_sigterm(_signum, _frame):  # CI timeouts send SIGTERM: still clean up below
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop_on_sigterm)
    variables = {
        "AIRFLOW_FERNET_KEY": _fernet_key(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(12),
        "ZHAOSHANG_BATCH_FILES": "1",  # one parse task per file: several for two workers
    }
    try:
        node.start_postgres("airflow", variables["POSTGRES_PASSWORD"], "airflow")
        node.start_redis()
        node.load_compose(variables)
        shutil.copytree(inbox, node.base / "data" / "raw", dirs_exist_ok=True)
        node.run_once("airflow-init", timeout=600)
        node.start("airflow-apiserver")
        node.start("airflow-scheduler")
        node.start("airflow-dag-processor")
        node.start("airflow-worker-1", node.worker_env("airflow-worker-1"))
        node.start("airflow-worker-2", node.worker_env("airflow-worker-2"))
        here = socket.gethostname()

        def healthy(service: str, hostname: str = here):
            node.assert_running()
            return node.healthcheck(service, hostname)

        wait_until(lambda: healthy("airflow-apiserver"), 300, "api-server", 3)
        wait_until(lambda: healthy("airflow-scheduler"), 300, "scheduler", 3)
        wait_until(lambda: healthy("airflow-worker-1"), 300, "worker-1", 5)
        wait_until(lambda: healthy("airflow-worker-2"), 300, "worker-2", 5)
        wait_until(lambda: healthy("airflow-dag-processor"), 300, "dag-processor", 5)
        yield node
    finally:
        node.stop()
        signal.signal(signal.SIGTERM, previous)


def _metadata(node: Cluster, sql: str, params=()) -> list[tuple]:
    import psycopg2

    url = node.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    con = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def _diagnosis(node: Cluster, run_id: str) -> str:
    states = _metadata(
        node,
        "select task_id, map_index, state, hostname from task_instance where run_id = %s"
        " order by task_id, map_index",
        (run_id,),
    )
    logs = "\n".join(
        f"--- {name} ---\n{node.tail(name, 25)}"
        for name in ("airflow-scheduler", "airflow-worker-1", "airflow-worker-2")
    )
    task_logs = sorted((node.base / "airflow_home" / "logs").rglob("*.log"))
    failed = "\n".join(
        f"--- {p.relative_to(node.base)} ---\n" + "\n".join(p.read_text().splitlines()[-30:])
        for p in task_logs[-3:]
    )
    return f"task states: {states}\n{logs}\n{failed}"


@pytest.fixture(scope="module")
def celery_night(cluster):
    run_id = "celery_night"
    subprocess.run(
        ["airflow", "dags", "trigger", DAG_ID, "--logical-date", LOGICAL_DATE, "-r", run_id],
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    started = time.monotonic()
    state = None
    while time.monotonic() - started < RUN_TIMEOUT_S:
        cluster.assert_running()
        (state,) = _metadata(
            cluster, "select state from dag_run where dag_id = %s and run_id = %s", (DAG_ID, run_id)
        )[0]
        if state in {"success", "failed"}:
            break
        retrying = _metadata(
            cluster,
            "select task_id from task_instance where run_id = %s"
            " and state in ('up_for_retry', 'failed')",
            (run_id,),
        )
        if retrying:  # the retry delay is minutes: say what broke now
            pytest.fail(
                f"task failed on the CeleryExecutor: {retrying}\n{_diagnosis(cluster, run_id)}"
            )
        time.sleep(5)
    assert state == "success", f"run ended {state!r}\n{_diagnosis(cluster, run_id)}"
    instances = _metadata(
        cluster,
        "select task_id, map_index, state, hostname, pool from task_instance where run_id = %s",
        (run_id,),
    )
    return {
        "run_id": run_id,
        "instances": instances,
        "seconds": time.monotonic() - started,
        "warehouse": Path(cluster.env["ZHAOSHANG_WAREHOUSE"]),
    }


def test_the_triggered_night_completes_on_the_celery_executor(celery_night):
    states = {(t, m): s for t, m, s, _h, _p in celery_night["instances"]}
    assert set(states.values()) == {"success"}, states
    assert celery_night["warehouse"].exists()
    print(f"celery night: {celery_night['seconds']:.0f} s")


def test_parsing_fanned_out_over_both_workers_and_writers_used_the_one_slot_pool(celery_night):
    instances = celery_night["instances"]
    parses = [(m, h) for t, m, _s, h, _p in instances if t == "parse_batch"]
    assert len(parses) >= 3  # one mapped instance per file (ZHAOSHANG_BATCH_FILES=1)
    hosts = {h for t, _m, _s, h, _p in instances}
    assert hosts == {"airflow-worker-1", "airflow-worker-2"}, instances
    pools = {t: p for t, _m, _s, _h, p in instances}
    assert pools.pop("parse_batch") == "default_pool"
    assert set(pools.values()) == {"zhaoshang_writer"}


def test_the_celery_warehouse_equals_the_one_machine_warehouse(celery_night, embedded_warehouse):
    distributed = warehouse_fingerprint(celery_night["warehouse"])
    embedded = warehouse_fingerprint(embedded_warehouse)
    assert {"marts.sector_summary", "audit.load_log", "audit.dq_flags"} <= set(distributed)
    assert "audit.load_log.received_at" not in distributed  # when, not what
    differing = sorted(t for t in embedded if distributed.get(t) != embedded[t])
    assert distributed == embedded, f"tables/columns differ: {differing}"
    with duckdb.connect(str(celery_night["warehouse"]), read_only=True) as con:
        assert con.execute("select count(*) from marts.project_register").fetchone()[0] > 0
        assert (
            con.execute("select count(*) from audit.load_log where status = 'loaded'").fetchone()[0]
            >= 3
        )
