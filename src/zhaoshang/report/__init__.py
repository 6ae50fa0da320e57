"""The half-year (or any month's) work report drafted from the published marts.

``write_report(settings, year, month)`` writes
``<output>/reports/招商引资工作总结_<Y>年1-<m>月.docx`` and ``.html`` (plus the chart PNGs
beside them), in the seed report's style and order. Sections that need human judgement are left
as marked headings for the clerk; every figure's query is listed in the appendix.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from zhaoshang.report import charts, draft, figures, writers
from zhaoshang.settings import Settings

__all__ = ["report_paths", "write_report"]

log = logging.getLogger(__name__)


def report_paths(settings: Settings, year: int, month: int) -> dict[str, Path]:
    stem = f"招商引资工作总结_{year}年1-{month}月"
    folder = settings.output_dir / "reports"
    return {"docx": folder / f"{stem}.docx", "html": folder / f"{stem}.html"}


def _write_atomically(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)  # nobody opens half a report


def write_report(settings: Settings, year: int | None = None, month: int | None = None) -> dict:
    """Draft the report for ``year`` as of ``month`` (default: the latest month published)."""
    if not settings.warehouse.exists():
        raise FileNotFoundError(
            f"尚未发布数据仓库 / no published warehouse at {settings.warehouse}"
        )
    if year is None or month is None:
        latest = figures.latest_period(settings.warehouse)
        if latest is None:
            return {"path": None, "reason": "no month in the warehouse yet"}
        year, month = latest
    data = figures.read(settings.warehouse, year, month, settings.units_csv)
    blocks = draft.draft(data)
    chart_keys = [b.chart for b in blocks if b.kind == "chart"]
    charts_missing = ""
    try:
        pngs = charts.render_all(data, chart_keys)
    except charts.MissingCJKFont as missing:
        # A machine without Chinese fonts still gets the report's text and tables tonight.
        log.warning("%s: the report is drafted without charts", missing)
        charts_missing, pngs = str(missing), {}
        blocks = [b for b in blocks if b.kind != "chart"]
    paths = report_paths(settings, year, month)
    folder = paths["docx"].parent
    folder.mkdir(parents=True, exist_ok=True)
    chart_dir = folder / f"图表_{year}年1-{month}月"
    chart_dir.mkdir(exist_ok=True)
    for key, png in pngs.items():
        _write_atomically(chart_dir / f"{key}.png", png)
    _write_atomically(paths["docx"], writers.docx_bytes(blocks, pngs))
    _write_atomically(paths["html"], writers.html_text(blocks, pngs).encode("utf-8"))
    return {
        "docx": str(paths["docx"]),
        "html": str(paths["html"]),
        "charts": sorted(str(chart_dir / f"{k}.png") for k in pngs),
        "year": year,
        "month": month,
        **({"charts_missing": charts_missing} if charts_missing else {}),
    }
