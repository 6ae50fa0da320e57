"""Excel files we hand out (alert attachments, analysts' exports): every cell inert.

Strings are written as strings (xlsxwriter ``strings_to_formulas=False``, no URL or number
guessing), and text starting with ``= + - @`` or a tab/CR/LF gets a leading apostrophe (OWASP
CSV-injection rule), so ``=HYPERLINK(...)`` typed by a clerk stays text in Excel and WPS and in
any CSV someone saves from the workbook.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

RISKY_LEADING = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def inert_text(value: str) -> str:
    """OWASP: prefix text that a spreadsheet could read as a formula with an apostrophe."""
    return "'" + value if value.startswith(RISKY_LEADING) else value


@dataclass
class Sheet:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for spec in sheets:
        _write_sheet(workbook.add_worksheet(spec.name[:31]), spec, bold, wrap)
    workbook.close()
    return buffer.getvalue()


def _write_sheet(sheet, spec: Sheet, bold, wrap) -> None:
    headers = list(spec.headers)
    for col, title in enumerate(headers):
        sheet.write_string(0, col, title, bold)
    widths = [max(6, len(h) * 2) for h in headers]
    for r, row in enumerate(spec.rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                sheet.write_blank(r, c, None)
            elif isinstance(value, bool):
                sheet.write_string(r, c, "是" if value else "否")
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(r, c, float(value))
            elif isinstance(value, (date, datetime)):
                sheet.write_string(r, c, value.isoformat()[:10])
            else:
                text = inert_text(str(value))
                sheet.write_string(r, c, text, wrap)
                widths[c] = min(80, max(widths[c], len(text) + 2))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    if headers:
        sheet.autofilter(0, 0, 0, len(headers) - 1)
