"""The DAG folder imports cleanly, fast, and the nightly DAG keeps its operating rules."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dags_import_without_errors():
    bag = _dagbag()
    assert bag.import_errors == {}
    assert "zhaoshang_nightly" in bag.dags


def test_nightly_schedule_and_safety_settings():
    dag = _dagbag().dags["zhaoshang_nightly"]
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"  # 02:00 Beijing time, not UTC
    assert str(dag.timezone) == "Asia/Shanghai"
    assert dag.is_paused_upon_creation is False  # runs once deployed, nobody has to unpause it
    assert dag.catchup is False
    assert dag.max_active_runs == 1  # DuckDB has one writer
    assert dag.on_failure_callback is not None
    order = [
        "plan_batches",
        "parse_batch",
        "load_submissions",
        "build_features",
        "validate_entries",
        "build_marts",
        "publish_warehouse",
        "send_alerts",
    ]  # export_for_analysts (then write_report) and send_receipts run beside send_alerts
    assert {t.task_id for t in dag.tasks} == {
        *order,
        "export_for_analysts",
        "write_report",
        "send_receipts",
    }
    assert "export_for_analysts" in dag.get_task("publish_warehouse").downstream_task_ids
    assert "write_report" in dag.get_task("export_for_analysts").downstream_task_ids
    assert "send_receipts" in dag.get_task("publish_warehouse").downstream_task_ids
    for upstream, downstream in itertools.pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    never_retried = {"send_alerts", "send_receipts"}  # they never fail; the outbox retries
    assert all(t.retries >= 1 for t in dag.tasks if t.task_id not in never_retried)


def test_parsing_fans_out_and_every_other_task_waits_for_the_one_writer_slot():
    dag = _dagbag().dags["zhaoshang_nightly"]
    parse = dag.get_task("parse_batch")
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    assert isinstance(parse, MappedOperator)  # one task instance per batch
    assert parse.pool == "default_pool"
    writers = [t for t in dag.tasks if t.task_id != "parse_batch"]
    assert {t.pool for t in writers} == {"zhaoshang_writer"}


def test_dag_file_does_no_work_at_import():
    """Parsing must stay cheap: no pandas/duckdb/GX/dbt imported by the DAG file itself."""
    import subprocess
    import sys

    code = (
        "import sys, runpy, time; t=time.time(); runpy.run_path({!r});"
        "heavy=[m for m in ('pandas','duckdb','great_expectations','dbt','openpyxl') if m in sys.modules];"
        "print(heavy, round(time.time()-t,2))".format(str(DAGS / "zhaoshang_nightly.py"))
    )
    started = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy = out.stdout.strip().splitlines()[-1]
    assert heavy.startswith("[]"), heavy
    assert time.time() - started < 60
