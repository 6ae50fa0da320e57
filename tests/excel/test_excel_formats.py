"""Every workbook format a clerk can send is read by content, through the same path, to the same
rows as the .xlsx it was saved from (RELIABILITY A4, A5, A9, A10 as revised; issue 13).

The reports are the generator's (two-row merged headers, title rows, 合计 rows, hidden sheets,
blank rows, text amounts and dates), re-saved by LibreOffice as .xls, .ods, .xlsm and .xltx and
written as .xlsb by tests/excel/xlsb_writer.py, each under a misleading .xlsx-or-other name.
"""

from __future__ import annotations

import dataclasses
import shutil
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from tests.office_formats import convert
from zhaoshang.errors import SubmissionRejected
from zhaoshang.excel import Limits, read_submission
from zhaoshang.excel.sniff import sniff
from zhaoshang.generate import Messiness, generate_inbox, small

FORMATS = ("xls", "ods", "xlsb", "xlsm", "xltx")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> list[Path]:
    raw = tmp_path_factory.mktemp("formats") / "raw"
    messiness = dataclasses.replace(Messiness(), two_row_header=0.5, bad_rows=True)
    generate_inbox(raw, small(months=range(1, 3), units=4, seed=5, messiness=messiness))
    files = sorted((raw / "submissions").rglob("*.xlsx"))
    assert len(files) >= 8
    return files


@pytest.fixture(scope="module")
def converted(reports) -> dict[str, dict[Path, Path]]:
    return {fmt: convert(reports, fmt) for fmt in FORMATS}


