"""Builds county-form workbooks for the Excel reader's tests, in code (no binary fixtures).

``write_form`` lays out the form the way clerks fill it (title, 填报单位/报告期 line, one- or
two-row header, project rows, 合计 row, footer) with openpyxl; ``rewrite_parts`` and
``raw_xlsx`` edit or write package XML directly for the cases openpyxl cannot produce
(formulas without cached values, DTDs, bad cell references, macros, ...).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904

STANDARD_HEADERS = [
    "序号",
    "项目名称",
    "投资方",
    "统一社会信用代码",
    "资金来源地",
    "产业类别",
    "项目性质",
    "签约时间",
    "项目进展",
    "计划总投资（万元）",
    "合同引资额（万元）",
    "本期到位资金（万元）",
    "累计到位资金（万元）",
    "利用外资（万美元）",
    "是否高新技术项目",
    "签约活动",
    "联系人及电话",
    "备注",
]
COL = {h: i for i, h in enumerate(STANDARD_HEADERS)}  # header -> 0-based index in a row list

META_LINE = "填报单位：济阳镇      报告期：2021年3月      单位：万元"
FOOTER = [["填表人：张三      联系电话：13812345678      审核人：李四"]]
USCC = "91411426MA44XXXX1X"


# Short names for headers that are not Python identifiers (they carry full-width brackets).
ALIASES = {
    "total": "计划总投资（万元）",
    "contract": "合同引资额（万元）",
    "period": "本期到位资金（万元）",
    "cumulative": "累计到位资金（万元）",
    "usd": "利用外资（万美元）",
}


def project_row(i: int, **changes: object) -> list[object]:
    """A valid project row; ``changes`` maps a standard header (or an ALIASES name) to a raw value."""
    row: list[object] = [
        i,
        f"项目{i}",
        f"投资公司{i}",
        USCC,
        "省外",
        "二产",
        "新引进",
        date(2021, 3, 5),
        "已签约",
        1000 + i,
        800,
        100,
        300,
        None,
        "否",
        "第二届儒商文化研讨暨经贸洽谈会",
        "王五 13900001111",
        None,
    ]
    for header, value in changes.items():
        row[COL[ALIASES.get(header, header)]] = value
    return row


def total_row(rows: Sequence[Sequence[object]], label: str = "合计") -> list[object]:
    out: list[object] = [label] + [None] * (len(STANDARD_HEADERS) - 1)
    for header in (
        "计划总投资（万元）",
        "合同引资额（万元）",
        "本期到位资金（万元）",
        "累计到位资金（万元）",
    ):
        out[COL[header]] = sum(
            r[COL[header]] for r in rows if isinstance(r[COL[header]], (int, float))
        )
    return out


@dataclass
class Form:
    title: str | None = "夏邑县招商引资项目进展情况表"
    meta: list[list[object]] = field(default_factory=lambda: [[META_LINE]])
    headers: list[object] = field(default_factory=lambda: list(STANDARD_HEADERS))
    # A second header row: (subheaders, {merge ranges relative to the header, e.g. "L1:M1"}).
    subheaders: list[object] | None = None
    header_merges: list[str] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=lambda: [project_row(i) for i in (1, 2, 3)])
    total: list[object] | bool | None = True  # True: a 合计 row summing ``rows``
    footer: list[list[object]] = field(default_factory=lambda: [list(r) for r in FOOTER])
    merge_title: bool = True


@dataclass
class Layout:
    """Where write_form put things (1-based Excel rows)."""

    header_row: int
    first_data_row: int
    data_rows: list[int]
    total_row: int | None


def write_form(
    path: Path,
    form: Form | None = None,
    *,
    sheet_title: str = "进展情况",
    before: Sequence[tuple[str, str, list[list[object]]]] = (),
    after: Sequence[tuple[str, str, list[list[object]]]] = (),
    hidden_rows: Sequence[int] = (),
    date1904: bool = False,
    customize: Callable[[openpyxl.Workbook, Layout], None] | None = None,
) -> Layout:
    """Write ``form`` on one sheet; ``before``/``after`` add (title, state, rows) sheets around it."""
    form = form or Form()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, state, rows in before:
        _plain_sheet(wb, title, state, rows)
    ws = wb.create_sheet(sheet_title)
    width = len(form.headers)
    r = 1
    if form.title is not None:
        ws.cell(r, 1, form.title)
        if form.merge_title:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    for line in form.meta:
        for c, value in enumerate(line, start=1):
            ws.cell(r, c, value)
        r += 1
    header_row = r
    for c, value in enumerate(form.headers, start=1):
        ws.cell(r, c, value)
    if form.subheaders is not None:
        r += 1
        for c, value in enumerate(form.subheaders, start=1):
            ws.cell(r, c, value)
    for ref in form.header_merges:
        ws.merge_cells(_shift(ref, header_row - 1))
    r += 1
    first = r
    data_rows = []
    for row in form.rows:
        for c, value in enumerate(row, start=1):
            ws.cell(r, c, value)
        data_rows.append(r)
        r += 1
    total_at = None
    total = total_row(form.rows) if form.total is True else form.total
    if total:
        for c, value in enumerate(total, start=1):
            ws.cell(r, c, value)
        total_at = r
        r += 1
    for line in form.footer:
        for c, value in enumerate(line, start=1):
            ws.cell(r, c, value)
        r += 1
    for row_number in hidden_rows:
        ws.row_dimensions[row_number].hidden = True
    for title, state, rows in after:
        _plain_sheet(wb, title, state, rows)
    if date1904:
        wb.epoch = CALENDAR_MAC_1904
    layout = Layout(
        header_row + (1 if form.subheaders is not None else 0), first, data_rows, total_at
    )
    if customize:
        customize(wb, layout)
    wb.save(path)
    return layout


def _plain_sheet(wb: openpyxl.Workbook, title: str, state: str, rows: list[list[object]]) -> None:
    ws = wb.create_sheet(title)
    ws.sheet_state = state
    for row in rows:
        ws.append(row)


def _shift(ref: str, rows: int) -> str:
    """'L1:M1' relative to the header -> absolute rows."""
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import range_boundaries

    c0, r0, c1, r1 = range_boundaries(ref)
    return f"{get_column_letter(c0)}{r0 + rows}:{get_column_letter(c1)}{r1 + rows}"


def rewrite_parts(
    path: Path,
    edit: dict[str, Callable[[bytes], bytes]] | None = None,
    add: dict[str, bytes] | None = None,
    out: Path | None = None,
) -> Path:
    """Copy the package at ``path`` with some parts edited or added (raw XML surgery)."""
    out = out or path
    edit, add = edit or {}, add or {}
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    for name, fn in edit.items():
        parts[name] = fn(parts[name])
    parts.update(add)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return out


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>{extra}</Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr {pr}/>'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
MAIN_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def raw_xlsx(
    path: Path,
    sheet_data: str,
    *,
    workbook_pr: str = "",
    main_content_type: str = MAIN_CT,
    extra_parts: dict[str, bytes] | None = None,
    sheet_prefix: str = "",
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A minimal one-sheet package whose <sheetData> content is written by hand."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", compression) as z:
        z.writestr("[Content_Types].xml", _CT.format(main=main_content_type, extra=""))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK.format(pr=workbook_pr))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_prefix + sheet)
        for name, data in (extra_parts or {}).items():
            z.writestr(name, data)
    return path


def inline_row(row_number: int, values: Sequence[object]) -> str:
    """<row> XML with inline strings and numbers (for raw_xlsx)."""
    from xml.sax.saxutils import escape

    from openpyxl.utils import get_column_letter

    cells = []
    for c, value in enumerate(values, start=1):
        ref = f"{get_column_letter(c)}{row_number}"
        if value is None:
            continue
        if isinstance(value, (int, float)):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
    return f'<row r="{row_number}">' + "".join(cells) + "</row>"


def legacy_xls_bytes(
    stream_name: str = "Workbook", payload: bytes = b"\x09\x08\x10\x00" + b"\x00" * 4092
) -> bytes:
    """A minimal but well-formed OLE/CFB container (v3) holding one stream, as a .xls has.

    Layout: header, sector 0 = FAT, sector 1 = directory, sectors 2.. = the stream (>= 4096
    bytes, so no mini stream is needed).
    """
    import struct

    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    payload = payload.ljust(max(4096, -(-len(payload) // 512) * 512), b"\x00")
    n = len(payload) // 512
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\x00" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\x00" * 6,
        0,
        1,
        1,
        0,
        4096,
        end,
        0,
        end,
        0,
    )
    header += struct.pack("<109I", 0, *([free] * 108))
    fat = [fat_sector, end] + [3 + k for k in range(n - 1)] + [end]
    fat_bytes = struct.pack(f"<{len(fat)}I", *fat) + struct.pack("<I", free) * (128 - len(fat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQII4s",
            encoded.ljust(64, b"\x00"),
            len(encoded),
            kind,
            1 if name else 0,
            free,
            free,
            child,
            b"\x00" * 16,
            0,
            0,
            0,
            start,
            size,
            b"\x00" * 4,
        )

    directory = (
        entry("Root Entry", 5, 1, end, 0)
        + entry(stream_name, 2, free, 2, len(payload))
        + entry("", 0, free, 0, 0) * 2
    )
    return header + fat_bytes + directory + payload
