"""The ``runs`` table: one row per night, written when its load is done and when it publishes."""

from __future__ import annotations

from datetime import date, datetime

import duckdb


def record_loaded(
    con: duckdb.DuckDBPyConnection, run_id: str, logical_date: date | None, summary_json: str
) -> None:
    """The night's load is in the ledger; a retried load starts the row again (not published)."""
    con.execute(
        """insert into runs (run_id, logical_date, started_at, finished_at, status, summary_json)
           values (?, ?, ?, null, 'running', ?)
           on conflict (run_id) do update set
               logical_date = excluded.logical_date, started_at = excluded.started_at,
               finished_at = null, status = 'running', summary_json = excluded.summary_json""",
        [run_id, logical_date, datetime.now(), summary_json],
    )


def record_published(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(
        "update runs set finished_at = ?, status = 'published' where run_id = ?",
        [datetime.now(), run_id],
    )
