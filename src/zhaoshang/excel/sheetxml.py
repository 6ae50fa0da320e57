"""Structural facts about one worksheet that calamine does not report, from its raw XML.

calamine gives cell values, merged ranges and sheet visibility. It gives an empty string both
for a formula without a cached value and for an Excel error value, says nothing about hidden
rows or sheet protection, and builds one dense range from A1 to the furthest cell (a single cell
at XFD1048576 asks for half a terabyte). This module finds, with byte searches over the sheet
XML (no XML parser: the sniff has already rejected any DTD), the few cells that matter:

- cells beyond Excel's grid (E_BAD_CELL_REF) or holding a value beyond the row/column limits;
- ``<row hidden="1">`` rows; ``<f>`` cells without ``<v>``; ``t="e"`` error cells;
- ``<sheetProtection>``.

Only candidates are decoded, so the cost is a few linear byte scans per sheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COL = 16_384  # XFD

_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_ATTR_R = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)(\d*)["']""")
_VALUE_TEXT = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>([^<]*)<")
_HIDDEN = re.compile(rb"""hidden\s*=\s*["'](?:1|true)["']""")
_FORMULA_TEXT = re.compile(rb"<(?:[\w.-]+:)?f(?:\s[^>]*)?>([^<]{1,200})<")
_ERROR_TYPE = re.compile(rb"""t=(?:"e"|'e')""")  # a literal start lets the engine skip ahead fast


class BadCellRef(Exception):
    """A cell or row reference outside Excel's grid; ``ref`` is printable ASCII, at most 20 chars."""

    def __init__(self, ref: str):
        super().__init__(ref)
        self.ref = ref


@dataclass
class SheetStructure:
    """Coordinates are 1-based (row, column)."""

    hidden_rows: set[int] = field(default_factory=set)
    formula_without_value: set[tuple[int, int]] = field(default_factory=set)
    # The formula text of those cells (up to 200 chars): a 合计 row's =SUM(L4:L33)
    # can then be evaluated from the sheet's own cells (a file saved by a tool never computed it).
    formula_text: dict[tuple[int, int], str] = field(default_factory=dict)
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)
    protected: bool = False
    beyond_limits: str | None = None  # first cell holding a value beyond max_rows/max_columns


def column_number(letters: str) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def _letters(column: int) -> str:
    letters = ""
    while column > 0:
        column, rem = divmod(column - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=8)
def _candidate_pattern(max_rows: int, max_columns: int) -> re.Pattern[bytes]:
    """References that may lie beyond the limits: as many letters as the last allowed column
    or as many digits as the last allowed row. Candidates are then compared exactly.

    The pattern starts with the literal ``r="`` (how every writer spells the attribute) so the
    regex engine skips ahead fast. An exotic legal spelling (``r = 'A1'``) escapes this scan;
    calamine then builds its grid under the sandbox's memory limit and the file is still
    rejected (E_RESOURCE_LIMIT instead of E_BAD_CELL_REF / E_TOO_LARGE).
    """
    letters = len(_letters(min(max_columns, EXCEL_MAX_COL)))
    digits = len(str(min(max_rows, EXCEL_MAX_ROW)))
    return re.compile(
        rf'r="([A-Za-z]{{{letters},}})(\d+)"|r="([A-Za-z]*)(\d{{{digits},}})"'.encode()
    )


def scan_sheet(data: bytes, max_rows: int, max_columns: int) -> SheetStructure:
    """Raise BadCellRef for a reference outside Excel's grid, else collect the structure."""
    root = _ROOT.search(data, 0, 4096)
    prefix = root.group(1) + b":" if root and root.group(1) else b""
    structure = SheetStructure(protected=b"<" + prefix + b"sheetProtection" in data)
    _scan_beyond(data, prefix, max_rows, max_columns, structure)
    _scan_hidden_rows(data, prefix, structure)
    _scan_formulas(data, prefix, structure)
    _scan_errors(data, prefix, structure)
    return structure


def _tag_start(data: bytes, pos: int) -> int:
    return data.rfind(b"<", 0, pos)


def _tag_is(data: bytes, start: int, name: bytes) -> bool:
    end = start + 1 + len(name)
    return data[start + 1 : end] == name and data[end : end + 1] in (
        b" ",
        b"\t",
        b"\r",
        b"\n",
        b">",
        b"/",
    )


def _cell_end(data: bytes, start: int, prefix: bytes) -> int:
    """End of a <c> element starting at ``start`` (self-closing or not)."""
    open_end = data.find(b">", start)
    if open_end < 0:
        return len(data)
    if data[open_end - 1 : open_end] == b"/":
        return open_end + 1
    close = data.find(b"</" + prefix + b"c>", open_end)
    return len(data) if close < 0 else close


def _has_value(data: bytes, start: int, end: int, prefix: bytes) -> bool:
    body = data[start:end]
    return any(
        re.search(b"<" + re.escape(prefix + tag) + rb"[\s>/]", body) is not None
        for tag in (b"v", b"is")
    )


