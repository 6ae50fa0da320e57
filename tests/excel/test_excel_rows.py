"""RELIABILITY §4 C/D: row-level problems quarantine their row, with code and cell address.

Every other row still loads; each quarantined row keeps its (masked) raw values.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from excel_helpers import assert_conservation, problems_of, read
from workbook_builder import COL, STANDARD_HEADERS, Form, project_row, rewrite_parts, write_form

SHEET = "xl/worksheets/sheet1.xml"
FIRST = 4  # first data row of the standard form


def _quarantine(xlsx, **changes):
    """Row 5 (the 2nd project) carries ``changes``; rows 4 and 6 are clean."""
    rows = [project_row(1), project_row(2, **changes), project_row(3)]
    path = xlsx()
    write_form(path, Form(rows=rows))
    parsed = read(path)
    assert_conservation(parsed)
    assert not problems_of(parsed, 4) and not problems_of(parsed, 6)
    return parsed, problems_of(parsed, 5)


def _letter(header: str) -> str:
    from workbook_builder import ALIASES

    return chr(65 + COL[ALIASES.get(header, header)])


CASES = [
    # (header, raw value, code)
    ("total", "500-800万", "E_AMOUNT_NOT_EXACT"),
    ("total", "约500万", "E_AMOUNT_NOT_EXACT"),
    ("total", "500万以上", "E_AMOUNT_NOT_EXACT"),
    ("total", "待定", "E_AMOUNT_NOT_EXACT"),
    ("contract", "100万美元", "E_CURRENCY"),
    ("contract", "USD 100", "E_CURRENCY"),
    ("contract", "50港币", "E_CURRENCY"),
    ("period", -5, "E_NEGATIVE"),
    ("period", "-5", "E_NEGATIVE"),
    ("period", "伍佰万元", "E_NUMBER"),
    ("period", "1,2", "E_NUMBER"),
    ("period", None, "E_REQUIRED"),
    ("period", "—", "E_REQUIRED"),
    ("period", "N/A", "E_REQUIRED"),
    ("项目名称", "无", "E_REQUIRED"),
    ("项目名称", "  ", "E_REQUIRED"),
    ("投资方", "/", "E_REQUIRED"),
    ("签约时间", 100, "E_DATE_RANGE"),
    ("签约时间", 60, "E_DATE_RANGE"),
    ("签约时间", "21.3.5", "E_DATE_AMBIGUOUS"),
    ("签约时间", "3月5日", "E_DATE_AMBIGUOUS"),
    ("签约时间", "2021年3月", "E_DATE_AMBIGUOUS"),
    ("签约时间", "2021年上半年", "E_DATE_AMBIGUOUS"),
    ("签约时间", "2021年2月30日", "E_DATE_INVALID"),
    ("签约时间", "2021.13.1", "E_DATE_INVALID"),
    ("产业类别", "高科技", "E_ENUM"),
    ("项目性质", "改建", "E_ENUM"),
    ("是否高新技术项目", "也许", "E_ENUM"),
    ("资金来源地", "火星", "E_ENUM"),
]


@pytest.mark.parametrize(
    "header, raw, code", CASES, ids=[f"{c[2]}-{str(c[1])[:12]}" for c in CASES]
)
def test_cell_problem_quarantines_the_row(xlsx, header, raw, code):
    parsed, problems = _quarantine(xlsx, **{header: raw})
    assert [p.code for p in problems] == [code]
    problem = problems[0]
    assert problem.row_number == 5
    assert problem.column_letter == _letter(header)
    assert problem.header == STANDARD_HEADERS[ord(problem.column_letter) - 65]
    assert problem.column_name and problem.sheet == "进展情况"
    row = next(r for r in parsed.rows if r.row_number == 5)
    assert row.values[problem.column_name] is None
    assert header == "项目名称" or row.raw_values["project_name"] == "项目2"
    if raw not in (None, "  "):
        assert problem.raw_value is not None


def test_value_too_long(xlsx):
    """Excel and openpyxl cap a cell at 32,767 chars; a tool can write more (RELIABILITY B12)."""
    path = xlsx()
    # An ASCII marker: with lxml installed openpyxl writes CJK text as character references.
    write_form(path, Form(rows=[project_row(1), project_row(2, 备注="SHORT")], total=None))
    long_cell = ('<c r="R5" t="inlineStr"><is><t>' + "长" * 32768 + "</t></is></c>").encode()
    rewrite_parts(
        path,
        edit={
            SHEET: lambda x: x.replace(
                b'<c r="R5" t="inlineStr"><is><t>SHORT</t></is></c>', long_cell
            )
        },
    )
    problems = problems_of(read(path), 5)
    assert [(p.code, p.column_letter, len(p.raw_value)) for p in problems] == [
        ("E_VALUE_TOO_LONG", "R", 50)
    ]


def test_serial_date_window(xlsx):
    ok = (date(2021, 3, 5) - date(1899, 12, 30)).days
    late = (date.today() + timedelta(days=400) - date(1899, 12, 30)).days
    rows = [
        project_row(1, 签约时间=ok),
        project_row(2, 签约时间=late),
        project_row(3, 签约时间=36525),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows))
    parsed = read(path)
    assert parsed.rows[0].values["signed_date"] == date(2021, 3, 5)
    assert [p.code for p in parsed.rows[1].problems] == ["E_DATE_RANGE"]
    assert [p.code for p in parsed.rows[2].problems] == ["E_DATE_RANGE"]  # 1999-12-31


def test_several_bad_cells_in_one_row(xlsx):
    _, problems = _quarantine(xlsx, total="约500万", 产业类别="未知", 签约时间="3月5日")
    assert sorted((p.column_letter, p.code) for p in problems) == [
        ("F", "E_ENUM"),
        ("H", "E_DATE_AMBIGUOUS"),
        ("J", "E_AMOUNT_NOT_EXACT"),
    ]


def test_formula_without_cached_value(xlsx):
    """openpyxl writes formulas with an empty <v/>: never 0, never empty."""
    rows = [project_row(1), project_row(2, period="=L4+1", cumulative="=M4"), project_row(3)]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    problems = problems_of(parsed, 5)
    assert sorted((p.column_letter, p.code) for p in problems) == [
        ("L", "E_FORMULA_NO_VALUE"),
        ("M", "E_FORMULA_NO_VALUE"),
    ]
    assert "打开并保存" in problems[0].message_zh
    assert not problems_of(parsed, 4) and not problems_of(parsed, 6)


def test_formula_without_value_in_an_optional_empty_row_is_not_blank(xlsx):
    rows = [project_row(1), [None] * 11 + ["=1+1"] + [None] * 6, project_row(3)]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    codes = sorted(p.code for p in problems_of(read(path), 5))
    assert "E_FORMULA_NO_VALUE" in codes and "E_REQUIRED" in codes


@pytest.mark.parametrize("error", ["#DIV/0!", "#REF!", "#N/A", "#VALUE!"])
def test_excel_error_values(xlsx, error):
    rows = [project_row(1), project_row(2), project_row(3)]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    cell = f'<c r="K5" t="e"><f>1/0</f><v>{error}</v></c>'.encode()
    rewrite_parts(path, edit={SHEET: lambda x: x.replace(b'<c r="K5" t="n"><v>800</v></c>', cell)})
    parsed = read(path)
    problems = problems_of(parsed, 5)
    assert [(p.code, p.column_letter, p.raw_value) for p in problems] == [
        ("E_CELL_ERROR", "K", error)
    ]
    assert error in problems[0].message_zh


def test_error_value_typed_without_formula(xlsx):
    path = xlsx()
    write_form(path, Form(rows=[project_row(1), project_row(2, contract="#N/A")], total=None))
    assert [p.code for p in problems_of(read(path), 5)] == [
        "E_CELL_ERROR"
    ]  # openpyxl stores it as t="e"


def test_exact_duplicate_rows(xlsx):
    rows = [project_row(1), project_row(2), project_row(2), project_row(3), project_row(2)]
    rows[2][0] = 3  # renumbered copy: 序号 is not data
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    dup = {
        r.row_number: [(p.code, p.detail) for p in r.problems] for r in parsed.rows if r.problems
    }
    assert dup == {6: [("E_DUP_ROW", 5)], 8: [("E_DUP_ROW", 5)]}
    assert "第5行" in parsed.rows[2].problems[0].message_zh
    assert len(parsed.rows) == 5  # quarantined copies are still in rows (rows_read conservation)


def test_merged_cells_in_data_area(xlsx):
    def merge_sector(wb, layout):
        wb["进展情况"].merge_cells("F4:F6")  # 产业类别 merged down a block

    path = xlsx()
    write_form(path, Form(total=None), customize=merge_sector)
    parsed = read(path)
    assert not problems_of(parsed, 4)
    for row_number in (5, 6):
        assert [(p.code, p.column_letter) for p in problems_of(parsed, row_number)] == [
            ("E_MERGED_VALUE", "F")
        ]


def test_decimal_exactness(xlsx):
    rows = [
        project_row(1, total="0.12亿", contract=0.1, period="0.3", cumulative=1200.5),
        project_row(
            2, total="5000000元", contract="1.2E+03", period=0.1 + 0.2, cumulative="0.000001亿"
        ),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    first, second = (r.values for r in read(path).rows)
    assert first["total_investment_wan"] == Decimal(1200)
    assert first["contract_amount_wan"] == Decimal("0.1")
    assert first["funds_period_wan"] == Decimal("0.3")
    assert first["funds_cumulative_wan"] == Decimal("1200.5")
    assert second["total_investment_wan"] == Decimal(500)
    assert second["contract_amount_wan"] == Decimal(1200)
    assert second["funds_period_wan"] == Decimal("0.3")  # openpyxl stores 0.1 + 0.2 as 0.3
    assert second["funds_cumulative_wan"] == Decimal("0.01")
    for values in (first, second):
        assert all(
            isinstance(v, Decimal)
            for k, v in values.items()
            if k.endswith("_wan") and v is not None
        )


def test_foreign_usd_column(xlsx):
    rows = [
        project_row(1, usd=50, 资金来源地="境外"),
        project_row(2, usd="30万美元"),
        project_row(3, usd="200万元"),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    assert parsed.rows[0].values["foreign_usd_wan"] == Decimal(50)
    assert parsed.rows[1].values["foreign_usd_wan"] == Decimal(30)
    assert [p.code for p in parsed.rows[2].problems] == ["E_CURRENCY"]


def test_quarantined_rows_keep_masked_raw_values(xlsx):
    rows = [project_row(1), project_row(2, 产业类别="未知", 联系人及电话="赵六 13812345678")]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    row = read(path).rows[1]
    assert row.problems
    assert row.raw_values["sector"] == "未知"
    assert row.raw_values["contact"] == "赵六 138****5678"
    assert row.raw_values["total_investment_wan"] == "1002"
    assert row.raw_values["signed_date"] == "2021-03-05"


def test_conservation_on_a_messy_sheet(xlsx):
    rows = [
        project_row(1),
        [None] * 18,
        project_row(2, period="约100"),
        ["小计"] + [None] * 17,
        project_row(3),
        project_row(3),
        [None] * 18,
        [7] + [None] * 17,
        project_row(4, 项目名称=None),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows))
    parsed = read(path)
    assert_conservation(parsed)
    assert [r.row_number for r in parsed.rows] == [4, 6, 8, 9, 12]
    assert parsed.rows_ignored_blank == 3
    assert [r.row_number for r in parsed.rows if r.problems] == [6, 9, 12]
