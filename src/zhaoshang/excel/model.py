"""What the Excel reader hands to the ledger: plain, picklable data (it crosses a process boundary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from zhaoshang.errors import Problem


@dataclass
class ParsedRow:
    """One sheet row below the header.

    ``values`` maps canonical column names (column_map.csv) to typed values: ``str`` for text,
    ``decimal.Decimal`` for amounts and percentages (exact; 万元), ``int`` for seq,
    ``datetime.date`` for dates, ``bool`` for 是/否, canonical Chinese values for enums
    (sector, capital_origin, project_kind, status). Missing cells are absent or ``None``.
    ``problems`` non-empty means the row is quarantined (QUARANTINE-ROW), never loaded.
    """

    row_number: int  # 1-based Excel row
    values: dict[str, object]
    problems: list[Problem] = field(default_factory=list)
    raw_values: dict[str, str] = field(default_factory=dict)  # canonical -> raw text, PII masked


@dataclass
class ParsedSubmission:
    """One workbook read as the county form (contract §3)."""

    sheet: str  # the data sheet's name
    unit_written: str | None  # 填报单位 as written (resolved to a roster name by the ledger)
    year: int | None  # 报告期
    month: int | None
    report_date: date | None  # 报告日期 / 填报日期 written on the sheet, if any
    header_row: int  # last header row (1-based)
    columns: dict[str, str]  # canonical name -> header text as written
    rows: list[ParsedRow]  # every candidate project row, loaded or quarantined
    total_row: ParsedRow | None  # the sheet's own 合计 row (checked later, never loaded)
    rows_ignored_blank: int  # blank rows between the header and the last data row
    warnings: list[Problem] = field(default_factory=list)  # W_* codes: loaded, but reported
    # Title and meta lines above the header (at most 500 chars): where the ledger looks for the
    # unit when no 填报单位 is written (e.g. a title 济阳镇招商引资项目进展情况表).
    heading_text: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.rows) + self.rows_ignored_blank
