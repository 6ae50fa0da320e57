"""Layout of the county form on one sheet: the 填报单位/报告期 line, and what each row below the header is.

The form as clerks fill it (DATA_CONTRACT §3): a title, a line such as
``填报单位：济阳镇      报告期：2021年3月      单位：万元`` (one cell or spread over several),
the header, the project rows with blank rows in between, 小计 rows, the unit's own 合计 row, and
footer lines (填表人：… 联系电话：…) whose text is personal data: it is looked at here to skip it
and to find a 填报日期, and is never stored, logged or put into a message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from zhaoshang.excel.values import (
    AmountUnit,
    CellError,
    invisible_chars,
    parse_text_date,
    parse_unit,
)
from zhaoshang.reference import normalize_key, normalize_text

# --------------------------------------------------------------------------------------------
# the 填报单位 / 报告期 / 单位 line

_UNIT_LABEL = r"填报单位(?:\s*\(\s*(?:盖章|公章|签章)\s*\))?"
_PERIOD_LABEL = r"(?:报告期间|报告期|报告时间|统计期间|统计期|统计时间|所属期间|所属期|报表期|所属月份|报告月份)"
_DATE_LABEL = r"(?:报告日期|填报日期|填表日期|填报时间|报送日期|制表日期)"
_AMOUNT_UNIT_LABEL = r"(?<!填报)(?<!报送)(?:金额|计量)?单位"
# Where a labelled value ends: a cell or line break, a wide gap, or the next label.
_STOP = (
    rf"(?=\t|\n| {{2,}}|{_UNIT_LABEL}|{_PERIOD_LABEL}|{_DATE_LABEL}|{_AMOUNT_UNIT_LABEL}\s*[:(]|$)"
)
_VALUE = r"\s*:?[ \t]*(?P<v>[^\t\n]*?)\s*"
_UNIT_RE = re.compile(_UNIT_LABEL + _VALUE + _STOP)
_PERIOD_RE = re.compile(_PERIOD_LABEL + _VALUE + _STOP)
_DATE_RE = re.compile(_DATE_LABEL + _VALUE + _STOP)
_AMOUNT_UNIT_RE = re.compile(_AMOUNT_UNIT_LABEL + r"\s*[:(]\s*(?P<v>万美元|亿元|万元|千元|元)")
_YEAR_MONTH = re.compile(r"(\d{4})\s*(?:年|[-./])\s*(\d{1,2})(?:\s*月份?)?")
_YEAR_MONTH_COMPACT = re.compile(r"(\d{4})(\d{2})")
_RANGE_AFTER = re.compile(r"\s*[-~至到—–]\s*\d")
_TITLE_PERIOD = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月")


@dataclass(frozen=True)
class Meta:
    unit_written: str | None
    year: int | None
    month: int | None
    report_date: date | None
    amount_unit: AmountUnit | None  # 单位：万元 / 元 on the sheet, for columns without their own
    period_error: tuple[str, str] | None  # 报告期 written but not a month: (zh, en) E_PERIOD detail


def cell_text(cell: object) -> str:
    """A meta-area cell as text; a date cell reads as 2021年3月1日 so that it parses as a period."""
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        return f"{cell.year}年{cell.month}月{cell.day}日"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell == "" else str(cell)


def lines_text(rows: list[list[object]]) -> str:
    """Rows as one text: cells separated by tabs, rows by newlines; NFKC, format chars removed."""
    lines = [
        "\t".join(t for t in (cell_text(c).strip() for c in row if c != "") if t) for row in rows
    ]
    text = invisible_chars().sub("", "\n".join(line for line in lines if line))
    return unicodedata.normalize("NFKC", text)


def sheet_amount_unit(above_header_text: str) -> AmountUnit | None:
    """单位：万元 / 单位：元 on the sheet (``above_header_text`` from ``lines_text``)."""
    m = _AMOUNT_UNIT_RE.search(above_header_text)
    return parse_unit(m.group("v")) if m else None


def read_meta(above_header_text: str, footer: list[list[object]]) -> Meta:
    """Unit, period, report date and amount unit from the rows above the header (and footer).

    ``above_header_text`` is ``lines_text`` of the rows above the header.
    """
    text = above_header_text
    unit = _first_value(_UNIT_RE, text)
    unit_written = normalize_text(re.sub(r"\((?:盖章|公章|签章)\)$", "", unit)) if unit else None
    year = month = None
    period_error = None
    period = _first_value(_PERIOD_RE, text)
    if period:
        try:
            year, month = parse_period(period)
        except ValueError:
            period_error = period_problem(normalize_text(period)[:30])
    else:
        year, month = _period_in_title(_DATE_RE.sub("", text))
    report_date = _report_date(text) or (_report_date(lines_text(footer)) if footer else None)
    return Meta(
        unit_written or None, year, month, report_date, sheet_amount_unit(text), period_error
    )


def _first_value(pattern: re.Pattern[str], text: str) -> str | None:
    for m in pattern.finditer(text):
        if m.group("v").strip():
            return m.group("v").strip()
    return None


def parse_period(text: str) -> tuple[int, int]:
    """2021年3月, 2021年03月, 2021-03, 2021.3, 2021年3月份, 202103 -> (2021, 3); ranges raise."""
    text = text.strip()
    m = _YEAR_MONTH.match(text) or _YEAR_MONTH_COMPACT.fullmatch(text)
    if not m or _RANGE_AFTER.match(text, m.end()):
        raise ValueError(text)
    year, month = int(m.group(1)), int(m.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError(text)
    return year, month


def period_problem(text: str) -> tuple[str, str]:
    """Why ``text`` is not a report period, in Chinese and English (the E_PERIOD detail)."""
    m = _YEAR_MONTH.match(text.strip()) or _YEAR_MONTH_COMPACT.fullmatch(text.strip())
    if m and _RANGE_AFTER.match(text.strip(), m.end()):
        return (
            f"“{text}”是一段期间，报告期应为单个月份（如 2021年3月）",
            f"{text!r} is a range; the report period is one month (e.g. 2021年3月)",
        )
    if m and not 1 <= int(m.group(2)) <= 12:
        return (
            f"“{text}”的月份{int(m.group(2))}不在1-12之间",
            f"{text!r}: month {int(m.group(2))} is not between 1 and 12",
        )
    if m and not 2000 <= int(m.group(1)) <= 2100:
        return (
            f"“{text}”的年份{m.group(1)}不合理",
            f"{text!r}: year {m.group(1)} is not plausible",
        )
    return (
        f"“{text}”不是年月（应写如 2021年3月）",
        f"{text!r} is not a year and month (write e.g. 2021年3月)",
    )


def _period_in_title(text: str) -> tuple[int | None, int | None]:
    """No 报告期 label: a title such as 2021年3月份招商引资项目进展情况表 names the month."""
    found = {(int(y), int(m)) for y, m in _TITLE_PERIOD.findall(text) if 1 <= int(m) <= 12}
    if len(found) == 1:
        return found.pop()
    return None, None


def _report_date(text: str) -> date | None:
    value = _first_value(_DATE_RE, text)
    if not value:
        return None
    try:
        return parse_text_date(value)
    except CellError:
        return None  # a bad 填报日期 only loses the tie-break; the file's mtime is used instead


# --------------------------------------------------------------------------------------------
# what a row below the header is


class RowKind(Enum):
    BLANK = "blank"
    PROJECT = "project"
    TOTAL = "total"  # 合计 / 总计
    SUBTOTAL = "subtotal"  # 小计 / 其中
    FOOTER = "footer"  # 填表人/联系电话/审核人/注/填表说明 lines: personal data, never logged
    NOTE = "note"  # a free-text line across the sheet, or a section heading (一、新引进项目)


# Labels that start a footer line. Strong ones need no colon; generic words only with a colon.
_FOOTER = re.compile(
    r"(?:填表人|填报人|制表人|统计人|经办人|审核人|审核|复核人|单位负责人|分管领导|主要领导|填表说明|填报说明"
    r"|(?:联系人|联系电话|电话|手机|负责人|说明|注|备注|附注|日期|填表日期|填报日期|报送日期)\s*:)"
)
_TOTAL = re.compile(r"(?:.{0,6}?)(合计|总计|小计|总合计)(?:\d*|\(.*\))|其中.*")
_SECTION = re.compile(r"(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十]+\)).*")
_NUMBERED_NOTE = re.compile(r"\d{1,2}[、.]\D.{8,}")
# Cheap pre-filter on the raw text of a row's first cells: a footer, total, note or section
# heading contains one of these words (or starts like a heading); project rows, the vast
# majority, skip the full checks. Kept in step with _FOOTER and _TOTAL above.
_SPECIAL_WORDS = (
    "填表",
    "填报",
    "制表",
    "统计",
    "经办",
    "审核",
    "复核",
    "负责",
    "领导",
    "联系",
    "电话",
    "手机",
    "说明",
    "注:",
    "注：",
    "附注",
    "日期",
    "合计",
    "总计",
    "小计",
    "其中",
)
_SPECIAL_START = re.compile(
    r"(?:^|\t)\s*(?:[一二三四五六七八九十]+\s*[、.．]|[(（][一二三四五六七八九十]+[)）]|\d{1,2}\s*[、.．])"
)


def _maybe_special(probe: str) -> bool:
    compact = "".join(probe.split())  # 合　计, 填 表 人
    return (
        any(word in compact for word in _SPECIAL_WORDS) or _SPECIAL_START.search(probe) is not None
    )


def classify(
    row: list[object], first_text: str | None, single_wide: bool, non_empty: int
) -> RowKind:
    """Kind of a non-blank row from its first non-empty text cell.

    ``single_wide``: the row's only content is one cell merged across 3+ columns (a note line).
    """
    if first_text is None:
        return RowKind.PROJECT
    head = [c for c in row[:4] if c.__class__ is str]
    probe = "\t".join(head if first_text in head else [first_text, *head])
    if not single_wide and not _maybe_special(probe):
        return RowKind.PROJECT
    key = normalize_key(first_text)
    if _FOOTER.match(key):
        return RowKind.FOOTER
    if single_wide and _is_total_label(first_text):
        # 合计 merged across the label columns, its SUM cells empty to calamine (no cached value)
        return RowKind.TOTAL
    if single_wide or (non_empty == 1 and _NUMBERED_NOTE.fullmatch(key)):
        return RowKind.NOTE
    for cell in row[:4]:
        if isinstance(cell, str) and cell:
            m = _TOTAL.fullmatch(normalize_key(cell).rstrip(":"))
            if m:
                return (
                    RowKind.TOTAL if m.group(1) in ("合计", "总计", "总合计") else RowKind.SUBTOTAL
                )
    if non_empty <= 2 and _SECTION.fullmatch(key):
        return RowKind.NOTE
    return RowKind.PROJECT


def _is_total_label(text: str) -> bool:
    m = _TOTAL.fullmatch(normalize_key(text).rstrip(":"))
    return m is not None and m.group(1) in ("合计", "总计", "总合计")


def is_blank_cell(value: object) -> bool:
    return value == "" or (type(value) is str and value.isspace())
