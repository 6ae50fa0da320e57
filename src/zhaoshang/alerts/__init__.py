"""Alerts for the inspection team (督查组): new flags after each run, and DAG failures.

Core API (no Airflow imports):

- ``run_after_publish(settings, run_id) -> dict`` — the nightly stage ``send_alerts``: new open
  flags of the published warehouse → one digest in the outbox → delivered. Never raises.
- ``queue_alert(con, alert, flag_keys) -> bool`` and ``deliver_pending(settings, con=, send=) -> dict``
  — the outbox in the ledger (``alert_outbox``, ``alerted_flags``).
- ``compose_flags_alert(flags, run_id=, recipients=)``, ``compose_failure_notice(...)``,
  ``build_email(alert, sender)`` — Chinese HTML + text, the xlsx attachment, ``EmailMessage``.
- ``notify_failure(settings, dag_id=, run_id=, task_id=, error=) -> dict`` — the DAG's
  ``on_failure_callback`` target. Never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb

from zhaoshang.alerts.compose import build_email, compose_failure_notice, compose_flags_alert
from zhaoshang.alerts.delivery import (
    Transport,
    alerts_dir,
    deliver_pending,
    smtp_transport,
    write_copy,
)
from zhaoshang.alerts.intake import IntakeReport, read_intake
from zhaoshang.alerts.since import read_changes, since_last_night
from zhaoshang.alerts.sources import open_flags, read_flags
from zhaoshang.errors import mask_pii
from zhaoshang.ledger.outbox import (
    Alert,
    alerted_keys,
    ensure_tables,
    queue_alert,
)
from zhaoshang.recovery import connect_waiting
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "Alert",
    "Transport",
    "build_email",
    "compose_failure_notice",
    "compose_flags_alert",
    "deliver_pending",
    "new_open_flags",
    "notify_failure",
    "queue_alert",
    "queue_new_flags",
    "run_after_publish",
    "smtp_transport",
]


def new_open_flags(
    con: duckdb.DuckDBPyConnection, settings: Settings, flags: list[dict]
) -> list[dict]:
    """Open flags (no decision) that no earlier alert carried."""
    already = alerted_keys(con)
    return [f for f in open_flags(flags) if f["flag_key"] not in already]


def queue_new_flags(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    flags: list[dict],
    changes: Sequence[dict] = (),
) -> str | None:
    """Queue one digest of the new open flags, tonight's escalated and cleared ones, and the
    night's refused files and quarantined rows; returns its alert key, or None if there is
    nothing to tell."""
    since = since_last_night(list(changes), 0, alerted_keys(con), settings.web_base_url)
    escalated_keys = {c["flag_key"] for c in since.escalated}
    new = [f for f in new_open_flags(con, settings, flags) if f["flag_key"] not in escalated_keys]
    since.new = len(new)
    intake = _night_intake(con, run_id)
    if not new and not since and not (intake and (intake.has_problems or intake.alarming)):
        return None
    docs = settings.output_dir / "data_docs" / "index.html"
    alert = compose_flags_alert(
        new,
        run_id=run_id,
        recipients=settings.alert_to,
        data_docs=str(docs) if docs.exists() else None,
        since=since if (since or settings.web_base_url) else None,
        intake=intake,
    )
    queue_alert(con, alert, [*(f["flag_key"] for f in new), *escalated_keys, *since.markers])
    return alert.alert_key


def _night_intake(con: duckdb.DuckDBPyConnection, run_id: str) -> IntakeReport | None:
    """The loader's refusals of this night; an unreadable record must not stop the alert."""
    try:
        return read_intake(con, run_id)
    except duckdb.Error:
        log.exception("the night's refused files could not be read for the e-mail")
        return None


def run_after_publish(settings: Settings, run_id: str, *, send: Transport | None = None) -> dict:
    """After publishing: alert new flags, then deliver everything pending. Returns a status."""
    try:
        # The inspection file has the flags' full evidence; the analysts' file is masked again.
        from zhaoshang.publish import full_path

        flags = read_flags(full_path(settings))
        changes = read_changes(full_path(settings))
        with connect_waiting(settings.ledger_path) as con:
            ensure_tables(con)
            queued = queue_new_flags(con, settings, run_id, flags, changes)
            delivery = deliver_pending(settings, con=con, send=send)
        return {"queued": queued, "flags_published": len(flags), **delivery}
    except Exception as error:  # alerts must never fail the data tasks
        log.exception("alerts failed")
        return {"status": "error", "error": mask_pii(f"{type(error).__name__}: {error}")[:500]}


def _failed_night_intake(settings: Settings, run_id: str) -> IntakeReport | None:
    """What the failed night's loader refused, if it got that far (read-only, best effort)."""
    from zhaoshang.pipeline import make_run_id

    if not settings.ledger_path.exists():
        return None
    try:
        with connect_waiting(settings.ledger_path, 0, read_only=True) as con:
            return read_intake(con, make_run_id(run_id))
    except duckdb.Error as exc:
        log.warning("refused files not read for the failure notice: %s", mask_pii(str(exc))[:300])
        return None


def notify_failure(
    settings: Settings,
    *,
    dag_id: str,
    run_id: str,
    task_id: str | None = None,
    error: str | None = None,
    send: Transport | None = None,
) -> dict:
    """Tell the inspection team a nightly run failed (outbox-backed; never raises).

    If the ledger cannot be opened (locked, damaged), the notice is still sent or written to a
    file directly, without the outbox.
    """
    try:
        alert = compose_failure_notice(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            error=error,
            recipients=settings.alert_to,
            intake=_failed_night_intake(settings, run_id),
        )
    except Exception as exc:
        log.exception("failure notice could not be composed")
        return {"status": "error", "error": mask_pii(str(exc))[:500]}
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        # Not waiting for a lock: a busy ledger sends the notice at once without the outbox.
        with connect_waiting(settings.ledger_path, 0) as con:
            queued = queue_alert(con, alert)
            delivery = deliver_pending(settings, con=con, send=send)
        return {"alert_key": alert.alert_key, "queued": queued, **delivery}
    except Exception as exc:
        log.warning("outbox unavailable for the failure notice: %s", mask_pii(str(exc))[:300])
        try:
            smtp = settings.smtp()
            message = build_email(alert, smtp.sender if smtp else settings.alert_from)
            copy = write_copy(alert, message, alerts_dir(settings))
            transport = send or (smtp_transport(smtp) if smtp else None)
            if transport and alert.recipients:
                transport(message, list(alert.recipients))
                return {"alert_key": alert.alert_key, "status": "sent_without_outbox"}
            return {
                "alert_key": alert.alert_key,
                "status": "written_without_outbox",
                "path": str(copy),
            }
        except Exception as last:
            log.exception("failure notice not delivered")
            return {
                "alert_key": alert.alert_key,
                "status": "error",
                "error": mask_pii(str(last))[:500],
            }
