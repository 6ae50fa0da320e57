"""Project identity and size bands: one rule each, the same answers in Python and in dbt's SQL.

The shared cases are CSVs next to this file (``\\uXXXX`` stands for an invisible character). The
SQL side is dbt's own ``int_project_rows_latest`` built over a ledger holding one row per case,
so the model's identity key (``normalize_text(..., drop_spaces=true)`` -> the UDF of
``reference.project_name_key``) and its join on the seed ``size_bands.csv`` are what is checked;
the Python side is ``reference`` and the generator's truth (the oracle of every known total).
"""

from __future__ import annotations

import csv
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from zhaoshang import reference
from zhaoshang.generate import truth
from zhaoshang.ledger.schema import create_schema

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "transform"))

import dbt_runner  # noqa: E402
import ledger_fixture  # noqa: E402

SHA = "sha_agreement"


def _unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _cases(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


IDENTITY = [(_unescape(c["as_typed"]), c["name_key"]) for c in _cases("project_identity_cases.csv")]
BANDS = [
    (Decimal(c["total_investment_wan"]) if c["total_investment_wan"] else None, c["size_band"])
    for c in _cases("size_band_cases.csv")
]


def _write_ledger(path: Path) -> None:
    """One loaded submission of 济阳镇 for 2021-01: a row per identity case, then per band case."""
    rows = [(name, Decimal(100)) for name, _ in IDENTITY]
    rows += [(f"规模{i}号项目", total) for i, (total, _) in enumerate(BANDS)]
    with duckdb.connect(str(path)) as con:
        create_schema(con)
        con.execute(
            """insert into submissions (submission_id, source_file, file_name, size_bytes,
                   file_mtime, received_at, status, unit_name, unit_written, year, month,
                   report_date, sheet, rows_read, rows_loaded, load_run_id)
               values (?, 'submissions/济阳镇/1月.xlsx', '1月.xlsx', 1000, ?, ?, 'loaded',
                       '济阳镇', '济阳镇', 2021, 1, ?, '进度月报', ?, ?, 'run_1')""",
            [
                SHA,
                datetime(2021, 2, 1),
                datetime(2021, 2, 2),
                date(2021, 2, 1),
                len(rows),
                len(rows),
            ],
        )
        con.execute(
            "insert into inbox_files values ('submissions/济阳镇/1月.xlsx', ?, ?, 'run_1', 'run_1', true)",
            [SHA, datetime(2021, 2, 1)],
        )
        for i, (name, total) in enumerate(rows):
            con.execute(
                """insert into project_rows (submission_id, sheet, row_number, seq, project_name,
                       investor_uscc, sector, project_kind, total_investment_wan, funds_period_wan)
                   values (?, '进度月报', ?, ?, ?, ?, '二产', '新引进', ?, 1)""",
                [SHA, 5 + i, i + 1, name, f"91411426MA{i:08d}", total],
            )


@pytest.fixture(scope="module")
def sql_rows(tmp_path_factory) -> list[dict]:
    """int_project_rows_latest as dbt builds it, in row order."""
    root = tmp_path_factory.mktemp("identity_bands")
    raw = root / "raw"
    ledger_fixture.write_units(raw)
    ledger = root / "ledger.duckdb"
    _write_ledger(ledger)
    build_db = root / "build.duckdb"
    dbt_runner.dbt(
        [
            "build",
            "--select",
            "+int_project_rows_latest",
            "--resource-type",
            "seed",
            "--resource-type",
            "model",
        ],
        ledger=ledger,
        raw_dir=raw,
        build_db=build_db,
        work_dir=root / "work",
    )
    with duckdb.connect(str(build_db), read_only=True) as con:
        [(schema,)] = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'int_project_rows_latest'"
        ).fetchall()
        cursor = con.execute(
            f"select row_number, project_name_key, size_band, total_investment_wan "
            f"from {schema}.int_project_rows_latest order by row_number"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


@pytest.mark.parametrize(("as_typed", "key"), IDENTITY)
def test_python_identity_is_the_one_rule(as_typed, key):
    assert reference.project_name_key(as_typed) == key
    assert truth.identity("济阳镇", {"project_name": as_typed})[1] == key


@pytest.mark.parametrize(("total", "band"), BANDS)
def test_python_size_band_follows_the_seed(total, band):
    python = reference.size_band_of(float(total)) if total is not None else None
    assert python == (band or None)


def test_dbt_identity_key_and_size_band_agree_with_python(sql_rows):
    assert len(sql_rows) == len(IDENTITY) + len(BANDS)
    identity_sql = [r["project_name_key"] for r in sql_rows[: len(IDENTITY)]]
    assert identity_sql == [key for _, key in IDENTITY]
    bands_sql = [r["size_band"] for r in sql_rows[len(IDENTITY) :]]
    assert bands_sql == [band or None for _, band in BANDS]


def test_the_model_keys_projects_with_the_shared_macro():
    """The identity the marts use is the macro above, not a second spelling of the rule."""
    model = dbt_runner.DBT_PROJECT_DIR / "models" / "intermediate" / "int_project_rows_latest.sql"
    if not model.exists():  # moved between layers: find it by name
        [model] = list(dbt_runner.DBT_PROJECT_DIR.rglob("int_project_rows_latest.sql"))
    text = model.read_text(encoding="utf-8")
    assert "normalize_text('project_name', drop_spaces=true)" in text
    assert "zs_project_name_key" in (
        dbt_runner.DBT_PROJECT_DIR / "macros" / "normalize_text.sql"
    ).read_text(encoding="utf-8")
