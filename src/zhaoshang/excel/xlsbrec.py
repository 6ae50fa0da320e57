"""Structural facts about a binary workbook (.xlsb) from its records, before calamine reads it.

An .xlsb is a zip like an .xlsx, but its workbook and sheets are BIFF12 records (MS-XLSB
2.1.4: a variable-length type, a variable-length size, the payload). calamine reads the values;
this module walks the records of each sheet once to find what it does not report or must not be
asked to build: merged ranges (BrtMergeCell), hidden rows (BrtRowHdr fDyZero), error values (BrtCellError,
BrtFmlaError: calamine shows them empty), sheet protection, cells beyond the
limits (calamine would allocate one dense range up to them), and the shared-string count a
lying header could inflate (BrtBeginSst). Nothing here interprets a cell's content.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from zhaoshang.excel.limits import Limits
from zhaoshang.excel.sheetxml import EXCEL_MAX_COL, EXCEL_MAX_ROW, SheetStructure

BRT_ROW_HDR = 0x0000
BRT_CELL_ERROR, BRT_FMLA_ERROR = 0x0003, 0x000B
_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
BRT_CELL_FIRST, BRT_CELL_LAST = 0x0002, 0x000B  # Rk, Error, Bool, Real, St, Isst, Fmla*
BRT_BEGIN_SST = 0x009F
BRT_BUNDLE_SH = 0x009C
BRT_WB_PROP = 0x0099
BRT_MERGE_CELL = 0x00B0
BRT_SHEET_PROTECTION = 0x0217

_U32 = struct.Struct("<I")


class XlsbProblem(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class XlsbScan:
    date1904: bool = False
    structures: dict[str, SheetStructure] = field(default_factory=dict)  # by sheet name
    merges: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = field(default_factory=dict)


def records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(record type, payload) for each record; a truncated record ends the part as corrupt."""
    pos, end = 0, len(data)
    while pos < end:
        kind, pos = _varint(data, pos, 2)
        size, pos = _varint(data, pos, 4)
        if pos + size > end:
            raise XlsbProblem("E_ZIP_CORRUPT")
        yield kind, data[pos : pos + size]
        pos += size


def _varint(data: bytes, pos: int, max_bytes: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(max_bytes):
        if pos >= len(data):
            raise XlsbProblem("E_ZIP_CORRUPT")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return value, pos


def _wide_string(payload: bytes, offset: int) -> tuple[str, int]:
    (length,) = _U32.unpack_from(payload, offset)
    start = offset + 4
    if length == 0xFFFFFFFF:
        return "", start
    text = payload[start : start + 2 * length].decode("utf-16-le", "replace")
    return text, start + 2 * length


def scan_xlsb(read: Callable[[str], bytes], members: list[str], limits: Limits) -> XlsbScan:
    """Walk xl/workbook.bin (sheet names, 1904 dates), sharedStrings.bin and every sheet part."""
    scan = XlsbScan()
    lower = {m.lower(): m for m in members}
    sheet_parts = _sheet_parts(read, lower, scan)
    if len(sheet_parts) > limits.max_sheets:
        raise XlsbProblem("E_TOO_MANY_PARTS", f"{len(sheet_parts)} > {limits.max_sheets}")
    if "xl/sharedstrings.bin" in lower:
        for kind, payload in records(read(lower["xl/sharedstrings.bin"])):
            if kind == BRT_BEGIN_SST and len(payload) >= 8:
                (unique,) = _U32.unpack_from(payload, 4)
                if unique > limits.max_shared_strings:
                    raise XlsbProblem(
                        "E_TOO_MANY_STRINGS", f"{unique} > {limits.max_shared_strings}"
                    )
                break
    for name, part in sheet_parts.items():
        if part is None:
            continue
        structure, merges = _scan_sheet(read(part), limits)
        scan.structures[name] = structure
        scan.merges[name] = merges
    return scan


def _sheet_parts(
    read: Callable[[str], bytes], lower: dict[str, str], scan: XlsbScan
) -> dict[str, str | None]:
    """sheet name -> zip member, from workbook.bin's BrtBundleSh and its relationships."""
    import re

    rels_member = lower.get("xl/_rels/workbook.bin.rels")
    targets: dict[str, str] = {}
    if rels_member:
        rels = read(rels_member).decode("utf-8", "replace")
        for m in re.finditer(r"<Relationship\b[^>]*>", rels):
            tag = m.group(0)
            rid = re.search(r'\bId="([^"]*)"', tag)
            target = re.search(r'\bTarget="([^"]*)"', tag)
            if rid and target:
                targets[rid.group(1)] = target.group(1).lstrip("/").removeprefix("xl/")
    out: dict[str, str | None] = {}
    for kind, payload in records(read(lower["xl/workbook.bin"])):
        if kind == BRT_WB_PROP and payload:
            scan.date1904 = bool(payload[0] & 1)
        elif kind == BRT_BUNDLE_SH and len(payload) >= 12:
            rid, offset = _wide_string(payload, 8)
            name, _ = _wide_string(payload, offset)
            target = targets.get(rid)
            out[name] = lower.get(f"xl/{target}".lower()) if target else None
    return out


def _scan_sheet(
    data: bytes, limits: Limits
) -> tuple[SheetStructure, list[tuple[tuple[int, int], tuple[int, int]]]]:
    structure = SheetStructure()
    merges = []
    row = 0
    for kind, payload in records(data):
        if kind == BRT_ROW_HDR and len(payload) >= 12:
            (row,) = _U32.unpack_from(payload, 0)
            if row >= EXCEL_MAX_ROW:
                raise XlsbProblem("E_BAD_CELL_REF", f"row {row + 1}")
            (flags,) = struct.unpack_from("<H", payload, 10)
            if flags & 0x1000:  # fDyZero: the row is hidden
                structure.hidden_rows.add(row + 1)
        elif BRT_CELL_FIRST <= kind <= BRT_CELL_LAST and len(payload) >= 4:
            (col,) = _U32.unpack_from(payload, 0)
            if col >= EXCEL_MAX_COL:
                raise XlsbProblem("E_BAD_CELL_REF", f"column {col + 1}")
            if structure.beyond_limits is None and (
                row >= limits.max_rows or col >= limits.max_columns
            ):
                structure.beyond_limits = f"R{row + 1}C{col + 1}"
            if kind in (BRT_CELL_ERROR, BRT_FMLA_ERROR) and len(payload) >= 9:
                structure.error_cells[(row + 1, col + 1)] = _ERRORS.get(payload[8], "#ERROR")
        elif kind == BRT_MERGE_CELL and len(payload) >= 16:
            r0, r1, c0, c1 = struct.unpack_from("<4I", payload, 0)
            merges.append(((r0, c0), (r1, c1)))
        elif kind == BRT_SHEET_PROTECTION:
            structure.protected = True
    return structure, merges
