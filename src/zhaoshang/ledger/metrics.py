"""The ledger's ``metrics`` (RELIABILITY §8): one value per run and metric, guard events kept.

Every publish copies them into ``audit.metrics`` of both published files (``guards.metrics_rows``).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from zhaoshang.ledger.schema import METRICS_DDL, execute_all

# Metrics that accumulate (each event a row) instead of holding one value per run.
EVENTS = frozenset({"guard_fired", "guard_overridden", "ledger_wal_recovered"})


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    execute_all(con, METRICS_DDL)


def record(con: duckdb.DuckDBPyConnection, run_id: str, metric: str, value, detail=None) -> None:
    """One value per run and metric (a retried stage records once); guard events accumulate."""
    ensure_table(con)
    if metric not in EVENTS:
        con.execute("delete from metrics where run_id = ? and metric = ?", [run_id, metric])
    con.execute(
        "insert into metrics values (?, ?, ?, ?, ?)",
        [run_id, metric, None if value is None else float(value), detail, datetime.now()],
    )


def rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    ensure_table(con)
    return con.execute(
        "select run_id, metric, value, detail, recorded_at from metrics order by recorded_at"
    ).fetchall()
