"""Files the loader must reject, each with the error code it must give (zhaoshang.errors.MESSAGES).

``bad_files(out_dir)`` writes them below ``out_dir/submissions/`` and returns what to expect.
They carry no planned data: a unit that sends a bad file also sends a good one that month, so
the figures and MISSING_REPORT expectations do not depend on them.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

from zhaoshang.errors import MESSAGES
from zhaoshang.generate.layout import render
from zhaoshang.generate.reports import Report, RowData
from zhaoshang.generate.roster import DEPARTMENT, UnitSpec
from zhaoshang.generate.scenario import ALL_BAD_FILES, Messiness
from zhaoshang.generate.truth import RejectedTruth
from zhaoshang.generate.writers import workbook_bytes

EXPECTED_CODE = {
    "empty": "E_EMPTY",
    "zip_corrupt": "E_ZIP_CORRUPT",
    "csv_as_xlsx": "E_NOT_XLSX_TEXT",
    "html_as_xlsx": "E_NOT_XLSX_TEXT",
    "legacy_xls": "E_LEGACY_XLS",
    "missing_header": "E_TEMPLATE",
    "unknown_unit": "E_UNKNOWN_UNIT",
    "xml_entity": "E_XML_ENTITY",
    "zip_bomb": "E_TOO_LARGE",
}
assert set(EXPECTED_CODE) == set(ALL_BAD_FILES) and all(
    c in MESSAGES for c in EXPECTED_CODE.values()
)

UNKNOWN_UNIT = "县老干部局"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def _form_bytes(
    unit: UnitSpec, year: int, month: int, rng: random.Random, drop: str | None = None
) -> bytes:
    """A plain county form (two made-up rows) as xlsx bytes, optionally without one column."""
    rows = [
        RowData(
            {
                "project_name": "示例纺织服装项目",
                "investor_name": "上海市示例纺织有限公司",
                "investor_uscc": "91310115MA1K3A0B4U",
                "capital_origin": "省外",
                "sector": "二产",
                "project_kind": "新引进",
                "signed_date": date(year, month, 5),
                "status": "已签约",
                "total_investment_wan": Decimal(300),
                "contract_amount_wan": Decimal(200),
                "funds_period_wan": Decimal(50),
                "funds_cumulative_wan": Decimal(50),
            }
        ),
        RowData(
            {
                "project_name": "示例食品加工项目",
                "investor_name": "郑州市示例食品有限公司",
                "capital_origin": "省内县外",
                "sector": "二产",
                "project_kind": "新引进",
                "signed_date": date(year, month, 9),
                "total_investment_wan": Decimal(120),
                "funds_period_wan": Decimal(0),
                "funds_cumulative_wan": Decimal(0),
            }
        ),
    ]
    report = Report(unit, year, month, rows, date(year + (month == 12), month % 12 + 1, 2))
    rendered = render(report, Messiness.none(), "xlsxwriter", rng)
    if drop:
        sheet = rendered.spec.sheets[rendered.spec.active]
        col = next(
            c.col
            for c in sheet.cells
            if c.row == rendered.header_rows[0] and c.value == rendered.columns[drop]
        )
        sheet.cells = [c for c in sheet.cells if c.col != col or c.row < rendered.header_rows[0]]
    return workbook_bytes(rendered.spec, "xlsxwriter")


def _rewrite_sheet(xlsx: bytes, edit) -> bytes:
    """Copy an xlsx, passing the first worksheet's XML through ``edit(xml, zip_out, info)``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                edit(data, dst, info)
            else:
                dst.writestr(info, data)
    return out.getvalue()


