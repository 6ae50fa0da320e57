"""What the person at the terminal sees of a nightly run: one line per stage as it finishes.

Each pipeline stage is wrapped by :func:`tracked`, which times it and, when a progress file is
configured (``ZHAOSHANG_PROGRESS_FILE``, set by ``python -m zhaoshang airflow-run``), appends one
JSON line with the stage's name, seconds and result. The command that started the run reads
that file while Airflow works, so the terminal shows progress while Airflow's and dbt's own
logs go to a log file. Lines are written by whichever process runs the task (``dag.test()``
runs them in-process, Celery workers elsewhere), so the file is opened in append mode per line.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from zhaoshang import settings as settings_module
from zhaoshang.errors import mask_pii

F = TypeVar("F", bound=Callable[..., Any])

# Chinese and English label of each stage, in pipeline order; a stage not listed shows its name.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "parse_batch": ("解析报表", "parse workbooks"),
    "load_submissions": ("读取报表", "load submissions"),
    "build_features": ("计算疑点特征", "build features"),
    "validate_entries": ("疑点校验", "validate entries"),
    "build_marts": ("生成汇总表", "build marts"),
    "publish_warehouse": ("发布数据仓库", "publish warehouse"),
    "export_for_analysts": ("导出分析工作簿", "export workbook"),
    "write_report": ("起草工作总结", "write report"),
    "send_alerts": ("督查提醒", "send alerts"),
    "send_receipts": ("单位回执", "send receipts"),
}


def tracked(func: F) -> F:
    """Record the stage's duration and result (or its failure) in the progress file."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            _append(func.__name__, time.monotonic() - started, None, error)
            raise
        _append(func.__name__, time.monotonic() - started, result, None)
        return result

    return wrapper  # type: ignore[return-value]


def _append(stage: str, seconds: float, result: Any, error: BaseException | None) -> None:
    path = settings_module.progress_file()
    if path is None:
        return
    record = {"stage": stage, "seconds": round(seconds, 1), "ok": error is None}
    if error is not None:
        record["error"] = mask_pii(f"{type(error).__name__}: {error}")[:300]
    else:
        record["result"] = result if isinstance(result, dict) else {}
    line = json.dumps(record, ensure_ascii=False, default=str)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def read_records(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Complete JSON lines after byte ``offset``; returns them and the new offset."""
    if not path.exists():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    records = [json.loads(line) for line in data[:end].decode("utf-8").splitlines() if line]
    return records, offset + end


def latest_by_stage(records: list[dict]) -> dict[str, dict]:
    """A retried stage appears twice: the last record is what happened."""
    return {record["stage"]: record for record in records}


def _count_text(stage: str, result: dict) -> str:
    if stage == "load_submissions":
        return (
            f"新文件 new files {result.get('files_new', 0)}（入账 accepted "
            f"{result.get('files_loaded', 0)}，拒收 rejected {result.get('files_rejected', 0)}），"
            f"行 rows {result.get('rows_read', 0)}"
        )
    if stage == "parse_batch" and "files" in result:
        return (
            f"批次 batch {result.get('batch', 0)}：文件 files {result['files']}，"
            f"行 rows {result.get('rows_read', 0)}"
        )
    if stage == "validate_entries" and "entries_checked" in result:
        return f"检查条目 entries checked {result['entries_checked']}"
    if stage in {"build_features", "build_marts"} and "nodes" in result:
        nodes = result["nodes"]
        if isinstance(nodes, dict):
            return "dbt: " + ", ".join(f"{status} {count}" for status, count in nodes.items())
        return f"dbt: {nodes}"
    if stage == "publish_warehouse" and "tables" in result:
        tables = result["tables"]
        return f"表 tables {len(tables) if isinstance(tables, list | dict) else tables}"
    if stage == "send_alerts":
        return alert_outcome(result)
    if stage == "send_receipts" and "receipts" in result:
        return f"回执 receipts {len(result['receipts'])}"
    return ""


def alert_outcome(result: dict) -> str:
    """Where the night's alerts went, in words: sent, written to a file only, or queued."""
    if result.get("status") == "error":
        return "提醒出错，已排队重试 / alerts failed, kept queued"
    sent, written = result.get("sent_smtp", 0), result.get("written_to_file", 0)
    parts = []
    if sent:
        parts.append(f"已发送 sent {sent} 封 e-mail(s)")
    if written:
        parts.append(f"未配置邮件，仅写入文件 written to files only {written}")
    if result.get("pending"):
        parts.append(f"待重发 queued {result['pending']}")
    return "，".join(parts) or "无新提醒 / nothing new to alert"


def stage_line(record: dict) -> str:
    """``[读取报表 / load submissions] 4.2 s  新文件 new files 138 …`` for one stage."""
    zh, en = STAGE_LABELS.get(record["stage"], (record["stage"], record["stage"]))
    head = f"[{zh} / {en}] {record['seconds']:.1f} s"
    if not record.get("ok"):
        return f"{head}  失败 / failed: {record.get('error', '')}"
    counts = _count_text(record["stage"], record.get("result") or {})
    return f"{head}  {counts}".rstrip()


def iter_output_paths(records: dict[str, dict]) -> Iterator[tuple[str, str]]:
    """(stage, path) for every file a stage says it wrote (``path`` or ``paths`` in its result)."""
    for stage, record in records.items():
        result = record.get("result") or {}
        paths = result.get("paths") or ([result["path"]] if result.get("path") else [])
        for path in paths:
            yield stage, str(path)
