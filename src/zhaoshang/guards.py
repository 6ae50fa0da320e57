"""The publish guard and the nightly ``metrics`` (RELIABILITY §8: M4, M8, M19).

A night that looks wrong is not published: an inbox that would withdraw most of what is
published (a failed mount, a sync tool that emptied the folder; an empty inbox always), or a
load that collapsed (rows loaded far below the last published night). Such a night fails,
yesterday's warehouse stays and the failure notice carries the reason. Thresholds are rule
parameters (``dbt_project/seeds/rule_parameters.csv``); ``ZHAOSHANG_ALLOW_RESET=1`` lets an
intended reset through.

Metrics live in the ledger (``zhaoshang.ledger.metrics``: one row per run per metric) and every
publish copies them into ``audit.metrics`` of both published files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from zhaoshang import reference
from zhaoshang.ledger import metrics as ledger_metrics
from zhaoshang.ledger.metrics import record
from zhaoshang.queries import scalar
from zhaoshang.recovery import connect_waiting
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)


class PublishGuardFired(RuntimeError):
    """The night looks wrong: nothing is published and the inspection team is told why."""


def _parameter(name: str) -> float:
    return float(reference.rule_parameters()[name])


def check_inbox(settings: Settings, con, files: list, run_id: str) -> dict:
    """Before the inbox is recorded: refuse a night that would withdraw most published files."""
    previous = {
        r[0]
        for r in con.execute(
            "select distinct source_file from inbox_files where in_inbox"
        ).fetchall()
    }
    present = {f.source_file for f in files}
    withdrawn = previous - present
    share = len(withdrawn) / len(previous) if previous else 0.0
    limit = _parameter("publish_max_withdrawn_share")
    result = {"files_present": len(present), "files_withdrawn": len(withdrawn), "share": share}
    reason = None
    if not files:
        reason = (
            f"收件箱为空（{settings.submissions_dir}），可能是挂载失败或同步工具清空了文件夹 / "
            f"the inbox is empty ({settings.submissions_dir}): a failed mount or a sync tool "
            "that cleared it?"
        )
    elif share > limit:
        reason = (
            f"收件箱中 {len(withdrawn)}/{len(previous)} 个已发布文件不见了（{share:.0%}，上限 "
            f"{limit:.0%}） / {len(withdrawn)} of {len(previous)} published files are gone from "
            f"the inbox ({share:.0%}, limit {limit:.0%})"
        )
    record(con, run_id, "inbox_withdrawn_share", share, f"{len(withdrawn)}/{len(previous)}")
    if reason is None:
        return result
    if settings.allow_reset:
        log.warning("发布防护放行（ZHAOSHANG_ALLOW_RESET）/ publish guard overridden: %s", reason)
        record(con, run_id, "guard_overridden", 1, "inbox: " + reason)
        return result
    record(con, run_id, "guard_fired", 1, "inbox: " + reason)
    raise PublishGuardFired(_refusal(reason))


def _refusal(reason: str) -> str:
    return (
        f"发布防护：本次不发布，昨天的数据仓库保持不变。原因：{reason}。如确属有意重置，请设置 "
        "ZHAOSHANG_ALLOW_RESET=1 后重跑 / publish guard: nothing is published, yesterday's "
        "warehouse stays. Set ZHAOSHANG_ALLOW_RESET=1 and rerun if this is an intended reset."
    )


def rows_loaded(con: duckdb.DuckDBPyConnection) -> int:
    """Rows of the files that feed the marts (audit.load_log, status loaded)."""
    return int(
        scalar(
            con.execute(
                "select coalesce(sum(rows_loaded), 0) from audit.load_log where status = 'loaded'"
            )
        )
    )


def check_load(settings: Settings, build_db: Path, published: Path, run_id: str) -> dict:
    """Before publishing: refuse a build whose rows loaded collapsed against the last publish."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        now = rows_loaded(con)
    before = None
    if published.exists():
        try:
            with duckdb.connect(str(published), read_only=True) as con:
                before = rows_loaded(con)
        except duckdb.Error as error:  # an unreadable published file is no reason to keep it
            log.warning("published warehouse unreadable for the load guard: %s", error)
    limit = _parameter("publish_min_rows_share")
    result = {"rows_loaded": now, "rows_loaded_last_publish": before}
    if not before or now >= limit * before:
        return result
    reason = (
        f"入库行数骤降：{now} 行，上次发布 {before} 行（低于 {limit:.0%}） / rows loaded "
        f"collapsed: {now} against {before} at the last publish (below {limit:.0%})"
    )
    with connect_waiting(settings.ledger_path, 0) as ledger_con:
        record(ledger_con, run_id, "rows_loaded_share", now / before, f"{now}/{before}")
        if settings.allow_reset:
            log.warning(
                "发布防护放行（ZHAOSHANG_ALLOW_RESET）/ publish guard overridden: %s", reason
            )
            record(ledger_con, run_id, "guard_overridden", 1, "load: " + reason)
            return result
        record(ledger_con, run_id, "guard_fired", 1, "load: " + reason)
    raise PublishGuardFired(_refusal(reason))


def file_conservation(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """M4: files received minus every known outcome (0 when nothing is unaccounted for)."""
    counts = dict(con.execute("select status, count(*) from audit.load_log group by 1").fetchall())
    known = ("loaded", "rejected", "duplicate", "superseded", "withdrawn", "pending")
    gap = sum(counts.values()) - sum(counts.get(s, 0) for s in known)
    return gap, ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def metrics_rows(settings: Settings) -> list[tuple]:
    """Every metric the ledger holds (for audit.metrics of the published files)."""
    with connect_waiting(settings.ledger_path, 0) as con:
        return ledger_metrics.rows(con)


def fired_lines(settings: Settings, run_id: str | None = None) -> list[str]:
    """Summary lines (make run, the DAG log) for each guard that fired or was overridden."""
    if not settings.ledger_path.exists():
        return []
    try:
        with connect_waiting(settings.ledger_path, 0, read_only=True) as con:
            con.execute("select 1 from metrics limit 0")
            rows = con.execute(
                """select run_id, metric, detail from metrics
                   where metric in ('guard_fired', 'guard_overridden', 'ledger_wal_recovered',
                                    'lock_retries')
                     and (? is null or run_id = ?) and (metric <> 'lock_retries' or value > 0)
                   order by recorded_at""",
                [run_id, run_id],
            ).fetchall()
    except duckdb.Error:
        return []
    label = {
        "guard_fired": "发布防护已拦截 / publish guard fired",
        "guard_overridden": "发布防护已放行（重置） / publish guard overridden (reset)",
        "ledger_wal_recovered": "台账WAL已隔离并重载 / ledger WAL set aside and reloaded",
        "lock_retries": "曾等待其他运行的锁 / waited for another run's lock",
    }
    return [f"{label[metric]}: {detail} (run {rid})" for rid, metric, detail in rows]


def failure_reason(settings: Settings, run_id: str) -> str:
    """Why a run was refused (for a failure notice whose caller has no exception text)."""
    if not settings.ledger_path.exists():
        return ""
    try:
        with connect_waiting(settings.ledger_path, 0, read_only=True) as con:
            row = con.execute(
                """select detail from metrics where run_id = ? and metric = 'guard_fired'
                   order by recorded_at desc limit 1""",
                [run_id],
            ).fetchone()
    except duckdb.Error:
        return ""
    return _refusal(row[0].split(": ", 1)[-1]) if row else ""
