"""Chinese column headings have one owner: ``export_columns.csv`` for what the pipeline writes
(the analysts' export, the e-mail's sheets), ``column_map.csv`` for the form's project columns,
which the export reads instead of repeating them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from zhaoshang import reference
from zhaoshang.alerts import compose, intake
from zhaoshang.settings import REFERENCE_RULES_DIR

SRC = Path(__file__).resolve().parents[2] / "src" / "zhaoshang"


def _seed_rows() -> list[dict[str, str]]:
    with (REFERENCE_RULES_DIR / "export_columns.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_project_column_is_named_in_column_map_only():
    labels = {c.canonical_name: c.label_zh for c in reference.column_map()}
    repeated = [
        (r["table_name"], r["column_name"])
        for r in _seed_rows()
        if r["column_name"] in labels and r["label_zh"] == labels[r["column_name"]]
    ]
    assert repeated == []
    # ... and the reader fills it in: the export's project sheets say what the form says.
    register = {
        r["column_name"]: r["label_zh"]
        for r in reference.export_columns()
        if r["table_name"] == "project_register_new"
    }
    assert register["project_name"] == labels["project_name"] == "项目名称"
    assert register["total_investment_wan"] == labels["total_investment_wan"]
    assert all(r["label_zh"] for r in reference.export_columns())


def test_the_alert_sheets_take_their_headings_from_the_seed():
    seed = [r for r in _seed_rows() if r["workbook"] == "alerts"]
    flags = sorted(
        (r for r in seed if r["table_name"] == "alert_flags"), key=lambda r: int(r["sort_order"])
    )
    assert tuple(r["label_zh"] or "项目名称" for r in flags) == compose.WORKBOOK_HEADERS
    assert compose.WORKBOOK_HEADERS[-1] == "疑点编号（flag_key）"
    assert (
        tuple(
            r["label_zh"]
            for r in sorted(
                (r for r in seed if r["table_name"] == "alert_intake"),
                key=lambda r: int(r["sort_order"]),
            )
        )
        == intake.SHEET_HEADERS
    )
    assert (compose.FLAG_SHEET, intake.SHEET_NAME) == ("疑点清单", "拒收与隔离")
    # Neither module spells a heading of its own any more.
    for module in ("alerts/compose.py", "alerts/intake.py"):
        text = (SRC / module).read_text(encoding="utf-8")
        spelled = [r["label_zh"] for r in seed if r["label_zh"] and f'"{r["label_zh"]}"' in text]
        assert spelled == [], module


def test_the_analysts_export_is_unchanged_by_the_alert_sheets():
    sheets = {r["sheet_zh"] for r in reference.export_columns()}
    assert sheets.isdisjoint({"疑点清单", "拒收与隔离"})
    assert all(re.fullmatch(r"\d+", r["sort_order"]) for r in _seed_rows())
