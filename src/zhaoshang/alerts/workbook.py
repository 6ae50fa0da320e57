"""The flagged-rows workbook attached to an alert: every cell inert, whatever a clerk typed.

Strings are written as strings (xlsxwriter ``strings_to_formulas=False``, no URL or number
guessing), and text starting with ``= + - @`` or a tab/CR/LF gets a leading apostrophe (OWASP
CSV-injection rule), so ``=HYPERLINK(...)`` in a project name stays text in Excel and WPS and in
any CSV someone saves from the workbook.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

RISKY_LEADING = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def inert_text(value: str) -> str:
    """OWASP: prefix text that a spreadsheet could read as a formula with an apostrophe."""
    return "'" + value if value.startswith(RISKY_LEADING) else value


def flagged_rows_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[object]], sheet_name: str = "疑点清单"
) -> bytes:
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
    sheet = workbook.add_worksheet(sheet_name)
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    for col, title in enumerate(headers):
        sheet.write_string(0, col, title, bold)
    widths = [max(6, len(h) * 2) for h in headers]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                sheet.write_blank(r, c, None)
            elif isinstance(value, bool):
                sheet.write_string(r, c, "是" if value else "否")
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value)
            else:
                text = inert_text(str(value))
                sheet.write_string(r, c, text, wrap)
                widths[c] = min(80, max(widths[c], len(text) + 2))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    if headers:
        sheet.autofilter(0, 0, 0, len(headers) - 1)
    workbook.close()
    return buffer.getvalue()
