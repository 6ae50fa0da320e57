"""`make run` as the county's IT person meets it: a short screen, a log file, a consistent
summary that names every output, and an Airflow run that looks right in the UI afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from zhaoshang.progress import STAGE_LABELS

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """The command `make run` runs, on a copy of the bundled inbox, with a fresh AIRFLOW_HOME."""
    base = tmp_path_factory.mktemp("make_run")
    shutil.copytree(ROOT / "raw", base / "raw")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ZHAOSHANG_", "AIRFLOW__CORE__DEFAULT_TIMEZONE", "VERBOSE"))
    }
    env.update(
        ZHAOSHANG_RAW_DIR=str(base / "raw"),
        ZHAOSHANG_WAREHOUSE=str(base / "warehouse" / "zhaoshang.duckdb"),
        ZHAOSHANG_OUTPUT_DIR=str(base / "output"),
        AIRFLOW_HOME=str(base / "airflow_home"),
    )
    env.pop("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", None)
    proc = subprocess.run(
        [sys.executable, "-m", "zhaoshang", "airflow-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return base, env, proc.stdout


def _line(stdout: str, prefix: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(prefix))


def test_the_screen_stays_short_and_shows_one_line_per_stage(make_run):
    _base, _env, stdout = make_run
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert len(lines) <= 30, stdout
    for zh, en in STAGE_LABELS.values():
        stage = next(line for line in lines if line.startswith(f"[{zh} / {en}]"))
        assert re.search(r"\] \d+\.\d s", stage), stage
    assert "DAG TEST" not in stdout and "dbt" not in stdout.replace("dbt:", "")


def test_the_log_file_holds_what_the_screen_leaves_out(make_run):
    _base, _env, stdout = make_run
    log = Path(_line(stdout, "日志 / log: ").split(": ", 1)[1])
    assert log.is_file()
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "[DAG TEST] starting task_id=load_submissions" in text
    assert oct(log.parent.stat().st_mode & 0o777) == "0o700"


def test_the_summary_counts_add_up(make_run):
    _base, _env, stdout = make_run
    files = _line(stdout, "文件 / files: ")
    seen, parts = re.match(r"文件 / files: 共 seen (\d+) = (.*)$", files).groups()
    assert int(seen) == sum(int(n) for n in re.findall(r"(\d+)", parts)) == 138
    assert "入库 loaded 134" in parts and "被替代 superseded 1" in parts
    rows = _line(stdout, "行 / rows: ")
    read, *terms = (int(n) for n in re.findall(r"(\d+)", rows))
    assert read == sum(terms) > 0
    # The stage line counts what entered the ledger; the summary splits it into loaded + superseded.
    load = _line(stdout, "[读取报表 / load submissions]")
    assert "入账 accepted 135" in load and "拒收 rejected 3" in load


def test_the_summary_names_every_output(make_run):
    base, _env, stdout = make_run
    warehouse = Path(_line(stdout, "数据仓库 / warehouse: ").split(": ", 1)[1])
    assert warehouse == base / "warehouse" / "zhaoshang.duckdb" and warehouse.is_file()
    workbook = Path(_line(stdout, "导出分析工作簿 / export workbook: ").split(": ", 1)[1])
    assert workbook.is_file() and workbook.suffix == ".xlsx"
    alerts = _line(stdout, "督查提醒 / alerts: ")
    assert "仅写入文件" in alerts  # no SMTP configured: the user is told, not left guessing
    assert any((base / "output" / "alerts").glob("*.eml"))


def test_airflow_shows_the_run_as_it_happened(make_run):
    """Beijing time, unpaused, a real duration and per-task logs for the UI."""
    base, _env, _stdout = make_run
    with sqlite3.connect(base / "airflow_home" / "airflow.db") as db:
        (paused,) = db.execute(
            "select is_paused from dag where dag_id = 'zhaoshang_nightly'"
        ).fetchone()
        run_id, start, end = db.execute(
            "select run_id, start_date, end_date from dag_run where dag_id = 'zhaoshang_nightly'"
        ).fetchone()
    assert not paused
    took = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    assert 0 < took.total_seconds() < 900  # not counted from the logical date's midnight
    logs = base / "airflow_home" / "logs" / "dag_id=zhaoshang_nightly" / f"run_id={run_id}"
    for task in STAGE_LABELS:
        attempt = logs / f"task_id={task}" / "attempt=1.log"
        if not attempt.exists():  # a mapped task (parse_batch) has one folder per batch
            attempt = logs / f"task_id={task}" / "map_index=0" / "attempt=1.log"
        first = json.loads(attempt.read_text(encoding="utf-8").splitlines()[0])
        assert task in first["event"]
