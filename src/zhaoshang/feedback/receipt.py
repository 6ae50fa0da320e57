"""One unit's receipt (回执): the workbook, the HTML and text bodies, and its outbox entry.

The workbook is one printable sheet of sections; every text is written as a string (never a
formula, ``safe_xlsx.inert_text``), so a clerk's ``=HYPERLINK(...)`` in a file name stays text.
HTML comes from a Jinja2 template with autoescape on.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2

from zhaoshang.alerts.compose import header_safe
from zhaoshang.feedback.findings import FileReceived, Problem
from zhaoshang.ledger.outbox import Alert
from zhaoshang.ledger.receipts import Told
from zhaoshang.safe_xlsx import inert_text

TEMPLATES_DIR = Path(__file__).with_name("templates")
KIND_ZH = {"row": "退回的行", "refused": "拒收的文件", "missing": "缺报", "finding": "数据问题"}
KIND_ORDER = {"refused": 0, "row": 1, "finding": 2, "missing": 3}


def receipt_key(unit_name: str, run_id: str) -> str:
    """One receipt per unit per night: a rerun of the night composes the same key."""
    digest = hashlib.sha256(f"{unit_name}|{run_id}".encode()).hexdigest()[:12].upper()
    return f"HZ-{digest}"


@dataclass
class Resolved:
    summary: str
    how: str


@dataclass
class Receipt:
    unit_name: str
    year: int
    month: int
    key: str
    created_at: datetime
    files: list[FileReceived]
    open: list[tuple[Problem, Told | None]]
    resolved: list[Resolved] = field(default_factory=list)

    @property
    def period(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def file_name(self) -> str:
        return f"{self.year}年{self.month}月_回执.xlsx"

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files if f.status != "rejected")

    def subject(self) -> str:
        return header_safe(
            f"【招商引资回执】{self.unit_name} {self.period}：收到{len(self.files)}份文件，"
            f"入库{self.rows_loaded}行，待更正{len(self.open)}项，已解决{len(self.resolved)}项"
            f"（回执编号 {self.key}）"
        )


def _place(p: Problem) -> str:
    parts = [
        p.period,
        f"文件“{p.source_file}”" if p.source_file else "",
        f"工作表“{p.sheet}”" if p.sheet else "",
        f"第{p.row_number}行" if p.row_number else "",
        p.column or "",
    ]
    return " ".join(x for x in parts if x)


def _state(told: Told | None) -> tuple[str, bool]:
    if told is None or told.resolved_at is not None:
        return "新发现", True
    return f"仍未更正（{told.first_told_at:%Y-%m-%d}已告知）", False


def _context(receipt: Receipt) -> dict:
    open_rows = []
    for problem, told in receipt.open:
        state, is_new = _state(told)
        open_rows.append(
            {
                "kind_zh": KIND_ZH[problem.kind],
                "place": _place(problem),
                "value": problem.value,
                "reason": problem.reason,
                "fix": problem.fix,
                "state": state,
                "is_new": is_new,
            }
        )
    files = [
        {
            "source_file": f.source_file,
            "period": f.period,
            "received": f"{f.received_at:%Y-%m-%d %H:%M}" if f.received_at else "",
            "status": f.status,
            "status_zh": f.status_zh + (f"：{f.reason}" if f.reason else ""),
            "rows_read": f.rows_read,
            "rows_loaded": f.rows_loaded,
            "rows_quarantined": f.rows_quarantined,
        }
        for f in receipt.files
    ]
    return {
        "subject": receipt.subject(),
        "unit_name": receipt.unit_name,
        "receipt_key": receipt.key,
        "created": f"{receipt.created_at:%Y-%m-%d %H:%M}",
        "files": files,
        "rows_loaded": receipt.rows_loaded,
        "open": open_rows,
        "resolved": [{"summary": r.summary, "how": r.how} for r in receipt.resolved],
        "attachment_name": receipt.file_name,
    }


def bodies(receipt: Receipt) -> tuple[str, str]:
    context = _context(receipt)
    loader = jinja2.FileSystemLoader(TEMPLATES_DIR)
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    text = jinja2.Environment(
        loader=loader, autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=False
    )
    return (
        text.get_template("receipt.txt.j2").render(context),
        html.get_template("receipt.html.j2").render(context),
    )


def workbook(receipt: Receipt) -> bytes:
    """The receipt as one A4-landscape sheet: summary, files, problems to correct, resolved."""
    import xlsxwriter

    context = _context(receipt)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet("回执")
    title = book.add_format({"bold": True, "font_size": 15})
    h2 = book.add_format({"bold": True, "font_size": 11, "bg_color": "#DDEBF7"})
    head = book.add_format({"bold": True, "border": 1, "bg_color": "#F2F2F2", "text_wrap": True})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    new = book.add_format(
        {"border": 1, "text_wrap": True, "valign": "top", "font_color": "#C00000"}
    )
    good = book.add_format(
        {"border": 1, "text_wrap": True, "valign": "top", "font_color": "#2E7D32"}
    )
    plain = book.add_format({"text_wrap": True, "valign": "top"})
    widths = (6, 12, 40, 16, 36, 36, 18)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    last_col = len(widths) - 1

    lines: dict[int, int] = {}

    def text(r: int, c: int, value: object, fmt=cell, width: float | None = None) -> None:
        if isinstance(value, int):
            sheet.write_number(r, c, value, fmt)
            return
        value = inert_text("" if value is None else str(value))
        sheet.write_string(r, c, value, fmt)
        # LibreOffice and WPS do not grow wrapped rows by themselves: size them (CJK ~2 units).
        room = width or widths[c]
        needed = -(-sum(2 if ord(ch) > 0x2E7F else 1 for ch in value) // max(int(room * 0.85), 1))
        lines[r] = max(lines.get(r, 1), needed)

    def line(r: int, value: str, fmt=plain) -> None:
        sheet.merge_range(r, 0, r, last_col, "", fmt)
        text(r, 0, value, fmt, width=sum(widths))

    row = 0
    line(row, f"{receipt.unit_name} 招商引资月报回执（{receipt.period}）", title)
    row += 1
    line(
        row,
        f"回执编号 {receipt.key}；生成时间 {context['created']}。本次收到文件 {len(receipt.files)} 份，"
        f"入库 {receipt.rows_loaded} 行；需要更正 {len(receipt.open)} 项；已解决 {len(receipt.resolved)} 项。",
    )
    row += 2
    line(row, "一、收到的文件", h2)
    row += 1
    for c, h in enumerate(("#", "报告期", "文件", "收到时间", "状态", "读取/入库/退回行数")):
        text(row, c, h, head)
    row += 1
    for i, f in enumerate(context["files"], start=1):
        counts = (
            ""
            if f["status"] == "rejected"
            else f"{f['rows_read']}/{f['rows_loaded']}/{f['rows_quarantined']}"
        )
        for c, v in enumerate(
            (i, f["period"], f["source_file"], f["received"], f["status_zh"], counts)
        ):
            text(row, c, v)
        row += 1
    if not context["files"]:
        line(row, "（本次没有新收到的文件）")
        row += 1
    row += 1
    line(row, "二、需要更正的问题", h2)
    row += 1
    for c, h in enumerate(("#", "类别", "位置", "填写的内容", "问题", "如何更正", "状态")):
        text(row, c, h, head)
    row += 1
    for i, p in enumerate(context["open"], start=1):
        values = (i, p["kind_zh"], p["place"], p["value"], p["reason"], p["fix"], p["state"])
        for c, v in enumerate(values):
            text(row, c, v, new if (c == 6 and p["is_new"]) else cell)
        row += 1
    if not context["open"]:
        line(row, "没有需要更正的问题。")
        row += 1
    if context["resolved"]:
        row += 1
        line(row, "三、已解决的问题", h2)
        row += 1
        text(row, 0, "#", head)
        sheet.merge_range(row, 1, row, 4, "", head)
        text(row, 1, "问题", head)
        sheet.merge_range(row, 5, row, last_col, "", head)
        text(row, 5, "结果", head)
        row += 1
        for i, r in enumerate(context["resolved"], start=1):
            text(row, 0, i)
            sheet.merge_range(row, 1, row, 4, "", cell)
            text(row, 1, r["summary"], width=sum(widths[1:5]))
            sheet.merge_range(row, 5, row, last_col, "", good)
            text(row, 5, r["how"], good, width=sum(widths[5:]))
            row += 1
    row += 1
    line(row, "更正后请重新报送整月的报表（以填报日期最晚的一份为准）；如有疑问请联系县招商局。")
    for r, count in lines.items():
        if count > 1:
            sheet.set_row(r, 15 * count)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.set_footer("&C第 &P 页，共 &N 页")
    book.close()
    return buffer.getvalue()


def to_alert(receipt: Receipt, recipients: tuple[str, ...], run_id: str) -> Alert:
    body_text, body_html = bodies(receipt)
    return Alert(
        alert_key=receipt.key,
        kind="receipt",
        subject=receipt.subject(),
        body_text=body_text,
        body_html=body_html,
        recipients=recipients,
        run_id=run_id,
        attachment=workbook(receipt),
        attachment_name=receipt.file_name,
        created_at=receipt.created_at,
    )
