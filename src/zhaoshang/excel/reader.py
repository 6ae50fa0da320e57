"""Reading one workbook in the current process: sniff, pick the data sheet, read its rows.

This is what the sandbox worker runs (``sandbox.py`` puts it behind a process boundary with
memory and time limits); tests call it directly. File-level problems raise
``SubmissionRejected``; row-level problems stay on their ``ParsedRow``.

calamine reads the cell values of every accepted format (.xlsx/.xlsm/.xltx, .xls, .xlsb, .ods;
about 13x faster than openpyxl read-only here); the sniff's scan of the sheet parts adds what
calamine lacks (hidden rows, formulas without a cached value, error cells, the 1904 date system,
merged ranges of .ods and .xlsb). From the sheet list on, every format takes the same path.

A file rejected after its sheets could be opened still says whose it is where the rows above
the header name the unit and period (``SubmissionRejected.hint``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import cast

import python_calamine
from python_calamine import CalamineWorkbook

from zhaoshang.errors import Problem, SubmissionRejected, column_letter, safe_raw_value
from zhaoshang.excel.headers import (
    ColumnCheck,
    ColumnHeader,
    HeaderLayout,
    Merges,
    TooManyMergedCells,
    check_columns,
    find_header,
    header_index,
    header_key,
    split_unit,
)
from zhaoshang.excel.limits import Limits
from zhaoshang.excel.model import ParsedRow, ParsedSubmission
from zhaoshang.excel.sheet import (
    RowKind,
    classify,
    is_blank_cell,
    lines_text,
    read_meta,
    sheet_amount_unit,
)
from zhaoshang.excel.sheetxml import SheetStructure
from zhaoshang.excel.sniff import Package, SheetEntry, reject, sniff
from zhaoshang.excel.values import (
    SPECIAL_RESULTS,
    WAN_CNY,
    AmountUnit,
    CellError,
    ColumnContext,
    ColumnConverter,
    Flagged,
    parse_unit,
    raw_text,
)
from zhaoshang.pii import mask_text

_COLUMN_SUM = re.compile(r"=?SUM\(\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)\)")
RAW_VALUE_CHARS = 200  # quarantine keeps raw values this long (masked)
# Free text keeps its punctuation (，。) and line breaks; names, codes and enums are NFKC-normalised
# as identity needs them (contract §4 "as reported").
FREE_TEXT_COLUMNS = frozenset({"remarks"})


def parse_workbook(
    path: Path, source_file: str, limits: Limits, today: date | None = None
) -> ParsedSubmission:
    """Read ``path`` as the county form; raise SubmissionRejected for a file-level problem."""
    package = sniff(path, limits, source_file)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(package.data))
    except python_calamine.PasswordError:
        raise reject("E_ENCRYPTED", source_file) from None
    except (python_calamine.ZipError, python_calamine.XmlError):
        raise reject("E_ZIP_CORRUPT", source_file) from None
    except python_calamine.CalamineError as error:
        raise _unreadable(package, source_file, error) from None
    with workbook:
        try:
            return _read_data_sheet(workbook, package, source_file, limits, today or date.today())
        except SubmissionRejected as rejected:
            if rejected.hint is None and rejected.problem.code in _HINT_AFTER:
                rejected.hint = _identity_hint(workbook, package, limits)
            raise


# Rejections raised once every visible sheet's head has been read within the limits: reading
# those heads again for the unit and period is safe (never after E_TOO_LARGE and the like).
_HINT_AFTER = frozenset(
    {"E_TEMPLATE", "E_DUP_HEADER", "E_MULTIPLE_DATA_SHEETS", "E_NO_DATA_SHEET", "E_PERIOD"}
)


def _unreadable(package: Package, source_file: str, error: Exception) -> SubmissionRejected:
    if package.format == "xls":  # an OLE file with a Workbook stream calamine cannot parse
        return reject("E_LEGACY_XLS", source_file, type(error).__name__)
    return reject("E_UNREADABLE", source_file, type(error).__name__)


def _identity_hint(
    workbook: CalamineWorkbook, package: Package, limits: Limits
) -> dict[str, object] | None:
    """Unit and period written above the header of the first visible sheet naming them.

    Best effort for a rejected file (E_TEMPLATE, E_DUP_HEADER, ...): the 填报单位/报告期 line is
    read as for a loaded file; nothing else of the sheet is used.
    """
    try:
        for entry in _sheet_entries(workbook, package):
            structure = package.structures.get(entry.part or "")
            if entry.kind != "worksheet" or entry.state != "visible" or entry.part is None:
                continue
            if structure is not None and structure.beyond_limits:
                continue
            head = workbook.get_sheet_by_name(entry.name).to_python(
                skip_empty_area=False, nrows=limits.header_search_rows
            )
            text = lines_text(head)
            meta = read_meta(text, [])
            if meta.unit_written or meta.year:
                return {
                    "sheet": entry.name,
                    "unit_written": meta.unit_written,
                    "year": meta.year,
                    "month": meta.month,
                    "heading_text": text[:500] or None,
                }
    except (python_calamine.CalamineError, ValueError, IndexError):
        return None
    return None


_VISIBILITY = {"Visible": "visible", "Hidden": "hidden", "VeryHidden": "veryHidden"}
_SHEET_KINDS = {"WorkSheet": "worksheet", "ChartSheet": "chartsheet", "DialogSheet": "dialogsheet"}


def _sheet_entries(workbook: CalamineWorkbook, package: Package) -> tuple[SheetEntry, ...]:
    """The workbook's sheets: from workbook.xml (.xlsx), else as calamine lists them.

    For .xls, .xlsb and .ods the sheet's name stands for its part (structures and merges are
    keyed by name).
    """
    if not package.sheets_from_parser:
        return package.sheets
    return tuple(
        SheetEntry(
            meta.name,
            _VISIBILITY.get(str(meta.visible).rsplit(".", 1)[-1], "hidden"),
            _SHEET_KINDS.get(str(meta.typ).rsplit(".", 1)[-1], "other"),
            meta.name,
        )
        for meta in workbook.sheets_metadata
    )


@dataclass
class _Candidate:
    entry: SheetEntry
    sheet: python_calamine.CalamineSheet
    layout: HeaderLayout
    check: ColumnCheck
    structure: SheetStructure


def _read_data_sheet(
    workbook: CalamineWorkbook, package: Package, source_file: str, limits: Limits, today: date
) -> ParsedSubmission:
    warnings: list[Problem] = [
        Problem(code, source_file, detail=safe_raw_value(detail))
        for code, detail in package.warnings
    ]
    candidates: list[_Candidate] = []
    visible: list[str] = []
    entries = _sheet_entries(workbook, package)
    if not entries and package.format == "xls":
        raise reject("E_LEGACY_XLS", source_file, "没有工作表 / no sheets")
    if len(entries) > limits.max_sheets:
        raise reject("E_TOO_MANY_PARTS", source_file, f"{len(entries)} > {limits.max_sheets}")
    for entry in entries:
        if entry.kind != "worksheet" or entry.part is None:
            continue
        if entry.state != "visible":
            warnings.append(
                Problem(
                    "W_HIDDEN_SHEET", source_file, entry.name, detail=safe_raw_value(entry.name)
                )
            )
            continue
        visible.append(entry.name)
        candidate = _header_candidate(workbook, entry, package, source_file, limits)
        if candidate:
            candidates.append(candidate)
    chosen = _choose_sheet(candidates, visible, source_file)
    return _read_sheet(chosen, package, source_file, limits, today, warnings)


def _header_candidate(
    workbook: CalamineWorkbook,
    entry: SheetEntry,
    package: Package,
    source_file: str,
    limits: Limits,
) -> _Candidate | None:
    structure = package.structures.get(entry.part or "") or SheetStructure()
    if structure.beyond_limits:
        # calamine would build one dense range up to that cell: refuse before it tries.
        raise SubmissionRejected(
            Problem(
                "E_TOO_LARGE",
                source_file,
                entry.name,
                detail=f"{structure.beyond_limits} > {limits.max_rows} x {limits.max_columns}",
            )
        )
    try:
        sheet = workbook.get_sheet_by_name(entry.name)
    except python_calamine.CalamineError as error:
        raise reject("E_UNREADABLE", source_file, type(error).__name__) from None
    head_rows = limits.header_search_rows + 1
    head = sheet.to_python(skip_empty_area=False, nrows=head_rows)
    merges = _merges(
        sheet, package, head_rows, max(len(r) for r in head) if head else 0, source_file, entry.name
    )
    layout = find_header(head, merges, limits.header_search_rows)
    if layout is None:
        return None
    return _Candidate(entry, sheet, layout, check_columns(layout), structure)


def _merges(
    sheet: python_calamine.CalamineSheet,
    package: Package,
    rows: int,
    cols: int,
    source_file: str,
    name: str,
) -> Merges:
    """Merged ranges: calamine's for .xlsx and .xls, the sniff's for .ods and .xlsb."""
    if package.merges is not None:
        ranges = package.merges.get(name) or []
    else:
        ranges = sheet.merged_cell_ranges or []
    try:
        return Merges.from_ranges(ranges, rows, cols)
    except TooManyMergedCells:
        raise SubmissionRejected(
            Problem("E_TOO_LARGE", source_file, name, detail="merged cells")
        ) from None


def _choose_sheet(candidates: list[_Candidate], visible: list[str], source_file: str) -> _Candidate:
    """The one visible sheet with the complete template header (contract §3, RELIABILITY C5)."""
    complete = [c for c in candidates if not c.check.missing_required]
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        names = "、".join(c.entry.name for c in complete)
        raise reject("E_MULTIPLE_DATA_SHEETS", source_file, safe_raw_value(names))
    if candidates:
        best = max(candidates, key=lambda c: c.layout.score)
        raise SubmissionRejected(
            Problem(
                "E_TEMPLATE",
                source_file,
                best.entry.name,
                row_number=best.layout.first_row,
                detail="、".join(best.check.missing_required),
            )
        )
    raise reject("E_NO_DATA_SHEET", source_file, safe_raw_value("、".join(visible)) or "-")


# --------------------------------------------------------------------------------------------
# the chosen sheet


@dataclass(frozen=True)
class _Column:
    name: str
    index: int  # 0-based
    header: str
    required: bool
    is_pii: bool
    converter: ColumnConverter


def _read_sheet(
    chosen: _Candidate,
    package: Package,
    source_file: str,
    limits: Limits,
    today: date,
    warnings: list[Problem],
) -> ParsedSubmission:
    sheet_name = chosen.entry.name
    check = chosen.check
    if check.duplicates:
        detail = "; ".join(
            f"{cols[0].written} ({', '.join(column_letter(c.column_index) for c in cols)})"
            for cols in check.duplicates.values()
        )
        raise SubmissionRejected(
            Problem(
                "E_DUP_HEADER",
                source_file,
                sheet_name,
                row_number=chosen.layout.first_row,
                detail=safe_raw_value(detail, 120),
            )
        )
    grid = chosen.sheet.to_python(skip_empty_area=False)
    if len(grid) > limits.max_rows:  # the XML scan should have caught it; calamine is the judge
        raise SubmissionRejected(
            Problem(
                "E_TOO_LARGE", source_file, sheet_name, detail=f"{len(grid)} > {limits.max_rows}"
            )
        )
    layout = chosen.layout
    for extra in check.extra:
        warnings.append(
            Problem(
                "W_EXTRA_COLUMN",
                source_file,
                sheet_name,
                row_number=layout.first_row,
                column_index=extra.column_index,
                header=extra.written,
                detail=safe_raw_value(extra.written),
            )
        )
    footer_rows: list[Sequence[object]] = []
    above_header = lines_text(grid[: layout.first_row - 1])
    columns = _columns(check, package, sheet_amount_unit(above_header), today)
    rows_out = _RowReader(
        grid=grid,
        layout=layout,
        columns=columns,
        structure=chosen.structure,
        merges=_merges(
            chosen.sheet, package, len(grid), len(grid[0]) if grid else 0, source_file, sheet_name
        ),
        source_file=source_file,
        sheet=sheet_name,
        footer_rows=footer_rows,
    ).read()
    meta = read_meta(above_header, footer_rows)
    if meta.period_error:
        raise SubmissionRejected(
            Problem("E_PERIOD", source_file, sheet_name, detail=meta.period_error)
        )
    if meta.year and meta.month:
        _signed_after_period(rows_out.rows, columns, meta.year, meta.month, source_file, sheet_name)
    if chosen.structure.protected:
        warnings.append(Problem("W_PROTECTED", source_file, sheet_name))
    warnings.extend(rows_out.warnings)
    if rows_out.total_row is None:
        warnings.append(Problem("W_NO_TOTAL_ROW", source_file, sheet_name))
    return ParsedSubmission(
        sheet=sheet_name,
        unit_written=meta.unit_written,
        year=meta.year,
        month=meta.month,
        report_date=meta.report_date,
        header_row=layout.last_row,
        columns={c.name: c.header for c in columns},
        rows=rows_out.rows,
        total_row=rows_out.total_row,
        rows_ignored_blank=rows_out.blank,
        warnings=warnings,
        heading_text=above_header[:500] or None,
    )


def _signed_after_period(
    rows: list[ParsedRow], columns: list[_Column], year: int, month: int, source: str, sheet: str
) -> None:
    """A 签约时间 after the report period cannot be right (a typo, a planned date): the row is
    quarantined with the cell named, not counted (2030年1月1日 in a March 2021 report)."""
    column = next((c for c in columns if c.name == "signed_date"), None)
    if column is None:
        return
    period_end = date(year + month // 12, month % 12 + 1, 1)
    for row in rows:
        signed = row.values.get("signed_date")
        if isinstance(signed, date) and signed >= period_end:
            shown = f"{signed.year}年{signed.month}月{signed.day}日"
            row.values["signed_date"] = None
            row.problems.append(
                Problem(
                    "E_SIGNED_AFTER_PERIOD",
                    source,
                    sheet,
                    row_number=row.row_number,
                    column_index=column.index + 1,
                    column_name=column.name,
                    header=column.header,
                    raw_value=signed.isoformat(),
                    detail=(
                        f"“{shown}”在报告期{year}年{month}月之后",
                        f"{signed.isoformat()} is after the report period {year}-{month:02d}",
                    ),
                )
            )


def _columns(
    check: ColumnCheck, package: Package, sheet_unit: AmountUnit | None, today: date
) -> list[_Column]:
    specs = header_index().specs
    out = []
    for name, col in sorted(check.mapped.items(), key=lambda kv: kv[1].column_index):
        spec = specs[name]
        context = ColumnContext(
            dtype=spec.dtype,
            amount_unit=_amount_unit(spec.label_zh, col, sheet_unit)
            if spec.dtype == "amount"
            else WAN_CNY,
            date1904=package.date1904,
            today=today,
            free_text=name in FREE_TEXT_COLUMNS,
        )
        out.append(
            _Column(
                name,
                col.column_index - 1,
                col.written,
                spec.required,
                spec.is_pii,
                _converter(context),
            )
        )
    return out


_CONVERTERS: dict[ColumnContext, ColumnConverter] = {}


def _converter(context: ColumnContext) -> ColumnConverter:
    """One converter per column context for the life of the process: the sandbox worker reads
    hundreds of files whose sectors, statuses, dates and round amounts repeat."""
    if context not in _CONVERTERS:
        if len(_CONVERTERS) > 256:
            _CONVERTERS.clear()
        _CONVERTERS[context] = ColumnConverter(context)
    return _CONVERTERS[context]


def _amount_unit(
    label_zh: str, column: ColumnHeader, sheet_unit: AmountUnit | None
) -> AmountUnit | None:
    """Unit of a bare number in this column: the header's own, else the sheet's 单位：…, else the label's.

    ``None`` when the header names another currency than the column's (every value E_CURRENCY).
    """
    canonical_unit = parse_unit(split_unit(header_key(label_zh))[1] or "万元") or WAN_CNY
    header_unit = parse_unit(column.unit_word) if column.unit_word else None
    if header_unit is not None:
        return header_unit if header_unit.currency == canonical_unit.currency else None
    if sheet_unit is not None and sheet_unit.currency == canonical_unit.currency:
        return sheet_unit
    return canonical_unit


# --------------------------------------------------------------------------------------------
# rows


@dataclass
class _RowsResult:
    rows: list[ParsedRow]
    total_row: ParsedRow | None
    blank: int
    warnings: list[Problem]


class _RowReader:
    """Classifies every row below the header, then converts the project rows column by column."""

    def __init__(
        self,
        *,
        grid: Sequence[Sequence[object]],
        layout: HeaderLayout,
        columns: list[_Column],
        structure: SheetStructure,
        merges: Merges,
        source_file: str,
        sheet: str,
        footer_rows: list[Sequence[object]],
    ):
        self.grid = grid
        self.layout = layout
        self.columns = columns
        self.structure = structure
        self.merges = merges
        self.source_file = source_file
        self.sheet = sheet
        self.footer_rows = footer_rows
        self.content_indexes = [c.index for c in columns if c.name != "seq"]
        self.special = _special_cells(structure)
        self.warnings: list[Problem] = []
        self.attention = self._attention_cells()

    def _attention_cells(self) -> dict[int, list[tuple[int, str, str]]]:
        """column index (0-based) -> [(grid row index, code, detail)] for cells calamine misreads.

        A formula without a cached value and an error value both read as ''; a cell merged down
        from the row above belongs to that row (RELIABILITY C8, C13, C14).
        """
        out: dict[int, list[tuple[int, str, str]]] = {}
        for row_number, cols in self.special.items():
            for col, (code, detail) in cols.items():
                out.setdefault(col - 1, []).append((row_number - 1, code, detail))
        for (i, c), (anchor_row, _) in self.merges.anchor.items():
            if (
                anchor_row < i
                and i >= self.layout.last_row
                and (c not in out or all(r != i for r, _, _ in out[c]))
            ):
                out.setdefault(c, []).append((i, "E_MERGED_VALUE", ""))
        return out

    def read(self) -> _RowsResult:
        total: ParsedRow | None = None
        blank_rows: list[int] = []
        project: list[int] = []  # grid indexes of project rows
        for i in range(self.layout.last_row, len(self.grid)):
            row = self.grid[i]
            row_number = i + 1
            kind = self._kind(row, i, row_number in self.special)
            if kind is RowKind.PROJECT:
                project.append(i)
            elif kind is RowKind.BLANK:
                blank_rows.append(row_number)
            elif kind is RowKind.FOOTER:
                self.footer_rows.append(row)
            elif kind is RowKind.TOTAL and total is None:
                total = self._total_row(row, row_number)
            elif kind in (RowKind.TOTAL, RowKind.SUBTOTAL):
                self.warnings.append(
                    Problem(
                        "W_SUBTOTAL_ROW",
                        self.source_file,
                        self.sheet,
                        row_number=row_number,
                        detail=row_number,
                    )
                )
        rows = self._project_rows(project)
        last_project = project[-1] + 1 if project else 0
        blank = sum(
            1 for r in blank_rows if r < last_project
        )  # trailing blank/styled rows do not count
        return _RowsResult(rows, total, blank, self.warnings)

    def _kind(self, row: Sequence[object], i: int, has_special: bool) -> RowKind:
        empty = row.count("")
        if not has_special and empty == len(row):
            return RowKind.BLANK
        if empty >= len(row) - 2:  # few cells: whitespace-only ones must not count as content
            non_empty = [c for c, v in enumerate(row) if not is_blank_cell(v)]
            if not non_empty and not has_special:
                return RowKind.BLANK
            count = len(non_empty)
            single_wide = count == 1 and self._merged_width(i, non_empty[0]) >= 3
        else:
            count, single_wide = len(row) - empty, False
        first_text = None
        for v in row:
            if type(v) is str and v and not v.isspace():
                first_text = v
                break
        kind = classify(row, first_text, single_wide, count)
        if kind is RowKind.PROJECT and not has_special:
            for c in self.content_indexes:
                if not is_blank_cell(row[c]):
                    return kind
            return RowKind.BLANK  # only 序号 (pre-numbered template rows) or unmapped columns
        return kind

    def _merged_width(self, i: int, c: int) -> int:
        anchor = (i, c)
        width = 1
        while self.merges.anchor.get((i, c + width)) == anchor:
            width += 1
        return width

    def _project_rows(self, project: list[int]) -> list[ParsedRow]:
        grid = self.grid
        problems: dict[int, list[Problem]] = {}  # position in ``project`` -> problems
        positions = {i: k for k, i in enumerate(project)} if self.attention else {}
        columns_out = []
        by_column = list(
            zip(*[grid[i] for i in project], strict=False)
        )  # calamine rows are rectangular
        for column in self.columns:
            cells = by_column[column.index] if by_column else ()
            out, has_special, has_none = column.converter.convert_all(cells)
            self._cell_problems(
                column, project, positions, cells, out, problems, has_special, has_none
            )
            columns_out.append(out)
        names = [c.name for c in self.columns]
        rows = (
            [
                ParsedRow(i + 1, dict(zip(names, values, strict=False)))
                for i, values in zip(project, zip(*columns_out, strict=False), strict=False)
            ]
            if columns_out
            else [ParsedRow(i + 1, {}) for i in project]
        )
        self._duplicates(project, rows, problems)
        hidden = self.structure.hidden_rows
        # Every row keeps its cells as typed (masked): quarantine shows them for a refused row,
        # the inspection team's flag page for a loaded one.
        shown = [
            (c.name, _shown_texts(by_column[c.index] if by_column else ())) for c in self.columns
        ]
        for k, row in enumerate(rows):
            row.raw_values = {name: text for name, texts in shown if (text := texts[k]) is not None}
            if k in problems:
                row.problems = problems[k]
            if row.row_number in hidden:
                self.warnings.append(
                    Problem(
                        "W_HIDDEN_ROW",
                        self.source_file,
                        self.sheet,
                        row_number=row.row_number,
                        detail=row.row_number,
                    )
                )
        return rows

    def _cell_problems(
        self,
        column: _Column,
        project: list[int],
        positions: dict[int, int],
        cells: Sequence[object],
        out: list[object],
        problems: dict[int, list[Problem]],
        has_special: bool,
        has_none: bool,
    ) -> None:
        """Turn CellErrors/Flagged results, XML-only facts and merges into problems; None them out."""
        bad: set[int] = set()
        for k in (
            [k for k, v in enumerate(out) if v.__class__ in SPECIAL_RESULTS] if has_special else ()
        ):
            result = out[k]
            row_number = project[k] + 1
            if isinstance(result, Flagged):
                self.warnings.append(
                    self._problem(result.warning, column, row_number, cells[k], "")
                )
                out[k] = result.value
                continue
            assert isinstance(result, CellError)  # SPECIAL_RESULTS: Flagged was handled above
            raw = cells[k]
            detail = (
                ""
                if column.is_pii
                else safe_raw_value(result.detail if result.detail != "" else raw_text(raw))
            )
            problems.setdefault(k, []).append(
                self._problem(result.code, column, row_number, raw, detail)
            )
            out[k] = None
            bad.add(k)
        for i, code, detail in self.attention.get(column.index, ()):
            position = positions.get(i)
            if position is None:
                continue  # not a project row (a total row's formula, a footer merge, ...)
            problems.setdefault(position, []).append(
                self._problem(code, column, i + 1, detail, detail)
            )
            out[position] = None
            bad.add(position)
        if column.required and (has_none or has_special or bad):
            for k in [k for k, v in enumerate(out) if v is None]:
                if k not in bad:
                    problems.setdefault(k, []).append(
                        self._problem("E_REQUIRED", column, project[k] + 1, cells[k], "")
                    )

    def _duplicates(
        self, project: list[int], rows: list[ParsedRow], problems: dict[int, list[Problem]]
    ) -> None:
        """Second and later copies of a row are E_DUP_ROW (序号 left out: a copy renumbered is still a copy)."""
        grid = self.grid
        seen: dict[tuple[object, ...], int] = {}
        for k, i in enumerate(project):
            row = grid[i]
            key = tuple([row[c] for c in self.content_indexes])
            first = seen.setdefault(key, i + 1)
            if first != i + 1:
                problems.setdefault(k, []).append(
                    Problem(
                        "E_DUP_ROW", self.source_file, self.sheet, row_number=i + 1, detail=first
                    )
                )

    def _total_row(self, row: Sequence[object], row_number: int) -> ParsedRow:
        values: dict[str, object] = {}
        problems: list[Problem] = []
        for column in self.columns:
            if not column.name.endswith("_wan"):
                continue
            raw = row[column.index]
            if raw == "" and (row_number, column.index + 1) in self.structure.formula_without_value:
                raw = self._computed_sum(row_number, column)
                if raw is None:
                    self.warnings.append(
                        self._problem("W_TOTAL_NOT_COMPUTED", column, row_number, "", column.header)
                    )
                    continue
            result = column.converter.convert(raw)
            if isinstance(result, CellError):
                problems.append(
                    self._problem(
                        result.code, column, row_number, raw, safe_raw_value(raw_text(raw))
                    )
                )
                result = None
            values[column.name] = result.value if isinstance(result, Flagged) else result
        return ParsedRow(row_number, values, problems, self._raw_values(row))

    def _computed_sum(self, row_number: int, column: _Column) -> str | None:
        """A 合计 cell's ``=SUM(L4:L33)`` that no program computed (a file saved by openpyxl or a
        script), evaluated as Excel would: the numbers of that column's range, text ignored.

        None for any other formula, or when a cell of the range has no value itself.
        """
        formula = self.structure.formula_text.get((row_number, column.index + 1), "")
        m = _COLUMN_SUM.fullmatch(formula.upper().replace(" ", ""))
        letter = column_letter(column.index + 1)
        if not m or m.group(1) != letter or m.group(3) != letter:
            return None
        first, last = sorted((int(m.group(2)), int(m.group(4))))
        if first <= row_number <= last:
            return None  # circular
        total = Decimal(0)
        for r in range(first, min(last, len(self.grid)) + 1):
            if column.index + 1 in self.special.get(r, {}):
                return None
            value = self.grid[r - 1][column.index]
            if value.__class__ in (int, float):
                total += Decimal(repr(value))
        return format(total, "f")

    def _raw_values(self, row: Sequence[object]) -> dict[str, str]:
        out = {}
        for column in self.columns:
            raw = row[column.index]
            if raw != "":
                out[column.name] = _shown_text(raw)
        return out

    def _problem(
        self, code: str, column: _Column, row_number: int, raw: object, detail: object
    ) -> Problem:
        return Problem(
            code,
            self.source_file,
            self.sheet,
            row_number=row_number,
            column_index=column.index + 1,
            column_name=column.name,
            header=column.header,
            raw_value=None if raw == "" else safe_raw_value(raw_text(raw)),
            detail=detail,
        )


def _shown_text(raw: object) -> str:
    """A cell as quarantine and the flag page show it: as typed, masked, at most 200 chars."""
    text = mask_text(raw if isinstance(raw, str) else raw_text(raw))
    return text if len(text) <= RAW_VALUE_CHARS else text[: RAW_VALUE_CHARS - 1] + "…"


def _shown_texts(cells: Sequence[object]) -> list[str | None]:
    """``_shown_text`` of a column's cells, None for empty ones; each distinct value once (a
    sheet repeats its sectors, dates and statuses)."""
    if set(map(type, cells)) == {str}:
        keys: Sequence[object] = cells
    else:  # True == 1 == 1.0 would share a slot, and they are shown differently
        keys = [v if v.__class__ is str else (v.__class__, v) for v in cells]
    shown: dict[object, str | None] = {}
    for key in dict.fromkeys(keys):
        raw = cast(tuple, key)[1] if key.__class__ is tuple else key
        shown[key] = None if raw == "" else _shown_text(raw)
    return list(map(shown.__getitem__, keys))


def _special_cells(structure: SheetStructure) -> dict[int, dict[int, tuple[str, str]]]:
    """row -> column -> (code, detail) for cells whose calamine value ('') is not what they hold."""
    out: dict[int, dict[int, tuple[str, str]]] = {}
    for row, col in structure.formula_without_value:
        out.setdefault(row, {})[col] = ("E_FORMULA_NO_VALUE", "")
    for (row, col), text in structure.error_cells.items():
        out.setdefault(row, {})[col] = ("E_CELL_ERROR", text)
    return out
