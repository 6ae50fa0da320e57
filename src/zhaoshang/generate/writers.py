"""Two back-ends that write the same ``WorkbookSpec``: xlsxwriter (fast) and openpyxl.

Clerks' files come from different programs; the generator mixes both writers so the loader sees
both flavours of OOXML. Both produce the same cells, merges, hidden sheets and number formats
(only xlsxwriter can store a formula with its cached value, so the layout asks for formulas only
from it). Output is byte-for-byte deterministic: fixed document times and zip timestamps.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import openpyxl
import xlsxwriter
from openpyxl.utils import get_column_letter

WRITERS = ("xlsxwriter", "openpyxl")


@dataclass
class CellSpec:
    row: int  # 1-based
    col: int  # 1-based
    value: object  # str | int | float | datetime
    kind: str = "s"  # s string | n number | d date | f formula (value = cached result)
    num_format: str | None = None
    formula: str | None = None
    bold: bool = False


@dataclass
class SheetSpec:
    name: str
    cells: list[CellSpec] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(
        default_factory=list
    )  # r1, c1, r2, c2 (1-based)
    hidden: bool = False
    widths: dict[int, float] = field(default_factory=dict)

    def put(self, row: int, col: int, value: object, kind: str = "s", **kw) -> None:
        self.cells.append(CellSpec(row, col, value, kind, **kw))


@dataclass
class WorkbookSpec:
    sheets: list[SheetSpec]
    active: int
    author: str
    created: datetime


def workbook_bytes(spec: WorkbookSpec, writer: str) -> bytes:
    if writer == "xlsxwriter":
        return _xlsxwriter_bytes(spec)
    if writer == "openpyxl":
        return _openpyxl_bytes(spec)
    raise ValueError(f"unknown writer {writer!r}")


def write_workbook(path: Path, spec: WorkbookSpec, writer: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(spec, writer))


def _xlsxwriter_bytes(spec: WorkbookSpec) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties({"author": spec.author, "created": spec.created})
    formats: dict[tuple[str | None, bool], object] = {}

    def fmt(num_format: str | None, bold: bool):
        key = (num_format, bold)
        if key not in formats:
            props: dict[str, object] = {}
            if num_format:
                props["num_format"] = num_format
            if bold:
                props["bold"] = True
            formats[key] = wb.add_format(props) if props else None
        return formats[key]

    sheets = []
    for sheet in spec.sheets:
        ws = wb.add_worksheet(sheet.name)
        sheets.append(ws)
        for col, width in sheet.widths.items():
            ws.set_column(col - 1, col - 1, width)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_range(r1 - 1, c1 - 1, r2 - 1, c2 - 1, "")
        for cell in sheet.cells:
            r, c, f = cell.row - 1, cell.col - 1, fmt(cell.num_format, cell.bold)
            if cell.kind == "s":
                ws.write_string(r, c, str(cell.value), f)
            elif cell.kind == "n":
                ws.write_number(r, c, cell.value, f)
            elif cell.kind == "d":
                ws.write_datetime(r, c, cell.value, f)
            elif cell.kind == "f":
                ws.write_formula(r, c, cell.formula, f, cell.value)
            else:
                raise ValueError(cell.kind)
    sheets[spec.active].activate()
    for ws, sheet in zip(sheets, spec.sheets, strict=False):
        if sheet.hidden:
            ws.hide()
    wb.close()
    return buf.getvalue()


_MODIFIED = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")


def _openpyxl_bytes(spec: WorkbookSpec) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in spec.sheets:
        ws = wb.create_sheet(sheet.name)
        for col, width in sheet.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width
        for cell in sheet.cells:
            target = ws.cell(row=cell.row, column=cell.col)
            if cell.kind == "f":  # openpyxl cannot store a cached value: write the number
                target.value = cell.value
            else:
                target.value = cell.value
                if cell.kind == "s":
                    target.data_type = "s"
            if cell.num_format:
                target.number_format = cell.num_format
            if cell.bold:
                target.font = openpyxl.styles.Font(bold=True)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        if sheet.hidden:
            ws.sheet_state = "hidden"
    wb.active = spec.active
    wb.properties.creator = spec.author
    wb.properties.created = spec.created
    wb.properties.modified = spec.created
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), spec.created)


def _normalise_zip(data: bytes, when: datetime) -> bytes:
    """Re-pack with fixed member timestamps so the same spec gives the same bytes."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = _MODIFIED.sub(
                    rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", payload
                )
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, payload)
    return out.getvalue()
