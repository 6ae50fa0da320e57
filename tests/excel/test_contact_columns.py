"""Many county forms split 联系人 and 联系电话 into two columns: both are read (as personal data)."""

from __future__ import annotations

from excel_helpers import read
from workbook_builder import COL, STANDARD_HEADERS, Form, project_row, write_form


def test_separate_contact_name_and_phone_columns(tmp_path):
    headers = list(STANDARD_HEADERS)
    headers[COL["联系人及电话"]] = "联系人"
    headers.insert(COL["联系人及电话"] + 1, "联系电话")
    rows = []
    for i in (1, 2):
        row = project_row(i, 联系人及电话="王五")
        row.insert(COL["联系人及电话"] + 1, "13900001111")
        rows.append(row)
    path = tmp_path / "split_contact.xlsx"
    write_form(path, Form(headers=headers, rows=rows, total=False))
    parsed = read(path)
    assert [r.problems for r in parsed.rows] == [[], []]
    assert parsed.rows[0].values["contact"] == "王五"
    assert parsed.rows[0].values["contact_phone"] == "13900001111"
    assert parsed.columns["contact_phone"] == "联系电话"


def test_share_percentages_as_typed_as_text_and_as_percent_formatted_cells():
    from decimal import Decimal

    from zhaoshang.excel.values import parse_percent

    assert parse_percent(60) == Decimal(60)
    assert parse_percent("40%") == Decimal(40)
    assert parse_percent(0.6) == Decimal(60)  # a cell formatted as 60% stores 0.6
    assert parse_percent(100) == Decimal(100)
