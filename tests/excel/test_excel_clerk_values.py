"""Clerks' values that slipped through before (issue 13, item 4): a 签约时间 after the report
period, a 报告期 refused without saying why, CR LF / _x000D_ inside names."""

from __future__ import annotations

from datetime import date

import pytest
from excel_helpers import problems_of, read, rejection
from workbook_builder import Form, project_row, write_form

from zhaoshang.errors import SubmissionRejected
from zhaoshang.excel import read_submission


def test_signing_date_after_the_report_period_is_quarantined_naming_the_cell(xlsx):
    path = xlsx()
    rows = [project_row(1), project_row(2, 签约时间=date(2030, 1, 1)), project_row(3)]
    write_form(path, Form(rows=rows))
    parsed = read(path)
    (problem,) = problems_of(parsed, 5)
    assert problem.code == "E_SIGNED_AFTER_PERIOD"
    assert problem.column_letter == "H" and problem.header == "签约时间"
    assert "2030年1月1日" in problem.message_zh and "2021年3月" in problem.message_zh
    assert "2030-01-01" in problem.message_en and "2021-03" in problem.message_en
    assert "第5行H列（签约时间）" in problem.where_zh()
    assert not problems_of(parsed, 4) and not problems_of(parsed, 6)


def test_signing_date_within_the_report_month_loads(xlsx):
    path = xlsx()
    write_form(path, Form(rows=[project_row(1, 签约时间=date(2021, 3, 31))]))
    (row,) = read(path).rows
    assert not row.problems and row.values["signed_date"] == date(2021, 3, 31)


@pytest.mark.parametrize(
    ("period", "zh", "en"),
    [
        ("2021年13月", "月份13不在1-12之间", "month 13 is not between 1 and 12"),
        ("2021年1-3月", "报告期应为单个月份", "is a range"),
        ("去年三月", "不是年月", "is not a year and month"),
    ],
)
def test_e_period_says_why(xlsx, period, zh, en):
    path = xlsx()
    write_form(path, Form(meta=[[f"填报单位：济阳镇  报告期：{period}"]]))
    problem = rejection(path)
    assert problem.code == "E_PERIOD" and zh in problem.message_zh and en in problem.message_en


def test_a_future_period_is_refused_saying_so(tmp_path):
    from zhaoshang.excel.model import ParsedSubmission
    from zhaoshang.ledger.load import _check_identity
    from zhaoshang.reference import Unit, UnitResolver

    resolver = UnitResolver([Unit("济阳镇", "乡镇", (), 2021, 0, 0)])
    parsed = ParsedSubmission("进展情况", "济阳镇", 2030, 1, None, 3, {}, [], None, 0)
    problem = _check_identity(parsed, resolver, "f.xlsx", date(2021, 3, 5))
    assert problem.code == "E_PERIOD"
    assert "晚于本次处理的月份（2021年3月）" in problem.message_zh
    assert "future" in problem.message_en


@pytest.mark.parametrize("name", ["食品加工_x000D_\n项目", "食品加工\r\n项目", "食品加工\n项目"])
def test_line_breaks_in_names_are_normalised_and_logged(xlsx, name):
    path = xlsx()
    write_form(path, Form(rows=[project_row(1, 项目名称=name), project_row(2)]))
    parsed = read(path)
    assert parsed.rows[0].values["project_name"] == "食品加工 项目"
    (warning,) = [w for w in parsed.warnings if w.code == "W_LINE_BREAK"]
    assert warning.row_number == 4 and warning.column_letter == "B"
    assert "换行" in warning.message_zh and "食品" not in warning.full_message()


def test_remarks_keep_their_line_breaks_without_the_escape(xlsx):
    path = xlsx()
    write_form(path, Form(rows=[project_row(1, 备注="第一行_x000D_\n第二行")]))
    parsed = read(path)
    assert parsed.rows[0].values["remarks"] == "第一行\n第二行"
    assert not [w for w in parsed.warnings if w.code == "W_LINE_BREAK"]


def test_rejected_for_a_period_keeps_its_unit(xlsx):
    path = xlsx()
    write_form(path, Form(meta=[["填报单位：济阳镇  报告期：2021年13月"]]))
    with pytest.raises(SubmissionRejected) as caught:
        read_submission(path, sandbox=True)
    assert caught.value.hint["unit_written"] == "济阳镇" and caught.value.hint["year"] is None
