"""Structural facts about an OpenDocument spreadsheet (.ods) that calamine does not report.

calamine reads an .ods's values but reports no merged ranges, and expands repeated rows and
columns (``table:number-rows-repeated``) into one dense grid. One streaming pass over
``content.xml`` (the sniff has already rejected any DTD, so expat can neither define nor fetch
entities) collects, per sheet:

- merged ranges (``table:number-columns-spanned`` / ``number-rows-spanned``), for the header
  search and the E_MERGED_VALUE check, in calamine's 0-based inclusive form;
- hidden rows (``table:visibility="collapse"`` or ``"filter"``), for W_HIDDEN_ROW;
- error values (``calcext:value-type="error"``) and sheet protection, as sheetxml finds them;
- the furthest cell holding a value: a value repeated a million times is refused before calamine
  builds the grid (E_TOO_LARGE). Repeated *empty* rows and columns, which LibreOffice writes to
  the end of every sheet, cost nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.etree import ElementTree

from zhaoshang.excel.sheetxml import SheetStructure

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

_SHEET = f"{{{_TABLE}}}table"
_ROW = f"{{{_TABLE}}}table-row"
_CELL = f"{{{_TABLE}}}table-cell"
_COVERED = f"{{{_TABLE}}}covered-table-cell"
_NAME = f"{{{_TABLE}}}name"
_ROWS_REPEATED = f"{{{_TABLE}}}number-rows-repeated"
_COLS_REPEATED = f"{{{_TABLE}}}number-columns-repeated"
_COLS_SPANNED = f"{{{_TABLE}}}number-columns-spanned"
_ROWS_SPANNED = f"{{{_TABLE}}}number-rows-spanned"
_VISIBILITY = f"{{{_TABLE}}}visibility"
_VALUE_TYPE = f"{{{_OFFICE}}}value-type"
# LibreOffice's extension: the cached result of a formula is an error (#DIV/0!, ...); calamine
# shows such a cell as empty, like an .xlsx error cell.
_CALC_VALUE_TYPE = (
    "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}value-type"
)
_PROTECTED = f"{{{_TABLE}}}protected"


class OdsTooLarge(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass
class OdsSheet:
    structure: SheetStructure = field(default_factory=SheetStructure)
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


def _count(element: ElementTree.Element, name: str) -> int:
    try:
        return max(1, int(element.get(name, "1")))
    except ValueError:
        return 1


def scan_content(content: bytes, max_rows: int, max_columns: int) -> dict[str, OdsSheet]:
    """sheet name -> OdsSheet; raises OdsTooLarge for a value beyond max_rows x max_columns."""
    sheets: dict[str, OdsSheet] = {}
    sheet: OdsSheet | None = None
    row = 0  # 0-based index of the current row
    rows_in_element = 1
    col = 0
    errors: dict[int, tuple[int, int]] = {}  # id(cell element) -> (row, column), 1-based
    for event, element in ElementTree.iterparse(io.BytesIO(content), events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _SHEET:
                sheet = sheets.setdefault(element.get(_NAME, f"Sheet{len(sheets) + 1}"), OdsSheet())
                sheet.structure.protected = element.get(_PROTECTED) == "true"
                row = 0
            elif sheet is None:
                continue
            elif tag == _ROW:
                rows_in_element = _count(element, _ROWS_REPEATED)
                col = 0
                if element.get(_VISIBILITY) in ("collapse", "filter"):
                    last = min(row + rows_in_element, max_rows)
                    sheet.structure.hidden_rows.update(range(row + 1, last + 1))
            elif tag in (_CELL, _COVERED):
                repeat = _count(element, _COLS_REPEATED)
                if tag == _CELL and element.get(_VALUE_TYPE) is not None:
                    last_col = col + repeat
                    if last_col > max_columns or (row + rows_in_element > max_rows):
                        raise OdsTooLarge(
                            f"{max(row + rows_in_element, 1)} x {last_col} > "
                            f"{max_rows} x {max_columns}"
                        )
                if tag == _CELL and element.get(_CALC_VALUE_TYPE) == "error":
                    errors[id(element)] = (row + 1, col + 1)
                spanned_cols = _count(element, _COLS_SPANNED)
                spanned_rows = _count(element, _ROWS_SPANNED)
                if tag == _CELL and (spanned_cols > 1 or spanned_rows > 1):
                    for k in range(repeat):
                        first = col + k * spanned_cols
                        sheet.merges.append(
                            ((row, first), (row + spanned_rows - 1, first + spanned_cols - 1))
                        )
                col += repeat
        else:
            if tag in (_CELL, _COVERED):
                where = errors.pop(id(element), None)
                if where is not None and sheet is not None:
                    text = "".join(element.itertext()).strip()[:20] or "#ERROR"
                    sheet.structure.error_cells[where] = text
                element.clear()
            elif tag == _ROW and sheet is not None:
                row += rows_in_element
                element.clear()
            elif tag == _SHEET:
                sheet = None
                element.clear()
    return sheets
