"""Monthly granularity: a report that arrives for March changes March and later months' year-to-
date rows and nothing earlier; a corrected resubmission replaces its month (run without Airflow)."""

from __future__ import annotations

import shutil

import pytest

from tests.e2e.dagrun import MART_TABLES, query
from zhaoshang import pipeline
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, small


def _rows_by_month(warehouse) -> dict[str, dict[int, list]]:
    out = {}
    for table in MART_TABLES[:3]:
        rows = query(warehouse, f"select * from marts.{table} where year = 2021 order by all")
        columns = [c[0] for c in query(warehouse, f"describe marts.{table}")]
        month_at = columns.index("month")
        by_month: dict[int, list] = {}
        for row in rows:
            by_month.setdefault(row[month_at], []).append(row)
        out[table] = by_month
    return out


@pytest.fixture(scope="module")
def inbox(module_env):
    truth = generate_inbox(module_env / "raw", small(months=range(1, 5), units=6, seed=11))
    return module_env, truth


def test_a_late_march_report_changes_march_onwards_only(inbox):
    base, truth = inbox
    settings = settings_module.load()
    late = next(
        f
        for f in truth.files
        if f.status == "loaded" and f.is_latest and (f.year, f.month) == (2021, 3)
    )
    held_back = base / "held_back.xlsx"
    shutil.move(settings.raw_dir / late.source_file, held_back)
    pipeline.run_nightly(settings)
    before = _rows_by_month(settings.warehouse)

    shutil.move(held_back, settings.raw_dir / late.source_file)
    pipeline.run_nightly(settings)
    after = _rows_by_month(settings.warehouse)

    unit_rows = {m: {r[2]: r for r in rows} for m, rows in after["unit_performance"].items()}
    for table in before:
        for month in (1, 2):
            assert after[table][month] == before[table][month], (table, month)
    assert after["unit_performance"][3] != before["unit_performance"][3]
    # the unit now has its March report: its figures equal the truth for March and April
    for month in (3, 4):
        fig = truth.period(2021, month).units[late.unit_name]
        row = unit_rows[month][late.unit_name]
        columns = [c[0] for c in query(settings.warehouse, "describe marts.unit_performance")]
        got = dict(zip(columns, row, strict=False))
        assert got["new_projects"] == fig.new_projects
        assert float(got["funds_wan"]) == pytest.approx(fig.funds_wan)


def test_every_month_matches_truth_after_the_late_report(inbox):
    _base, truth = inbox
    warehouse = settings_module.load().warehouse
    for period in truth.periods:
        got = dict(
            query(
                warehouse,
                "select sector, funds_wan from marts.sector_summary where year=? and month=?",
                [period.year, period.month],
            )
        )
        for sector, fig in period.sectors.items():
            assert float(got[sector]) == pytest.approx(fig.funds_wan), (period.month, sector)
