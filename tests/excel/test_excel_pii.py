"""Personal data never reaches a message: phone numbers masked, footer text never kept."""

from __future__ import annotations

import pickle
import re

from excel_helpers import read, rejection
from workbook_builder import Form, project_row, write_form

PHONE = re.compile(r"1[3-9]\d{9}")
FOOTER_PHONE = "13712345678"


def _all_text(problem) -> str:
    return " ".join(
        str(x)
        for x in (
            problem.full_message(),
            problem.raw_value,
            problem.detail,
            problem.header,
            repr(problem),
        )
    )


def test_no_phone_number_in_any_problem(xlsx):
    rows = [
        project_row(
            1, 联系人及电话="张三 13812345678", 产业类别="13912345678"
        ),  # a phone typed into an enum
        project_row(2, 联系人及电话="李四13812345679", total="约13812345679"),
        project_row(3, 联系人及电话="@赵六 13812345670"),  # formula-like text: a warning
        project_row(3, 联系人及电话="@赵六 13812345670"),  # exact duplicate: raw values kept
    ]
    footer = [[f"填表人：王五  联系电话：{FOOTER_PHONE}"], [f"注：有问题请联系 {FOOTER_PHONE}"]]
    path = xlsx()
    write_form(path, Form(rows=rows, footer=footer))
    parsed = read(path)
    problems = [p for r in parsed.rows for p in r.problems] + parsed.warnings
    assert {p.code for p in problems} >= {
        "E_ENUM",
        "E_AMOUNT_NOT_EXACT",
        "E_DUP_ROW",
        "W_FORMULA_LIKE_TEXT",
    }
    for problem in problems:
        assert not PHONE.search(_all_text(problem)), problem
    for row in parsed.rows:
        assert not any(PHONE.search(v) for v in row.raw_values.values())
    # The footer is personal data: nothing of it is kept anywhere in the result.
    blob = pickle.dumps(parsed)
    assert FOOTER_PHONE.encode() not in blob and "王五".encode() not in blob


def test_no_phone_number_in_file_rejections(xlsx):
    path = xlsx()
    write_form(
        path,
        Form(headers=["姓名", "电话", "地址"], rows=[["张三", "13812345678", "x"]], total=None),
        sheet_title="张三13812345678",
    )
    problem = rejection(path)
    assert problem.code == "E_NO_DATA_SHEET"
    assert not PHONE.search(_all_text(problem))
