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
