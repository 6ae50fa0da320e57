"""The nightly run's stages as plain functions: what each Airflow task calls, in order.

Every stage takes the settings and the run id and can be rerun for the same run: loading is
keyed by sha256, the build file is rebuilt from scratch, publishing is an atomic rename, and the
alert outbox is keyed by the alert. ``run_nightly`` chains them for use without Airflow.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import re
import shutil
import threading
from datetime import date, datetime
from pathlib import Path

from zhaoshang import guards, ledger, locking, publish, recovery, transform
from zhaoshang.ledger import runs
from zhaoshang.progress import tracked
from zhaoshang.queries import one_row, scalar
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)


def make_run_id(raw: str | None = None) -> str:
    """A file-name-safe run id (Airflow's run_id has ':' and '+')."""
    raw = raw or f"manual__{datetime.now():%Y-%m-%dT%H-%M-%S-%f}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", raw)[:120]


def work_dir(settings: Settings, run_id: str) -> Path:
    path = settings.state_dir / "runs" / run_id
    path.mkdir(parents=True, exist_ok=True)
    return path


def plan_batches(settings: Settings, run_id: str, logical_date: date | None = None) -> list[int]:
    """Stage 1a (writer): the night's new files in batches for ``parse_batch`` to fan out over."""
    from zhaoshang import batches

    _take_lock(settings, run_id)
    _start_dbt_early(settings, run_id)
    return batches.plan(settings, run_id, logical_date=logical_date)


@tracked
def parse_batch(settings: Settings, run_id: str, index: int) -> dict:
    """Stage 1b (any worker): parse one batch into Parquet on the shared state dir."""
    from zhaoshang import batches

    return batches.parse_batch(settings, run_id, index)


def _start_dbt_early(settings: Settings, run_id: str) -> None:
    """With ``warm_start``: dbt pass 1's child imports and parses while the files are read."""
    transform.start_next_dbt(
        settings, publish.build_path(settings, run_id), work_dir(settings, run_id)
    )


def _import_in_background(module: str) -> None:
    """Import ``module`` in a thread (GX: ~3 s) while this one waits on dbt's child; the stage
    that needs it then finds it imported (or waits on the import lock for the rest)."""
    threading.Thread(
        target=importlib.import_module, args=(module,), name=f"import-{module}"
    ).start()


def _take_lock(settings: Settings, run_id: str) -> None:
    """The run is the only writer from its first stage on (zhaoshang.locking); M19 recorded."""
    lock = locking.hold(settings, run_id)
    with ledger.connect(settings) as con:
        holders = "; ".join(lock.holders_seen) or None
        guards.record(con, run_id, "lock_retries", lock.retries, holders)
        guards.record(con, run_id, "lock_wait_s", round(lock.waited_s, 3), holders)


@tracked
def load_submissions(
    settings: Settings,
    run_id: str,
    logical_date: date | None = None,
    *,
    from_batches: bool = False,
) -> dict:
    """Stage 1: new or changed inbox files -> ledger rows, quarantine and rejections.

    ``from_batches``: write what ``plan_batches``/``parse_batch`` prepared (the DAG, where
    parsing runs on every worker) instead of parsing here (one machine, ``run_nightly``).
    """
    _take_lock(settings, run_id)
    _start_dbt_early(settings, run_id)
    if from_batches:
        from zhaoshang import batches

        summary = batches.write(settings, run_id)
    else:
        summary = ledger.load_new_submissions(settings, run_id, logical_date=logical_date)
    recovery.report_recoveries(settings, run_id)
    with ledger.connect(settings) as con:
        runs.record_loaded(con, run_id, logical_date, ledger.summary_json(summary))
        gaps = ledger.conservation_gaps(con)
    if gaps:
        raise RuntimeError(f"行数不守恒 / rows not conserved: {gaps[:5]}")
    return summary.as_dict()


@tracked
def build_features(settings: Settings, run_id: str) -> dict:
    """Stage 2: dbt pass 1 (seeds, staging, intermediate incl. data-quality features)."""
    locking.hold(settings, run_id)
    if settings.warm_start:
        _import_in_background("great_expectations")
    start = publish.start_build(settings, run_id, transform.project_fingerprint(settings))
    result = transform.build(
        settings,
        start.path,
        work_dir(settings, run_id),
        transform.FEATURE_SELECTION,
        transform.FEATURE_EXCLUSION + (() if start.full_refresh else transform.KEPT_SEEDS),
        full_refresh=start.full_refresh,
        unit_tests=start.full_refresh,
    )
    # pass 2's child, to import and parse while GX judges the features
    transform.start_next_dbt(settings, start.path, work_dir(settings, run_id))
    return {
        "nodes": result.nodes,
        "warnings": result.warnings,
        "elapsed_s": result.elapsed_s,
        "unit_tests": result.unit_tests,
        "full_refresh": start.full_refresh,
        "build_start": start.reason,
    }


