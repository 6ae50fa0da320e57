"""Publish a run's build database as the warehouse analysts open, by atomic rename.

DuckDB lets one process write a file, and on this stack even a read-only reader in another
process blocks a writer. So the nightly run never writes the published file: it builds its own
file, checks it, and swaps it in with ``os.replace``. An analyst holding the old file open keeps
reading the old snapshot; a failed run never reaches this step and yesterday's file stays.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from zhaoshang.faults import fail_point
from zhaoshang.queries import scalar
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

KEEP_HISTORY = 7
# Tables analysts and checks rely on (DATA_CONTRACT §5); publish refuses a file without them.
CONTRACT_TABLES = (
    ("marts", "sector_summary"),
    ("marts", "size_band_summary"),
    ("marts", "unit_performance"),
    ("marts", "project_register"),
    ("audit", "dq_flags"),
    ("audit", "quarantine"),
    ("audit", "load_log"),
)


class PublishCheckFailed(RuntimeError):
    pass


@dataclass
class Published:
    path: Path
    run_id: str
    tables: dict[str, int]


def build_path(settings: Settings, run_id: str) -> Path:
    """A fixed name (runs never overlap) so dbt can reuse its last parse; the run id is in the manifest."""
    return settings.build_dir / "warehouse_build.duckdb"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def finalize_build(build_db: Path, run_id: str, logical_date: str | None) -> dict[str, int]:
    """Write the manifest, check the contract tables, checkpoint and close the build file."""
    with duckdb.connect(str(build_db)) as con:
        missing = [
            f"{s}.{t}"
            for s, t in CONTRACT_TABLES
            if not scalar(
                con.execute(
                    "select count(*) from information_schema.tables where table_schema=? and table_name=?",
                    [s, t],
                )
            )
        ]
        if missing:
            raise PublishCheckFailed(f"构建结果缺少表 / build lacks tables: {', '.join(missing)}")
        counts = {
            f"{s}.{t}": scalar(con.execute(f"select count(*) from {s}.{t}"))
            for s, t in CONTRACT_TABLES
        }
        con.execute("create schema if not exists audit")
        con.execute(
            """create or replace table audit.manifest as
               select ?::varchar as run_id, ?::date as logical_date,
                      ?::timestamp as built_at, ?::varchar as table_counts_json""",
            [run_id, logical_date, datetime.now(), str(counts)],
        )
        con.execute("checkpoint")
    wal = build_db.with_name(build_db.name + ".wal")
    if wal.exists():
        raise PublishCheckFailed(f"构建文件仍有未写入的WAL / build file still has a WAL: {wal}")
    with duckdb.connect(str(build_db), read_only=True) as con:
        manifest_run = scalar(con.execute("select run_id from audit.manifest"))
    if manifest_run != run_id:
        raise PublishCheckFailed(f"manifest run_id {manifest_run!r} != {run_id!r}")
    return counts


def publish(settings: Settings, run_id: str, logical_date: str | None = None) -> Published:
    build_db = build_path(settings, run_id)
    counts = finalize_build(build_db, run_id, logical_date)
    fail_point("publish:after_checkpoint")
    target = settings.warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{run_id}.tmp")
    # Same filesystem: the build file itself is renamed; otherwise copy next to the target first.
    try:
        os.replace(build_db, staged)
    except OSError:
        shutil.copyfile(build_db, staged)
        build_db.unlink()
    os.chmod(staged, 0o444)  # analysts read; only the next publish replaces it
    _fsync(staged)
    fail_point("publish:before_rename")
    _keep_history(settings, target)
    stale_wal = target.with_name(target.name + ".wal")
    if stale_wal.exists():  # a WAL beside the published file would be replayed against the new one
        stale_wal.rename(stale_wal.with_name(f"{stale_wal.name}.stale-{run_id}"))
    os.replace(staged, target)
    _fsync(target.parent)
    fail_point("publish:after_rename")
    _clean_leftovers(settings, target)
    log.info("published %s (run %s): %s", target, run_id, counts)
    return Published(path=target, run_id=run_id, tables=counts)


def _keep_history(settings: Settings, target: Path) -> None:
    if not target.exists():
        return
    settings.history_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    os.link(target, settings.history_dir / f"warehouse_{stamp}.duckdb") if _same_fs(
        target, settings.history_dir
    ) else shutil.copyfile(target, settings.history_dir / f"warehouse_{stamp}.duckdb")
    old = sorted(settings.history_dir.glob("warehouse_*.duckdb"))
    for path in old[:-KEEP_HISTORY]:
        path.unlink()


def _same_fs(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def _clean_leftovers(settings: Settings, target: Path) -> None:
    """Remove temp files of earlier crashed publishes and abandoned build files."""
    for tmp in target.parent.glob(f".{target.name}.*.tmp"):
        tmp.unlink(missing_ok=True)
    if settings.build_dir.exists():
        for path in settings.build_dir.glob("warehouse_*.duckdb*"):
            path.unlink(missing_ok=True)


def open_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    """How analysts (and our own reports) open the warehouse: read-only, never blocking a run."""
    return duckdb.connect(str(settings.warehouse), read_only=True)
