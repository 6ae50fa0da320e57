"""Fast checks of what a receipt is made of: the roster's optional columns, inert workbook cells,
escaped HTML, and which findings a unit may see."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from zhaoshang.feedback.findings import FileReceived, Problem, _finding
from zhaoshang.feedback.receipt import Receipt, Resolved, bodies, workbook
from zhaoshang.quality.rules import load_rules
from zhaoshang.reference import ReferenceDataError, load_units

HEADER = "unit_name,unit_type,aliases,year,target_funds_wan,target_projects"


def _units(tmp_path, text: str):
    path = tmp_path / "units.csv"
    path.write_text(text, encoding="utf-8")
    return load_units(path)


def test_contact_email_and_feedback_are_optional_columns(tmp_path):
    plain = _units(tmp_path, f"{HEADER}\n济阳镇,乡镇,,2021,1,1\n")
    assert (plain[0].contact_email, plain[0].feedback) == (None, True)
    rows = _units(
        tmp_path,
        f"{HEADER},contact_email,feedback\n济阳镇,乡镇,,2021,1,1, jy@units.example.cn ,off\n"
        "城关镇,乡镇,,2021,1,1,,是\n财政局,县直单位,,2021,1,1,czj@units.example.cn,\n",
    )
    assert [(u.contact_email, u.feedback) for u in rows] == [
        ("jy@units.example.cn", False),
        (None, True),
        ("czj@units.example.cn", True),
    ]


@pytest.mark.parametrize(
    ("extra", "column"), [(",not-an-address,", "contact_email"), (",a@b.cn,maybe", "feedback")]
)
def test_a_bad_contact_value_names_the_file_row_and_column(tmp_path, extra, column):
    with pytest.raises(ReferenceDataError) as caught:
        _units(tmp_path, f"{HEADER},contact_email,feedback\n济阳镇,乡镇,,2021,1,1{extra}\n")
    message = str(caught.value)
    assert "units.csv 第2行" in message and "row 2" in message and column in message


def _receipt(file_name: str, value: str) -> Receipt:
    problem = Problem(
        "k",
        "row",
        2021,
        3,
        file_name,
        "Sheet1",
        7,
        "L列（本期到位资金）",
        value,
        "不是有效数字",
        "请只填数字",
    )
    received = FileReceived(
        "f", file_name, datetime(2021, 4, 1, 8), 2021, 3, "loaded", "已入库", 3, 2, 1, None, None
    )
    return Receipt(
        "济阳镇",
        2021,
        3,
        "HZ-TEST",
        datetime(2021, 4, 2),
        [received],
        [(problem, None)],
        [Resolved("2021年2月：缺报", "已收到该月月报")],
    )


def test_the_workbook_is_inert_and_the_html_escaped():
    receipt = _receipt('=HYPERLINK("http://x.example","点击").xlsx', "<script>alert(1)</script>")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook(receipt))).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    assert any(str(c.value).startswith("'=HYPERLINK") for c in cells)
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    text, html = bodies(receipt)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "已解决的问题（共 1 项）" in text and "新发现" in text


def test_only_signals_marked_share_with_unit_reach_a_unit():
    signals = {s.signal: s for r in load_rules() for s in r.signals}
    flag = {
        "rule": "INVALID_USCC",
        "signal": "check_digit_mismatch",
        "year": 2021,
        "month": 3,
        "evidence": "校验码错误",
        "source_file": "a.xlsx",
        "sheet": "S",
        "row_number": 5,
        "project_name": "联系13812345678",
    }
    shown = _finding(flag, signals)
    assert shown.reason == "校验码错误" and shown.fix and shown.value is None
    assert shown.column.startswith("项目“联系138****5678") and "13812345678" not in shown.column
    suspicion = dict(flag, rule="LOCAL_AS_OUTSIDE", signal="county_registered_investor")
    assert _finding(suspicion, signals) is None
    mixed = dict(
        flag,
        rule="INFLATED_AMOUNT",
        signal="above_total_investment,cumulative_backwards",
        evidence="累计到位资金超过计划总投资……累计数倒退",
    )
    partial = _finding(mixed, signals)
    assert (
        partial.reason == signals["cumulative_backwards"].signal_zh
    )  # not the suspicion's evidence
    hidden = {s.rule for s in signals.values() if not s.share_with_unit}
    assert {"OLD_AS_NEW", "DUPLICATE_CLAIM", "LOCAL_AS_OUTSIDE"} <= hidden


def test_the_ledger_is_waited_for_while_a_parallel_task_has_it(tmp_path):
    """send_alerts and send_receipts run side by side; DuckDB lets one process write a file."""
    import subprocess
    import sys
    import time

    from zhaoshang.recovery import connect_waiting

    ledger = tmp_path / "ledger.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(2); con.close()",
            str(ledger),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with connect_waiting(ledger, wait_s=30) as con:
        waited = time.monotonic() - started
        assert con.execute("select 1").fetchone() == (1,)
    holder.wait(timeout=30)
    assert waited >= 0.5
