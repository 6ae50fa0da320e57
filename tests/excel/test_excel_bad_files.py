"""RELIABILITY §4 A/B/C: each bad file kind is rejected, before any parser, with its code."""

from __future__ import annotations

import io
import time
import zipfile

import msoffcrypto
import msoffcrypto.format.ooxml
import openpyxl
import pytest
from excel_helpers import SOURCE, read, rejection
from workbook_builder import (
    STANDARD_HEADERS,
    Form,
    legacy_xls_bytes,
    project_row,
    raw_xlsx,
    rewrite_parts,
    write_form,
)

from zhaoshang.excel import Limits

SHEET = "xl/worksheets/sheet1.xml"


def _body(xml: bytes) -> bytes:
    """A part without its XML declaration (openpyxl writes some parts without one)."""
    return xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml


def test_openpyxl_uses_defusedxml():
    # The reader uses calamine, but anything in the project that opens a workbook with
    # openpyxl must get defusedxml's parser (RELIABILITY B1).
    assert openpyxl.DEFUSEDXML is True


def test_a1_empty_file(xlsx):
    path = xlsx()
    path.write_bytes(b"")
    problem = rejection(path)
    assert problem.code == "E_EMPTY" and problem.message_zh == "文件为空"


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a2_truncated_zip(xlsx, cut):
    path = xlsx()
    write_form(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    assert rejection(path).code == "E_ZIP_CORRUPT"


def test_a2_corrupt_member(xlsx):
    path = xlsx()
    write_form(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + 60):
        data[k] ^= 0x5A  # flip bytes inside the compressed sheet: inflate or CRC fails
    path.write_bytes(bytes(data))
    assert rejection(path).code == "E_ZIP_CORRUPT"


@pytest.mark.parametrize(
    "content",
    [
        "项目名称,投资方,本期到位资金\n项目1,某公司,100\n".encode(),
        "项目名称,投资方,本期到位资金\n项目1,某公司,100\n".encode("gbk"),
        "项目名称\t投资方\n项目1\t某公司\n".encode("utf-16"),  # Excel's "Unicode text"
        "\ufeff序号,项目名称\n1,项目1\n".encode(),
    ],
)
def test_a3_csv_renamed(xlsx, content):
    path = xlsx()
    path.write_bytes(content)
    problem = rejection(path)
    assert problem.code == "E_NOT_XLSX_TEXT"
    assert "另存为" in problem.message_zh


def test_a4_unreadable_legacy_xls(xlsx):
    """A compound file with a Workbook stream holding no readable BIFF: refused, saying how to save."""
    path = xlsx()
    path.write_bytes(legacy_xls_bytes())
    problem = rejection(path)
    assert problem.code == "E_LEGACY_XLS" and "另存为 .xlsx" in problem.message_zh


def test_a4_ole_garbage_is_still_legacy(xlsx):
    path = xlsx()
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600)
    assert rejection(path).code == "E_LEGACY_XLS"


def test_a5_ole_without_a_workbook_stream(xlsx):
    path = xlsx()
    path.write_bytes(legacy_xls_bytes(stream_name="WordDocument"))
    problem = rejection(path)
    assert problem.code == "E_UNSUPPORTED_FORMAT" and "Word" in problem.message_zh


def test_a6_encrypted_xlsx(xlsx, tmp_path):
    plain = xlsx()
    write_form(plain)
    path = xlsx()
    with plain.open("rb") as f, path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(f).encrypt("secret", out)
    problem = rejection(path)
    assert problem.code == "E_ENCRYPTED"
    assert "密码" in problem.message_zh


@pytest.mark.parametrize(
    "content",
    [
        b"<html><head><meta charset='utf-8'></head><body><table><tr><td>\xe9\xa1\xb9\xe7\x9b\xae</td></tr></table></body></html>",
        b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
    ],
)
def test_a8_html_or_xml_spreadsheet(xlsx, content):
    path = xlsx()
    path.write_bytes(content)
    assert rejection(path).code == "E_NOT_XLSX_TEXT"


def test_a9_macro_enabled_content_type(xlsx):
    """Values only: the macro part is never run; a file warning records it (A9, revised)."""
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path,
        edit={
            "[Content_Types].xml": lambda x: x.replace(
                b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml"
            )
        },
    )
    parsed = read(path)
    assert parsed.rows and [w.code for w in parsed.warnings if w.code == "W_MACRO"] == ["W_MACRO"]


def test_a9_vba_project_in_xlsx(xlsx):
    path = xlsx()
    write_form(path)
    plain = read(path)
    rewrite_parts(path, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 100})
    parsed = read(path)
    warning = next(w for w in parsed.warnings if w.code == "W_MACRO")
    assert "vbaProject.bin" in warning.message_zh and "未运行" in warning.message_zh
    assert [r.values for r in parsed.rows] == [r.values for r in plain.rows]


def test_a10_corrupt_xlsb(xlsx):
    path = xlsx()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        z.writestr("xl/workbook.bin", b"\x83\x01\x00")
        z.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    assert rejection(path).code in ("E_ZIP_CORRUPT", "E_UNREADABLE")


