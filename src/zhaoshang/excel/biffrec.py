"""Structural facts about a legacy .xls (BIFF8) sheet that calamine does not report.

calamine reads the cell values and merged ranges of an .xls; like for .xlsx it says nothing
about hidden rows or sheet protection and shows an error value as an empty cell. One pass over
the records of the Workbook stream (MS-XLS 2.1.4: a 2-byte type, a 2-byte size, the payload)
finds, per sheet: ROW records with fDyZero (hidden rows, W_HIDDEN_ROW), PROTECT, and BOOLERR /
FORMULA records holding an error (#DIV/0!, ... -> E_CELL_ERROR), the same facts sheetxml finds in
an .xlsx. Nothing here reads cell text.
"""

from __future__ import annotations

import struct

from zhaoshang.excel.sheetxml import SheetStructure

BOF, EOF = 0x0809, 0x000A
BOUNDSHEET = 0x0085
ROW, PROTECT, BOOLERR, FORMULA = 0x0208, 0x0012, 0x0205, 0x0006
ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_HEADER = struct.Struct("<HH")


def _records(data: bytes, pos: int = 0):
    end = len(data)
    while pos + 4 <= end:
        kind, size = _HEADER.unpack_from(data, pos)
        yield kind, data[pos + 4 : pos + 4 + size]
        pos += 4 + size


def _sheet_name(payload: bytes) -> str:
    """ShortXLUnicodeString after lbPlyPos (4), hsState (1), dt (1)."""
    count, high = payload[6], payload[7] & 1
    raw = payload[8 : 8 + count * (2 if high else 1)]
    return raw.decode("utf-16-le" if high else "latin-1", "replace")


def scan_workbook_stream(data: bytes, max_rows: int) -> dict[str, SheetStructure]:
    """sheet name -> SheetStructure, for the worksheets BOUNDSHEET lists."""
    sheets: list[tuple[str, int]] = []
    for kind, payload in _records(data):
        if kind == BOUNDSHEET and len(payload) >= 8 and payload[5] == 0:  # dt 0: worksheet
            sheets.append((_sheet_name(payload), struct.unpack_from("<I", payload)[0]))
        elif kind == EOF:
            break
    out: dict[str, SheetStructure] = {}
    for name, offset in sheets:
        structure = SheetStructure()
        for kind, payload in _records(data, offset):
            if kind == EOF:
                break
            if kind == ROW and len(payload) >= 16:
                row = struct.unpack_from("<H", payload)[0]
                if struct.unpack_from("<H", payload, 12)[0] & 0x0020 and row < max_rows:
                    structure.hidden_rows.add(row + 1)
            elif kind == PROTECT and len(payload) >= 2:
                structure.protected = structure.protected or payload[:2] != b"\x00\x00"
            elif kind == BOOLERR and len(payload) >= 8 and payload[7] == 1:
                row, col = struct.unpack_from("<HH", payload)
                structure.error_cells[(row + 1, col + 1)] = ERRORS.get(payload[6], "#ERROR")
            elif kind == FORMULA and len(payload) >= 14:
                # A cached error: FormulaValue byte 0 = 2, bytes 6-7 = 0xFFFF, byte 2 = the code.
                value = payload[6:14]
                if value[0] == 0x02 and value[6:8] == b"\xff\xff":
                    row, col = struct.unpack_from("<HH", payload)
                    structure.error_cells[(row + 1, col + 1)] = ERRORS.get(value[2], "#ERROR")
        out[name] = structure
    return out
