"""Put a kept published warehouse back (``python -m zhaoshang restore``).

History holds copies of both published files from each night they were replaced
(``<state>/published_history/{warehouse,inspection}_<stamp>.duckdb``). Restoring takes the
nightly lock, keeps the files it replaces in history too (a restore can itself be undone), and
swaps the chosen copies in by atomic rename with the published files' permissions.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from zhaoshang import locking, publish
from zhaoshang.queries import scalar
from zhaoshang.recovery import connect_waiting
from zhaoshang.settings import Settings


class NothingToRestore(RuntimeError):
    pass


def available(settings: Settings) -> list[str]:
    """History stamps, oldest first (each names an analysts' copy, most also an inspection one)."""
    return [p.stem.removeprefix("warehouse_") for p in publish.history_files(settings, "warehouse")]


def restore(settings: Settings, stamp: str | None = None) -> dict:
    stamps = available(settings)
    if not stamps:
        raise NothingToRestore(
            f"没有可恢复的历史版本 / no kept warehouse in {settings.history_dir}"
        )
    chosen = stamp or stamps[-1]
    if chosen not in stamps:
        raise NothingToRestore(
            f"历史中没有版本 {chosen}，可选：{', '.join(stamps)} / no kept warehouse {chosen}; "
            f"available: {', '.join(stamps)}"
        )
    run_id = f"restore_{chosen}"
    locking.hold(settings, run_id)
    try:
        new_stamp = publish.history_stamp()
        restored = {}
        for kind, target, group, mode in (
            ("inspection", settings.inspection_path, settings.inspection_group, 0o400),
            ("warehouse", settings.warehouse, settings.analyst_group, 0o444),
        ):
            copy = settings.history_dir / f"{kind}_{chosen}.duckdb"
            if not copy.exists():
                continue
            publish.keep_history(settings, target, kind, new_stamp)
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = target.with_name(f".{target.name}.{run_id}.tmp")
            shutil.copyfile(copy, staged)
            publish.protect(staged, group, default_mode=mode)
            os.replace(staged, target)
            restored[kind] = str(target)
        _fsync_dir(settings.warehouse.parent)
    finally:
        locking.release(settings, run_id)
    return {"restored": chosen, "files": restored}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Ledger tables whose rows a drill rebuilds from the landing copies and compares.
_ROW_TABLES = ("project_rows", "sheet_totals", "quarantine")
_MART_TABLES = ("sector_summary", "size_band_summary", "unit_performance", "project_register")


def _content_hash(con, sql: str, params=None) -> str:
    import hashlib

    frame = con.execute(sql, params or []).df()
    frame = frame.sort_values(list(frame.columns), ignore_index=True) if len(frame) else frame
    return hashlib.sha256(frame.to_csv(index=False).encode("utf-8")).hexdigest()


def marts_hash(path: Path) -> str:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return "".join(_content_hash(con, f"select * from marts.{table}") for table in _MART_TABLES)


def drill(settings: Settings, stamp: str | None = None, scratch: Path | None = None) -> dict:
    """Restore drill: rebuild the ledger and the marts of a kept night from
    ``landing/`` and that night's inspection copy alone, in a scratch folder, and compare hashes.

    The inspection copy's ``history.inbox_files`` says which landing copy sat at which inbox path
    (with its mtime); they are put back there and the ordinary nightly run rebuilds everything.
    """
    import dataclasses
    import tempfile
    from datetime import date

    import duckdb

    from zhaoshang import guards, pipeline

    stamps = available(settings)
    chosen = stamp or (stamps[-1] if stamps else None)
    if chosen is None:
        raise NothingToRestore(
            f"没有可演练的历史版本 / no kept warehouse in {settings.history_dir}"
        )
    analyst_copy = settings.history_dir / f"warehouse_{chosen}.duckdb"
    inspection_copy = settings.history_dir / f"inspection_{chosen}.duckdb"
    base = Path(scratch or tempfile.mkdtemp(prefix="zhaoshang-drill-"))
    raw = base / "raw"
    shutil.copytree(settings.reference_dir, raw / "reference")
    (raw / "submissions").mkdir(parents=True)
    with duckdb.connect(str(inspection_copy), read_only=True) as con:
        placed = con.execute(
            "select source_file, sha256, file_mtime from history.inbox_files where in_inbox"
        ).fetchall()
        logical = scalar(con.execute("select logical_date from audit.manifest"))
        submissions = [
            r[0] for r in con.execute("select submission_id from history.submissions").fetchall()
        ]
    for source_file, sha256, mtime in placed:
        target = raw / source_file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.landing_dir / f"{sha256}.xlsx", target)
        if mtime is not None:
            os.utime(target, (mtime.timestamp(), mtime.timestamp()))
    scratch_settings = dataclasses.replace(
        settings,
        raw_dir=raw,
        warehouse=base / "warehouse" / "zhaoshang.duckdb",
        inspection_warehouse=None,
        output_dir=base / "output",
        state_dir=base / "state",
        alert_to=(),
        smtp_url=None,
        allow_reset=False,
    )
    pipeline.run_nightly(
        scratch_settings, logical if isinstance(logical, date) else None, run_id=f"drill_{chosen}"
    )
    rebuilt, kept = marts_hash(scratch_settings.warehouse), marts_hash(analyst_copy)
    ledger_equal = True
    with (
        connect_waiting(scratch_settings.ledger_path, 0, read_only=True) as new,
        connect_waiting(settings.ledger_path, 0, read_only=True) as live,
    ):
        for table in _ROW_TABLES:
            sql = f"select * from {table} where submission_id in (select unnest(?::varchar[]))"
            if _content_hash(new, sql, [submissions]) != _content_hash(live, sql, [submissions]):
                ledger_equal = False
    ok = rebuilt == kept and ledger_equal
    with connect_waiting(settings.ledger_path, 0) as con:
        guards.record(con, f"drill_{chosen}", "restore_drill_ok", int(ok), f"stamp {chosen}")  # M18
    if scratch is None:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "stamp": chosen,
        "marts_equal": rebuilt == kept,
        "ledger_equal": ledger_equal,
        "files_restored": len(placed),
        "ok": ok,
    }
