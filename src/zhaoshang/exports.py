"""The analysts' monthly Excel workbook, written from the published warehouse after each night.

Analysts and leaders live in Excel: one workbook per latest (year, month) the warehouse holds,
``<output>/exports/招商引资进度_<year>年<month>月.xlsx``, with the year-to-date marts by sector,
size band and unit and the project register. Sheets, columns and Chinese headings come from
``dbt_project/seeds/export_columns.csv``; cells are written inert (``zhaoshang.safe_xlsx``), and
the marts hold no personal data to begin with.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from zhaoshang import publish, reference
from zhaoshang.safe_xlsx import Sheet, workbook_bytes
from zhaoshang.settings import Settings

# Month-keyed marts are cut to the export's (year, month); the register is as of the night.
_MONTHLY = {"sector_summary", "size_band_summary", "unit_performance"}
_ORDER = {
    "sector_summary": "sector_order",
    "size_band_summary": "size_band_order",
    "unit_performance": "rank, unit_name",
    "project_register": "unit_name, first_reported_month, project_name",
}


def export_path(settings: Settings, year: int, month: int) -> Path:
    return settings.output_dir / "exports" / f"招商引资进度_{year}年{month:02d}月.xlsx"


def write_monthly_workbook(settings: Settings) -> dict:
    """Write the workbook for the latest month in the published warehouse; returns its path."""
    sheets_spec: dict[str, list[dict[str, str]]] = defaultdict(list)
    for column in reference.export_columns():
        sheets_spec[column["sheet_zh"]].append(column)
    with publish.open_published(settings) as con:
        latest = con.execute(
            "select year, month from marts.sector_summary order by year desc, month desc limit 1"
        ).fetchone()
        if latest is None:
            return {"path": None, "reason": "no month in the warehouse yet"}
        year, month = latest
        sheets = []
        for sheet_name, columns in sheets_spec.items():
            table = columns[0]["table_name"]
            select = ", ".join(c["column_name"] for c in columns)
            where = "where year = ? and month = ?" if table in _MONTHLY else "where ? + ? > 0"
            rows = con.execute(
                f"select {select} from marts.{table} {where} order by {_ORDER[table]}",
                [year, month],
            ).fetchall()
            sheets.append(Sheet(sheet_name, [c["label_zh"] for c in columns], rows))
    path = export_path(settings, year, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(workbook_bytes(sheets))
    os.replace(tmp, path)  # an analyst never opens half a workbook
    return {"path": str(path), "year": year, "month": month, "sheets": [s.name for s in sheets]}
