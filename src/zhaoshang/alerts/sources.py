"""Which flags are new and open: the published ``audit.dq_flags`` minus decisions minus alerted.

The inspection team records decisions in ``raw/reference/flag_decisions.csv`` (flag_key,
decision confirmed|dismissed, decided_by, decided_at, note). A decided flag is not open: it is
never alerted (again). The published table's ``status`` column, where dbt provides it, is
honoured too, and the CSV is read directly as well, so a decision counts even if the table
predates it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from zhaoshang.reference import read_reference_csv
from zhaoshang.settings import Settings

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


def decisions_csv(settings: Settings) -> Path:
    return settings.reference_dir / "flag_decisions.csv"


def read_decisions(path: Path) -> dict[str, str]:
    """flag_key -> decision (the last line for a key wins)."""
    if not path.exists():
        return {}
    out = {}
    for row in read_reference_csv(path):
        key = (row.get("flag_key") or "").strip()
        decision = (row.get("decision") or "").strip().lower()
        if key and decision:
            out[key] = decision
    return out


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


def open_flags(flags: list[dict], decisions: dict[str, str]) -> list[dict]:
    """Flags nobody has decided on (by the table's status or the decisions file)."""
    out = []
    for f in flags:
        status = str(f.get("status") or "").strip().lower()
        if status in DECIDED or decisions.get(f["flag_key"]) in DECIDED:
            continue
        out.append(f)
    return out
