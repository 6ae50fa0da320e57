"""Compose the inspection team's e-mails: Chinese HTML + plain text, the workbook, the headers.

HTML comes from Jinja2 templates with ``autoescape=True`` (a ``<script>`` in a project name is
shown as text), headers only through ``email.message.EmailMessage``, and the subject has no
CR/LF. Every free-text value is PII-masked before it is put into a message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

import jinja2

from zhaoshang import reference
from zhaoshang.alerts.intake import SHEET_HEADERS as INTAKE_HEADERS
from zhaoshang.alerts.intake import SHEET_NAME as INTAKE_SHEET
from zhaoshang.alerts.intake import IntakeReport
from zhaoshang.alerts.since import SinceLastNight
from zhaoshang.errors import mask_pii
from zhaoshang.ledger.outbox import Alert
from zhaoshang.quality.rules import SEVERITY_RANK, SEVERITY_ZH, load_rules
from zhaoshang.safe_xlsx import Sheet, workbook_bytes

TEMPLATES_DIR = Path(__file__).with_name("templates")
DETAIL_LIMIT = 200  # rows listed in the body; the workbook has all of them
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# The flag sheet's columns and headings: export_columns.csv (the one owner of output headings).
FLAG_SHEET = reference.sheet_name("alert_flags")
FLAG_COLUMNS = reference.headings("alert_flags")
WORKBOOK_HEADERS = tuple(label for _, label in FLAG_COLUMNS)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _html_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _text_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def header_safe(text: str, limit: int = 200) -> str:
    """One line for a header: control characters (CR, LF, ...) become spaces."""
    return _CONTROL.sub(" ", text).strip()[:limit]


def _clean(value: object) -> str:
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return mask_pii(str(value))


def _int_or_none(value: object) -> int | None:
    text = _clean(value)
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def alert_key_for(flag_keys: Iterable[str], prefix: str = "ZS") -> str:
    """Same set of new flags -> same key: a rerun queues nothing twice; recipients can dedupe."""
    digest = hashlib.sha256(",".join(sorted(set(flag_keys))).encode()).hexdigest()[:12].upper()
    return f"{prefix}-{digest}"


def _periods(flags: list[dict]) -> str:
    months = sorted({(f["year"], f["month"]) for f in flags if f["year"] and f["month"]})
    if not months:
        return ""
    by_year: dict[int, list[int]] = {}
    for year, month in months:
        by_year.setdefault(year, []).append(month)
    parts = []
    for year, ms in by_year.items():
        parts.append(f"{year}年{ms[0]}月" if len(ms) == 1 else f"{year}年{ms[0]}-{ms[-1]}月")
    return "、".join(parts)


def compose_flags_alert(
    flags: list[dict],
    *,
    run_id: str,
    recipients: tuple[str, ...],
    data_docs: str | None = None,
    intake: IntakeReport | None = None,
    since: SinceLastNight | None = None,
) -> Alert:
    """One digest for a run's new flags (dicts with the audit.dq_flags columns incl. flag_key),
    with the "since last night" section when something escalated or cleared and, when given,
    the night's refused files and quarantined rows (its own section and sheet)."""
    rules = load_rules()
    rule_zh = {r.rule: r.rule_zh for r in rules}
    order = {r.rule: i for i, r in enumerate(rules)}
    rows: list[dict[str, Any]] = []
    for f in flags:
        rule = _clean(f.get("rule"))
        severity = _clean(f.get("severity")) or "medium"
        year, month = _int_or_none(f.get("year")), _int_or_none(f.get("month"))
        rows.append(
            {
                "flag_key": _clean(f.get("flag_key")),
                "rule": rule,
                "rule_zh": rule_zh.get(rule, rule),
                "severity": severity,
                "severity_zh": SEVERITY_ZH.get(severity, severity),
                "unit_name": _clean(f.get("unit_name")) or "（单位不明）",
                "year": year,
                "month": month,
                "period": f"{year}年{month}月" if year and month else (f"{year}年" if year else ""),
                "project_name": _clean(f.get("project_name")),
                "source_file": _clean(f.get("source_file")),
                "sheet": _clean(f.get("sheet")),
                "row_number": _int_or_none(f.get("row_number")),
                # evidence was built PII-safe by zhaoshang.quality; masking it again would mangle
                # an all-digit USCC that the inspector needs
                "evidence": "" if f.get("evidence") is None else str(f.get("evidence")),
            }
        )
    rows.sort(
        key=lambda r: (
            r["unit_name"],
            order.get(r["rule"], 99),
            -SEVERITY_RANK.get(r["severity"], 0),
            r["year"] or 0,
            r["month"] or 0,
            r["source_file"],
            r["row_number"] or 0,
        )
    )
    total = len(rows)
    rule_counts: dict[str, int] = {}
    unit_counts: dict[str, dict[str, int]] = {}
    for r in rows:
        rule_counts[r["rule"]] = rule_counts.get(r["rule"], 0) + 1
        unit_counts.setdefault(r["unit_name"], {})
        unit_counts[r["unit_name"]][r["rule"]] = unit_counts[r["unit_name"]].get(r["rule"], 0) + 1
    by_rule = [
        {"rule": k, "rule_zh": rule_zh.get(k, k), "count": n}
        for k, n in sorted(rule_counts.items(), key=lambda kv: order.get(kv[0], 99))
    ]
    by_unit = [
        {
            "unit_name": unit,
            "total": sum(counts.values()),
            "rules": [
                {"rule": k, "rule_zh": rule_zh.get(k, k), "count": n}
                for k, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 99))
            ],
        }
        for unit, counts in sorted(
            unit_counts.items(), key=lambda uc: (-sum(uc[1].values()), uc[0])
        )
    ]
    alert_key = alert_key_for(
        [
            *(r["flag_key"] for r in rows),
            *(intake.keys() if intake else ()),
            *(since.markers if since else ()),
        ]
    )
    subject = header_safe(_digest_subject(total, by_rule, intake, alert_key, since))
    attachment_name = (
        f"疑点清单_{alert_key}.xlsx" if total or not intake else f"拒收与隔离清单_{alert_key}.xlsx"
    )
    context = {
        "subject": subject,
        "run_id": run_id,
        "total": total,
        "periods": _periods(rows),
        "by_rule": by_rule,
        "by_unit": by_unit,
        "details": rows[:DETAIL_LIMIT],
        "truncated": total > DETAIL_LIMIT,
        "attachment_name": attachment_name,
        "alert_key": alert_key,
        "data_docs": data_docs,
        "since": since.context() if since else None,
        "web_link": since.link("/flags") if since is not None else None,
        "intake": intake.context() if intake and (intake.has_problems or intake.alarming) else None,
    }
    flag_sheet = Sheet(
        FLAG_SHEET,
        WORKBOOK_HEADERS,
        [tuple(r[column] for column, _ in FLAG_COLUMNS) for r in rows],
    )
    sheets = [flag_sheet] if total or not intake else []
    if intake and intake.has_problems:
        sheets.append(intake_sheet(intake))
    workbook = workbook_bytes(sheets)
    return Alert(
        alert_key=alert_key,
        kind="flags",
        subject=subject,
        body_text=_text_env().get_template("flags.txt.j2").render(context),
        body_html=_html_env().get_template("flags.html.j2").render(context),
        recipients=recipients,
        run_id=run_id,
        attachment=workbook,
        attachment_name=attachment_name,
    )