def _with_entity(xlsx: bytes) -> bytes:
    doctype = (
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY ext SYSTEM "file:///etc/passwd">]>'
    )

    def edit(xml: bytes, dst: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        head, sep, rest = xml.partition(b"?>")
        dst.writestr(info, head + sep + doctype + rest)

    return _rewrite_sheet(xlsx, edit)


def _with_bomb(xlsx: bytes, megabytes: int) -> bytes:
    chunk = b" " * (1 << 20)

    def edit(xml: bytes, dst: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        head, sep, rest = xml.partition(b"<sheetData>")
        member = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        member.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(member, "w", force_zip64=True) as f:
            f.write(head + sep)
            for _ in range(megabytes):
                f.write(chunk)
            f.write(rest)

    return _rewrite_sheet(xlsx, edit)


def _csv_text(unit: str, year: int, month: int) -> bytes:
    lines = [
        "夏邑县招商引资项目进展情况表",
        f"填报单位：{unit},报告期：{year}年{month}月,单位：万元",
        "序号,项目名称,投资方,产业类别,项目性质,本期到位资金（万元）,累计到位资金（万元）",
        "1,示例纺织服装项目,上海市示例纺织有限公司,二产,新引进,50,50",
        "合计,,,,,50,50",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _html_text(unit: str, year: int, month: int) -> bytes:
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><table>'
        "<tr><td colspan=6>夏邑县招商引资项目进展情况表</td></tr>"
        f"<tr><td colspan=6>填报单位：{unit}　报告期：{year}年{month}月　单位：万元</td></tr>"
        "<tr><td>序号</td><td>项目名称</td><td>投资方</td><td>产业类别</td><td>项目性质</td><td>本期到位资金</td></tr>"
        "<tr><td>1</td><td>示例食品加工项目</td><td>郑州市示例食品有限公司</td><td>二产</td><td>新引进</td><td>30</td></tr>"
        "</table></body></html>"
    ).encode()


def _legacy_bytes(rng: random.Random) -> bytes:
    header = OLE_MAGIC + bytes(16) + bytes.fromhex("3E000300FEFF0900")
    return header + bytes(rng.randrange(256) for _ in range(4096 - len(header)))


def bad_files(
    out_dir: Path,
    kinds: tuple[str, ...] = ALL_BAD_FILES,
    year: int = 2021,
    month: int = 1,
    unit_name: str = "济阳镇",
    seed: int = 0,
    bomb_mb: int = 300,
) -> list[RejectedTruth]:
    """Write one bad file per kind below ``out_dir/submissions``; return the expected rejections."""
    out_dir = Path(out_dir)
    rng = random.Random(f"bad:{seed}")
    unit = UnitSpec(unit_name, DEPARTMENT, ())
    folder = f"submissions/{year}年{month:02d}月/补报"
    expected = []
    for kind in kinds:
        if kind not in EXPECTED_CODE:
            raise ValueError(
                f"unknown bad-file kind {kind!r}; choose from {', '.join(ALL_BAD_FILES)}"
            )
        name, data, note = _bad_file(kind, unit, year, month, rng, bomb_mb)
        path = out_dir / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected.append(RejectedTruth(f"{folder}/{name}", EXPECTED_CODE[kind], kind, note))
    return expected


def _bad_file(
    kind: str, unit: UnitSpec, year: int, month: int, rng: random.Random, bomb_mb: int
) -> tuple[str, bytes, str]:
    u = unit.unit_name
    if kind == "empty":
        return "新建 XLSX 工作表.xlsx", b"", "0 字节"
    if kind == "zip_corrupt":
        data = _form_bytes(unit, year, month, rng)
        return f"{u}{month}月报表（传输中断）.xlsx", data[: len(data) * 3 // 5], "截断的 zip"
    if kind == "csv_as_xlsx":
        return f"{u}{month}月.xlsx", _csv_text(u, year, month), "CSV 文本改了扩展名"
    if kind == "html_as_xlsx":
        return "招商引资进展表（网页）.xlsx", _html_text(u, year, month), "另存为网页的 HTML"
    if kind == "legacy_xls":
        return f"{u}{month}月报表（WPS）.xlsx", _legacy_bytes(rng), "OLE 复合文档头（旧版 .xls）"
    if kind == "missing_header":
        return (
            f"{u}{month}月报表（旧模板）.xlsx",
            _form_bytes(unit, year, month, rng, drop="sector"),
            "缺少“产业类别”列",
        )
    if kind == "unknown_unit":
        other = UnitSpec(UNKNOWN_UNIT, DEPARTMENT, ())
        return (
            f"{UNKNOWN_UNIT}{month}月.xlsx",
            _form_bytes(other, year, month, rng),
            f"填报单位“{UNKNOWN_UNIT}”不在名册",
        )
    if kind == "xml_entity":
        return (
            f"{u}{month}月报表(1).xlsx",
            _with_entity(_form_bytes(unit, year, month, rng)),
            "工作表 XML 含 DOCTYPE/ENTITY",
        )
    if kind == "zip_bomb":
        return (
            f"{u}{month}月报表（大）.xlsx",
            _with_bomb(_form_bytes(unit, year, month, rng), bomb_mb),
            f"解压后约 {bomb_mb} MB 空白",
        )
    raise ValueError(kind)
