"""Receipts (回执) for the reporting units, after every night.

``run_after_publish(settings, run_id)`` is the nightly stage ``send_receipts``: for every roster
unit with something new since its last receipt (files received, problems found, problems gone),
it writes ``<output>/feedback/<unit>/<Y>年<M>月_回执.xlsx`` (and the e-mail's ``.html``), queues
one e-mail per unit in the ledger's alert outbox (kind ``receipt``, key in the subject) to the
unit's ``contact_email`` in units.csv unless its ``feedback`` is off, and delivers the outbox.
A unit with nothing new gets nothing. What a unit sees: ``findings``; what it was told before:
``zhaoshang.ledger.receipts``; the documents: ``receipt``. Never raises: receipts must not fail the data tasks.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import duckdb

from zhaoshang.alerts.delivery import Transport, deliver_pending
from zhaoshang.errors import mask_pii
from zhaoshang.feedback.findings import FileReceived, Problem, UnitFindings, collect
from zhaoshang.feedback.receipt import KIND_ORDER, Receipt, Resolved, receipt_key, to_alert
from zhaoshang.forms import safe_file_part
from zhaoshang.ledger import receipts as memory
from zhaoshang.ledger.outbox import ensure_tables as ensure_outbox
from zhaoshang.ledger.outbox import queue_alert
from zhaoshang.recovery import connect_waiting
from zhaoshang.reference import Unit, UnitResolver, load_units
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["feedback_dir", "run_after_publish"]


def feedback_dir(settings: Settings) -> Path:
    return settings.output_dir / "feedback"


def _contacts(units: list[Unit]) -> dict[str, tuple[str | None, bool]]:
    """unit -> (address, feedback on) from its latest year's row."""
    out: dict[str, tuple[str | None, bool]] = {}
    for u in sorted(units, key=lambda u: u.year):
        out[u.unit_name] = (u.contact_email or out.get(u.unit_name, (None, True))[0], u.feedback)
    return out


def _period(
    new_files: list[FileReceived], problems: list[Problem], fallback: tuple[int, int]
) -> tuple[int, int]:
    for candidates in (
        [(f.year, f.month) for f in new_files if f.year and f.month],
        [(p.year, p.month) for p in problems if p.year and p.month],
    ):
        if candidates:
            return max(candidates)
    return fallback


def _how_resolved(told: memory.Told, superseded_by: dict[str, str]) -> str:
    if told.kind == "missing":
        return "已收到该月月报"
    if told.kind == "refused":
        return "已收到更正后的文件并入库（或原文件已撤回）"
    replacement = superseded_by.get(told.source_file or "")
    if replacement:
        return f"已由更正后的文件“{replacement}”替代，问题已不存在"
    return "已更正，问题已不存在"


def _write_documents(directory: Path, receipt: Receipt, alert) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / receipt.file_name
    path.write_bytes(alert.attachment)
    path.with_suffix(".html").write_text(alert.body_html, encoding="utf-8")
    return path


def _receipt_for(
    con: duckdb.DuckDBPyConnection,
    found: UnitFindings,
    run_id: str,
    now: datetime,
    fallback: tuple[int, int],
    superseded_by: dict[str, str],
) -> tuple[Receipt, list[FileReceived], list[Problem], list[str]] | None:
    listed = memory.listed_files(con, found.unit_name)
    told = memory.told(con, found.unit_name)
    new_files = [f for f in found.files if f.key not in listed]
    current: dict[str, Problem] = {}
    for p in found.problems:
        current.setdefault(p.key, p)
    fresh = [p for k, p in current.items() if k not in told or told[k].resolved_at is not None]
    gone = [t for k, t in told.items() if t.resolved_at is None and k not in current]
    if not (new_files or fresh or gone):
        return None
    year, month = _period(new_files, fresh or list(current.values()), fallback)
    ordered = sorted(
        current.values(),
        key=lambda p: (
            KIND_ORDER[p.kind],
            p.year or 0,
            p.month or 0,
            p.source_file or "",
            p.row_number or 0,
        ),
    )
    receipt = Receipt(
        unit_name=found.unit_name,
        year=year,
        month=month,
        key=receipt_key(found.unit_name, run_id),
        created_at=now,
        files=new_files,
        open=[(p, told.get(p.key)) for p in ordered],
        resolved=[Resolved(t.summary_zh, _how_resolved(t, superseded_by)) for t in gone],
    )
    return receipt, new_files, fresh, [t.problem_key for t in gone]


def run_after_publish(settings: Settings, run_id: str, *, send: Transport | None = None) -> dict:
    """After publishing: one receipt per unit with something new, queued and delivered."""
    try:
        return _run(settings, run_id, send)
    except Exception as error:  # receipts must never fail the data tasks
        log.exception("receipts failed")
        return {"status": "error", "error": mask_pii(f"{type(error).__name__}: {error}")[:500]}


def _run(settings: Settings, run_id: str, send: Transport | None) -> dict:
    if not settings.warehouse.exists():
        return {"status": "ok", "receipts": [], "note": "no published warehouse"}
    units = load_units(settings.units_csv)
    resolver = UnitResolver(units)
    contacts = _contacts(units)
    from zhaoshang.publish import full_path

    findings = collect(full_path(settings), resolver)  # a unit's own quarantined rows
    superseded_by = {
        f.source_file: f.superseded_by
        for found in findings.values()
        for f in found.files
        if f.superseded_by
    }
    periods = [
        (f.year, f.month) for found in findings.values() for f in found.files if f.year and f.month
    ]
    now = datetime.now()
    fallback = max(periods) if periods else (now.year, now.month)
    written: list[dict] = []
    with connect_waiting(settings.ledger_path) as con:
        ensure_outbox(con)
        memory.ensure_tables(con)
        for unit_name in sorted(contacts):
            found = findings.get(unit_name) or UnitFindings(unit_name)
            made = _receipt_for(con, found, run_id, now, fallback, superseded_by)
            if made is None:
                continue
            receipt, new_files, fresh, gone = made
            address, feedback_on = contacts[unit_name]
            recipients = (address,) if address and feedback_on else ()
            alert = to_alert(receipt, recipients, run_id)
            path = _write_documents(
                feedback_dir(settings) / safe_file_part(unit_name), receipt, alert
            )
            queued = queue_alert(con, alert)
            memory.remember(
                con,
                unit_name,
                receipt.key,
                files=[f.key for f in new_files],
                new_problems=[(p.key, p.kind, p.summary(), p.source_file) for p in fresh],
                resolved=gone,
                when=now,
            )
            written.append(
                {
                    "unit_name": unit_name,
                    "receipt_key": receipt.key,
                    "path": str(path),
                    "queued": queued,
                    "emailed": bool(recipients),
                    "files": len(new_files),
                    "open": len(receipt.open),
                    "resolved": len(gone),
                }
            )
            log.info(
                "receipt %s: %d file(s), %d open, %d resolved",
                receipt.key,
                len(new_files),
                len(receipt.open),
                len(gone),
            )
        delivery = deliver_pending(settings, con=con, send=send)
    return {"receipts": written, **delivery}
