"""Personal data typed into every free-text column and into the footers of a real inbox, one
real DAG run (real SMTP on loopback): none of it reaches the analysts' file, the Excel export,
the e-mails, the logs or the docs. The inspection team's file keeps it (it is theirs)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.e2e.smtp import SmtpServer, free_port
from zhaoshang import reference
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, with_anomalies

# What is planted, and the raw strings that must not be found anywhere analysts or mail see.
PLANT = {
    "project_name": "（联系人张三 13912345678）",
    "investor_name": "（电话+86 139-8765-4321）",
    "signing_event": "联系人：王小明 0370-6251234",
    "remarks": "填表人李四，身份证411426199001011234，手机13700001111",
}
FOOTER = "填表人：赵六  电话：13612340000  身份证：41142619850505234X"
SECRETS = (
    "13912345678",
    "139-8765-4321",
    "13987654321",
    "6251234",
    "411426199001011234",
    "13700001111",
    "13612340000",
    "41142619850505234X",
    "张三",
    "王小明",
    "李四",
    "赵六",
)
INSPECTOR = "duchazu@county.example"


def _plant(raw: Path) -> int:
    """Write PLANT into every project row and FOOTER under every table; returns rows planted."""
    labels = {
        c.canonical_name: {c.label_zh, *c.header_variants}
        for c in reference.column_map()
        if c.canonical_name in PLANT
    }
    planted = 0
    for path in sorted((raw / "submissions").rglob("*.xlsx")):
        try:
            workbook = openpyxl.load_workbook(path)
        except Exception:  # the inbox's broken files stay as they are
            continue
        sheet = workbook.worksheets[0]
        header_row, columns = None, {}
        for row in sheet.iter_rows(min_row=1, max_row=15):
            found = {
                name: cell.column
                for cell in row
                for name, variants in labels.items()
                if isinstance(cell.value, str) and cell.value.strip() in variants
            }
            if "project_name" in found:
                header_row, columns = row[0].row, found
                break
        if header_row is None:
            continue
        for r in range(header_row + 1, sheet.max_row + 1):
            name_cell = sheet.cell(r, columns["project_name"]).value
            row_text = " ".join(str(c.value) for c in sheet[r] if c.value is not None)
            if not isinstance(name_cell, str) or re.search("合计|小计|总计|填表|其中", row_text):
                continue
            for name, column in columns.items():
                cell = sheet.cell(r, column)
                cell.value = f"{cell.value or ''}{PLANT[name]}"
            planted += 1
        sheet.cell(sheet.max_row + 2, 1).value = FOOTER
        workbook.save(path)
    return planted


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def night(module_env, airflow_db, smtp):
    """``python -m zhaoshang airflow-run`` (what ``make run`` does): the real DAG in a child
    process, whose whole output (Airflow's task logs, ours, dbt's, the summary) is the log."""
    raw = module_env / "raw"
    generate_inbox(raw, with_anomalies(months=range(1, 3), history_months=(12,), units=6))
    planted = _plant(raw)
    env = os.environ | {"ZHAOSHANG_SMTP_URL": smtp.url, "ZHAOSHANG_ALERT_TO": INSPECTOR}
    run = subprocess.run(
        [sys.executable, "-m", "zhaoshang", "airflow-run", "--date", "2021-03-05"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    settings = settings_module.load()
    # make run keeps Airflow's, dbt's and GX's output in a log file and splits the task logs
    # where the Airflow UI reads them: all of it is log.
    log_files = [
        p
        for folder in (settings.state_dir / "logs", Path(os.environ["AIRFLOW_HOME"]) / "logs")
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file()
    ]
    logs = run.stdout + run.stderr
    logs += "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in log_files)
    return {"returncode": run.returncode, "planted": planted, "settings": settings, "logs": logs}


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def _table_text(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where data_type = 'VARCHAR' and table_catalog = current_database()"""
        ).fetchall()
        return {
            f"{s}.{t}.{c}": " ".join(
                str(v[0]) for v in con.execute(f'select distinct "{c}" from {s}."{t}"').fetchall()
            )
            for s, t, c in columns
        }


def test_the_planted_night_publishes(night):
    assert night["returncode"] == 0, night["logs"][-3000:]
    assert night["planted"] >= 20
    with duckdb.connect(str(night["settings"].warehouse), read_only=True) as con:
        masked = con.execute(
            "select count(*) from marts.project_register where project_name like '%联系人***%'"
        ).fetchone()[0]
    assert masked >= 10  # the planted rows were read and kept, masked


def test_none_in_the_analysts_file(night):
    leaks = {k: _leaks(v) for k, v in _table_text(night["settings"].warehouse).items()}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_the_inspection_file_keeps_them_for_follow_up(night):
    text = " ".join(_table_text(night["settings"].inspection_path).values())
    assert "411426199001011234" in text  # staging keeps 备注 as typed


def test_none_in_the_excel_exports_or_the_docs(night):
    output = night["settings"].output_dir
    workbooks = list((output / "exports").glob("*.xlsx"))
    assert workbooks
    for path in workbooks:
        book = openpyxl.load_workbook(path, read_only=True)
        cells = " ".join(
            str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
        )
        assert "联系人***" in cells and _leaks(cells) == [], path
    docs = [p for p in output.rglob("*") if p.is_file() and p.suffix in {".html", ".json"}]
    assert any("dbt_docs" in str(p) for p in docs)
    for path in docs:
        assert _leaks(path.read_text(encoding="utf-8", errors="ignore")) == [], path


def test_none_in_the_emails(night, smtp):
    messages = smtp.inbox.messages
    assert messages  # the flags digest
    for message in messages:
        parts = [str(message["Subject"])]
        for part in message.walk():
            if part.is_multipart():
                continue
            if (part.get_filename() or "").endswith(".xlsx"):
                book = openpyxl.load_workbook(io.BytesIO(part.get_content()), read_only=True)
                parts.extend(
                    str(v) for s in book for row in s.iter_rows(values_only=True) for v in row if v
                )
            else:
                parts.append(str(part.get_content()))
        assert _leaks(" ".join(parts)) == [], message["Subject"]


def test_none_in_the_logs(night):
    logs = night["logs"]
    assert "load_submissions" in logs and "运行 / run:" in logs  # task logs and the summary
    assert _leaks(logs) == []
    # Airflow's ids (UUIDs, hex digests) may hold a run of 11 digits by chance: a phone number
    # stands apart from letters and digits, so only such runs count.
    assert re.search(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", logs) is None
