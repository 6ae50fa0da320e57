"""A minimal .xlsb (BIFF12) writer for tests: the same report as an .xlsx, in binary records.

LibreOffice reads .xlsb but cannot write it, and no writer is packaged for Debian or in the lock,
so tests write the records themselves (MS-XLSB 2.1.4): BrtBundleSh per sheet with its
visibility, cells as BrtCellSt / BrtCellReal / BrtCellBool, dates as serial numbers (how a
General-format cell holds them), and BrtMergeCell for every merged range, from the grid and
merges python-calamine reads out of the .xlsx.
"""

from __future__ import annotations

import io
import struct
import zipfile
from datetime import date, datetime
from pathlib import Path

from python_calamine import CalamineWorkbook

_EPOCH = date(1899, 12, 30)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def record(kind: int, payload: bytes = b"") -> bytes:
    return _varint(kind) + _varint(len(payload)) + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def _cell(col: int, value: object) -> bytes:
    if isinstance(value, bool):
        return record(0x04, struct.pack("<IIB", col, 0, int(value)))
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        value = float((value - _EPOCH).days)
    if isinstance(value, (int, float)):
        return record(0x05, struct.pack("<IId", col, 0, float(value)))
    return record(0x06, struct.pack("<II", col, 0) + _wide(str(value)))


def sheet_bin(grid: list[list[object]], merges: list, hidden_rows: set[int] = frozenset()) -> bytes:
    rows = len(grid)
    cols = max((len(r) for r in grid), default=1)
    out = [record(0x81), record(0x94, struct.pack("<4I", 0, max(rows - 1, 0), 0, cols - 1))]
    out.append(record(0x91))
    for r, row in enumerate(grid):
        flags = 0x1000 if (r + 1) in hidden_rows else 0
        out.append(record(0x00, struct.pack("<IIHHBI", r, 0, 300, flags, 0, 0)))
        out.extend(_cell(c, v) for c, v in enumerate(row) if v != "")
    out.append(record(0x92))
    if merges:
        out.append(record(0xB1, struct.pack("<I", len(merges))))
        for (r0, c0), (r1, c1) in merges:
            out.append(record(0xB0, struct.pack("<4I", r0, r1, c0, c1)))
        out.append(record(0xB2))
    out.append(record(0x82))
    return b"".join(out)


def workbook_bin(sheets: list[tuple[str, int]]) -> bytes:
    """sheets: (name, hsState 0 visible / 1 hidden / 2 veryHidden)."""
    out = [record(0x83), record(0x99, struct.pack("<II", 0, 0) + _wide("")), record(0x8F)]
    for k, (name, state) in enumerate(sheets, start=1):
        out.append(record(0x9C, struct.pack("<II", state, k) + _wide(f"rId{k}") + _wide(name)))
    out += [record(0x90), record(0x9D, bytes(26)), record(0x84)]
    return b"".join(out)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
    "{sheets}</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>'
)


def xlsx_to_xlsb(source: Path, target: Path) -> Path:
    """Write ``target`` (.xlsb) with the sheets, values, visibility and merges of ``source``."""
    book = CalamineWorkbook.from_path(str(source))
    states = {"Visible": 0, "Hidden": 1, "VeryHidden": 2}
    sheets = [
        (m.name, states[str(m.visible).rsplit(".", 1)[-1]])
        for m in book.sheets_metadata
        if str(m.typ).endswith("WorkSheet")
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{k}.bin" '
            'ContentType="application/vnd.ms-excel.worksheet"/>'
            for k in range(1, len(sheets) + 1)
        )
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(sheets=overrides))
        z.writestr("_rels/.rels", _ROOT_RELS)
        rels = "".join(
            f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/officeDocument/'
            f'2006/relationships/worksheet" Target="worksheets/sheet{k}.bin"/>'
            for k in range(1, len(sheets) + 1)
        )
        z.writestr(
            "xl/_rels/workbook.bin.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        z.writestr("xl/workbook.bin", workbook_bin(sheets))
        for k, (name, _state) in enumerate(sheets, start=1):
            sheet = book.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)
            z.writestr(
                f"xl/worksheets/sheet{k}.bin", sheet_bin(grid, sheet.merged_cell_ranges or [])
            )
    target.write_bytes(buffer.getvalue())
    return target