def test_other_zip_formats(xlsx):
    path = xlsx()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    problem = rejection(path)
    assert problem.code == "E_UNSUPPORTED_FORMAT" and "opendocument.text" in problem.message_en
    path2 = xlsx()
    with zipfile.ZipFile(path2, "w") as z:
        z.writestr("readme.txt", "hello")
    assert rejection(path2).code == "E_UNSUPPORTED_FORMAT"


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def test_b1_billion_laughs_in_worksheet(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path,
        edit={
            SHEET: lambda x: (
                BILLION_LAUGHS.encode() + _body(x).replace(b"<v>100</v>", b"<v>&lol9;</v>", 1)
            )
        },
    )
    started = time.perf_counter()
    assert rejection(path).code == "E_XML_ENTITY"
    assert time.perf_counter() - started < 1.0


def test_b1_in_sandbox_too(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(path, edit={SHEET: lambda x: BILLION_LAUGHS.encode() + _body(x)})
    assert rejection(path, sandbox=True).code == "E_XML_ENTITY"


def test_b3_xxe_reveals_nothing(xlsx, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-13812345678")
    xxe = f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path,
        edit={
            SHEET: lambda x: (
                xxe.encode() + _body(x).replace("<t>项目1</t>".encode(), b"<t>&xxe;</t>")
            )
        },
    )
    problem = rejection(path)
    assert problem.code == "E_XML_ENTITY"
    assert "TOP-SECRET" not in problem.full_message() and "TOP-SECRET" not in repr(problem)


def test_b3_xxe_in_utf16_part(xlsx):
    xxe = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path, edit={"xl/styles.xml": lambda x: (xxe + _body(x).decode()).encode("utf-16")}
    )
    assert rejection(path).code == "E_XML_ENTITY"


def test_b4_dtd_in_workbook_xml(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path,
        edit={"xl/workbook.xml": lambda x: b'<?xml version="1.0"?><!DOCTYPE workbook>' + _body(x)},
    )
    assert rejection(path).code == "E_XML_ENTITY"


def test_b5_zip_bomb_by_declared_size(xlsx):
    """300 MB of whitespace inside a small file: rejected from the central directory alone."""
    path = xlsx()
    write_form(path)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as member,
    ):
        block = b" " * (1 << 20)
        for _ in range(300):
            member.write(block)
    assert path.stat().st_size < 1_000_000
    started = time.perf_counter()
    problem = rejection(path)
    assert problem.code == "E_TOO_LARGE"
    assert time.perf_counter() - started < 1.0


