"""The load split for many workers (plan -> parse batches -> one writer) gives the same ledger
as the one-process load, a retried write changes nothing, and the writer refuses half a plan."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import duckdb
import pytest

from zhaoshang import batches, ledger
from zhaoshang.generate import bad_files, generate_inbox, small

# Everything except when and by which run a row was received: those differ between two runs.
RUN_COLUMNS = {"received_at", "load_run_id", "first_seen_run", "last_seen_run"}


@pytest.fixture
def inbox_with_rejections(workspace):
    truth = generate_inbox(workspace.raw_dir, small(months=range(1, 3), units=4, seed=11))
    rejected = bad_files(workspace.raw_dir, year=2021, month=2, seed=3)
    return workspace, truth, rejected


def _split(settings, name: str):
    return dataclasses.replace(settings, state_dir=settings.state_dir.parent / name)


def _ledger_content(settings) -> dict[str, list]:
    content = {}
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        for table in (*ledger.TABLES, "inbox_files"):
            keep = [c for c, _t in ledger.table_columns(con, table) if c not in RUN_COLUMNS]
            content[table] = con.execute(
                f"select {', '.join(keep)} from {table} order by all"
            ).fetchall()
    return content


def _batched_load(settings, run_id: str, batch_size: int) -> ledger.LoadSummary:
    for index in batches.plan(settings, run_id, batch_size=batch_size):
        batches.parse_batch(settings, run_id, index)
    return batches.write(settings, run_id)


def test_batched_load_equals_the_one_process_load(inbox_with_rejections):
    settings, truth, rejected = inbox_with_rejections
    embedded, spread = _split(settings, "embedded"), _split(settings, "spread")
    one = ledger.load_new_submissions(embedded, "night1")
    plan = batches.plan(spread, "night1", batch_size=3)
    assert len(plan) == -(-one.files_new // 3) > 2  # really split into several batches
    for index in reversed(plan):  # workers finish in any order; the writer keeps plan order
        batches.parse_batch(spread, "night1", index)
    many = batches.write(spread, "night1")

    assert many.as_dict() == one.as_dict()
    assert many.files_rejected == len(rejected) > 0
    assert many.rows_read == truth.counts["rows_read"]
    assert _ledger_content(spread) == _ledger_content(embedded)
    with ledger.connect(spread) as con:
        assert ledger.conservation_gaps(con) == []


def test_a_retried_write_and_a_second_night_change_nothing(inbox_with_rejections):
    settings, _truth, _rejected = inbox_with_rejections
    first = _batched_load(settings, "night1", batch_size=5)
    content = _ledger_content(settings)

    again = batches.write(settings, "night1")  # the writer task retried after committing
    assert again.files_new == 0
    assert again.files_already_known == first.files_seen
    assert _ledger_content(settings) == content

    second = _batched_load(settings, "night2", batch_size=5)  # nothing new in the inbox
    assert second.files_new == 0 and second.rows_read == 0
    assert batches.plan(settings, "night3") == [0]  # an empty night still has its one batch
    assert _ledger_content(settings) == content


def test_the_writer_refuses_a_plan_whose_batches_are_not_all_parsed(inbox_with_rejections):
    settings, _truth, _rejected = inbox_with_rejections
    plan = batches.plan(settings, "night1", batch_size=4)
    for index in plan[:-1]:
        batches.parse_batch(settings, "night1", index)
    with pytest.raises(RuntimeError, match=r"批次尚未解析.*batches not parsed yet"):
        batches.write(settings, "night1")
    with ledger.connect(settings) as con:
        assert con.execute("select count(*) from submissions").fetchone() == (0,)


def test_a_worker_never_opens_the_ledger(inbox_with_rejections):
    settings, _truth, _rejected = inbox_with_rejections
    plan = batches.plan(settings, "night1", batch_size=50)
    aside = settings.ledger_path.rename(settings.ledger_path.with_name("elsewhere.duckdb"))
    result = batches.parse_batch(settings, "night1", plan[0])
    assert not settings.ledger_path.exists()  # opening it would have created it again
    aside.rename(settings.ledger_path)
    assert result["files"] > 0
    parquet = batches.batches_dir(settings, "night1") / "00000" / "project_rows.parquet"
    with duckdb.connect() as con:
        rows = con.execute(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
    assert rows > 0


_WRITE_IN_CHILD = (
    "from zhaoshang import batches, settings; batches.write(settings.load(), 'night1')"
)


@pytest.mark.parametrize("point", ["load:before_commit", "load:after_commit"])
def test_a_writer_killed_mid_plan_resumes_to_the_same_ledger(inbox_with_rejections, point):
    settings, _truth, _rejected = inbox_with_rejections
    clean = _split(settings, "clean")
    _batched_load(clean, "night1", batch_size=4)
    for index in batches.plan(settings, "night1", batch_size=4):
        batches.parse_batch(settings, "night1", index)
    env = os.environ | {"ZHAOSHANG_FAIL_AT": point, "ZHAOSHANG_FAIL_MODE": "kill"}
    child = subprocess.run(
        [sys.executable, "-c", _WRITE_IN_CHILD], env=env, capture_output=True, check=False
    )
    assert child.returncode == -9  # SIGKILL: no cleanup ran
    with ledger.connect(settings) as con:
        assert ledger.conservation_gaps(con) == []  # committed batches are whole
        committed = con.execute("select count(*) from submissions").fetchone()[0]
    assert committed == (0 if point == "load:before_commit" else 4)
    resumed = batches.write(settings, "night1")  # Airflow's retry of load_submissions
    assert resumed.files_already_known == committed  # the committed batch is not written twice
    assert _ledger_content(settings) == _ledger_content(clean)
