"""The e-mail section on what a night refused, from a real ledger load (issue 13, item 3).

A night whose every new file is refused must not read like a quiet success: the subject and the
top of the e-mail say so, and every file is listed with its reason and the unit it belongs to.
"""

from __future__ import annotations

import io
import shutil

import duckdb
import openpyxl

from zhaoshang import ledger
from zhaoshang.alerts import compose_flags_alert
from zhaoshang.alerts.intake import read_intake
from zhaoshang.generate import bad_files, generate_inbox, small


def test_a_night_that_refuses_every_file_says_so_loudly(workspace):
    settings = workspace
    generate_inbox(settings.raw_dir, small(months=range(1, 2), units=2, seed=3))
    shutil.rmtree(settings.submissions_dir)
    settings.submissions_dir.mkdir()
    expected = bad_files(
        settings.raw_dir, kinds=("csv_as_xlsx", "zip_corrupt", "missing_header"), unit_name="济阳镇"
    )
    summary = ledger.load_new_submissions(settings, "night_1")
    assert summary.files_new == 3 and summary.files_loaded == 0
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        intake = read_intake(con, "night_1")
    assert intake.alarming and len(intake.problems) == 3
    assert {p.unit_name for p in intake.problems} == {"济阳镇"}  # sheet or file name, never lost
    alert = compose_flags_alert(
        [], run_id="night_1", recipients=("team@example.gov.cn",), intake=intake
    )
    assert "警告" in alert.subject and "全部被拒收" in alert.subject
    for body in (alert.body_html, alert.body_text):
        assert "警告" in body and "本次拒收的文件和隔离的行" in body
        for rejected in expected:
            assert rejected.source_file.rsplit("/", 1)[-1] in body
    assert "CSV" in alert.body_text and "缺少必填列" in alert.body_text
    book = openpyxl.load_workbook(io.BytesIO(alert.attachment))
    assert book.sheetnames == ["拒收与隔离"]
    assert book["拒收与隔离"].max_row == 1 + 3


def test_a_quiet_night_sends_no_intake_section(workspace):
    settings = workspace
    generate_inbox(settings.raw_dir, small(months=range(1, 2), units=2, seed=3))
    ledger.load_new_submissions(settings, "night_1")
    ledger.load_new_submissions(settings, "night_2")  # nothing new
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        second = read_intake(con, "night_2")
    assert second.files_new == 0 and not second.alarming and not second.has_problems
