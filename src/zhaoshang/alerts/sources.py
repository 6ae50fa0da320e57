"""Which flags are new and open: the published ``audit.dq_flags`` minus decided minus alerted.

A flag's decision is read in one place only: ``audit.dq_flags.status``, where dbt has merged the
decisions store and ``raw/reference/flag_decisions.csv`` (the latest ``decided_at`` wins). A flag
confirmed or dismissed there is not open and never alerted (again); the e-mail therefore says
what the warehouse says, never what a second reading of the CSV would.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

FLAG_COLUMNS = (
    "flag_key",
    "rule",
    "severity",
    "unit_name",
    "year",
    "month",
    "project_name",
    "source_file",
    "sheet",
    "row_number",
    "evidence",
)
DECIDED = {"confirmed", "dismissed"}


def read_flags(warehouse: Path, table: str = "audit.dq_flags") -> list[dict]:
    """All flags of the published warehouse (read-only), as dicts; [] if not published yet."""
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema, name = table.split(".")
        columns = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema=? and table_name=?",
                [schema, name],
            ).fetchall()
        ]
        if not columns:
            log.warning("%s has no table %s: no flags to alert", warehouse, table)
            return []
        if "flag_key" not in columns:
            raise RuntimeError(
                f"{table} lacks flag_key: alerts cannot tell new flags from old ones"
            )
        wanted = [c for c in (*FLAG_COLUMNS, "status") if c in columns]
        cursor = con.execute(f"select {', '.join(wanted)} from {table} order by flag_key")
        return [dict(zip(wanted, row, strict=False)) for row in cursor.fetchall()]


def open_flags(flags: list[dict]) -> list[dict]:
    """Flags nobody has confirmed or dismissed (by ``audit.dq_flags.status``)."""
    return [f for f in flags if str(f.get("status") or "").strip().lower() not in DECIDED]