def intake_sheet(intake: IntakeReport) -> Sheet:
    """The attachment sheet listing every refused file and quarantined row of the night."""
    return Sheet(INTAKE_SHEET, INTAKE_HEADERS, intake.sheet_rows())


def _digest_subject(
    total: int,
    by_rule: list[dict],
    intake: IntakeReport | None,
    alert_key: str,
    since: SinceLastNight | None = None,
) -> str:
    intake_part = (
        intake.headline_zh() if intake and (intake.has_problems or intake.alarming) else ""
    )
    changed = f"升级{len(since.escalated)}条、消除{len(since.cleared)}条" if since else ""
    if intake and intake.alarming:
        return f"【招商引资数据仓库】警告：{intake_part}（告警编号 {alert_key}）"
    if not total and not changed:
        return f"【招商引资数据仓库】{intake_part}（告警编号 {alert_key}）"
    summary = "、".join(f"{r['rule_zh']}{r['count']}" for r in by_rule)
    parts = [f"新增{total}条" + (f"：{summary}" if summary else ""), changed, intake_part]
    return f"【招商引资疑点】{'；'.join(p for p in parts if p)}（告警编号 {alert_key}）"


def compose_failure_notice(
    *,
    dag_id: str,
    run_id: str,
    task_id: str | None,
    error: str | None,
    recipients: tuple[str, ...],
    when: datetime | None = None,
    intake: IntakeReport | None = None,
) -> Alert:
    """The DAG-failure notice for the same team (one per failed run), with what the night's
    loader refused when it got that far."""
    when = when or datetime.now()
    alert_key = "ZS-FAIL-" + hashlib.sha256(f"{dag_id}|{run_id}".encode()).hexdigest()[:10].upper()
    error_text = mask_pii(error or "")
    if len(error_text) > 2000:
        error_text = error_text[:2000] + "…"
    subject = header_safe(
        f"【招商引资数据仓库】夜间作业失败：{dag_id} {run_id}（告警编号 {alert_key}）"
    )
    context = {
        "subject": subject,
        "dag_id": _clean(dag_id),
        "run_id": _clean(run_id),
        "task_id": _clean(task_id),
        "error": error_text,
        "when": when.strftime("%Y-%m-%d %H:%M:%S"),
        "alert_key": alert_key,
        "intake": intake.context() if intake and (intake.has_problems or intake.alarming) else None,
    }
    return Alert(
        alert_key=alert_key,
        kind="failure",
        subject=subject,
        body_text=_text_env().get_template("failure.txt.j2").render(context),
        body_html=_html_env().get_template("failure.html.j2").render(context),
        recipients=recipients,
        run_id=run_id,
        attachment=workbook_bytes([intake_sheet(intake)])
        if intake and intake.has_problems
        else None,
        attachment_name=f"拒收与隔离清单_{alert_key}.xlsx"
        if intake and intake.has_problems
        else None,
    )


def build_email(alert: Alert, sender: str) -> EmailMessage:
    """The MIME message for an outbox entry (headers set only through EmailMessage)."""
    message = EmailMessage()
    message["Subject"] = header_safe(alert.subject, limit=300)
    message["From"] = sender
    message["To"] = ", ".join(alert.recipients) if alert.recipients else "undisclosed-recipients:;"
    message["Date"] = formatdate(localtime=True)
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "zhaoshang.local"
    message["Message-ID"] = f"<{alert.alert_key}@{domain}>"
    message["X-Zhaoshang-Alert-Key"] = alert.alert_key
    message.set_content(alert.body_text)
    message.add_alternative(alert.body_html, subtype="html")
    if alert.attachment:
        message.add_attachment(
            alert.attachment,
            maintype=XLSX_TYPE[0],
            subtype=XLSX_TYPE[1],
            filename=alert.attachment_name,
        )
    return message
