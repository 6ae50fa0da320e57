"""The alert outbox in the ledger: queue first, deliver later, mark sent only on success.

The storage of ``zhaoshang.alerts`` and ``zhaoshang.feedback``; the tables are in ``schema``.

``alert_outbox`` holds each composed message (subject, text, HTML, the flagged-rows workbook,
recipients) under a unique ``alert_key``; ``alerted_flags`` remembers which flags an alert
carried, so a flag is announced once. Queuing and remembering happen in one transaction; sending
is a separate step that records attempts and the last error, so an SMTP outage leaves the alert
queued and the next run delivers it (RELIABILITY §3 rule 9).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from zhaoshang.ledger.schema import OUTBOX_DDL, execute_all
from zhaoshang.queries import scalar


@dataclass
class Alert:
    """One e-mail as queued: everything needed to send it again later, byte for byte."""

    alert_key: str
    kind: str  # 'flags' | 'failure'
    subject: str
    body_text: str
    body_html: str
    recipients: tuple[str, ...]
    run_id: str | None = None
    attachment: bytes | None = None
    attachment_name: str | None = None
    created_at: datetime = field(default_factory=datetime.now)
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    delivered_to: str | None = None


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    execute_all(con, OUTBOX_DDL)


def alerted_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    ensure_tables(con)
    return {r[0] for r in con.execute("select flag_key from alerted_flags").fetchall()}


def queue_alert(
    con: duckdb.DuckDBPyConnection, alert: Alert, flag_keys: list[str] | tuple[str, ...] = ()
) -> bool:
    """Put ``alert`` in the outbox and remember its flags, atomically.

    Returns False (and changes nothing) when an alert with this key is already queued or sent:
    a rerun of the same night composes the same key and must not mail twice.
    """
    ensure_tables(con)
    con.execute("begin")
    try:
        exists = scalar(
            con.execute("select count(*) from alert_outbox where alert_key = ?", [alert.alert_key])
        )
        if exists:
            con.execute("rollback")
            return False
        con.execute(
            """insert into alert_outbox (alert_key, kind, run_id, created_at, subject, body_text,
                   body_html, attachment, attachment_name, recipients, attempts)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)""",
            [
                alert.alert_key,
                alert.kind,
                alert.run_id,
                alert.created_at,
                alert.subject,
                alert.body_text,
                alert.body_html,
                alert.attachment,
                alert.attachment_name,
                ",".join(alert.recipients),
            ],
        )
        if flag_keys:
            con.executemany(
                "insert or ignore into alerted_flags (flag_key, alert_key) values (?, ?)",
                [(k, alert.alert_key) for k in dict.fromkeys(flag_keys)],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return True


def pending(con: duckdb.DuckDBPyConnection) -> list[Alert]:
    """Queued alerts not yet delivered, oldest first."""
    ensure_tables(con)
    rows = con.execute(
        """select alert_key, kind, subject, body_text, body_html, recipients, run_id, attachment,
                  attachment_name, created_at, attempts, last_error
           from alert_outbox where sent_at is null order by created_at, alert_key"""
    ).fetchall()
    return [
        Alert(
            alert_key=r[0],
            kind=r[1],
            subject=r[2],
            body_text=r[3],
            body_html=r[4],
            recipients=tuple(a for a in (r[5] or "").split(",") if a),
            run_id=r[6],
            attachment=bytes(r[7]) if r[7] is not None else None,
            attachment_name=r[8],
            created_at=r[9],
            attempts=r[10],
            last_error=r[11],
        )
        for r in rows
    ]


def mark_sent(
    con: duckdb.DuckDBPyConnection, alert_key: str, delivered_to: str, note: str | None = None
) -> None:
    con.execute(
        """update alert_outbox set sent_at = ?, delivered_to = ?, attempts = attempts + 1,
                  last_attempt_at = ?, last_error = ?
           where alert_key = ? and sent_at is null""",
        [datetime.now(), delivered_to, datetime.now(), note, alert_key],
    )


def mark_failed(con: duckdb.DuckDBPyConnection, alert_key: str, error: str) -> None:
    con.execute(
        """update alert_outbox set attempts = attempts + 1, last_error = ?, last_attempt_at = ?
           where alert_key = ? and sent_at is null""",
        [error, datetime.now(), alert_key],
    )


def oldest_unsent_age_s(con: duckdb.DuckDBPyConnection) -> float | None:
    """Seconds since the oldest undelivered alert was queued (the M13 outbox-age figure)."""
    ensure_tables(con)
    oldest = scalar(con.execute("select min(created_at) from alert_outbox where sent_at is null"))
    return None if oldest is None else (datetime.now() - oldest).total_seconds()
