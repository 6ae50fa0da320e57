"""The analysts' monthly Excel workbook, written from the published warehouse after each night.

Analysts and leaders live in Excel, and print it: one workbook per latest (year, month) the
warehouse holds, ``<output>/exports/招商引资进度_<year>年<month>月.xlsx``, with the year-to-date
marts by sector, size band and unit (verified figures beside the reported ones), the year's
register split into 本年新引进 and 续建, and the 疑点 of the year. Each sheet has a title, an
as-of line, a 合计 row where sums mean something, number formats, frozen headings and an A4
landscape page set-up. Sheets, columns and headings come from
``dbt_project/seeds/export_columns.csv``; cells are written inert (``zhaoshang.safe_xlsx``).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from zhaoshang import publish, reference
from zhaoshang.safe_xlsx import (
    COUNT_FORMAT,
    MONTH_FORMAT,
    PCT_FORMAT,
    WAN_FORMAT,
    PrintColumn,
    PrintSheet,
    print_workbook_bytes,
)
from zhaoshang.settings import Settings

# table_name in export_columns.csv -> (relation, filter on year ? and month ?, order)
_SOURCES = {
    "sector_summary": ("marts.sector_summary", "year = ? and month = ?", "sector_order"),
    "size_band_summary": ("marts.size_band_summary", "year = ? and month = ?", "size_band_order"),
    "unit_performance": ("marts.unit_performance", "year = ? and month = ?", "rank, unit_name"),
    # the year's register: projects new this year, and every other project reported this year
    "project_register_new": (
        "marts.project_register",
        "project_kind = '新引进' and first_reported_year = ? and sector <> '金融贷款'"
        " and first_reported_month <= make_date(first_reported_year, ?, 1)",
        "unit_name, first_reported_month, project_name",
    ),
    "project_register_continuing": (
        "marts.project_register",
        "not (project_kind = '新引进' and first_reported_year = year(latest_reported_month)"
        " and sector <> '金融贷款') and year(latest_reported_month) = ?"
        " and month(latest_reported_month) <= ?",
        "unit_name, sector, project_name",
    ),
    "dq_flags": (
        "audit.dq_flags",
        "year = ? and coalesce(month, 1) <= ?",
        "rule, unit_name, month",
    ),
}
_TITLES = {
    "按产业": "按产业分类的引进项目和到位资金",
    "按规模": "按投资规模分类的新引进项目",
    "单位考核": "各单位招商引资目标考核",
    "本年新引进": "本年新引进项目台账",
    "续建": "续建及金融贷款项目台账（本年有报送）",
    "疑点": "质量检查疑点",
}
_COUNTS = {
    "new_projects",
    "verified_new_projects",
    "major_projects",
    "target_projects",
    "open_flags",
}
_NOT_SUMMED = {"rank", "row_number", "month", "year"}


def export_path(settings: Settings, year: int, month: int) -> Path:
    return settings.output_dir / "exports" / f"招商引资进度_{year}年{month:02d}月.xlsx"


def number_format(column: str) -> str | None:
    """The column's Excel format, from its name (the marts' own naming convention)."""
    if column.endswith("_wan"):
        return WAN_FORMAT
    if column.endswith(("_pct", "score")):
        return PCT_FORMAT
    if column in _COUNTS or column in _NOT_SUMMED:
        return COUNT_FORMAT if column in _COUNTS else "0"
    if column.endswith("_month"):
        return MONTH_FORMAT
    return None


def _summable(column: str) -> bool:
    return column.endswith("_wan") or column in _COUNTS


def _share(part: Decimal, whole: Decimal) -> float | None:
    return round(float(100 * part / whole), 4) if whole else None


def totals_row(columns: list[str], rows: list[tuple]) -> list[object]:
    """合计: sums of amounts and counts; shares and completion recomputed from the sums."""
    sums = {
        c: sum((Decimal(str(r[i] or 0)) for r in rows), Decimal(0))
        for i, c in enumerate(columns)
        if _summable(c)
    }
    out: list[object] = []
    for _i, c in enumerate(columns):
        if c in sums:
            out.append(int(sums[c]) if c in _COUNTS else sums[c])
        elif c == "share_pct":
            out.append(100.0 if sums.get("funds_wan") else None)
        elif c == "verified_share_pct":
            out.append(100.0 if sums.get("verified_funds_wan") else None)
        elif c == "completion_pct":
            out.append(_share(sums.get("funds_wan", 0), sums.get("target_funds_wan", 0)))
        else:
            out.append(None)
    label_at = next((i for i, v in enumerate(out) if v is None), 0)
    out[label_at] = "合计"
    return out


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
        run_id, built_at = con.execute("select run_id, built_at from audit.manifest").fetchone()
        as_of = (
            f"数据截至{year}年{month}月（1-{month}月累计），单位：万元；"
            f"生成于{built_at:%Y-%m-%d %H:%M}，运行编号 {run_id}"
        )
        sheets = []
        for sheet_name, columns in sheets_spec.items():
            relation, where, order = _SOURCES[columns[0]["table_name"]]
            names = [c["column_name"] for c in columns]
            rows = con.execute(
                f"select {', '.join(names)} from {relation} where {where} order by {order}",
                [year, month],
            ).fetchall()
            with_totals = any(_summable(n) for n in names) and sheet_name != "疑点"
            sheets.append(
                PrintSheet(
                    name=sheet_name,
                    title=f"{year}年1-{month}月{_TITLES.get(sheet_name, sheet_name)}",
                    as_of=as_of,
                    columns=[
                        PrintColumn(c["label_zh"], number_format(c["column_name"])) for c in columns
                    ],
                    rows=rows,
                    totals=totals_row(names, rows) if with_totals else None,
                )
            )
    path = export_path(settings, year, month)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(print_workbook_bytes(sheets))
    os.replace(tmp, path)  # an analyst never opens half a workbook
    return {
        "path": str(path),
        "year": year,
        "month": month,
        "sheets": [s.name for s in sheets],
        "written_at": datetime.now().isoformat(timespec="seconds"),
    }
