"""A night over an inbox of mixed formats builds the same warehouse as over the .xlsx originals,
and a unit-month that holds only a refused file is accounted for (issue 13).

The generated inbox (planted anomalies, bad rows, a resubmission, bad files) is run twice through
the nightly stages: as generated, and with some units' reports re-saved by LibreOffice as .xls,
one unit's as .ods, one as .xlsb and one as .xlsm. Rows, figures, flags and quarantine must be
identical (file names aside). A third inbox replaces one unit's month by a refused file: the
night flags it only_rejected (never no_report), notes it in the unit's score, and the e-mail
read from a real SMTP server on loopback lists the file and its reason.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.alerts.alert_fixtures import SmtpServer, free_port
from tests.office_formats import replace_in_inbox
from zhaoshang import pipeline
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, with_anomalies
from zhaoshang.publish import full_path

NIGHT = date(2021, 3, 5)
# What differs by nature between the two inboxes: file suffixes and content hashes (sha256 ids).
SUFFIX = re.compile(r"\.(xlsx|xls|ods|xlsb|xlsm)\b|\b[0-9a-f]{64}\b")


def _settings(base: Path, **extra):
    return dataclasses.replace(
        settings_module.load(),
        raw_dir=base / "raw",
        warehouse=base / "warehouse" / "zhaoshang.duckdb",
        output_dir=base / "output",
        state_dir=base / "state",
        **extra,
    )


@pytest.fixture(scope="module")
def inboxes(tmp_path_factory):
    base = tmp_path_factory.mktemp("formats_night")
    xlsx_base = base / "xlsx"
    truth = generate_inbox(
        xlsx_base / "raw", with_anomalies(units=8, months=(1, 2), history_months=(12,))
    )
    mixed_base = base / "mixed"
    shutil.copytree(xlsx_base / "raw", mixed_base / "raw")
    loaded = [f for f in truth.files if f.status == "loaded" and f.source_file.endswith(".xlsx")]
    units = sorted({f.unit_name for f in loaded})
    plan = {"xls": units[:3], "ods": units[3:4], "xlsb": units[4:5], "xlsm": units[5:6]}
    by_format = {
        fmt: [f.source_file for f in loaded if f.unit_name in chosen]
        for fmt, chosen in plan.items()
    }
    renamed = replace_in_inbox(mixed_base / "raw", by_format)
    assert len(renamed) >= 8
    return {"xlsx": xlsx_base, "mixed": mixed_base, "truth": truth, "renamed": renamed}


def _night(base: Path, **extra) -> tuple:
    settings = _settings(base, **extra)
    report = pipeline.run_nightly(settings, NIGHT, run_id=f"night_{base.name}")
    return settings, report


def _table(con, sql: str) -> list[tuple]:
    rows = con.execute(sql).fetchall()
    return sorted(
        (tuple(SUFFIX.sub(".*", v) if isinstance(v, str) else v for v in r) for r in rows),
        key=repr,
    )


COMPARED = {
    "marts.sector_summary": "select * from marts.sector_summary",
    "marts.size_band_summary": "select * from marts.size_band_summary",
    "marts.unit_performance": "select * from marts.unit_performance",
    "marts.project_register": "select * exclude (project_id) from marts.project_register",
    "audit.dq_flags": "select rule, severity, unit_name, year, month, project_name, "
    "source_file, sheet, row_number, evidence from audit.dq_flags",
    "audit.quarantine": "select source_file, sheet, row_number, column_name, column_letter, "
    "reason_code, reason_zh from audit.quarantine",
    "audit.load_log": "select source_file, unit_name, year, month, rows_read, rows_loaded, "
    "rows_quarantined, rows_ignored_blank, status from audit.load_log",
}


def test_a_mixed_format_inbox_builds_the_same_warehouse(inboxes):
    xlsx_settings, _ = _night(inboxes["xlsx"])
    mixed_settings, report = _night(inboxes["mixed"])
    assert report["load"]["files_rejected"] == len(inboxes["truth"].expected_rejected)
    with (
        # The inspection file: quarantine and the flags' full evidence are compared too.
        duckdb.connect(str(full_path(xlsx_settings)), read_only=True) as a,
        duckdb.connect(str(full_path(mixed_settings)), read_only=True) as b,
    ):
        for name, sql in COMPARED.items():
            expected, got = _table(a, sql), _table(b, sql)
            assert expected, name
            assert got == expected, name
        formats = {
            Path(r[0]).suffix
            for r in b.execute(
                "select source_file from audit.load_log where status = 'loaded'"
            ).fetchall()
        }
        flags = a.execute("select count(*) from audit.dq_flags where rule <> 'MISSING_REPORT'")
        assert flags.fetchone()[0] >= 5  # the planted anomalies were compared, not just zeros
    assert {".xls", ".ods", ".xlsb", ".xlsm", ".xlsx"} <= formats


def test_a_month_with_only_a_refused_file_is_only_rejected_and_e_mailed(inboxes, tmp_path):
    base = tmp_path / "refused"
    shutil.copytree(inboxes["xlsx"] / "raw", base / "raw")
    truth = inboxes["truth"]
    # A file whose folder or name gives the month (2021年02月/…, …/2021/2月报表.xlsx); a name
    # like 邮件附件/20210303/济阳(1).xlsx (the day it was received) gives none, and is not guessed.
    victim = next(
        f
        for f in truth.files
        if f.status == "loaded"
        and f.role == "normal"
        and (f.year, f.month) == (2021, 2)
        and "2021" in f.source_file
        and re.search(r"(?<!\d)0?2月", f.source_file)
    )
    path = base / "raw" / victim.source_file
    # The clerk saved the month's report as CSV text under the workbook's name: refused, and
    # nothing in the file can be read, so unit and month are guessed from folder and name.
    path.write_text("项目名称,投资方,本期到位资金\n某项目,某公司,100\n", encoding="utf-8")
    server = SmtpServer(free_port()).start()
    try:
        settings, _report = _night(base, smtp_url=server.url, alert_to=("duchazu@example.gov.cn",))
    finally:
        server.stop()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        flags = con.execute(
            """select evidence from audit.dq_flags
               where rule = 'MISSING_REPORT' and unit_name = ? and year = 2021 and month = 2""",
            [victim.unit_name],
        ).fetchall()
        note = con.execute(
            """select score_note_zh from marts.unit_performance
               where unit_name = ? and year = 2021 and month = 2""",
            [victim.unit_name],
        ).fetchone()[0]
        log = con.execute(
            "select status, unit_name, year, month, identity_source from audit.load_log "
            "where source_file = ?",
            [victim.source_file],
        ).fetchone()
    assert log == ("rejected", victim.unit_name, 2021, 2, "file_name")
    assert len(flags) == 1
    evidence = flags[0][0]
    assert "被拒收" in evidence and Path(victim.source_file).name in evidence
    assert "CSV" in evidence and "据文件夹和文件名推断" in evidence
    assert note and "被拒收" in note and Path(victim.source_file).name in note
    (message,) = [
        m
        for m in server.inbox.messages
        if "拒收" in str(m["Subject"]) or "疑点" in str(m["Subject"])
    ]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    for body in (html, text):
        assert "本次拒收的文件和隔离的行" in body
        assert Path(victim.source_file).name in body and "CSV" in body
        assert victim.unit_name in body
    assert ">None<" not in html
    attachment = next(message.iter_attachments())
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))
    assert "拒收与隔离" in book.sheetnames
    cells = [c.value for row in book["拒收与隔离"].iter_rows() for c in row]
    assert any(isinstance(v, str) and Path(victim.source_file).name in v for v in cells)
