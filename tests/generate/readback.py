"""Test helpers: read generated workbooks back with openpyxl, independently of the generator.

A deliberately small reader (not the project's loader): it trusts the truth only for where the
header is, then finds columns by their header text and parses the clerk-style values itself.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl

from zhaoshang import reference

_BRACKET = re.compile(r"[（(][^)）]*[)）]")


def header_key(text: str) -> str:
    return reference.normalize_key(_BRACKET.sub("", reference.normalize_text(text)))


def canonical_for_header(text: str) -> str | None:
    """Map a header as written (single or ``parent>child``) to its canonical column."""
    if ">" in text:
        parent, child = text.split(">", 1)
        key = f"{header_key(parent)}>{header_key(child)}"
    else:
        key = header_key(text)
    for spec in reference.column_map():
        for variant in spec.header_variants:
            if ">" in variant:
                p, c = variant.split(">", 1)
                vkey = f"{header_key(p)}>{header_key(c)}"
            else:
                vkey = header_key(variant)
            if vkey == key:
                return spec.canonical_name
    return None


def parse_amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").rstrip("%")
    factor = Decimal(1)
    if text.endswith("亿"):
        text, factor = text[:-1], Decimal(10000)
    elif text.endswith("万元"):
        text = text[:-2]
    return Decimal(text) * factor


def parse_date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    m = re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", str(value).strip())
    return date(int(m[1]), int(m[2]), int(m[3])) if m else None


def parse_enum(domain: str, value) -> str | None:
    if value is None:
        return None
    return reference.value_aliases()[domain].get(reference.normalize_key(str(value)))


def read_file(
    root: Path, file_truth
) -> tuple[list[dict], dict, openpyxl.worksheet.worksheet.Worksheet]:
    """Rows (row_number + canonical values) and the 合计 row's amounts of one generated workbook."""
    wb = openpyxl.load_workbook(root / file_truth.source_file, data_only=True)
    ws = wb[file_truth.sheet]
    grid = {
        (c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None
    }
    columns: dict[int, str] = {}
    top = file_truth.header_rows[0]
    max_col = max(col for _, col in grid) if grid else 0
    for col in range(1, max_col + 1):
        text = grid.get((top, col))
        if len(file_truth.header_rows) == 2 and (file_truth.header_rows[1], col) in grid:
            parent = next(grid[(top, c)] for c in range(col, 0, -1) if (top, c) in grid)
            text = f"{parent}>{grid[(file_truth.header_rows[1], col)]}"
        if text is not None:
            name = canonical_for_header(str(text))
            assert name is not None, f"unmappable header {text!r} in {file_truth.source_file}"
            columns[col] = name
    rows = []
    for r in range(file_truth.first_data_row, file_truth.total_row):
        cells = {name: grid.get((r, col)) for col, name in columns.items()}
        if all(v is None for v in cells.values()):
            continue
        rows.append({"row_number": r, **cells})
    total = {name: grid.get((file_truth.total_row, col)) for col, name in columns.items()}
    wb.close()
    return rows, total, ws


AMOUNTS = (
    "total_investment_wan",
    "contract_amount_wan",
    "funds_period_wan",
    "funds_cumulative_wan",
    "foreign_usd_wan",
    "credit_share_pct",
)
ENUMS = {
    "sector": "sector",
    "capital_origin": "capital_origin",
    "project_kind": "project_kind",
    "status": "status",
    "high_tech": "yes_no",
}


def parsed(row: dict) -> dict:
    """Canonical values of a read-back row (clerk formats undone)."""
    out = {}
    for name, value in row.items():
        if name in AMOUNTS:
            out[name] = parse_amount(value)
        elif name in ("signed_date", "start_date"):
            out[name] = parse_date(value)
        elif name in ENUMS:
            out[name] = parse_enum(ENUMS[name], value)
        elif name == "seq" or name == "row_number":
            out[name] = value
        else:
            out[name] = None if value is None else reference.normalize_text(str(value))
    return out


def check_files_against_truth(root: Path, truth) -> dict[str, tuple[dict, Decimal]]:
    """Read every loaded workbook; assert its rows hold the truth's values at the truth's row numbers.

    Returns, per file, the 合计 row's amounts as written and the sum of its loaded rows' 本期到位.
    """
    resolver = reference.UnitResolver(reference.load_units(root / "reference" / "units.csv"))
    by_pos = {(r.source_file, r.row_number): r for r in truth.rows}
    totals = {}
    for f in truth.files:
        if f.status != "loaded":
            continue
        rows, total, ws = read_file(root, f)
        assert resolver.resolve(unit_written(ws)) == f.unit_name, f.source_file
        assert [r["row_number"] for r in rows] == sorted(
            r.row_number for r in truth.rows if r.source_file == f.source_file
        )
        loaded_sum = Decimal(0)
        for raw in rows:
            expected = by_pos[(f.source_file, raw["row_number"])]
            if expected.status == "quarantined":
                continue
            values = parsed(raw)
            for key, value in expected.values.items():
                if key in (
                    "contact",
                    "remarks",
                    "signing_event",
                    "investor_name",
                    "ledger_id",
                    "evidence_type",
                ):
                    assert (values.get(key) or None) == (
                        None if value is None else reference.normalize_text(value)
                    ), key
                elif key == "project_name":
                    assert values[key] == reference.normalize_text(value)
                elif key == "investor_uscc":
                    assert values[key] == value
                else:
                    assert values.get(key) == value, (
                        f.source_file,
                        raw["row_number"],
                        key,
                        values.get(key),
                        value,
                    )
            loaded_sum += values["funds_period_wan"]
        totals[f.source_file] = (total, loaded_sum)
    return totals


def unit_written(ws) -> str:
    for col in range(1, ws.max_column + 1):
        value = ws.cell(row=2, column=col).value
        if value and "填报单位" in str(value):
            return str(value).split("填报单位：", 1)[1].split("      ")[0]
    raise AssertionError("no 填报单位 on row 2")
