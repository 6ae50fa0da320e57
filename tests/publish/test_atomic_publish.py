"""Publishing swaps in a checked build file atomically; analysts never block it or see half of it."""

from __future__ import annotations

import hashlib

import duckdb
import pytest

from zhaoshang import publish


def _fake_build(settings, run_id: str, marker: int) -> None:
    """A build file with every contract table (values stand for a real dbt build)."""
    path = publish.build_path(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # as build_features does: every build starts from nothing
    with duckdb.connect(str(path)) as con:
        for schema, table in publish.CONTRACT_TABLES:
            con.execute(f"create schema if not exists {schema}")
            con.execute(
                f"create table {schema}.{table} as select {marker} as marker, "
                "'loaded' as status, 10 as rows_loaded"
            )


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publish_replaces_the_warehouse_and_records_the_manifest(workspace):
    _fake_build(workspace, "run1", 1)
    published = publish.publish(workspace, "run1", "2021-06-30")
    assert published.path == workspace.warehouse
    with publish.open_published(workspace) as con:
        assert con.execute(
            "select run_id, logical_date::varchar from audit.manifest"
        ).fetchone() == (
            "run1",
            "2021-06-30",
        )
        assert con.execute("select marker from marts.sector_summary").fetchone() == (1,)
    assert not publish.build_path(workspace, "run1").exists()
    assert not workspace.warehouse.with_name(workspace.warehouse.name + ".wal").exists()


def test_an_open_analyst_session_neither_blocks_the_run_nor_sees_a_mix(workspace):
    _fake_build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    analyst = duckdb.connect(str(workspace.warehouse), read_only=True)
    try:
        _fake_build(workspace, "run2", 2)
        publish.publish(workspace, "run2")  # must not raise a lock error
        # the long-lived session keeps its snapshot until it reconnects
        assert analyst.execute("select marker from marts.unit_performance").fetchone() == (1,)
    finally:
        analyst.close()
    with publish.open_published(workspace) as con:
        assert con.execute("select marker from marts.unit_performance").fetchone() == (2,)
        assert con.execute("select run_id from audit.manifest").fetchone() == ("run2",)


def test_published_file_is_read_only_for_analysts(workspace):
    _fake_build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    assert workspace.warehouse.stat().st_mode & 0o222 == 0
    with publish.open_published(workspace) as con, pytest.raises(duckdb.Error):
        con.execute("create table marts.evil as select 1")


@pytest.mark.parametrize("step", ["after_checkpoint", "before_rename"])
def test_a_crash_mid_publish_leaves_yesterdays_warehouse(workspace, monkeypatch, step):
    _fake_build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    before = _digest(workspace.warehouse)
    _fake_build(workspace, "run2", 2)
    monkeypatch.setenv("ZHAOSHANG_FAIL_AT", f"publish:{step}")
    with pytest.raises(RuntimeError, match="injected failure"):
        publish.publish(workspace, "run2")
    assert _digest(workspace.warehouse) == before
    monkeypatch.delenv("ZHAOSHANG_FAIL_AT")
    _fake_build(workspace, "run3", 3)  # the next night heals it and cleans the leftovers
    publish.publish(workspace, "run3")
    with publish.open_published(workspace) as con:
        assert con.execute("select marker from marts.project_register").fetchone() == (3,)
    assert not list(workspace.warehouse.parent.glob(".*.tmp"))


def test_a_build_missing_a_contract_table_is_not_published(workspace):
    _fake_build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    before = _digest(workspace.warehouse)
    _fake_build(workspace, "run2", 2)
    with duckdb.connect(str(publish.build_path(workspace, "run2"))) as con:
        con.execute("drop table audit.dq_flags")
    with pytest.raises(publish.PublishCheckFailed, match=r"audit\.dq_flags"):
        publish.publish(workspace, "run2")
    assert _digest(workspace.warehouse) == before


def test_history_keeps_the_last_published_files(workspace):
    for i in range(workspace.history_keep + 2):
        _fake_build(workspace, f"run{i}", i)
        publish.publish(workspace, f"run{i}")
    assert len(list(workspace.history_dir.glob("warehouse_*.duckdb"))) == workspace.history_keep
    assert len(list(workspace.history_dir.glob("inspection_*.duckdb"))) == workspace.history_keep
