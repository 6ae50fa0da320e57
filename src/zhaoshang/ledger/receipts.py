"""What earlier receipts told each unit, kept in the ledger (the ETL account's state dir).

The storage of ``zhaoshang.feedback``: the tables are in ``zhaoshang.ledger.schema``.

``receipt_files`` holds the files a receipt has already listed, ``receipt_problems`` every problem
a receipt announced, with its one-line summary and, once it is gone from the warehouse, when it
was resolved. Tonight's receipt is then: files not listed before, problems not told before, and
problems told before that are gone now (resolved, e.g. by a corrected resubmission).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from zhaoshang.ledger.schema import RECEIPTS_DDL, execute_all


@dataclass(frozen=True)
class Told:
    problem_key: str
    kind: str
    summary_zh: str
    source_file: str | None
    first_told_at: datetime
    resolved_at: datetime | None


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    execute_all(con, RECEIPTS_DDL)


def listed_files(con: duckdb.DuckDBPyConnection, unit_name: str) -> set[str]:
    rows = con.execute(
        "select file_key from receipt_files where unit_name = ?", [unit_name]
    ).fetchall()
    return {r[0] for r in rows}


def told(con: duckdb.DuckDBPyConnection, unit_name: str) -> dict[str, Told]:
    rows = con.execute(
        """select problem_key, kind, summary_zh, source_file, first_told_at, resolved_at
           from receipt_problems where unit_name = ?""",
        [unit_name],
    ).fetchall()
    return {r[0]: Told(*r) for r in rows}


def remember(
    con: duckdb.DuckDBPyConnection,
    unit_name: str,
    receipt_key: str,
    *,
    files: list[str],
    new_problems: list[tuple[str, str, str, str | None]],
    resolved: list[str],
    when: datetime,
) -> None:
    """Record what the receipt ``receipt_key`` said, in one transaction (a rerun repeats it)."""

    def many(sql: str, rows: list[tuple]) -> None:
        if rows:  # duckdb refuses executemany with no rows
            con.executemany(sql, rows)

    con.execute("begin")
    try:
        many(
            "insert or ignore into receipt_files values (?, ?, ?)",
            [(unit_name, key, receipt_key) for key in files],
        )
        # A problem that comes back after being resolved is told again as new.
        many(
            """insert into receipt_problems values (?, ?, ?, ?, ?, ?, ?, null, null)
               on conflict (unit_name, problem_key) do update set
                   summary_zh = excluded.summary_zh, source_file = excluded.source_file,
                   first_receipt_key = excluded.first_receipt_key,
                   first_told_at = excluded.first_told_at,
                   resolved_receipt_key = null, resolved_at = null""",
            [
                (unit_name, key, kind, summary, source, receipt_key, when)
                for key, kind, summary, source in new_problems
            ],
        )
        many(
            """update receipt_problems set resolved_receipt_key = ?, resolved_at = ?
               where unit_name = ? and problem_key = ? and resolved_at is null""",
            [(receipt_key, when, unit_name, key) for key in resolved],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
