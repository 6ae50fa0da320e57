"""DDL of the ledger (``<state>/ledger.duckdb``), the accumulating source of truth: every table.

The one place where a ledger table is created or altered (tests/ledger/test_ledger_owns_its_tables
holds every other module to that). Kept apart from the loader so tests and dbt fixtures can create
an empty ledger. Column types of ``project_rows`` follow ``column_map.csv`` (the one place for the
canonical columns): a new column there is a new ledger column here, added in place to an older
ledger by the ``alter table ... add column if not exists`` statements of ``ddl()``.

The tables, by the module of this package that writes them:

- ``load``: submissions, inbox_files, project_rows, sheet_totals, quarantine, file_warnings;
- ``runs``: runs (one row per night);
- ``metrics``: metrics (RELIABILITY §8, one row per run per metric);
- ``outbox``: alert_outbox, alerted_flags (the e-mail outbox, RELIABILITY §3 rule 9);
- ``receipts``: receipt_files, receipt_problems (what earlier receipts told each unit).
"""

from __future__ import annotations

import re

import duckdb

from zhaoshang.reference import column_map

DTYPE_SQL = {
    "int": "integer",
    "text": "varchar",
    "uscc": "varchar",
    "capital_origin": "varchar",
    "sector": "varchar",
    "project_kind": "varchar",
    "status": "varchar",
    "date": "date",
    "amount": "decimal(18,4)",
    "percent": "decimal(9,4)",
    "yes_no": "boolean",
}

TOTAL_COLUMNS = (
    "total_investment_wan",
    "contract_amount_wan",
    "funds_period_wan",
    "funds_cumulative_wan",
    "foreign_usd_wan",
)


def project_row_columns() -> list[tuple[str, str]]:
    return [(c.canonical_name, DTYPE_SQL[c.dtype]) for c in column_map()]


def ddl() -> list[str]:
    project_cols = ",\n    ".join(f"{name} {sql}" for name, sql in project_row_columns())
    total_cols = ",\n    ".join(f"{name} decimal(18,4)" for name in TOTAL_COLUMNS)
    return [
        """
        create table if not exists submissions (
            submission_id varchar primary key,
            source_file varchar not null,
            file_name varchar not null,
            size_bytes bigint,
            file_mtime timestamp,
            received_at timestamp not null,
            status varchar not null,
            unit_name varchar,
            unit_written varchar,
            year integer,
            month integer,
            report_date date,
            sheet varchar,
            reject_code varchar,
            reason_zh varchar,
            reason_en varchar,
            rows_read integer not null default 0,
            rows_loaded integer not null default 0,
            rows_quarantined integer not null default 0,
            rows_ignored_blank integer not null default 0,
            load_run_id varchar,
            identity_source varchar
        )""",
        # A ledger made before identity_source existed: added in place (nothing to backfill).
        "alter table submissions add column if not exists identity_source varchar",
        """
        create table if not exists inbox_files (
            source_file varchar not null,
            sha256 varchar not null,
            file_mtime timestamp,
            first_seen_run varchar,
            last_seen_run varchar,
            in_inbox boolean not null,
            primary key (source_file, sha256)
        )""",
        f"""
        create table if not exists project_rows (
            submission_id varchar not null,
            sheet varchar not null,
            row_number integer not null,
            {project_cols},
            raw_cells varchar,
            primary key (submission_id, sheet, row_number)
        )""",
        # The row's cells as the unit typed them: JSON [[header, text], ...], personal data
        # masked (zhaoshang.pii); only the inspection file shows it. Older ledgers gain it empty.
        "alter table project_rows add column if not exists raw_cells varchar",
        f"""
        create table if not exists sheet_totals (
            submission_id varchar not null,
            sheet varchar not null,
            row_number integer not null,
            {total_cols},
            primary key (submission_id, sheet, row_number)
        )""",
        """
        create table if not exists quarantine (
            submission_id varchar not null,
            source_file varchar not null,
            sheet varchar,
            row_number integer,
            column_name varchar,
            column_letter varchar,
            header varchar,
            raw_value varchar,
            reason_code varchar not null,
            reason_zh varchar not null,
            reason_en varchar not null,
            decision varchar not null
        )""",
        """
        create table if not exists file_warnings (
            submission_id varchar not null,
            sheet varchar,
            row_number integer,
            code varchar not null,
            message_zh varchar not null,
            message_en varchar not null
        )""",
        """
        create table if not exists runs (
            run_id varchar primary key,
            logical_date date,
            started_at timestamp,
            finished_at timestamp,
            status varchar,
            summary_json varchar
        )""",
    ]


METRICS_DDL = (
    """
    create table if not exists metrics (
        run_id varchar not null,
        metric varchar not null,
        value double,
        detail varchar,
        recorded_at timestamp not null
    )""",
)

OUTBOX_DDL = (
    """
    create table if not exists alert_outbox (
        alert_key varchar primary key,
        kind varchar not null,
        run_id varchar,
        created_at timestamp not null,
        subject varchar not null,
        body_text varchar not null,
        body_html varchar not null,
        attachment blob,
        attachment_name varchar,
        recipients varchar not null,
        attempts integer not null default 0,
        last_error varchar,
        last_attempt_at timestamp,
        sent_at timestamp,
        delivered_to varchar
    )""",
    """
    create table if not exists alerted_flags (
        flag_key varchar primary key,
        alert_key varchar not null
    )""",
)

RECEIPTS_DDL = (
    """
    create table if not exists receipt_files (
        unit_name varchar not null,
        file_key varchar not null,
        receipt_key varchar not null,
        primary key (unit_name, file_key)
    )""",
    """
    create table if not exists receipt_problems (
        unit_name varchar not null,
        problem_key varchar not null,
        kind varchar not null,
        summary_zh varchar not null,
        source_file varchar,
        first_receipt_key varchar not null,
        first_told_at timestamp not null,
        resolved_receipt_key varchar,
        resolved_at timestamp,
        primary key (unit_name, problem_key)
    )""",
)


def all_ddl() -> list[str]:
    return [*ddl(), *METRICS_DDL, *OUTBOX_DDL, *RECEIPTS_DDL]


_CREATED = re.compile(r"create table if not exists (\w+)")


def table_names() -> list[str]:
    """Every ledger table, from the DDL above (what the ownership test guards)."""
    return [m.group(1) for statement in all_ddl() for m in _CREATED.finditer(statement)]


def execute_all(con: duckdb.DuckDBPyConnection, statements) -> None:
    for statement in statements:
        con.execute(statement)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    execute_all(con, all_ddl())