@tracked
def validate_entries(settings: Settings, run_id: str) -> dict:
    """Stage 3: Great Expectations judges the features; flags go to dq.gx_flags."""
    from zhaoshang import quality

    locking.hold(settings, run_id)
    return quality.validate(publish.build_path(settings, run_id), run_id, settings)


@tracked
def build_marts(settings: Settings, run_id: str, logical_date: date | None = None) -> dict:
    """Stage 4: the team's decisions and tonight's changes into the build file, then dbt pass 2
    (marts and audit) and the dbt docs site."""
    from zhaoshang import triage

    locking.hold(settings, run_id)
    decided = triage.prepare_build(
        settings, publish.build_path(settings, run_id), run_id, logical_date
    )
    result = build_mart_models(settings, run_id)
    refresh_docs(settings, run_id)
    return {
        "nodes": result.nodes,
        "warnings": result.warnings,
        "elapsed_s": result.elapsed_s,
        "unit_tests": result.unit_tests,
        "triage": decided,
    }


def build_mart_models(settings: Settings, run_id: str) -> transform.DbtResult:
    """dbt pass 2; dbt's unit tests only when pass 1 rebuilt everything (the project changed)."""
    build_db = publish.build_path(settings, run_id)
    state = publish.read_build_state(build_db)
    return transform.build(
        settings,
        build_db,
        work_dir(settings, run_id),
        transform.MART_SELECTION,
        unit_tests=state.full_refresh,
    )


def refresh_docs(settings: Settings, run_id: str) -> Path | None:
    """The dbt docs site, regenerated only when the project changed since it was written."""
    build_db = publish.build_path(settings, run_id)
    fingerprint = publish.read_build_state(build_db).fingerprint
    return transform.generate_docs(settings, build_db, work_dir(settings, run_id), fingerprint)


@tracked
def publish_warehouse(settings: Settings, run_id: str, logical_date: date | None = None) -> dict:
    """Stage 5: guards, checks, checkpoint and atomic rename of the analysts' and inspection files."""
    locking.hold(settings, run_id)
    published = publish.publish(
        settings, run_id, logical_date.isoformat() if logical_date else None
    )
    with ledger.connect(settings) as con:
        runs.record_published(con, run_id)
    _remember_flag_history(settings, run_id)
    shutil.rmtree(settings.state_dir / "runs" / run_id, ignore_errors=True)
    for line in guards.fired_lines(settings, run_id):
        log.warning("%s", line)
    return {
        "path": str(published.path),
        "inspection_path": str(published.inspection_path),
        "tables": published.tables,
    }


def _remember_flag_history(settings: Settings, run_id: str) -> None:
    """The night's flag states into the durable history store (zhaoshang.triage). The files are
    published already; if this fails the next night reads its baseline from the file instead."""
    from zhaoshang import triage

    try:
        triage.remember_published(settings, run_id)
    except Exception:
        log.warning("疑点历史未能记录 / flag history not recorded for %s", run_id, exc_info=True)


@tracked
def export_for_analysts(settings: Settings) -> dict:
    """Stage 6a: the month's Excel workbook for analysts, from the published warehouse."""
    from zhaoshang import exports

    return exports.write_monthly_workbook(settings)


@tracked
def write_report(settings: Settings) -> dict:
    """Stage 6b: the work report (.docx, .html, charts) for the latest month, and the index page."""
    from zhaoshang import report
    from zhaoshang.report import index

    written = report.write_report(settings)
    written["index"] = str(index.write_index(settings))
    written["paths"] = [p for p in (written.get("docx"), written["index"]) if p]
    return written


@tracked
def send_alerts(settings: Settings, run_id: str) -> dict:
    """Stage 6: new flags -> outbox -> e-mail (or a file in the output dir). Never fails the run."""
    from zhaoshang import alerts

    return alerts.run_after_publish(settings, run_id)


@tracked
def send_receipts(settings: Settings, run_id: str) -> dict:
    """Stage 6c: each unit's receipt (回执) -> feedback dir and outbox -> e-mail. Never fails."""
    from zhaoshang import feedback

    try:
        return feedback.run_after_publish(settings, run_id)
    finally:
        locking.release(settings, run_id)  # the run's last stage (it writes the ledger's outbox)


def run_nightly(
    settings: Settings, logical_date: date | None = None, run_id: str | None = None
) -> dict:
    """All stages in order, without Airflow (``python -m zhaoshang nightly``)."""
    run_id = make_run_id(run_id)
    settings = dataclasses.replace(settings, warm_start=True)  # every stage in this process
    report: dict = {"run_id": run_id}
    stage = "load_submissions"
    try:
        report["load"] = load_submissions(settings, run_id, logical_date)
        stage = "build_features"
        report["features"] = build_features(settings, run_id)
        stage = "validate_entries"
        report["validate"] = validate_entries(settings, run_id)
        stage = "build_marts"
        report["marts"] = build_marts(settings, run_id, logical_date)
        stage = "publish_warehouse"
        report["publish"] = publish_warehouse(settings, run_id, logical_date)
        stage = "export_for_analysts"
        report["export"] = export_for_analysts(settings)
        stage = "write_report"
        report["report"] = write_report(settings)
    except locking.RunLocked:
        raise  # another run is busy with the ledger: nothing to tell, nothing to touch
    except Exception as error:
        locking.release(settings, run_id)
        from zhaoshang.alerts import notify_failure

        # Without Airflow nobody else tells the inspection team (the DAG has a failure callback).
        notify_failure(
            settings, dag_id="zhaoshang_nightly", run_id=run_id, task_id=stage, error=str(error)
        )
        raise
    report["alerts"] = send_alerts(settings, run_id)
    report["receipts"] = send_receipts(settings, run_id)
    return report


