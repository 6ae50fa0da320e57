"""Run the real nightly DAG with ``dag.test()`` and read what it published."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

DAGS = Path(__file__).resolve().parents[2] / "dags"
MART_TABLES = ("sector_summary", "size_band_summary", "unit_performance", "project_register")


def run_nightly_dag(day: str, *, retries: int | None = None) -> str:
    """One DAG run for the logical date ``day``; returns the final state.

    ``retries=0`` lets a test see a failure at once instead of waiting out the retry delay.
    """
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["zhaoshang_nightly"]
    if retries is not None:
        for task in dag.tasks:
            task.retries = retries
    logical = datetime.fromisoformat(day).replace(hour=2, tzinfo=ZoneInfo("Asia/Shanghai"))
    dag_run = dag.test(logical_date=logical)
    return str(dag_run.state)


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def marts_fingerprint(warehouse: Path) -> str:
    """A content hash of every mart, independent of row order."""
    digest = hashlib.sha256()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in MART_TABLES:
            frame = con.execute(f"select * from marts.{table} order by all").df()
            digest.update(table.encode())
            digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()
