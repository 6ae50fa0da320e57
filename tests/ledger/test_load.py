"""The ledger loader on generated inboxes: every row accounted for, reruns and crashes change
nothing, both versions of a resubmitted month are kept, the unit comes from the sheet."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date

import duckdb
import pytest

from zhaoshang import inbox, ledger
from zhaoshang.generate import generate_inbox, small

CONTENT_QUERIES = {
    "submissions": "select submission_id, source_file, status, unit_name, year, month, reject_code,"
    " rows_read, rows_loaded, rows_quarantined, rows_ignored_blank from submissions order by all",
    "project_rows": "select * from project_rows order by submission_id, sheet, row_number",
    "quarantine": "select * exclude (reason_zh, reason_en) from quarantine order by all",
    "sheet_totals": "select * from sheet_totals order by all",
}


@pytest.fixture
def generated(workspace):
    truth = generate_inbox(workspace.raw_dir, small(months=range(1, 4), units=5, seed=5))
    return workspace, truth


def _content(settings) -> dict[str, list]:
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        return {name: con.execute(sql).fetchall() for name, sql in CONTENT_QUERIES.items()}


def test_every_row_read_is_loaded_quarantined_or_blank(generated):
    settings, truth = generated
    summary = ledger.load_new_submissions(settings, "run1")
    assert summary.files_seen == len(truth.files)
    assert (
        summary.rows_read,
        summary.rows_loaded,
        summary.rows_quarantined,
        summary.rows_ignored_blank,
    ) == (
        truth.counts["rows_read"],
        truth.counts["rows_loaded"],
        truth.counts["rows_quarantined"],
        truth.counts["rows_ignored_blank"],
    )
    with ledger.connect(settings) as con:
        assert ledger.conservation_gaps(con) == []
        per_file = dict(con.execute("select source_file, rows_loaded from submissions").fetchall())
    for f in truth.files:
        assert per_file[f.source_file] == f.rows_loaded, f.source_file


def test_a_second_load_of_the_same_inbox_changes_nothing(generated):
    settings, _truth = generated
    ledger.load_new_submissions(settings, "run1")
    first = _content(settings)
    summary = ledger.load_new_submissions(settings, "run2")
    assert summary.files_new == 0 and summary.files_already_known == summary.files_seen
    assert _content(settings) == first


def test_unit_and_month_come_from_the_sheet_not_the_file_name(generated):
    settings, truth = generated
    ledger.load_new_submissions(settings, "run1")
    with ledger.connect(settings) as con:
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "select source_file, unit_name, year, month from submissions"
            ).fetchall()
        }
    for f in truth.files:
        assert got[f.source_file] == (f.unit_name, f.year, f.month), f.source_file


def test_a_copy_under_another_name_is_one_submission(generated):
    settings, truth = generated
    original = settings.raw_dir / truth.files[0].source_file
    shutil.copy2(original, settings.submissions_dir / "copy of the same report.xlsx")
    ledger.load_new_submissions(settings, "run1")
    with ledger.connect(settings) as con:
        sha = inbox.sha256_of(original)
        assert con.execute(
            "select count(*) from submissions where submission_id = ?", [sha]
        ).fetchone() == (1,)
        assert con.execute(
            "select count(*) from inbox_files where sha256 = ?", [sha]
        ).fetchone() == (2,)


def test_a_changed_file_is_a_new_submission_and_the_old_one_stays(generated):
    settings, truth = generated
    ledger.load_new_submissions(settings, "run1")
    corrected = next(f for f in truth.files if f.role == "correction")
    superseded = next(f for f in truth.files if f.role == "superseded")
    with ledger.connect(settings) as con:
        statuses = dict(con.execute("select source_file, status from submissions").fetchall())
    assert statuses[corrected.source_file] == statuses[superseded.source_file] == "loaded"
    # the file is removed from the inbox: it stays in the ledger, no longer in the inbox
    (settings.raw_dir / superseded.source_file).unlink()
    ledger.load_new_submissions(settings, "run2")
    with ledger.connect(settings) as con:
        in_inbox = dict(con.execute("select source_file, in_inbox from inbox_files").fetchall())
    assert in_inbox[superseded.source_file] is False
    assert in_inbox[corrected.source_file] is True


def test_a_missing_inbox_fails_before_touching_the_ledger(workspace):
    shutil.rmtree(workspace.submissions_dir)
    with pytest.raises(inbox.InboxUnavailable, match="收件箱"):
        ledger.load_new_submissions(workspace, "run1")
    assert not workspace.ledger_path.exists()


_LOAD_IN_CHILD = (
    "from zhaoshang import ledger, settings;"
    "ledger.load_new_submissions(settings.load(), 'crashed', batch_size=4)"
)


@pytest.mark.parametrize("point", ["load:before_commit", "load:after_commit"])
def test_a_killed_load_leaves_no_partial_submission_and_the_rerun_equals_a_clean_load(
    generated, tmp_path, monkeypatch, point
):
    settings, _truth = generated
    env = os.environ | {"ZHAOSHANG_FAIL_AT": point, "ZHAOSHANG_FAIL_MODE": "kill"}
    child = subprocess.run(
        [sys.executable, "-c", _LOAD_IN_CHILD], env=env, capture_output=True, check=False
    )
    assert child.returncode == -9  # SIGKILL: no cleanup ran
    with ledger.connect(settings) as con:
        assert ledger.conservation_gaps(con) == []  # committed submissions are whole
        loaded_after_crash = con.execute("select count(*) from submissions").fetchone()[0]
    assert loaded_after_crash == (0 if point == "load:before_commit" else 4)
    ledger.load_new_submissions(settings, "rerun")
    healed = _content(settings)

    monkeypatch.setenv("ZHAOSHANG_STATE_DIR", str(tmp_path / "clean_state"))
    from zhaoshang import settings as settings_module

    clean_settings = settings_module.load()
    ledger.load_new_submissions(clean_settings, "clean")
    assert healed == _content(clean_settings)


def _minimal_form(path, title: str, meta: str) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.append([meta])
    ws.append(["序号", "项目名称", "投资方", "产业类别", "项目性质", "本期到位资金（万元）"])
    ws.append([1, "面粉加工项目", "商丘某食品有限公司", "二产", "新引进", 120])
    wb.save(path)


def test_a_sheet_without_a_unit_line_takes_the_unit_named_in_its_title(workspace):
    workspace.units_csv.write_text(
        "unit_name,unit_type,aliases,year,target_funds_wan,target_projects\n"
        "济阳镇,乡镇,济阳,2021,1000,10\n会亭镇,乡镇,会亭,2021,1000,10\n",
        encoding="utf-8",
    )
    _minimal_form(
        workspace.submissions_dir / "a.xlsx", "济阳镇招商引资项目进展情况表", "报告期：2021年3月"
    )
    _minimal_form(
        workspace.submissions_dir / "b.xlsx", "招商引资项目进展情况表", "报告期：2021年3月"
    )
    summary = ledger.load_new_submissions(workspace, "run1")
    with ledger.connect(workspace) as con:
        got = dict(
            con.execute(
                "select file_name, coalesce(unit_name, reject_code) from submissions"
            ).fetchall()
        )
    assert got == {"a.xlsx": "济阳镇", "b.xlsx": "E_NO_UNIT"}
    assert summary.rows_loaded == 1


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        (
            "unit_name,unit_type,aliases,year,target_funds_wan,target_projects\n济阳镇,乡镇,,2021,1,1\n",
            "gbk",
            "UTF-8",
        ),
        ("unit_name,year\n济阳镇,2021\n", "utf-8", "target_funds_wan"),
        (
            "unit_name,unit_type,aliases,year,target_funds_wan,target_projects\n济阳镇,乡镇,,二〇二一,1,1\n",
            "utf-8",
            "第2行",
        ),
    ],
)
def test_an_unusable_roster_stops_the_load_with_a_clear_message(
    workspace, content, encoding, message
):
    from zhaoshang.reference import ReferenceDataError

    workspace.units_csv.write_bytes(content.encode(encoding))
    with pytest.raises(ReferenceDataError, match=message):
        ledger.load_new_submissions(workspace, "run1")
    assert not workspace.ledger_path.exists()


def test_a_file_still_being_written_waits_for_the_next_run(generated, monkeypatch):
    import time

    from zhaoshang import settings as settings_module

    settings, truth = generated
    fresh = settings.raw_dir / truth.files[0].source_file
    os.utime(fresh, (time.time(), time.time()))  # just modified: an upload in progress
    monkeypatch.setenv("ZHAOSHANG_STABLE_SECONDS", "600")
    summary = ledger.load_new_submissions(settings_module.load(), "run1")
    assert summary.files_seen == len(truth.files) - 1
    monkeypatch.setenv("ZHAOSHANG_STABLE_SECONDS", "0")
    summary = ledger.load_new_submissions(settings_module.load(), "run2")
    assert summary.files_new == 1


def test_a_refused_files_period_is_guessed_only_from_a_named_month():
    """Folder and file name give a month only where they name one; a received-on date is none."""
    from zhaoshang.ledger.load import _period_in_path

    night = date(2021, 3, 5)
    assert _period_in_path("济阳镇/2021/2月报表.xlsx", night) == (2021, 2)
    assert _period_in_path("2021年02月/会亭镇.xlsx", night) == (2021, 2)
    assert _period_in_path("2021年01月/会亭招商引资1月.xlsx", night) == (2021, 1)
    assert _period_in_path("邮件附件/20210303/济阳(1).xlsx", night) is None
    assert _period_in_path("2021年13月/济阳镇.xlsx", night) is None
    assert _period_in_path("2022年01月/济阳镇.xlsx", night) is None  # after the night