def regenerate_docs(settings: Settings) -> dict:
    """dbt docs for the published warehouse, without a nightly run (``make docs``).

    dbt's catalog is read from a private copy, so the published file is never opened for
    writing; GX Data Docs are rebuilt by every night's checkpoint into the same output dir.
    """
    if not settings.warehouse.exists():
        raise FileNotFoundError(
            f"尚未发布数据仓库 / no published warehouse at {settings.warehouse}"
        )
    wd = work_dir(settings, "docs")
    copy = wd / "published_copy.duckdb"
    # The inspection file has every schema the docs describe; only metadata reaches the docs.
    source = settings.inspection_path if settings.inspection_path.exists() else settings.warehouse
    shutil.copyfile(source, copy)
    copy.chmod(0o644)
    try:
        dbt_docs = transform.generate_docs(settings, copy, wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    data_docs = settings.output_dir / "data_docs" / "index.html"
    return {
        "dbt_docs": str(dbt_docs) if dbt_docs else None,
        "data_docs": str(data_docs) if data_docs.exists() else None,
    }


FILE_STATUS_LABELS = {
    "loaded": "入库 loaded",
    "superseded": "被替代 superseded",
    "rejected": "拒收 rejected",
    "duplicate": "重复 duplicate",
    "withdrawn": "已撤回 withdrawn",
}


def run_summary(
    settings: Settings, stages: dict[str, dict] | None = None, elapsed_s: float | None = None
) -> str:
    """The short summary `make run` prints: counts from the published warehouse (one source,
    so they add up), then every output the night wrote and what happened to the alerts."""
    from zhaoshang import progress

    lines = []
    with publish.open_published(settings) as con:
        files = dict(
            con.execute("select status, count(*) from audit.load_log group by 1").fetchall()
        )
        rows = one_row(
            con.execute(
                """select coalesce(sum(rows_read),0), coalesce(sum(rows_loaded),0),
                          coalesce(sum(rows_quarantined),0), coalesce(sum(rows_ignored_blank),0)
                   from audit.load_log where status <> 'duplicate'"""
            )
        )
        flags = con.execute(
            "select rule, count(*) from audit.dq_flags group by 1 order by 1"
        ).fetchall()
        manifest = scalar(con.execute("select run_id from audit.manifest"))
    total = sum(files.values())
    took = f"，用时 took {elapsed_s:.0f} s" if elapsed_s is not None else ""
    lines.append(f"运行 / run: {manifest}{took}")
    parts = [f"{label} {files[s]}" for s, label in FILE_STATUS_LABELS.items() if files.get(s)]
    parts += [f"{s} {n}" for s, n in files.items() if s not in FILE_STATUS_LABELS]
    lines.append(f"文件 / files: 共 seen {total} = " + " + ".join(parts or ["0"]))
    lines.append(
        f"行 / rows: 读取 read {rows[0]} = 入库 loaded {rows[1]} + 隔离 quarantined {rows[2]}"
        f" + 空行 blank {rows[3]}"
    )
    lines.append("疑点 / flags: " + (", ".join(f"{r} {n}" for r, n in flags) or "无 none"))
    lines.extend(guards.fired_lines(settings, manifest))
    lines.append(f"数据仓库 / warehouse: {settings.warehouse}")
    lines.append(f"督查组数据库 / inspection warehouse: {settings.inspection_path}")
    stages = stages or {}
    shown = {str(settings.warehouse), str(settings.inspection_path)}
    for stage, path in progress.iter_output_paths(stages):
        if path in shown:
            continue
        shown.add(path)
        zh, en = progress.STAGE_LABELS.get(stage, (stage, stage))
        lines.append(f"{zh} / {en}: {path}")
    if "send_alerts" in stages:
        outcome = progress.alert_outcome(stages["send_alerts"].get("result") or {})
        lines.append(
            f"督查提醒 / alerts: {outcome}（副本 copies: {settings.output_dir / 'alerts'}）"
        )
    if "send_receipts" in stages:
        receipts = (stages["send_receipts"].get("result") or {}).get("receipts") or []
        emailed = sum(1 for r in receipts if r.get("emailed"))
        lines.append(
            f"单位回执 / receipts: {len(receipts)} 份（邮件 e-mailed {emailed}）"
            f" -> {settings.output_dir / 'feedback'}"
        )
    lines.append(f"输出目录 / outputs: {settings.output_dir}")
    return "\n".join(lines)


def dump(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str)