_STRING_TYPE = re.compile(rb"""\st\s*=\s*["']str["']""")


def _has_cached_value(data: bytes, start: int, end: int, prefix: bytes) -> bool:
    """A formula cell's cached result: a non-empty <v>, an inline string, or t="str" with <v>.

    openpyxl and other tools write ``<f>..</f><v/>``: an empty <v> is no value. Only a string
    formula may legitimately cache the empty string.
    """
    value = _VALUE_TEXT.search(data, start, end)
    if value and value.group(1).strip():
        return True
    open_end = data.find(b">", start, end)
    if _STRING_TYPE.search(data, start, open_end):
        return _has_value(data, start, end, prefix)
    return re.search(b"<" + re.escape(prefix) + rb"is[\s>]", data[start:end]) is not None


def _scan_beyond(
    data: bytes, prefix: bytes, max_rows: int, max_columns: int, out: SheetStructure
) -> None:
    for m in _candidate_pattern(max_rows, max_columns).finditer(data):
        if data[m.start() - 1 : m.start()] not in (b" ", b"\t", b"\r", b"\n"):
            continue  # part of another attribute name
        letters = (m.group(1) or m.group(3) or b"").decode("ascii")
        digits = (m.group(2) or m.group(4)).decode("ascii")
        row, col = int(digits), column_number(letters) if letters else 0
        if row > EXCEL_MAX_ROW or col > EXCEL_MAX_COL:
            raise BadCellRef(f"{letters}{digits}"[:20])
        if out.beyond_limits is None and (row > max_rows or col > max_columns):
            start = _tag_start(data, m.start())
            if _tag_is(data, start, prefix + b"c") and _has_value(
                data, start, _cell_end(data, start, prefix), prefix
            ):
                out.beyond_limits = f"{letters}{digits}"


def _cell_position(data: bytes, start: int, prefix: bytes) -> tuple[int, int] | None:
    """(row, column) of the <c> element at ``start``, from its r attribute or by counting."""
    open_end = data.find(b">", start)
    m = _ATTR_R.search(data, start, open_end)
    if m and m.group(1) and m.group(2):
        return int(m.group(2)), column_number(m.group(1).decode("ascii"))
    # No r attribute (allowed by the standard, written by some generators): count siblings.
    row_start = data.rfind(b"<" + prefix + b"row", 0, start)
    if row_start < 0:
        return None
    row = _row_number(data, row_start, prefix)
    cells = re.findall(b"<" + re.escape(prefix) + rb"c[\s>/]", data[row_start:start])
    return row, len(cells) + 1


def _row_number(data: bytes, row_start: int, prefix: bytes) -> int:
    m = _ATTR_R.search(data, row_start, data.find(b">", row_start))
    if m and m.group(2) and not m.group(1):
        return int(m.group(2))
    return len(re.findall(b"<" + re.escape(prefix) + rb"row[\s>/]", data[:row_start])) + 1


def _scan_hidden_rows(data: bytes, prefix: bytes, out: SheetStructure) -> None:
    for m in _HIDDEN.finditer(data):
        start = _tag_start(data, m.start())
        if _tag_is(data, start, prefix + b"row"):
            out.hidden_rows.add(_row_number(data, start, prefix))


def _scan_formulas(data: bytes, prefix: bytes, out: SheetStructure) -> None:
    """<f> cells whose <v> is missing: calamine and openpyxl (data_only) would both say 'empty'."""
    open_cell = b"<" + prefix + b"c"
    for m in re.finditer(b"<" + re.escape(prefix) + rb"f[\s>/]", data):
        start = data.rfind(open_cell, 0, m.start())
        while start >= 0 and not _tag_is(data, start, prefix + b"c"):
            start = data.rfind(open_cell, 0, start)
        if start < 0:
            continue
        end = _cell_end(data, start, prefix)
        if not _has_cached_value(data, start, end, prefix):
            position = _cell_position(data, start, prefix)
            if position:
                out.formula_without_value.add(position)
                text = _FORMULA_TEXT.search(data, start, end)
                if text:
                    out.formula_text[position] = text.group(1).decode("utf-8", "replace")


def _scan_errors(data: bytes, prefix: bytes, out: SheetStructure) -> None:
    for m in _ERROR_TYPE.finditer(data):
        if data[m.start() - 1 : m.start()] not in (b" ", b"\t", b"\r", b"\n"):
            continue  # part of another attribute name
        start = _tag_start(data, m.start())
        if not _tag_is(data, start, prefix + b"c"):
            continue
        end = _cell_end(data, start, prefix)
        value = _VALUE_TEXT.search(data, start, end)
        position = _cell_position(data, start, prefix)
        if position:
            text = value.group(1).decode("utf-8", "replace")[:20] if value else "#ERROR"
            out.error_cells[position] = text
