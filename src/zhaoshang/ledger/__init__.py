"""The ledger (``<state>/ledger.duckdb``): every table of it, and every statement that writes one.

- ``schema``: the DDL of every ledger table (the one place to add a table or a column);
- ``load``: new inbox files -> submissions, rows, quarantine, rejections (re-exported here);
- ``runs``: the night's row in ``runs``; ``metrics``: RELIABILITY §8 metrics;
- ``outbox``: the e-mail outbox (alerts, failure notices, receipts);
- ``receipts``: what earlier receipts told each unit.

It is opened through ``zhaoshang.recovery`` only (``open_ledger``, ``connect_waiting``); other
modules read it, and write it by calling these functions
(tests/ledger/test_ledger_owns_its_tables.py).
"""

from __future__ import annotations

from zhaoshang.ledger.load import (
    TABLES,
    LoadSummary,
    cast_list,
    connect,
    conservation_gaps,
    count_into,
    default_reader,
    insert_parquet_batch,
    load_new_submissions,
    record_inbox_presence,
    select_new_files,
    summary_json,
    table_columns,
    text_frame,
)

__all__ = [
    "TABLES",
    "LoadSummary",
    "cast_list",
    "connect",
    "conservation_gaps",
    "count_into",
    "default_reader",
    "insert_parquet_batch",
    "load_new_submissions",
    "record_inbox_presence",
    "select_new_files",
    "summary_json",
    "table_columns",
    "text_frame",
]
