"""One nightly run at a time: an exclusive ``flock`` on ``<state>/nightly.lock``.

Two runs over one ledger and one build area corrupt each other (one deletes the other's build
file; DuckDB refuses the second writer with a raw lock error). So every stage of a run holds the
lock; a second run waits ``ZHAOSHANG_LOCK_WAIT_SECONDS`` and then stops with a message naming the
holder's pid and run id. The kernel drops a flock when its process dies (even by SIGKILL), so a
crashed run never leaves a stale lock.

Within one process (``python -m zhaoshang nightly``, ``airflow dags test``) the lock is taken by
the first stage and kept until the run's last stage, so no other run slips in between stages.
With executors that start a process per task, each task holds it while it runs; Airflow's
``max_active_runs=1`` keeps scheduled runs apart and per-run build files keep anything else safe.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.2


class RunLocked(RuntimeError):
    """Another nightly run holds the lock and did not finish within the wait."""


@dataclass
class _Held:
    fd: int
    run_id: str
    path: Path
    waited_s: float
    retries: int
    holders_seen: list[str] = field(default_factory=list)


# lock path -> what this process holds there
_held: dict[str, _Held] = {}


def _read_holder(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe(holder: dict) -> str:
    return f"pid {holder.get('pid', '?')}, run {holder.get('run_id', '?')}"


def hold(settings: Settings, run_id: str) -> _Held:
    """Take (or keep) the nightly lock for ``run_id``; wait at most ``lock_wait_seconds``."""
    path = settings.lock_path
    key = str(path)
    current = _held.get(key)
    if current and current.run_id == run_id:
        return current
    if current:  # this process moves on to another run (e.g. a test's next night)
        release(settings)
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    started = time.monotonic()
    retries = 0
    holders: list[str] = []
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = _read_holder(fd)
            described = _describe(holder)
            if described not in holders:
                holders.append(described)
                log.warning("nightly lock held by %s; run %s waits", described, run_id)
            retries += 1
            if time.monotonic() - started >= settings.lock_wait_seconds:
                os.close(fd)
                raise RunLocked(
                    f"另一个夜间作业正在运行（进程 {holder.get('pid', '?')}，运行 {holder.get('run_id', '?')}，"
                    f"开始于 {holder.get('since', '?')}），已等待 {settings.lock_wait_seconds:.0f} 秒，"
                    f"本次运行 {run_id} 退出，未做任何更改 / another nightly run holds the lock "
                    f"({described}, since {holder.get('since', '?')}); waited "
                    f"{settings.lock_wait_seconds:.0f} s, run {run_id} exits without changing anything "
                    f"(lock file {path})"
                ) from None
            time.sleep(_POLL_SECONDS)
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(
        fd,
        json.dumps(
            {
                "pid": os.getpid(),
                "run_id": run_id,
                "since": datetime.now().isoformat("T", "seconds"),
            }
        ).encode("utf-8"),
    )
    os.fsync(fd)
    held = _Held(fd, run_id, path, time.monotonic() - started, retries, holders)
    _held[key] = held
    if retries:
        log.info("nightly lock taken by run %s after %.1f s", run_id, held.waited_s)
    return held


def release(settings: Settings, run_id: str | None = None) -> None:
    """Give the lock up (the run's last stage, or a failed run). A no-op if not held here."""
    held = _held.get(str(settings.lock_path))
    if held is None or (run_id is not None and held.run_id != run_id):
        return
    del _held[str(settings.lock_path)]
    try:
        os.ftruncate(held.fd, 0)
        fcntl.flock(held.fd, fcntl.LOCK_UN)
    finally:
        os.close(held.fd)
