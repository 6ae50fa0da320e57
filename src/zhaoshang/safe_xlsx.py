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
from typing import Any

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
    widths = [max(6, display_width(h) + 2) for h in headers]
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
                widths[c] = min(60, max(widths[c], display_width(text) + 2))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    if headers:
        sheet.autofilter(0, 0, 0, len(headers) - 1)
    # Printed: A4 landscape, the header on every page (too many columns to fit one page wide).
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.repeat_rows(0)


# ---------------------------------------------------------------- workbooks fit to print

WAN_FORMAT = "#,##0.00"
PCT_FORMAT = "0.0"
COUNT_FORMAT = "#,##0"
MONTH_FORMAT = 'yyyy"年"m"月"'
DATE_FORMAT = "yyyy-mm-dd"


@dataclass
class PrintColumn:
    header: str
    number_format: str | None = None  # None: text


@dataclass
class PrintSheet:
    """A sheet with title, as-of line, headers, rows and an optional 合计 row, set up for A4."""

    name: str
    title: str
    as_of: str
    columns: Sequence[PrintColumn]
    rows: Sequence[Sequence[object]]
    totals: Sequence[object] | None = None  # the 合计 row's values (first cell's label included)


HEADER_ROW = 2  # 0: title, 1: as-of line, 2: headings, 3+: data


def display_width(text: str) -> int:
    """Columns a text needs in Excel: CJK and full-width characters count double."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_workbook_bytes(sheets: Sequence[PrintSheet]) -> bytes:
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
    base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
    formats: dict[object, Any] = {
        "title": workbook.add_format({"bold": True, "font_size": 14, "font_name": "黑体"}),
        "as_of": workbook.add_format({"font_size": 9, "font_color": "#595959"}),
        "header": workbook.add_format(
            base | {"bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center"}
        ),
    }

    def cell_format(number_format: str | None, total: bool):
        key = (number_format, total)
        if key not in formats:
            spec = dict(base)
            if number_format:
                spec["num_format"] = number_format
            else:
                spec["text_wrap"] = True
            if total:
                spec |= {"bold": True, "bg_color": "#F2F2F2", "top": 2}
            formats[key] = workbook.add_format(spec)
        return formats[key]

    for spec in sheets:
        sheet = workbook.add_worksheet(spec.name[:31])
        _write_print_sheet(sheet, spec, formats, cell_format)
    workbook.close()
    return buffer.getvalue()


def _write_value(sheet, row: int, col: int, value: object, fmt) -> int:
    """Write one inert cell; returns the width its text needs."""
    if value is None:
        sheet.write_blank(row, col, None, fmt)
        return 0
    if isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", fmt)
        return 4
    if isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value), fmt)
        return len(f"{float(value):,.2f}")
    if isinstance(value, datetime | date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
        return 10
    text = inert_text(str(value))
    sheet.write_string(row, col, text, fmt)
    return display_width(text)


def _write_print_sheet(sheet, spec: PrintSheet, formats, cell_format) -> None:
    ncols = len(spec.columns)
    sheet.write_string(0, 0, inert_text(spec.title), formats["title"])
    sheet.write_string(1, 0, inert_text(spec.as_of), formats["as_of"])
    sheet.set_row(0, 24)
    widths = []
    for c, column in enumerate(spec.columns):
        sheet.write_string(HEADER_ROW, c, column.header, formats["header"])
        # headings wrap onto two lines, so half their width is enough
        widths.append(max(6, (display_width(column.header) + 1) // 2 + 1))
    r = HEADER_ROW
    for r, row in enumerate(spec.rows, start=HEADER_ROW + 1):
        for c, value in enumerate(row):
            needed = _write_value(
                sheet, r, c, value, cell_format(spec.columns[c].number_format, False)
            )
            widths[c] = max(widths[c], min(48, needed + 2))
    last = r
    if spec.totals is not None:
        last = r + 1
        for c, value in enumerate(spec.totals):
            _write_value(sheet, last, c, value, cell_format(spec.columns[c].number_format, True))
    for c, width in enumerate(widths):
        sheet.set_column(c, c, width)
    sheet.set_row(HEADER_ROW, 30)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    if ncols:
        sheet.autofilter(
            HEADER_ROW, 0, max(last - (spec.totals is not None), HEADER_ROW), ncols - 1
        )
        sheet.print_area(0, 0, last, ncols - 1)
    sheet.set_paper(9)  # A4
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # fit to width, as many pages down as needed
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    sheet.set_header(f"&L&9{spec.title.replace('&', '&&')}")
    sheet.set_footer("&C&9第 &P 页，共 &N 页")
