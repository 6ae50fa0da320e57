"""Deliver queued alerts: SMTP when configured, else a file in ``<output_dir>/alerts/``.

``deliver_pending`` never raises for a delivery problem: an SMTP outage leaves the alert queued
with ``attempts`` and ``last_error``, and the next call sends it; ``sent_at`` is set only after
the server accepted the message. A copy (``<alert_key>.eml`` + ``.html``) is always written to the
output directory ("alert copies", DATA_CONTRACT §1).

The transport is a plain callable ``send(message, recipients) -> refused``; the default speaks
SMTP with ``Settings.smtp()``. An Airflow deployment that keeps its SMTP credentials in an Airflow
connection can pass its own callable from the DAG layer; this module never imports Airflow.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import duckdb

from zhaoshang.alerts.compose import build_email
from zhaoshang.errors import mask_pii
from zhaoshang.ledger import outbox
from zhaoshang.recovery import connect_waiting
from zhaoshang.settings import Settings, SmtpSettings

log = logging.getLogger(__name__)

Transport = Callable[[EmailMessage, list[str]], dict]
SMTP_TIMEOUT_S = 30


def smtp_transport(smtp: SmtpSettings) -> Transport:
    """Send with smtplib; returns the recipients the server refused (a partial delivery)."""

    def send(message: EmailMessage, recipients: list[str]) -> dict:
        if smtp.use_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S)
        with client:
            client.ehlo()
            if smtp.starttls and not smtp.use_ssl:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            return client.send_message(message, from_addr=smtp.sender, to_addrs=recipients)

    return send


def alerts_dir(settings: Settings) -> Path:
    return settings.output_dir / "alerts"


def write_copy(alert: outbox.Alert, message: EmailMessage, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)  # for the inspection team only
    eml = directory / f"{alert.alert_key}.eml"
    html = directory / f"{alert.alert_key}.html"
    for path in (eml, html):
        path.touch(mode=0o600)
        path.chmod(0o600)
    eml.write_bytes(message.as_bytes())
    html.write_text(alert.body_html, encoding="utf-8")
    return eml


def _error_text(error: BaseException) -> str:
    """What goes into last_error: type and message, PII-masked, short, never credentials."""
    text = f"{type(error).__name__}: {error}"
    return mask_pii(text)[:500]


def deliver_pending(
    settings: Settings,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    send: Transport | None = None,
) -> dict:
    """Try every undelivered alert once; return counts (JSON-safe), never raise for SMTP."""
    own = con is None
    if con is None:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        con = connect_waiting(settings.ledger_path, 0)
    db: duckdb.DuckDBPyConnection = con
    try:
        smtp = settings.smtp()
        sender = smtp.sender if smtp else settings.alert_from
        transport = send or (smtp_transport(smtp) if smtp else None)
        counts = {"sent_smtp": 0, "written_to_file": 0, "failed": 0}
        errors: list[str] = []
        for alert in outbox.pending(db):
            message = build_email(alert, sender)
            copy = write_copy(alert, message, alerts_dir(settings))
            if transport is None or not alert.recipients:
                outbox.mark_sent(db, alert.alert_key, f"file:{copy}")
                counts["written_to_file"] += 1
                log.info("alert %s written to %s (no SMTP or no recipients)", alert.alert_key, copy)
                continue
            try:
                refused = transport(message, list(alert.recipients)) or {}
            except (OSError, smtplib.SMTPException) as error:
                note = _error_text(error)
                outbox.mark_failed(db, alert.alert_key, note)
                counts["failed"] += 1
                errors.append(f"{alert.alert_key}: {note}")
                log.warning("alert %s not sent, stays queued: %s", alert.alert_key, note)
                continue
            sent_note = (
                mask_pii("refused: " + ", ".join(f"{k} {v}" for k, v in refused.items()))[:500]
                if refused
                else None
            )
            outbox.mark_sent(db, alert.alert_key, "smtp", sent_note)
            counts["sent_smtp"] += 1
            log.info(
                "alert %s sent to %d recipient(s)",
                alert.alert_key,
                len(alert.recipients) - len(refused),
            )
        remaining = len(outbox.pending(db))
        return {
            **counts,
            "pending": remaining,
            "oldest_unsent_age_s": outbox.oldest_unsent_age_s(db),
            "errors": errors,
            "status": "ok" if remaining == 0 else "pending",
        }
    finally:
        if own:
            db.close()
