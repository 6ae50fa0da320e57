"""Write the form: one data sheet laid out as DATA_CONTRACT §3 describes, and a 填表说明 sheet.

Layout of the data sheet (1-based rows)::

    1   <county>招商引资项目进展情况表                  (merged title)
    2   填报单位：<unit>   报告期：<Y>年<M>月   单位：万元
    3   header: the column map's labels, required ones marked *
    4.. data rows (unlocked, with drop-downs and number/date validation)
        合计 row (=SUM over the data rows, locked)
        填表人：… 联系电话：… 审核人：… 填报日期：…   (values unlocked)
        注：…

xlsxwriter writes it: the 合计 formulas carry a cached value (0 on the blank form), so a reader
that never recalculates sees numbers, and Excel/WPS recalculate on opening. Every text we put in
a cell is written as a string, never as a formula. The sheet is protected without a password:
clerks cannot overwrite the header or the 合计 formulas by accident, yet can unprotect it
(审阅 → 撤销工作表保护) without asking anyone, and can insert and delete data rows.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from zhaoshang.reference import (
    ColumnSpec,
    Unit,
    column_map,
    load_units,
    rule_parameters,
    sectors,
    size_bands,
    value_aliases,
)
from zhaoshang.safe_xlsx import inert_text

DATA_SHEET = "进度月报表"
INSTRUCTIONS_SHEET = "填表说明"
TITLE_ROW, INFO_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = 4
DEFAULT_DATA_ROWS = 30
REQUIRED_MARK = "*"
# Columns whose cells take one of a seed's values: dtype -> value_aliases domain
# (sector's own order comes from sectors.csv).
ENUM_DTYPES = ("sector", "capital_origin", "project_kind", "status", "yes_no")
EARLIEST_DATE = datetime(2000, 1, 1)
LATEST_DATE = datetime(2100, 12, 31)
_UNIT_IN_LABEL = re.compile(r"[（(]([^（）()]*)[）)]$")
_WIDTHS = {
    "int": 6,
    "text": 20,
    "uscc": 21,
    "date": 12,
    "amount": 13,
    "percent": 10,
    "yes_no": 10,
}
_WIDE_TEXT = {"project_name": 30, "investor_name": 28, "remarks": 24, "signing_event": 22}
FOOTER_LABELS = ("填表人：", "联系电话：", "审核人：", "填报日期：")


@dataclass(frozen=True)
class FormLayout:
    """Where things are on the data sheet (1-based rows and columns), for the writer and tests."""

    columns: tuple[ColumnSpec, ...]
    data_rows: int

    @property
    def last_data_row(self) -> int:
        return FIRST_DATA_ROW + self.data_rows - 1

    @property
    def total_row(self) -> int:
        return self.last_data_row + 1

    @property
    def footer_row(self) -> int:
        return self.total_row + 1

    @property
    def note_row(self) -> int:
        return self.footer_row + 1

    def column_of(self, canonical_name: str) -> int:
        """1-based column of a canonical column."""
        for i, spec in enumerate(self.columns, start=1):
            if spec.canonical_name == canonical_name:
                return i
        raise KeyError(canonical_name)

    @property
    def amount_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(c for c in self.columns if c.dtype == "amount")


def form_columns(optional_columns: bool = False) -> tuple[ColumnSpec, ...]:
    """The form's columns in column-map order; a county's optional columns only on request."""
    return tuple(c for c in column_map() if optional_columns or not c.is_optional_column)


def allowed_values(spec: ColumnSpec) -> tuple[str, ...]:
    """The drop-down of an enum column: the seed's canonical values, in the seed's order."""
    if spec.dtype == "sector":
        ordered = sorted(sectors(), key=lambda s: int(s["sort_order"]))
        return tuple(s["sector"] for s in ordered)
    return tuple(dict.fromkeys(value_aliases().get(spec.dtype, {}).values()))


def allowed_values_of(canonical_name: str) -> tuple[str, ...]:
    return allowed_values(next(c for c in column_map() if c.canonical_name == canonical_name))


def header_text(spec: ColumnSpec) -> str:
    return (REQUIRED_MARK if spec.required else "") + spec.label_zh


def _short_label(spec: ColumnSpec) -> str:
    return _UNIT_IN_LABEL.sub("", spec.label_zh)


def _label_unit(spec: ColumnSpec) -> str:
    m = _UNIT_IN_LABEL.search(spec.label_zh)
    return m.group(1) if m else "万元"


def validation_for(spec: ColumnSpec) -> dict | None:
    """xlsxwriter data-validation options for a column, with Chinese prompt and error texts."""
    title = _short_label(spec)[:32]
    prompt = (spec.description_zh or spec.label_zh)[:255]
    base = {"input_title": title, "input_message": prompt, "error_title": "输入有误"}
    if spec.dtype in ENUM_DTYPES:
        values = list(allowed_values(spec))
        return base | {
            "validate": "list",
            "source": values,
            "error_message": f"“{title}”请从下拉列表中选择：{'、'.join(values)}。"[:255],
        }
    if spec.dtype == "amount":
        return base | {
            "validate": "decimal",
            "criteria": ">=",
            "value": 0,
            "error_message": f"“{title}”请填写不小于0的数字，单位：{_label_unit(spec)}。",
        }
    if spec.dtype == "percent":
        return base | {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "error_message": f"“{title}”请填写0到100之间的数字（百分比）。",
        }
    if spec.dtype == "int":
        return base | {
            "validate": "integer",
            "criteria": ">=",
            "value": 1,
            "error_message": f"“{title}”请填写正整数。",
        }
    if spec.dtype == "date":
        return base | {
            "validate": "date",
            "criteria": "between",
            "minimum": EARLIEST_DATE,
            "maximum": LATEST_DATE,
            "error_message": f"“{title}”请填写日期，如 2021-03-05（2000年至2100年之间）。",
        }
    if spec.dtype == "uscc":
        return base | {
            "validate": "length",
            "criteria": "==",
            "value": 18,
            "error_message": f"“{title}”应为18位（数字和大写字母，不含空格）。",
        }
    return None


_UNSAFE_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]|^\.+')


def safe_file_part(name: str) -> str:
    """A unit name as one path component (the roster is the office's, but a / must not nest)."""
    return _UNSAFE_IN_FILE_NAME.sub("_", name).strip() or "_"


def form_file_name(year: int, month: int, unit_name: str | None) -> str:
    prefix = f"{safe_file_part(unit_name)}_" if unit_name else ""
    return f"{prefix}{year}年{month}月_招商引资项目进展情况表.xlsx"


def template_bytes(
    year: int,
    month: int,
    unit: Unit | None = None,
    *,
    roster: Sequence[Unit] = (),
    county_name: str = "",
    data_rows: int = DEFAULT_DATA_ROWS,
    optional_columns: bool = False,
) -> bytes:
    """The form for ``unit`` (or a blank 填报单位 with the roster as its drop-down) as .xlsx."""
    import xlsxwriter

    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError(f"报告期无效：{year}年{month}月 / invalid period {year}-{month}")
    layout = FormLayout(form_columns(optional_columns), data_rows)
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
    book.set_properties({"title": "招商引资项目进展情况表", "comments": "由招商引资数据仓库生成"})
    formats = _Formats(book)
    data = book.add_worksheet(DATA_SHEET)
    instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
    roster_names = sorted({u.unit_name for u in roster})
    roster_range = _write_instructions(instructions, formats, layout, roster_names)
    _write_data_sheet(
        data, formats, layout, year, month, unit, county_name, roster_names, roster_range
    )
    data.activate()
    book.close()
    return buffer.getvalue()


class _Formats:
    def __init__(self, book):
        border = {"border": 1, "valign": "vcenter"}
        self.title = book.add_format({"bold": True, "font_size": 16, "align": "center"})
        self.info_label = book.add_format({"bold": True, "align": "right"})
        self.info_value = book.add_format({"bold": True, "bottom": 1})
        self.info_input = book.add_format({"bold": True, "bottom": 1, "locked": False})
        self.header = book.add_format(
            border | {"bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"}
        )
        self.mark = book.add_format({"bold": True, "color": "#C00000"})
        self.header_text = book.add_format({"bold": True})
        self.cell = {
            "text": book.add_format(border | {"locked": False, "text_wrap": True}),
            "uscc": book.add_format(border | {"locked": False, "num_format": "@"}),
            "int": book.add_format(border | {"locked": False, "align": "center"}),
            "date": book.add_format(border | {"locked": False, "num_format": "yyyy-mm-dd"}),
            "amount": book.add_format(border | {"locked": False, "num_format": "#,##0.00"}),
            "percent": book.add_format(border | {"locked": False, "num_format": "0.##"}),
            "enum": book.add_format(border | {"locked": False, "align": "center"}),
        }
        self.total_label = book.add_format(border | {"bold": True, "align": "center"})
        self.total = book.add_format(border | {"bold": True, "num_format": "#,##0.00"})
        self.total_blank = book.add_format(border)
        self.footer_label = book.add_format({"align": "right"})
        self.footer_input = book.add_format({"bottom": 1, "locked": False})
        self.footer_date = book.add_format(
            {"bottom": 1, "locked": False, "num_format": "yyyy-mm-dd", "align": "left"}
        )
        self.note = book.add_format({"text_wrap": True, "valign": "top", "font_color": "#595959"})
        self.h1 = book.add_format({"bold": True, "font_size": 14})
        self.h2 = book.add_format({"bold": True, "font_size": 11, "bg_color": "#DDEBF7"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.wrap_center = book.add_format(
            {"text_wrap": True, "valign": "top", "border": 1, "align": "center"}
        )

    def for_cell(self, spec: ColumnSpec):
        if spec.dtype in ENUM_DTYPES:
            return self.cell["enum"]
        return self.cell.get(spec.dtype, self.cell["text"])


def _width(spec: ColumnSpec) -> float:
    base = _WIDE_TEXT.get(spec.canonical_name) or _WIDTHS.get(spec.dtype, 11)
    return max(base, min(16, len(spec.label_zh) * 1.2 + 2))


def _text(sheet, row: int, col: int, value: str, fmt=None) -> None:
    """0-based write of our own text: always a string, never a formula."""
    sheet.write_string(row, col, inert_text(value), fmt)


def _merge_text(sheet, row: int, first: int, last: int, value: str, fmt) -> None:
    if last > first:
        sheet.merge_range(row, first, row, last, "", fmt)
    _text(sheet, row, first, value, fmt)


def _write_data_sheet(
    sheet,
    formats: _Formats,
    layout: FormLayout,
    year: int,
    month: int,
    unit: Unit | None,
    county_name: str,
    roster_names: list[str],
    roster_range: str | None,
) -> None:
    from xlsxwriter.utility import xl_rowcol_to_cell

    columns = layout.columns
    last_col = len(columns) - 1
    r = lambda one_based: one_based - 1  # noqa: E731  xlsxwriter counts rows from 0

    _merge_text(
        sheet, r(TITLE_ROW), 0, last_col, f"{county_name}招商引资项目进展情况表", formats.title
    )
    sheet.set_row(r(TITLE_ROW), 30)
    # 填报单位 | value | 报告期 | value | 单位：万元, each in its own cells so the reader's
    # label-then-value rule applies however the clerk's program joins them.
    _merge_text(sheet, r(INFO_ROW), 0, 1, "填报单位：", formats.info_label)
    if unit is not None:
        _text(sheet, r(INFO_ROW), 2, unit.unit_name, formats.info_value)
    else:
        sheet.write_blank(r(INFO_ROW), 2, None, formats.info_input)
        if roster_range:
            sheet.data_validation(
                r(INFO_ROW),
                2,
                r(INFO_ROW),
                2,
                {
                    "validate": "list",
                    "source": roster_range,
                    "input_title": "填报单位",
                    "input_message": "请选择本单位在县单位名册中的名称。",
                    "error_title": "输入有误",
                    "error_message": "填报单位须为县单位名册中的名称，请从下拉列表中选择。",
                },
            )
    _text(sheet, r(INFO_ROW), 3, "报告期：", formats.info_label)
    _text(sheet, r(INFO_ROW), 4, f"{year}年{month}月", formats.info_value)
    _merge_text(sheet, r(INFO_ROW), last_col - 1, last_col, "单位：万元", formats.info_label)
    sheet.set_row(r(INFO_ROW), 22)

    for col, spec in enumerate(columns):
        if spec.required:
            sheet.write_rich_string(
                r(HEADER_ROW),
                col,
                formats.mark,
                REQUIRED_MARK,
                formats.header_text,
                spec.label_zh,
                formats.header,
            )
        else:
            _text(sheet, r(HEADER_ROW), col, spec.label_zh, formats.header)
        sheet.set_column(col, col, _width(spec))
    sheet.set_row(r(HEADER_ROW), 36)

    first, last = r(FIRST_DATA_ROW), r(layout.last_data_row)
    for col, spec in enumerate(columns):
        cell_format = formats.for_cell(spec)
        for row in range(first, last + 1):
            sheet.write_blank(row, col, None, cell_format)
        validation = validation_for(spec)
        if validation:
            sheet.data_validation(first, col, last, col, validation)

    total = r(layout.total_row)
    for col, spec in enumerate(columns):
        if spec.dtype == "amount":
            top = xl_rowcol_to_cell(first, col)
            bottom = xl_rowcol_to_cell(last, col)
            sheet.write_formula(total, col, f"=SUM({top}:{bottom})", formats.total, 0)
        else:
            sheet.write_blank(total, col, None, formats.total_blank)
    label_last = next(i for i, c in enumerate(columns) if c.dtype == "amount") - 1
    _merge_text(sheet, total, 0, max(label_last, 0), "合计", formats.total_label)

    footer = r(layout.footer_row)
    span = max(2, (last_col + 1) // len(FOOTER_LABELS))
    for i, label in enumerate(FOOTER_LABELS):
        start = i * span
        label_end = start + span // 2 - 1
        value_end = min(start + span - 1, last_col)
        _merge_text(sheet, footer, start, label_end, label, formats.footer_label)
        value_format = formats.footer_date if label == "填报日期：" else formats.footer_input
        if value_end > label_end + 1:
            sheet.merge_range(footer, label_end + 1, footer, value_end, None, value_format)
        else:
            sheet.write_blank(footer, label_end + 1, None, value_format)
    sheet.set_row(footer, 24)
    note = (
        "注：1. 带“*”的栏目必须填写，其余按实际填写；金额单位为万元（利用外资为万美元）。"
        "2. 项目较多时，请在“合计”行上方插入行；“合计”行为公式，请勿改写。"
        "3. 填写要求见“填表说明”工作表。填好后直接保存为 .xlsx 报送。"
    )
    _merge_text(sheet, r(layout.note_row), 0, last_col, note, formats.note)
    sheet.set_row(r(layout.note_row), 48)

    sheet.freeze_panes(r(FIRST_DATA_ROW), 2)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(r(HEADER_ROW))
    sheet.print_area(0, 0, r(layout.note_row), last_col)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.center_horizontally()
    sheet.set_footer("&C第 &P 页，共 &N 页")
    sheet.protect(
        "",
        {
            "insert_rows": True,
            "delete_rows": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )


def _write_instructions(
    sheet, formats: _Formats, layout: FormLayout, roster_names: list[str]
) -> str | None:
    """The 填表说明 sheet; returns the range of the roster list (the 填报单位 drop-down) if any.

    One column label per row, so this sheet never looks like a second data sheet to the reader.
    """
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 2, 60)
    sheet.set_column(3, 3, 34)
    row = 0
    _text(sheet, row, 0, "招商引资项目进展情况表 填表说明", formats.h1)
    row += 2
    _merge_text(sheet, row, 0, 3, "一、报送要求", formats.h2)
    row += 1
    for line in _general_rules():
        _merge_text(sheet, row, 0, 3, line, formats.wrap)
        sheet.set_row(row, 32)
        row += 1
    row += 1
    _merge_text(sheet, row, 0, 3, "二、各栏目填写要求", formats.h2)
    row += 1
    for col, title in enumerate(("栏目", "是否必填", "填写要求", "可选值")):
        _text(sheet, row, col, title, formats.header)
    row += 1
    for spec in layout.columns:
        _text(sheet, row, 0, spec.label_zh, formats.wrap)
        _text(sheet, row, 1, "必填" if spec.required else "", formats.wrap_center)
        _text(sheet, row, 2, spec.description_zh or "", formats.wrap)
        _text(sheet, row, 3, _values_note(spec), formats.wrap)
        sheet.set_row(row, 32)
        row += 1
    row += 1
    _merge_text(sheet, row, 0, 3, "三、统计口径", formats.h2)
    row += 1
    for line in _counting_rules():
        _merge_text(sheet, row, 0, 3, line, formats.wrap)
        sheet.set_row(row, 32)
        row += 1
    roster_range = None
    if roster_names:
        row += 1
        _merge_text(sheet, row, 0, 3, "四、填报单位名称（须与县单位名册一致）", formats.h2)
        row += 1
        first = row
        for name in roster_names:
            _text(sheet, row, 0, name, formats.wrap)
            row += 1
        roster_range = f"='{INSTRUCTIONS_SHEET}'!$A${first + 1}:$A${row}"
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    return roster_range


def _values_note(spec: ColumnSpec) -> str:
    if spec.dtype in ENUM_DTYPES:
        return "从下拉列表选择：" + "、".join(allowed_values(spec))
    return {
        "amount": f"数字，不小于0，单位{_label_unit(spec)}",
        "date": "日期，如 2021-03-05",
        "uscc": "18位代码",
        "int": "正整数",
        "percent": "0-100",
    }.get(spec.dtype, "")


def _general_rules() -> list[str]:
    return [
        "1. 每个单位每月报送一份本表，“报告期”为所报月份；表中已填好本单位名称和报告期，请勿改动。",
        "2. 每个项目填一行；项目较多时在“合计”行上方插入行。“合计”行由公式自动计算，县招商局会用它核对各行之和。",
        "3. 金额单位为万元（利用外资为万美元），请填数字，不要写“万元”“约”“待定”等文字；日期请填日期。",
        "4. 报送后如需更正，改好后重新报送即可，以填报日期最晚的一份为准；每晚系统会发回回执，列出已入库的行和需要更正的问题。",
        "5. 联系人及电话等个人信息只供县招商局核实，不会出现在统计表和对外材料中。",
    ]


def _counting_rules() -> list[str]:
    ordered = sorted(sectors(), key=lambda s: int(s["sort_order"]))
    counting = "、".join(s["sector"] for s in ordered if s["counts_projects"] == "true")
    funds_only = "、".join(s["sector"] for s in ordered if s["counts_projects"] != "true")
    bands = "、".join(
        b["label_zh"] for b in sorted(size_bands(), key=lambda b: int(b["sort_order"]))
    )
    major = rule_parameters().get("major_project_min_wan")
    lines = [
        f"1. 引进项目个数：本年“新引进”且本年首次报送的项目，产业类别为{counting}；"
        f"{funds_only}只计到位资金，不计项目个数。",
        f"2. 实际到位资金：本年各月“本期到位资金”之和（新引进项目及{funds_only}）；"
        "续建项目的到位资金单独统计，不计入。合同引资额是承诺的资金，不是到位资金。",
        f"3. 规模档次按计划总投资划分：{bands}。",
        "4. 资金来源地为“县内”的资金不属于招商引资。",
    ]
    if major:
        lines.append(f"5. 计划总投资{major}万元及以上的项目为重大项目。")
    return lines


def write_templates(
    out_dir: Path,
    year: int,
    month: int,
    units_csv: Path,
    *,
    unit_name: str | None = None,
    all_units: bool = False,
    county_name: str = "",
    data_rows: int = DEFAULT_DATA_ROWS,
    optional_columns: bool = False,
) -> list[Path]:
    """Write the form for one unit, for every unit of ``year``'s roster, or a blank one."""
    from zhaoshang.reference import ReferenceDataError, UnitResolver

    roster = load_units(units_csv)
    of_year = [u for u in roster if u.year == year] or roster
    by_name = {u.unit_name: u for u in of_year}
    if all_units:
        chosen: list[Unit | None] = [by_name[n] for n in sorted(by_name)]
    elif unit_name:
        official = UnitResolver(of_year).resolve(unit_name)
        if official is None:
            raise ReferenceDataError(
                f"单位“{unit_name}”不在单位名册 {units_csv.name} 中 / unit {unit_name!r} is not "
                f"in the roster {units_csv.name}"
            )
        chosen = [by_name[official]]
    else:
        chosen = [None]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for unit in chosen:
        path = out_dir / form_file_name(year, month, unit.unit_name if unit else None)
        path.write_bytes(
            template_bytes(
                year,
                month,
                unit,
                roster=of_year,
                county_name=county_name,
                data_rows=data_rows,
                optional_columns=optional_columns,
            )
        )
        written.append(path)
    return written