def _summary(parsed) -> dict:
    return {
        "sheet": parsed.sheet,
        "unit": parsed.unit_written,
        "period": (parsed.year, parsed.month),
        "report_date": parsed.report_date,
        "header_row": parsed.header_row,
        "columns": parsed.columns,
        "rows": [(r.row_number, r.values, sorted(p.code for p in r.problems)) for r in parsed.rows],
        "total": parsed.total_row and (parsed.total_row.row_number, parsed.total_row.values),
        "blank": parsed.rows_ignored_blank,
        "warnings": sorted((w.code, w.row_number, w.column_index) for w in parsed.warnings),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_to_the_same_rows_as_the_xlsx(reports, converted, fmt, tmp_path):
    two_row_headers = 0
    for source, other in converted[fmt].items():
        expected = _summary(read_submission(source))
        disguised = tmp_path / f"{source.stem}.xlsx"  # the content decides, not the extension
        shutil.copyfile(other, disguised)
        got = _summary(read_submission(disguised, source_file=source.name))
        if fmt == "xlsm":  # LibreOffice types it macro-enabled: the one warning it adds
            got["warnings"].remove(("W_MACRO", None, None))
        assert got == expected, f"{fmt}: {source.name}"
        two_row_headers += any(">" in h for h in expected["columns"].values())
    assert two_row_headers >= 2  # the comparison covered two-row merged headers


@pytest.mark.parametrize("fmt", ("xls", "ods", "xlsb"))
def test_merged_header_cells_are_found_in_each_format(reports, converted, fmt):
    """The merges the header search uses are those of the .xlsx: calamine's for .xls, the
    sniff's own for .ods (content.xml) and .xlsb (BrtMergeCell), where calamine reports none."""
    checked = 0
    for source, other in converted[fmt].items():
        book = CalamineWorkbook.from_path(str(source))
        for name in book.sheet_names:
            expected = sorted(book.get_sheet_by_name(name).merged_cell_ranges or [])
            if fmt == "xls":
                found = CalamineWorkbook.from_path(str(other)).get_sheet_by_name(name)
                got = sorted(found.merged_cell_ranges or [])
            else:
                got = sorted(sniff(other, Limits(), other.name).merges.get(name, []))
            assert got == expected, f"{fmt}: {source.name} / {name}"
            checked += any(r1 > r0 for (r0, _), (r1, _) in expected)  # vertical: two-row header
    assert checked >= 2


def test_macro_enabled_workbook_is_read_with_a_warning(converted):
    source, xlsm = next(iter(converted["xlsm"].items()))
    parsed = read_submission(xlsm, source_file=source.name)
    assert "W_MACRO" in [w.code for w in parsed.warnings]
    got = _summary(parsed)
    got["warnings"].remove(("W_MACRO", None, None))
    assert got == _summary(read_submission(source))


def test_ods_value_repeated_past_the_limits_is_refused(converted, tmp_path):
    _source, ods = next(iter(converted["ods"].items()))
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(ods) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "content.xml":
                data = data.replace(
                    b"<table:table-row ",
                    b'<table:table-row table:number-rows-repeated="500000" ',
                    1,
                )
            zout.writestr(info, data)
    with pytest.raises(SubmissionRejected) as caught:
        read_submission(bomb)
    assert caught.value.problem.code == "E_TOO_LARGE"


def test_ole_bounds(converted):
    _source, xls = next(iter(converted["xls"].items()))
    for limits, code in (
        (Limits(max_ole_streams=2), "E_TOO_MANY_PARTS"),
        (Limits(max_uncompressed_bytes=1000), "E_TOO_LARGE"),
    ):
        with pytest.raises(SubmissionRejected) as caught:
            read_submission(xls, limits=limits)
        assert caught.value.problem.code == code


def test_a_refused_xls_still_says_whose_it_is(reports, tmp_path):
    """E_TEMPLATE (a required column missing) in an .xls: the unit and period above the header
    are still read, so the ledger can tell whose month holds only a refused file."""
    import openpyxl

    source = reports[0]
    book = openpyxl.load_workbook(source)
    sheet = next(s for s in book.worksheets if s.sheet_state == "visible" and s.max_row > 3)
    expected = read_submission(source)
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value in ("产业类别", "产业", "所属产业", "行业类别", "产业分类"):
                cell.value = "备用"
    broken = tmp_path / "broken.xlsx"
    book.save(broken)
    (xls,) = convert([broken], "xls").values()
    with pytest.raises(SubmissionRejected) as caught:
        read_submission(xls)
    assert caught.value.problem.code == "E_TEMPLATE"
    hint = caught.value.hint
    assert (hint["unit_written"], hint["year"], hint["month"]) == (
        expected.unit_written,
        expected.year,
        expected.month,
    )


def test_hidden_rows_protection_and_error_values_in_xls_and_ods(tmp_path):
    """What calamine does not report is found for .xls (BIFF records) and .ods (content.xml)
    as for .xlsx: a hidden row (W_HIDDEN_ROW), sheet protection (W_PROTECTED), and an error
    value LibreOffice cached (#DIV/0! -> E_CELL_ERROR, never an empty amount)."""
    from workbook_builder import Form, project_row, write_form

    source = tmp_path / "form.xlsx"

    def customize(book, layout):
        sheet = book["进展情况"]
        sheet.protection.sheet = True
        sheet.cell(layout.first_data_row + 1, 12).value = "=1/0"  # L: 本期到位资金

    rows = [project_row(i) for i in (1, 2, 3)]
    write_form(source, Form(rows=rows), hidden_rows=[6], customize=customize)
    for fmt in ("xls", "ods"):
        (converted,) = convert([source], fmt).values()
        parsed = read_submission(converted)
        codes = {(w.code, w.row_number) for w in parsed.warnings}
        assert ("W_HIDDEN_ROW", 6) in codes and ("W_PROTECTED", None) in codes, fmt
        bad = next(r for r in parsed.rows if r.row_number == 5)
        assert [(p.code, p.column_letter, p.detail) for p in bad.problems] == [
            ("E_CELL_ERROR", "L", "#DIV/0!")
        ], fmt
        assert all(not r.problems for r in parsed.rows if r.row_number != 5), fmt
