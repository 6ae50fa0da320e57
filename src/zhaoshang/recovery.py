"""Opening the ledger safely, and healing it when its WAL will not replay (RELIABILITY §3.8, G6).

A WAL that DuckDB cannot replay (bit-flipped, or copied from another database) would otherwise
fail every night from then on. It is moved aside to ``ledger.duckdb.wal.corrupt-<ts>``, the
ledger opens at its last checkpoint, and what the WAL held is loaded again: the submissions it
committed are no longer in the ledger, so the same night's load takes them again from their
landing copies (loads are keyed by sha256 and idempotent). The inspection team is told through
the failure-notice path, with the landing files that could not be reloaded because they are no
longer in the inbox.

The ledger and the state dir are readable by the pipeline's account only (0600/0700).
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path

import duckdb

from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

_MARKER_GLOB = "ledger_recovered-*.json"
# How long an open waits for another process's DuckDB lock on the ledger: the run holding the
# nightly lock before us may still be closing it, and send_alerts / send_receipts overlap.
LEDGER_WAIT_S = 120.0


def connect_waiting(
    ledger_path: Path, wait_s: float = LEDGER_WAIT_S, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the ledger, waiting (bounded) while another process still has it open.

    With ``open_ledger`` the only way the ledger is opened (tests/ledger holds the code to it);
    a best-effort reader passes ``wait_s=0`` to fail at once instead.
    """
    if not read_only:
        ledger_path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(ledger_path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and keep it) readable by the pipeline's account only."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _is_wal_replay_failure(error: duckdb.Error) -> bool:
    text = str(error)
    return "replaying WAL" in text or "WAL does not match" in text


def open_ledger(settings: Settings) -> duckdb.DuckDBPyConnection:
    private_dir(settings.state_dir)
    if settings.landing_dir.exists():  # originals hold personal data
        private_dir(settings.landing_dir)
    path = settings.ledger_path
    wal = path.with_name(path.name + ".wal")
    try:
        con = connect_waiting(path)
    except duckdb.Error as error:
        if not (wal.exists() and _is_wal_replay_failure(error)):
            raise
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        aside = wal.with_name(f"{wal.name}.corrupt-{stamp}")
        os.replace(wal, aside)
        log.error(
            "台账WAL无法重放，已移至 %s，台账回到最后一次检查点 / ledger WAL would not replay; "
            "moved to %s, the ledger opens at its last checkpoint: %s",
            aside,
            aside,
            error,
        )
        marker = settings.state_dir / f"ledger_recovered-{stamp}.json"
        marker.write_text(
            json.dumps(
                {"wal": str(aside), "error": str(error)[:500], "at": stamp}, ensure_ascii=False
            ),
            encoding="utf-8",
        )
        marker.chmod(0o600)
        con = duckdb.connect(str(path))  # the WAL is set aside: nothing left to wait for
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return con


def report_recoveries(settings: Settings, run_id: str) -> list[str]:
    """After the night's load: tell the inspection team about each WAL set aside. Never raises."""
    markers = sorted(settings.state_dir.glob(_MARKER_GLOB))
    if not markers:
        return []
    from zhaoshang import alerts, guards

    messages = []
    for marker in markers:
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            with connect_waiting(settings.ledger_path, 0) as con:
                known = {
                    r[0] for r in con.execute("select submission_id from submissions").fetchall()
                }
                landed = {p.stem for p in settings.landing_dir.glob("*.xlsx")}
                missing = sorted(landed - known)
                detail = (
                    f"WAL {info['wal']}; 未能重载（已不在收件箱）/ not reloaded (no longer in the "
                    f"inbox): {len(missing)}"
                    + (f" ({', '.join(m[:12] for m in missing[:20])})" if missing else "")
                )
                guards.record(con, run_id, "ledger_wal_recovered", 1, detail)
            message = (
                "台账的WAL文件无法重放，已隔离；台账回到最后一次检查点，其后的提交已从落地区"
                f"（landing/）重新入库。{detail} / the ledger's WAL would not replay and was set "
                "aside; the ledger reopened at its last checkpoint and the submissions after it "
                f"were reloaded from landing/. Error: {info.get('error', '')}"
            )
            alerts.notify_failure(
                settings,
                dag_id="zhaoshang_nightly",
                run_id=f"{run_id}:ledger_wal_recovery",  # its own alert key, not the night's
                task_id="load_submissions",
                error=message,
            )
            messages.append(message)
            marker.unlink()
        except Exception:  # the notice must never stop the night that healed the ledger
            log.exception("ledger recovery notice failed")
    return messages