def test_b5_compression_ratio(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(path, add={"xl/media/blob.xml": b"<a>" + b" " * (4 << 20) + b"</a>"})
    problem = rejection(path)
    assert problem.code == "E_TOO_LARGE" and ":1" in problem.detail


def test_b7_too_many_shared_strings(xlsx):
    path = xlsx()
    write_form(path)
    sst = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="5000000" uniqueCount="5000000"><si><t>a</t></si></sst>'
    rewrite_parts(path, add={"xl/sharedStrings.xml": sst})
    assert rejection(path).code == "E_TOO_MANY_STRINGS"


def test_b7_lying_unique_count(xlsx):
    path = xlsx()
    write_form(path)
    items = b"".join(b"<si><t>%d</t></si>" % k for k in range(2000))
    sst = (
        b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="1">'
        + items
        + b"</sst>"
    )
    rewrite_parts(path, add={"xl/sharedStrings.xml": sst})
    assert rejection(path, Limits(max_shared_strings=1000)).code == "E_TOO_MANY_STRINGS"


@pytest.mark.parametrize("ref", ["A2000000", "XFE1", "AAAA1"])
def test_b11_cell_ref_beyond_excel(xlsx, ref):
    digits = "".join(ch for ch in ref if ch.isdigit())
    path = raw_xlsx(
        xlsx(),
        f'<row r="1"><c r="A1"><v>1</v></c></row><row r="{digits}"><c r="{ref}"><v>1</v></c></row>',
    )
    problem = rejection(path)
    assert problem.code == "E_BAD_CELL_REF" and problem.detail in (
        ref,
        digits,
    )  # the <row> or the <c>


def test_b11_in_a_hidden_sheet_too(xlsx):
    path = xlsx()
    write_form(path, after=[("隐藏", "hidden", [["x"]])])
    rewrite_parts(
        path, edit={"xl/worksheets/sheet2.xml": lambda x: x.replace(b'r="A1"', b'r="A1048577"')}
    )
    assert rejection(path).code == "E_BAD_CELL_REF"


def test_value_far_away_is_refused_before_calamine(xlsx):
    """A1 and XFD1048576 are legal, but calamine would allocate the whole grid between them."""
    path = raw_xlsx(
        xlsx(),
        '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    )
    problem = rejection(path)
    assert problem.code == "E_TOO_LARGE" and "XFD1048576" in problem.detail


def test_styled_empty_cells_far_away_are_fine(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(
        path,
        edit={
            SHEET: lambda x: x.replace(
                b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'
            )
        },
    )
    assert len(read(path).rows) == 3


def test_b10_too_many_parts(xlsx):
    path = xlsx()
    write_form(path)
    rewrite_parts(path, add={f"customXml/item{k}.xml": b"<a/>" for k in range(250)})
    assert rejection(path).code == "E_TOO_MANY_PARTS"


def test_too_many_sheets(xlsx):
    path = xlsx()
    write_form(path, after=[(f"S{k}", "visible", [[k]]) for k in range(12)])
    assert rejection(path, Limits(max_sheets=10)).code == "E_TOO_MANY_PARTS"


def test_file_too_large(xlsx):
    path = xlsx()
    write_form(path)
    assert rejection(path, Limits(max_file_bytes=1000)).code == "E_TOO_LARGE"


def test_duplicate_zip_entries(xlsx):
    path = xlsx()
    write_form(path)
    with zipfile.ZipFile(path, "a") as z, pytest.warns(UserWarning):
        z.writestr(SHEET, b"<worksheet/>")
    assert rejection(path).code == "E_ZIP_CORRUPT"


def test_c1_missing_required_headers(xlsx):
    headers = [h for h in STANDARD_HEADERS if h not in ("投资方", "本期到位资金（万元）")]
    rows = [
        [v for h, v in zip(STANDARD_HEADERS, project_row(i), strict=False) if h in headers]
        for i in (1, 2)
    ]
    path = xlsx()
    write_form(path, Form(headers=headers, rows=rows, total=None))
    problem = rejection(path)
    assert problem.code == "E_TEMPLATE"
    assert problem.sheet == "进展情况" and problem.row_number == 3
    assert "投资方" in problem.message_zh and "本期到位资金（万元）" in problem.message_zh


def test_c1_no_template_at_all(xlsx):
    path = xlsx()
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "年龄"])
    wb.save(path)
    assert rejection(path).code == "E_NO_DATA_SHEET"


def test_c1_template_only_on_a_hidden_sheet(xlsx):
    path = xlsx()
    write_form(path, before=[("说明", "visible", [["填表说明"]])])
    wb = openpyxl.load_workbook(path)
    wb["进展情况"].sheet_state = "hidden"
    wb.save(path)
    assert rejection(path).code == "E_NO_DATA_SHEET"


def test_c4_duplicate_header(xlsx):
    headers = [*STANDARD_HEADERS[:12], "本月到位", *STANDARD_HEADERS[12:]]
    rows = [[*r[:12], 5, *r[12:]] for r in (project_row(1), project_row(2))]
    path = xlsx()
    write_form(path, Form(headers=headers, rows=rows, total=None))
    problem = rejection(path)
    assert problem.code == "E_DUP_HEADER"
    assert "L" in problem.detail and "M" in problem.detail


def test_c5_two_sheets_with_the_template(xlsx):
    def second_month(wb, layout):
        copy = wb.copy_worksheet(wb["进展情况"])
        copy.title = "2月"

    path = xlsx()
    write_form(path, customize=second_month)
    assert rejection(path).code == "E_MULTIPLE_DATA_SHEETS"


@pytest.mark.parametrize("period", ["2021年13月", "2021年1-3月", "去年三月"])
def test_invalid_period(xlsx, period):
    path = xlsx()
    write_form(path, Form(meta=[[f"填报单位：济阳镇  报告期：{period}"]]))
    problem = rejection(path)
    assert problem.code == "E_PERIOD" and problem.sheet == "进展情况"


def test_source_file_defaults_to_the_file_name(xlsx):
    from zhaoshang.errors import SubmissionRejected
    from zhaoshang.excel import read_submission

    path = xlsx()
    path.write_bytes(b"")
    with pytest.raises(SubmissionRejected) as caught:
        read_submission(path, sandbox=False)
    assert caught.value.problem.source_file == path.name
    assert path.name != SOURCE


def test_protected_sheet_is_read_with_a_warning(xlsx):
    def protect(wb, layout):
        wb["进展情况"].protection.sheet = True
        wb["进展情况"].protection.password = "abc"

    path = xlsx()
    write_form(path, customize=protect)
    parsed = read(path)
    assert len(parsed.rows) == 3 and "W_PROTECTED" in [w.code for w in parsed.warnings]


def test_csv_inside_zip_with_xlsx_name_is_not_read(xlsx):
    path = xlsx()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("data.csv", "a,b\n")
    path.write_bytes(buffer.getvalue())
    assert rejection(path).code == "E_UNSUPPORTED_FORMAT"


def test_huge_merged_range_is_refused(xlsx):
    path = xlsx()
    write_form(path)
    merge = b'<mergeCells count="1"><mergeCell ref="A20:R100000"/></mergeCells>'
    rewrite_parts(
        path,
        edit={
            SHEET: lambda x: x.replace(
                b"</sheetData>",
                b'<row r="100000"><c r="R100000"><v>1</v></c></row></sheetData>' + merge,
            )
        },
    )
    problem = rejection(path)
    assert problem.code == "E_TOO_LARGE" and problem.detail == "merged cells"
