"""An incremental night equals a full refresh (issue 12): two warehouses are fed the same inbox
night after night (a new month, a late report, a withdrawal, a corrected resubmission); one
builds incrementally from its last published build, the other rebuilds everything each night,
and every mart and audit table must be the same rows. A restored warehouse rebuilds everything.
Run without Airflow: the nightly's stages from load to publish, real dbt, GX and DuckDB files."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from zhaoshang import locking, pipeline, restore
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, small

# Written by the night itself (when a run first saw a file), not by the figures.
VOLATILE_COLUMNS = {"received_at"}
# Publish-time tables (the run's own telemetry, its manifest): not the build's figures.
NOT_COMPARED = {("audit", "manifest"), ("audit", "metrics")}


def _tables(path: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            """select schema_name, table_name from duckdb_tables()
               where schema_name in ('marts', 'audit')
                  or (schema_name, table_name) = ('dq', 'gx_flags')
               order by all"""
        ).fetchall()
    return [(s, t) for s, t in rows if (s, t) not in NOT_COMPARED]


def _rows(path: Path, schema: str, table: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = [
            r[0]
            for r in con.execute(f"describe {schema}.{table}").fetchall()
            if r[0] not in VOLATILE_COLUMNS
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        return con.execute(f"select {listed} from {schema}.{table} order by all").fetchall()


def _schemas(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select schema_name from duckdb_schemas() where database_name = current_database()"
        ).fetchall()
    return {r[0] for r in rows}


def _changed_from(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(
            "select min(changed_from_period) from intermediate.int_ledger_changes"
        ).fetchone()
    return row[0]


def _env(base: Path, *, full_refresh: bool) -> settings_module.Settings:
    loaded = settings_module.load()
    return dataclasses.replace(
        loaded,
        raw_dir=base / "raw",
        warehouse=base / "warehouse" / "zhaoshang.duckdb",
        output_dir=base / "output",
        state_dir=base / "state",
        inspection_warehouse=None,
        full_refresh=full_refresh,
    )


def _night(settings, run_id: str, day: date) -> dict:
    """Load, both dbt passes with the quality stage between, publish (the figures' stages of
    ``pipeline.run_nightly``; the report, exports and e-mails read what they publish)."""
    try:
        pipeline.load_submissions(settings, run_id, day)
        features = pipeline.build_features(settings, run_id)
        validated = pipeline.validate_entries(settings, run_id)
        pipeline.build_marts(settings, run_id, day)
        pipeline.publish_warehouse(settings, run_id, day)
    finally:
        locking.release(settings, run_id)
    return features | {"validate": validated}


def _sync(source: Path, files: set[str], raw_dir: Path) -> None:
    """The inbox holds exactly ``files`` (copied with their times) and the reference folder."""
    shutil.copytree(source / "reference", raw_dir / "reference", dirs_exist_ok=True)
    for path in list(raw_dir.rglob("*.xls*")):
        if path.relative_to(raw_dir).as_posix() not in files:
            path.unlink()
    for name in files:
        target = raw_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("incremental")
    truth = generate_inbox(base / "generated", small(months=range(1, 5), units=6, seed=23))
    return base, truth


def test_incremental_nights_equal_full_refresh(generated):
    base, truth = generated
    source = base / "generated"
    latest = [f for f in truth.files if f.status == "loaded" and f.is_latest]
    (corrected,) = [f for f in truth.files if f.role == "correction"]
    (original,) = [
        f
        for f in truth.files
        if f.role == "superseded"
        and (f.unit_name, f.year, f.month)
        == (
            corrected.unit_name,
            corrected.year,
            corrected.month,
        )
    ]
    others = [f for f in latest if f.unit_name != corrected.unit_name]
    late = next(f for f in others if f.month == 3)
    withdrawn = next(f for f in others if f.month == 2)
    every = {f.source_file for f in truth.files}
    first = {f.source_file for f in truth.files if f.month is not None and f.month <= 3}
    first -= {late.source_file, corrected.source_file}
    april = {f.source_file for f in truth.files if f.month == 4} - {corrected.source_file}
    assert original.source_file in first | april

    nights = [
        ("first", first, 0),
        ("new_month", first | april, 202104),
        ("late_march", first | april | {late.source_file}, 202103),
        ("withdrawal", (first | april | {late.source_file}) - {withdrawn.source_file}, 202102),
        (
            "replacement",
            (first | april | {late.source_file, corrected.source_file}) - {withdrawn.source_file},
            corrected.year * 100 + corrected.month,
        ),
    ]
    assert nights[-1][1] == every - {withdrawn.source_file}
    incremental = _env(base / "incremental", full_refresh=False)
    full = _env(base / "full", full_refresh=True)
    for number, (name, files, changed_from) in enumerate(nights, start=1):
        night = date(2021, 5, number)
        reports = {}
        for env in (incremental, full):
            _sync(source, files, env.raw_dir)
            reports[env.full_refresh] = pipeline.run_nightly(
                env, logical_date=night, run_id=f"night{number}_{name}"
            )
        assert reports[True]["features"]["full_refresh"] is True
        assert reports[False]["features"]["full_refresh"] is (number == 1), reports[False]
        # dbt's unit tests have fixed inputs: run when the build starts from nothing only
        assert reports[True]["features"]["unit_tests"] > 0
        assert (reports[False]["features"]["unit_tests"] > 0) is (number == 1)
        assert (reports[False]["marts"]["unit_tests"] > 0) is (number == 1)
        # GX judges what changed; the rest keeps last night's flags (compared below)
        judged = {full: reports[full]["validate"]["entries_judged"] for full in (True, False)}
        checked = reports[True]["validate"]["entries_checked"]
        assert judged[True] == checked
        if number == 1:
            assert judged[False] == checked
        else:
            assert 0 < judged[False] < checked, (name, judged, checked)
        # the docs describe the project and the tables' columns: written once, then kept
        docs_page = incremental.output_dir / "dbt_docs" / "index.html"
        if number == 1:
            docs_written = docs_page.stat().st_mtime_ns
        assert docs_page.stat().st_mtime_ns == docs_written, name
        assert _changed_from(incremental.inspection_path) == changed_from, name
        assert _changed_from(full.inspection_path) == 0
        tables = _tables(full.inspection_path)
        assert ("marts", "unit_performance") in tables and ("audit", "load_log") in tables
        assert _tables(incremental.inspection_path) == tables
        assert "previous" not in _schemas(incremental.inspection_path)  # set aside, then dropped
        for schema, table in tables:
            assert _rows(incremental.inspection_path, schema, table) == _rows(
                full.inspection_path, schema, table
            ), (name, schema, table)

    # A night with nothing new recomputes no period, judges no entry and changes nothing.
    quiet = _night(incremental, "night6_quiet", date(2021, 5, 9))
    assert quiet["full_refresh"] is False
    assert quiet["validate"]["entries_judged"] == 0
    assert _changed_from(incremental.inspection_path) == 999999
    for schema, table in _tables(full.inspection_path):
        if schema == "marts":
            assert _rows(incremental.inspection_path, schema, table) == _rows(
                full.inspection_path, schema, table
            ), (schema, table)

    # A restored warehouse is not the last night's build: the next night rebuilds everything.
    restore.restore(incremental)
    after_restore = _night(incremental, "night7_after_restore", date(2021, 5, 10))
    assert after_restore["full_refresh"] is True
    assert "restored" in after_restore["build_start"]
    assert (
        after_restore["validate"]["entries_judged"] == after_restore["validate"]["entries_checked"]
    )
    for schema, table in _tables(full.inspection_path):
        if schema == "marts":
            assert _rows(incremental.inspection_path, schema, table) == _rows(
                full.inspection_path, schema, table
            ), (schema, table)
