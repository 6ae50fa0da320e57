"""DDL of the ledger (``<state>/ledger.duckdb``), the accumulating source of truth.

Kept apart from the loader so tests and dbt fixtures can create an empty ledger. Column types of
``project_rows`` follow ``column_map.csv`` (the one place for the canonical columns).
"""

from __future__ import annotations

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


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in ddl():
        con.execute(statement)
